import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIOS, type ScenarioName } from './report.js';

const NODE_FLAGS_EXAMPLE = '--node-flags="--max-semi-space-size=2"';

export const USAGE = `usage: npm run bench -- [options]     (or: node dist/bench/bench.js [options] after npm run build)

  --duration S       measured seconds per scenario (default 10)
  --warmup S         warm-up seconds before each scenario, not measured (default 2)
  --connections N    keep-alive connections, closed loop: one request in flight each (default 32)
  --scenarios LIST   comma-separated, from: ${SCENARIOS.join(', ')} (default: all)
  --preload N        put N live token families (a grant, an access and a refresh token) in the store first
  --flood-rate R     flood: requests/s of refresh, and of validate, while the password flood runs (default 100)
  --workers N        oauthd serve --workers N, and the ceiling with as many processes (default 1)
  --profile DIR      run the server under --cpu-prof; its CPU profile is written to DIR when it stops
  --node-flags=F     Node.js flags for the oauthd process (and its cluster workers), e.g. ${NODE_FLAGS_EXAMPLE}
  --stores LIST      sqlite, postgres or both (default: sqlite, and postgres when OAUTHD_BENCH_PG_URL is set)
  --keep             keep the SQLite file (or PostgreSQL database) afterwards
  --smoke            a seconds-long run for CI: 1 s per scenario, 4 connections, preload 1000
  --json             print one JSON document on stdout (the table goes to stderr)

Environment: OAUTHD_BENCH_PG_URL=postgres://user@host:5432/postgres also runs every scenario on PostgreSQL,
in a fresh database created through that connection (and dropped afterwards). OAUTHD_* settings (e.g.
OAUTHD_HASH_CONCURRENCY) reach the server; OAUTHD_LOG_LEVEL defaults to warn.`;

export interface Settings {
  duration: number;
  warmup: number;
  connections: number;
  scenarios: ScenarioName[];
  preload: number;
  floodRate: number;
  workers: number;
  profileDir: string | null;
  nodeFlags: string[];
  stores: ('sqlite' | 'postgres')[];
  keep: boolean;
  smoke: boolean;
  json: boolean;
  kdfSeconds: number;
}

export class UsageError extends Error {}

export function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      scenarios: { type: 'string' },
      preload: { type: 'string' },
      'flood-rate': { type: 'string' },
      workers: { type: 'string' },
      profile: { type: 'string' },
      'node-flags': { type: 'string' },
      stores: { type: 'string' },
      keep: { type: 'boolean' },
      smoke: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const number = (name: string, value: string | undefined, fallback: number, min: number, integer = true): number => {
    if (value === undefined) return fallback;
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(
        `--${name} must be ${integer ? 'a whole number' : 'a number'} ≥ ${min} (got ${JSON.stringify(value)})`,
      );
    }
    return n;
  };
  const smoke = values.smoke ?? false;
  const scenarios = (values.scenarios ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new UsageError(`unknown scenario ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')})`);
  }
  const stores = (values.stores ?? (process.env.OAUTHD_BENCH_PG_URL ? 'sqlite,postgres' : 'sqlite'))
    .split(',')
    .map((s) => s.trim());
  for (const s of stores) {
    if (s !== 'sqlite' && s !== 'postgres')
      throw new UsageError(`unknown store ${JSON.stringify(s)} (known: sqlite, postgres)`);
  }
  return {
    stores: [...new Set(stores)] as ('sqlite' | 'postgres')[],
    duration: number('duration', values.duration, smoke ? 1 : 10, 1, false),
    warmup: number('warmup', values.warmup, smoke ? 1 : 2, 0, false),
    connections: number('connections', values.connections, smoke ? 4 : 32, 1),
    scenarios: [...new Set(scenarios)] as ScenarioName[],
    preload: number('preload', values.preload, smoke ? 1000 : 0, 0),
    floodRate: number('flood-rate', values['flood-rate'], smoke ? 20 : 100, 1),
    workers: number('workers', values.workers, 1, 1),
    profileDir: values.profile ? resolve(values.profile) : null,
    nodeFlags: (values['node-flags'] ?? '').split(/\s+/).filter((f) => f !== ''),
    keep: values.keep ?? false,
    smoke,
    json: values.json ?? false,
    kdfSeconds: smoke ? 1 : 5,
  };
}

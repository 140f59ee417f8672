#!/usr/bin/env node
/**
 * `npm run bench`: oauthd under load, against the ceiling of this machine. See docs/benchmarks.md.
 *
 * One run: the raw rate of the password KDF; the ceiling (a bare node:http server with a fixed JSON body);
 * then, on a fresh SQLite file (and on a fresh PostgreSQL database when OAUTHD_BENCH_PG_URL is set), seeded
 * through the admin services and optionally preloaded with N live token families, `oauthd serve` from this
 * build in its own process, driven by autocannon through each scenario. Prints a table per store (or one JSON
 * document with --json) and exits non-zero when any request failed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../config/config.js';
import { redactUrl } from '../store/store.js';
import { measureKdf, type KdfRate } from './kdf.js';
import { measureDiskFlush } from './disk.js';
import { runLoad, type LoadResult, type Workload } from './load.js';
import { describeMachine, residentMemory, round2 } from './machine.js';
import { preloadPostgres, preloadSqlite, type PreloadResult } from './preload.js';
import {
  SCENARIOS,
  evaluateTargets,
  failures,
  mb,
  renderText,
  type Report,
  type Row,
  type ScenarioName,
  type StoreRun,
} from './report.js';
import { freshPairs, seed, serveSupportsWorkers, serverEnv, spawnCeiling, spawnOauthd, type Seed, type ServerProcess } from './target.js';
import {
  Chains,
  ceilingWorkload,
  floodPasswordWorkload,
  introspectWorkload,
  mixedWorkload,
  passwordWorkload,
  refreshWorkload,
  validateWorkload,
  type Target,
} from './workloads.js';

const USAGE = `usage: npm run bench -- [options]     (or: node dist/bench/bench.js [options] after npm run build)

  --duration S       measured seconds per scenario (default 10)
  --warmup S         warm-up seconds before each scenario, not measured (default 2)
  --connections N    keep-alive connections, closed loop: one request in flight each (default 32)
  --scenarios LIST   comma-separated, from: ${SCENARIOS.join(', ')} (default: all)
  --preload N        put N live token families (a grant, an access and a refresh token) in the store first
  --flood-rate R     flood: requests/s of refresh, and of validate, while the password flood runs (default 100)
  --workers N        oauthd serve --workers N, and the ceiling with as many processes (default 1)
  --profile DIR      run the server under --cpu-prof; its CPU profile is written to DIR when it stops
  --node-flags=F     Node.js flags for the oauthd process (and its cluster workers), e.g. --node-flags="--max-semi-space-size=2"
  --stores LIST      sqlite, postgres or both (default: sqlite, and postgres when OAUTHD_BENCH_PG_URL is set)
  --keep             keep the SQLite file (or PostgreSQL database) afterwards
  --smoke            a seconds-long run for CI: 1 s per scenario, 4 connections, preload 1000
  --json             print one JSON document on stdout (the table goes to stderr)

Environment: OAUTHD_BENCH_PG_URL=postgres://user@host:5432/postgres also runs every scenario on PostgreSQL,
in a fresh database created through that connection (and dropped afterwards). OAUTHD_* settings (e.g.
OAUTHD_HASH_CONCURRENCY) reach the server; OAUTHD_LOG_LEVEL defaults to warn.`;

interface Settings {
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

class UsageError extends Error {}

function parseSettings(argv: string[]): Settings {
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
      throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} ≥ ${min} (got ${JSON.stringify(value)})`);
    }
    return n;
  };
  const smoke = values.smoke ?? false;
  const scenarios = (values.scenarios ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new UsageError(`unknown scenario ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')})`);
  }
  const stores = (values.stores ?? (process.env.OAUTHD_BENCH_PG_URL ? 'sqlite,postgres' : 'sqlite')).split(',').map((s) => s.trim());
  for (const s of stores) {
    if (s !== 'sqlite' && s !== 'postgres') throw new UsageError(`unknown store ${JSON.stringify(s)} (known: sqlite, postgres)`);
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

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const running = new Set<ServerProcess>();

/** Runs oauthd's scenarios against one server and reads the results into rows. */
class Scenarios {
  constructor(
    private readonly settings: Settings,
    private readonly server: ServerProcess,
    private readonly target: Target,
    private readonly probes: Probes,
  ) {}

  /**
   * Runs a scenario between two short baseline probes (the ceiling, or the KDF for password grants) and
   * records the higher of them on the row: its ratio is then against the machine as it was at that moment.
   */
  async adjacent(name: ScenarioName): Promise<Row> {
    // The smoke run (CI) has no figures to compare: it skips the probes.
    const probe = this.settings.smoke ? null : name === 'password' ? this.probes.kdf : name === 'flood' ? null : this.probes.ceiling;
    if (!probe) return this.run(name);
    const before = await probe();
    const row = await this.run(name);
    const after = await probe();
    return { ...row, adjacentBaseline: round2(Math.max(before, after)) };
  }

  private fresh = (count: number) => freshPairs(this.server.url, this.target.seed, count);

  private rssSampler() {
    let peak = 0;
    const sample = () => {
      const memory = residentMemory(this.server.pid);
      if (memory && memory.rssBytes > peak) peak = memory.rssBytes;
    };
    return { sample, peakMb: () => (peak === 0 ? null : mb(peak)) };
  }

  /** A row; its ratio is filled in at the end, against the best ceiling and KDF measurements (applyRatios). */
  private row(scenario: string, r: LoadResult, rssMb: number | null, ratioTo: 'ceiling' | 'kdf' | null): Row {
    return {
      scenario,
      requestsPerSecond: round2(r.requestsPerSecond),
      requests: r.requests,
      latencyMs: r.latencyMs,
      errors: r.errors,
      non2xx: r.non2xx,
      wrongAnswers: r.wrongAnswers,
      statusCodes: r.statusCodes,
      serverRssMb: rssMb,
      ratio: null,
      ratioTo,
    };
  }

  /** Warm-up (answers dropped), `between` (repairs), then the measured run with the server's RSS sampled. */
  private async measure<S>(workload: Workload<S>, between?: () => Promise<void>): Promise<{ result: LoadResult; rssMb: number | null }> {
    const base = { url: this.server.url, connections: this.settings.connections };
    if (this.settings.warmup > 0) {
      await runLoad({ ...base, seconds: this.settings.warmup }, workload);
      await between?.();
    }
    const rss = this.rssSampler();
    const result = await runLoad({ ...base, seconds: this.settings.duration, onTick: rss.sample }, workload);
    rss.sample();
    return { result, rssMb: rss.peakMb() };
  }

  async run(name: ScenarioName): Promise<Row> {
    const n = this.settings.connections;
    const t = this.target;
    switch (name) {
      case 'password': {
        const m = await this.measure(passwordWorkload(t));
        return this.row('password', m.result, m.rssMb, 'kdf');
      }
      case 'refresh': {
        const chains = Chains.of(await this.fresh(2 * n), n);
        const m = await this.measure(refreshWorkload(t, chains), () => chains.repair(this.fresh));
        return { ...this.row('refresh', m.result, m.rssMb, 'ceiling'), brokenChains: chains.broken };
      }
      case 'validate':
      case 'introspect': {
        const chains = Chains.of(await this.fresh(n), n);
        const m = await this.measure(name === 'validate' ? validateWorkload(t, chains) : introspectWorkload(t, chains));
        return this.row(name, m.result, m.rssMb, 'ceiling');
      }
      case 'mixed': {
        const chains = Chains.of(await this.fresh(2 * n), n);
        const m = await this.measure(mixedWorkload(t, chains), () => chains.repair(this.fresh));
        const parts = ['validate', 'refresh', 'password']
          .filter((kind) => m.result.byKind[kind])
          .map((kind) => {
            const k = m.result.byKind[kind]!;
            return {
              scenario: `mixed: ${kind}`,
              requestsPerSecond: round2(k.requests / m.result.seconds),
              requests: k.requests,
              latencyMs: k.latencyMs,
              errors: 0,
              non2xx: k.non2xx,
              wrongAnswers: k.wrongAnswers,
              statusCodes: k.statusCodes,
              serverRssMb: null,
              ratio: null,
              ratioTo: null,
            } satisfies Row;
          });
        return { ...this.row('mixed', m.result, m.rssMb, 'ceiling'), brokenChains: chains.broken, parts };
      }
      case 'flood':
        return this.flood();
    }
  }

  /**
   * `flood`: a password flood (closed loop on every connection) saturates hashing while 2 connections refresh
   * in chains and 2 validate, each stream at --flood-rate requests/s. What matters is the others' latency.
   */
  private async flood(): Promise<Row> {
    const { connections, floodRate, warmup, duration } = this.settings;
    const url = this.server.url;
    const refreshChains = Chains.of(await this.fresh(6), 2);
    const validateChains = Chains.of(await this.fresh(2), 2);
    const others = { url, connections: 2, connectionRate: Math.max(1, Math.round(floodRate / 2)) };
    const loads = (seconds: number, onTick?: () => void) =>
      Promise.all([
        runLoad({ url, connections, seconds, ...(onTick ? { onTick } : {}) }, floodPasswordWorkload(this.target)),
        runLoad({ ...others, seconds }, refreshWorkload(this.target, refreshChains)),
        runLoad({ ...others, seconds }, validateWorkload(this.target, validateChains)),
      ]);
    if (warmup > 0) {
      await loads(warmup);
      await refreshChains.repair(this.fresh);
    }
    const rss = this.rssSampler();
    const [password, refresh, validate] = await loads(duration, rss.sample);
    rss.sample();
    const shedCodes = ['503', '429'];
    const shed = shedCodes.reduce((sum, code) => sum + (password.statusCodes[code] ?? 0), 0);
    const passwordRow = { ...this.row('flood: password', password, null, 'kdf'), non2xx: password.non2xx - shed, shed };
    const refreshRow = { ...this.row('flood: refresh', refresh, null, null), brokenChains: refreshChains.broken };
    const validateRow = this.row('flood: validate', validate, null, null);
    const worst = (key: 'p50' | 'p90' | 'p99' | 'max') => Math.max(refresh.latencyMs[key], validate.latencyMs[key]);
    const statusCodes: Record<string, number> = {};
    for (const r of [password, refresh, validate]) {
      for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
    return {
      // The flood's own line: the others (refresh + validate), their worse percentiles; failures of all three.
      scenario: 'flood',
      requestsPerSecond: round2(refresh.requestsPerSecond + validate.requestsPerSecond),
      requests: refresh.requests + validate.requests,
      latencyMs: { p50: worst('p50'), p90: worst('p90'), p99: worst('p99'), max: worst('max') },
      errors: password.errors + refresh.errors + validate.errors,
      non2xx: passwordRow.non2xx + refresh.non2xx + validate.non2xx,
      wrongAnswers: password.wrongAnswers + refresh.wrongAnswers + validate.wrongAnswers,
      statusCodes,
      shed,
      serverRssMb: rss.peakMb(),
      ratio: null,
      ratioTo: null,
      parts: [passwordRow, refreshRow, validateRow],
    };
  }
}

function applyRatios(stores: StoreRun[], kdfRate: number, ceilingRps: number): void {
  const apply = (row: Row) => {
    if (row.ratioTo !== null) row.ratio = Math.round((row.requestsPerSecond / (row.ratioTo === 'kdf' ? kdfRate : ceilingRps)) * 1000) / 1000;
    if (row.ratioTo !== null && row.adjacentBaseline) row.adjacentRatio = Math.round((row.requestsPerSecond / row.adjacentBaseline) * 1000) / 1000;
    row.parts?.forEach(apply);
  };
  for (const store of stores) store.scenarios.forEach(apply);
}

async function measureCeiling(
  settings: Settings,
  workers: number,
  seconds: { warmup: number; duration: number } = { warmup: settings.warmup, duration: settings.duration },
): Promise<Row> {
  const server = await spawnCeiling(workers);
  running.add(server);
  try {
    const base = { url: server.url, connections: settings.connections };
    if (seconds.warmup > 0) await runLoad({ ...base, seconds: seconds.warmup }, ceilingWorkload());
    const r = await runLoad({ ...base, seconds: seconds.duration }, ceilingWorkload());
    return {
      scenario: 'ceiling',
      requestsPerSecond: round2(r.requestsPerSecond),
      requests: r.requests,
      latencyMs: r.latencyMs,
      errors: r.errors,
      non2xx: r.non2xx,
      wrongAnswers: r.wrongAnswers,
      statusCodes: r.statusCodes,
      serverRssMb: null,
      ratio: null,
      ratioTo: null,
    };
  } finally {
    await server.stop();
    running.delete(server);
  }
}

interface StoreContext {
  settings: Settings;
  /** Passed to serve as --workers; undefined when serve does not know the flag. */
  workers: number | undefined;
  /** Short baseline measurements taken right before and after each scenario (see Scenarios.adjacent). */
  probes: Probes;
}

interface Probes {
  ceiling(): Promise<number>;
  kdf(): Promise<number>;
}

/** Seeds, preloads, starts oauthd on `databaseUrl`, runs every scenario, stops it. */
async function runStore(store: 'sqlite' | 'postgres', databaseUrl: string, ctx: StoreContext): Promise<StoreRun> {
  const { settings } = ctx;
  const env = serverEnv(databaseUrl);
  const config = loadConfig(env);
  const users = Math.min(settings.connections, 64);
  log(`${store}: seeding a client and ${users} users in ${redactUrl(databaseUrl)}`);
  const s: Seed = await seed(env, users);

  let preload: PreloadResult | undefined;
  if (settings.preload > 0) {
    log(`${store}: preloading ${settings.preload} live token families`);
    const owner = { clientId: s.clientId, userIds: s.userIds, scope: config.policy.defaultScopes.join(' '), accessTtlSeconds: 86_400 };
    preload =
      store === 'sqlite'
        ? preloadSqlite(databaseUrl.slice('sqlite:'.length), settings.preload, owner, (line) => log(`${store}: preload: ${line}`))
        : await preloadPostgres(databaseUrl, settings.preload, owner, (line) => log(`${store}: preload: ${line}`));
    log(`${store}: preloaded ${preload.families} families in ${preload.seconds.toFixed(1)} s (${Math.round(preload.familiesPerSecond)}/s)`);
  }

  const profilesBefore = new Set(settings.profileDir ? readdirSync(settings.profileDir) : []);
  const server = await spawnOauthd(env, {
    ...(settings.profileDir ? { profileDir: settings.profileDir } : {}),
    nodeFlags: settings.nodeFlags,
    workers: ctx.workers,
  });
  running.add(server);
  const rows: Row[] = [];
  let memory: ReturnType<typeof residentMemory> = null;
  try {
    const scenarios = new Scenarios(settings, server, { seed: s, sample: preload?.sampleAccessTokens ?? null }, ctx.probes);
    for (const name of settings.scenarios) {
      log(`${store}: ${name}`);
      const row = await scenarios.adjacent(name);
      rows.push(row);
      log(
        `${store}: ${name}: ${row.requestsPerSecond} req/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, ${row.errors} errors, ${row.non2xx} non-2xx` +
          (row.wrongAnswers ? `, ${row.wrongAnswers} wrong answers` : ''),
      );
    }
    memory = residentMemory(server.pid);
  } finally {
    await server.stop();
    running.delete(server);
  }
  const profiles = settings.profileDir
    ? readdirSync(settings.profileDir)
        .filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f))
        .map((f) => join(settings.profileDir!, f))
    : undefined;
  const { sampleAccessTokens: _sample, ...preloadFigures } = preload ?? { sampleAccessTokens: [] };
  return {
    store,
    ...(preload ? { preload: preloadFigures as Omit<PreloadResult, 'sampleAccessTokens'> } : {}),
    serverPeakRssMb: memory ? mb(memory.peakBytes) : null,
    serverProcesses: memory?.processes ?? null,
    largestProcessPeakRssMb: memory ? mb(memory.largestPeakBytes) : null,
    scenarios: rows,
    ...(profiles ? { profiles } : {}),
  };
}

async function runSqlite(ctx: StoreContext): Promise<StoreRun> {
  const dir = mkdtempSync(join(os.tmpdir(), 'oauthd-bench-'));
  try {
    return await runStore('sqlite', `sqlite:${join(dir, 'oauthd.sqlite3')}`, ctx);
  } finally {
    if (ctx.settings.keep) log(`kept the SQLite file in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(adminUrl: string, ctx: StoreContext): Promise<StoreRun> {
  const name = `oauthd_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await runStore('postgres', url.toString(), ctx);
  } finally {
    if (ctx.settings.keep) log(`kept the PostgreSQL database ${name}`);
    else await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e: unknown) => log(`could not drop ${name}: ${(e as Error).message}`));
  }
}

async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const notes: string[] = [];
  const machine = describeMachine();
  if (settings.profileDir) {
    mkdirSync(settings.profileDir, { recursive: true });
    notes.push(`the server ran under --cpu-prof (profiles in ${settings.profileDir}): its figures are lower than without`);
  }
  // serve's own default is one worker per core; the bench always says how many it wants, when serve can hear it.
  let workers = settings.workers;
  const workersFlag = serveSupportsWorkers();
  if (!workersFlag && workers > 1) {
    notes.push(`--workers ${workers}: not supported yet (oauthd serve has no --workers option); ran one server process`);
    log(notes[notes.length - 1]!);
    workers = 1;
  }
  const probeEnv = serverEnv('sqlite::memory:');
  const hashConcurrency = loadConfig(probeEnv).hashing.maxConcurrent;
  // Each server process hashes hashConcurrency passwords at once, on its libuv pool (4 threads unless set).
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const kdfConcurrency = workers * Math.min(hashConcurrency, poolSize);

  if (kdfConcurrency > poolSize) {
    notes.push(`the KDF rate was measured with ${poolSize} hashes at once (this process's libuv pool), not ${kdfConcurrency}`);
  }
  // The KDF rate and the ceiling are measured before and after the stores: noise from elsewhere only ever
  // lowers them, so ratios are taken against the higher of the two (the conservative choice).
  const kdfRuns: KdfRate[] = [];
  const ceilingRuns: Row[] = [];
  const baselines = async (when: string) => {
    log(`${when}: measuring the raw KDF rate (argon2id, ${Math.min(kdfConcurrency, poolSize)} at once, ${settings.kdfSeconds} s)`);
    const kdf = await measureKdf(Math.min(kdfConcurrency, poolSize), settings.kdfSeconds);
    kdfRuns.push(kdf);
    log(`KDF: ${kdf.hashesPerSecond.toFixed(1)} hashes/s`);
    log(`${when}: measuring the ceiling (bare node:http, ${workers} process${workers > 1 ? 'es' : ''})`);
    const ceiling = await measureCeiling(settings, workers);
    ceilingRuns.push(ceiling);
    log(`ceiling: ${ceiling.requestsPerSecond} req/s, p50 ${ceiling.latencyMs.p50} ms, p99 ${ceiling.latencyMs.p99} ms`);
  };
  await baselines('before');
  log(`measuring the disk's flush latency (fdatasync after a 64 KiB append, in ${os.tmpdir()}, ${settings.smoke ? 1 : 3} s)`);
  const disk = await measureDiskFlush(os.tmpdir(), settings.smoke ? 1 : 3);
  log(`disk: fdatasync p50 ${disk.latencyMs.p50} ms, p99 ${disk.latencyMs.p99} ms`);

  // Adjacent probes: the host's speed drifts over minutes (the ceiling moved between 14 900 and 28 300 req/s
  // within one run here), so each scenario is also compared with baselines measured right before and after it.
  const probeSeconds = { warmup: Math.min(1, settings.warmup), duration: Math.min(3, settings.duration) };
  const probes: Probes = {
    ceiling: async () => (await measureCeiling(settings, workers, probeSeconds)).requestsPerSecond,
    kdf: async () => (await measureKdf(Math.min(kdfConcurrency, poolSize), probeSeconds.duration)).hashesPerSecond,
  };
  const ctx: StoreContext = { settings, workers: workersFlag ? workers : undefined, probes };
  const stores: StoreRun[] = [];
  if (settings.stores.includes('sqlite')) stores.push(await runSqlite(ctx));
  const pgUrl = process.env.OAUTHD_BENCH_PG_URL;
  if (pgUrl && settings.stores.includes('postgres')) stores.push(await runPostgres(pgUrl, ctx));
  else if (settings.stores.includes('postgres')) stores.push({ store: 'postgres', skipped: 'OAUTHD_BENCH_PG_URL is not set', scenarios: [] });
  else if (!pgUrl) notes.push('PostgreSQL not run: set OAUTHD_BENCH_PG_URL (an admin connection URL) to run every scenario on PostgreSQL too');

  await baselines('after');
  const kdf = kdfRuns.reduce((a, b) => (b.hashesPerSecond > a.hashesPerSecond ? b : a));
  const ceiling = ceilingRuns.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  applyRatios(stores, kdf.hashesPerSecond, ceiling.requestsPerSecond);

  machine.loadAverage.end = round2(os.loadavg()[0]!);
  const ok = ceilingRuns.every((c) => failures(c) === 0) && stores.every((s) => s.scenarios.every((r) => failures(r) === 0));
  const report: Report = {
    command: `node dist/bench/bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    settings: {
      durationSeconds: settings.duration,
      warmupSeconds: settings.warmup,
      connections: settings.connections,
      scenarios: settings.scenarios,
      preload: settings.preload,
      floodRatePerSecond: settings.floodRate,
      workers: { requested: settings.workers, used: workers },
      kdfConcurrency,
      hashConcurrency,
      logLevel: probeEnv.OAUTHD_LOG_LEVEL!,
      nodeFlags: settings.nodeFlags,
    },
    machine,
    kdf,
    kdfRuns: kdfRuns.map((k) => round2(k.hashesPerSecond)),
    ceiling,
    ceilingRuns: ceilingRuns.map((c) => c.requestsPerSecond),
    disk,
    stores,
    targets: stores.flatMap(evaluateTargets),
    notes,
    ok,
  };
  const text = renderText(report);
  if (settings.json) {
    process.stderr.write(text);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(text);
  }
  return ok ? 0 : 1;
}

const stopAll = async () => {
  await Promise.all([...running].map((s) => s.stop().catch(() => null)));
};
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

main().then(
  (code) => {
    process.exitCode = code;
    // Nothing should keep the process alive now; if something does, do not hang CI.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  async (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    await stopAll();
    process.exit(1);
  },
);

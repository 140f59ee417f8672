/**
 * One `oauthd serve` process, launched as the package's bin with no NODE_OPTIONS or MALLOC_* settings, stays
 * well inside a 256 MiB container at its peak (VmHWM) through bursts of password grants (RFC 6749 §4.3),
 * refreshes (§6), bearer validation (RFC 6750) and introspection (RFC 7662) on 32 connections. The peak rises
 * with the request rate, so the limit keeps a margin above the measured peaks (docs/benchmarks.md, *Memory
 * (RSS)*). Memory, not speed, is asserted; the load generator is the bench's (autocannon, closed loop).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/bench/load.js';
import { freshPairs, seed, type Seed } from '../../src/bench/target.js';
import {
  Chains,
  introspectWorkload,
  passwordWorkload,
  refreshWorkload,
  validateWorkload,
} from '../../src/bench/workloads.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { UNLIMITED_THROTTLE } from '../helpers/server.js';

const CONNECTIONS = 32;
const LIMIT_MIB = 170;

let dir: string;
let server: ServerProcess;
let url: string;
let seeded: Seed;

/** The server's environment: this one's, without anything that sizes V8 or malloc from outside. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'NODE_OPTIONS' && !key.startsWith('MALLOC_') && key !== 'UV_THREADPOOL_SIZE')
      env[key] = value;
  }
  return { ...env, ...extra };
}

const statusKiB = (field: string) =>
  Number(
    new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))![1],
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-memory-'));
  const env = cleanEnv({
    OAUTHD_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
    OAUTHD_HOST: '127.0.0.1',
    OAUTHD_PORT: '0',
    OAUTHD_ADMIN_PORT: '0',
    OAUTHD_LOG_LEVEL: 'warn',
    OAUTHD_WORKERS: '1',
    // Every login is valid and from 127.0.0.1: lift the brute-force limits.
    ...UNLIMITED_THROTTLE,
  });
  seeded = await seed(env, CONNECTIONS);
  server = await spawnServer({}, [], { baseEnv: env });
  url = server.url;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('one oauthd serve process under load on 32 connections', () => {
  it('peaks under 170 MiB of resident memory through password, refresh, validate and introspect bursts', async () => {
    const target = { seed: seeded, sample: null };
    const base = { url, connections: CONNECTIONS };
    const figures: Record<string, { requests: number; failed: number; peakMiB: number }> = {};
    const burst = async (name: string, seconds: number, workload: Parameters<typeof runLoad>[1]) => {
      const result = await runLoad({ ...base, seconds }, workload);
      figures[name] = {
        requests: result.requests,
        failed: result.errors + result.non2xx + result.wrongAnswers,
        peakMiB: statusKiB('VmHWM') / 1024,
      };
    };
    const fresh = (count: number) => freshPairs(url, seeded, count);

    await burst('password', 5, passwordWorkload(target));
    await burst('refresh', 3, refreshWorkload(target, Chains.of(await fresh(2 * CONNECTIONS), CONNECTIONS)));
    await burst('validate', 3, validateWorkload(target, Chains.of(await fresh(CONNECTIONS), CONNECTIONS)));
    await burst('introspect', 3, introspectWorkload(target, Chains.of(await fresh(CONNECTIONS), CONNECTIONS)));

    // Every burst did real work, none failed; the password burst hashed enough to have every libuv pool
    // thread (four) run argon2 more than once on a busy machine.
    for (const [name, f] of Object.entries(figures)) {
      expect(f.failed, name).toBe(0);
      expect(f.requests, name).toBeGreaterThanOrEqual(name === 'password' ? 12 : CONNECTIONS);
    }
    const peakMiB = statusKiB('VmHWM') / 1024;
    console.log(
      `one process, peak RSS per burst (MiB): ${Object.entries(figures)
        .map(([n, f]) => `${n} ${f.peakMiB.toFixed(1)}`)
        .join(', ')}`,
    );
    expect(peakMiB, JSON.stringify(figures)).toBeLessThan(LIMIT_MIB);
  }, 60_000);
});

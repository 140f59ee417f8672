/**
 * `npm run bench` must not rot: its seconds-long smoke (`--smoke --json`) runs every scenario against a real
 * oauthd on SQLite (and, where PostgreSQL answers, on PostgreSQL), and every request must succeed. No timing
 * is asserted: the machine is shared and noisy, and the figures belong in docs/benchmarks.md, not here.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { POSTGRES_ADMIN_URL, postgresAvailable } from './helpers/postgres.js';

const BENCH = fileURLToPath(new URL('../dist/bench/bench.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = [
  'password',
  'refresh',
  'client_credentials',
  'authorization_code',
  'validate',
  'introspect',
  'mixed',
  'flood',
];

interface Row {
  scenario: string;
  requestsPerSecond: number;
  errors: number;
  non2xx: number;
  wrongAnswers: number;
  parts?: Row[];
}

interface Report {
  ok: boolean;
  kdf: { hashesPerSecond: number };
  ceiling: Row;
  disk: { flushes: number; latencyMs: { p50: number; p99: number } };
  stores: { store: string; skipped?: string; scenarios: Row[] }[];
}

function runBench(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectClean(row: Row): void {
  expect(row.requestsPerSecond, `${row.scenario} req/s`).toBeGreaterThan(0);
  expect(row.errors, `${row.scenario} errors`).toBe(0);
  expect(row.non2xx, `${row.scenario} non-2xx`).toBe(0);
  expect(row.wrongAnswers, `${row.scenario} wrong answers`).toBe(0);
  for (const part of row.parts ?? []) expectClean(part);
}

async function smoke(store: 'sqlite' | 'postgres', env: Record<string, string> = {}): Promise<void> {
  const { code, stdout, stderr } = await runBench(['--smoke', '--json', '--stores', store], env);
  expect(code, stderr).toBe(0);
  const report = JSON.parse(stdout) as Report;
  expect(report.ok).toBe(true);
  expect(report.kdf.hashesPerSecond).toBeGreaterThan(0);
  expect(report.disk.flushes).toBeGreaterThan(0);
  expect(report.disk.latencyMs.p99).toBeGreaterThanOrEqual(report.disk.latencyMs.p50);
  expectClean(report.ceiling);
  const run = report.stores.find((s) => s.store === store);
  expect(run?.skipped).toBeUndefined();
  expect(run!.scenarios.map((r) => r.scenario)).toEqual(SCENARIOS);
  for (const row of run!.scenarios) expectClean(row);
  const flood = run!.scenarios.find((r) => r.scenario === 'flood')!;
  expect(flood.parts!.map((p) => p.scenario)).toEqual(['flood: password', 'flood: refresh', 'flood: validate']);
}

describe('npm run bench -- --smoke', () => {
  it('runs every scenario on SQLite with no failed request', { timeout: 60_000 }, async () => {
    await smoke('sqlite');
  });

  it('runs every scenario on PostgreSQL with no failed request', { timeout: 60_000 }, async () => {
    if (!(await postgresAvailable('the bench smoke on PostgreSQL'))) return;
    await smoke('postgres', { OAUTHD_BENCH_PG_URL: POSTGRES_ADMIN_URL });
  });

  it('refuses an unknown scenario with a usage error', async () => {
    const { code, stderr } = await runBench(['--scenarios', 'validate,nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown scenario "nope"');
  });
});

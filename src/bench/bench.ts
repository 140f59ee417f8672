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
import * as os from 'node:os';
import { mkdirSync } from 'node:fs';
import { loadConfig } from '../config/config.js';
import { measureDiskFlush } from './disk.js';
import { measureKdf, type KdfRate } from './kdf.js';
import { describeMachine, round2, type Machine } from './machine.js';
import { evaluateTargets, failures, renderText, type Report, type Row, type StoreRun } from './report.js';
import { log, stopAll } from './running.js';
import { applyRatios, measureCeiling, type Probes } from './scenarios.js';
import { parseSettings, USAGE, type Settings } from './settings.js';
import { runPostgres, runSqlite, type StoreContext } from './stores.js';
import { serveSupportsWorkers, serverEnv } from './target.js';

/** How many server processes the run uses, and whether serve is told (it may not know --workers yet). */
function resolveWorkers(settings: Settings, notes: string[]): { workers: number; workersFlag: boolean } {
  // serve's own default is one worker per core; the bench always says how many it wants, when serve can hear it.
  let workers = settings.workers;
  const workersFlag = serveSupportsWorkers();
  if (!workersFlag && workers > 1) {
    notes.push(
      `--workers ${workers}: not supported yet (oauthd serve has no --workers option); ran one server process`,
    );
    log(notes[notes.length - 1]!);
    workers = 1;
  }
  return { workers, workersFlag };
}

/**
 * The KDF rate and the ceiling, measured before and after the stores: noise from elsewhere only ever lowers
 * them, so ratios are taken against the higher of the two (the conservative choice).
 */
function createBaselines(settings: Settings, workers: number, kdfAtOnce: number) {
  const kdfRuns: KdfRate[] = [];
  const ceilingRuns: Row[] = [];
  const measure = async (when: string) => {
    log(`${when}: measuring the raw KDF rate (argon2id, ${kdfAtOnce} at once, ${settings.kdfSeconds} s)`);
    const kdf = await measureKdf(kdfAtOnce, settings.kdfSeconds);
    kdfRuns.push(kdf);
    log(`KDF: ${kdf.hashesPerSecond.toFixed(1)} hashes/s`);
    log(`${when}: measuring the ceiling (bare node:http, ${workers} process${workers > 1 ? 'es' : ''})`);
    const ceiling = await measureCeiling(settings, workers);
    ceilingRuns.push(ceiling);
    log(
      `ceiling: ${ceiling.requestsPerSecond} req/s, p50 ${ceiling.latencyMs.p50} ms, p99 ${ceiling.latencyMs.p99} ms`,
    );
  };
  return { kdfRuns, ceilingRuns, measure };
}

/** SQLite, then PostgreSQL when asked for and reachable (OAUTHD_BENCH_PG_URL). */
async function runStores(ctx: StoreContext, notes: string[]): Promise<StoreRun[]> {
  const { settings } = ctx;
  const stores: StoreRun[] = [];
  if (settings.stores.includes('sqlite')) stores.push(await runSqlite(ctx));
  const pgUrl = process.env.OAUTHD_BENCH_PG_URL;
  if (pgUrl && settings.stores.includes('postgres')) stores.push(await runPostgres(pgUrl, ctx));
  else if (settings.stores.includes('postgres')) {
    stores.push({ store: 'postgres', skipped: 'OAUTHD_BENCH_PG_URL is not set', scenarios: [] });
  } else if (!pgUrl) {
    notes.push(
      'PostgreSQL not run: set OAUTHD_BENCH_PG_URL (an admin connection URL) to run every scenario on PostgreSQL too',
    );
  }
  return stores;
}

interface RunFigures {
  settings: Settings;
  workers: number;
  kdfConcurrency: number;
  hashConcurrency: number;
  logLevel: string;
  machine: Machine;
  kdfRuns: KdfRate[];
  ceilingRuns: Row[];
  disk: Report['disk'];
  stores: StoreRun[];
  notes: string[];
}

/** The report of a run, its ratios taken against the best KDF and ceiling measurements. */
function buildReport(run: RunFigures): Report {
  const { settings, kdfRuns, ceilingRuns, stores } = run;
  const kdf = kdfRuns.reduce((a, b) => (b.hashesPerSecond > a.hashesPerSecond ? b : a));
  const ceiling = ceilingRuns.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  applyRatios(stores, kdf.hashesPerSecond, ceiling.requestsPerSecond);
  run.machine.loadAverage.end = round2(os.loadavg()[0]!);
  const ok =
    ceilingRuns.every((c) => failures(c) === 0) && stores.every((s) => s.scenarios.every((r) => failures(r) === 0));
  return {
    command: `node dist/bench/bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    settings: {
      durationSeconds: settings.duration,
      warmupSeconds: settings.warmup,
      connections: settings.connections,
      scenarios: settings.scenarios,
      preload: settings.preload,
      floodRatePerSecond: settings.floodRate,
      workers: { requested: settings.workers, used: run.workers },
      kdfConcurrency: run.kdfConcurrency,
      hashConcurrency: run.hashConcurrency,
      logLevel: run.logLevel,
      nodeFlags: settings.nodeFlags,
    },
    machine: run.machine,
    kdf,
    kdfRuns: kdfRuns.map((k) => round2(k.hashesPerSecond)),
    ceiling,
    ceilingRuns: ceilingRuns.map((c) => c.requestsPerSecond),
    disk: run.disk,
    stores,
    targets: stores.flatMap(evaluateTargets),
    notes: run.notes,
    ok,
  };
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
    notes.push(
      `the server ran under --cpu-prof (profiles in ${settings.profileDir}): its figures are lower than without`,
    );
  }
  const { workers, workersFlag } = resolveWorkers(settings, notes);
  const probeEnv = serverEnv('sqlite::memory:');
  const hashConcurrency = loadConfig(probeEnv).hashing.maxConcurrent;
  // Each server process hashes hashConcurrency passwords at once, on its libuv pool (4 threads unless set).
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const kdfConcurrency = workers * Math.min(hashConcurrency, poolSize);
  if (kdfConcurrency > poolSize) {
    notes.push(
      `the KDF rate was measured with ${poolSize} hashes at once (this process's libuv pool), not ${kdfConcurrency}`,
    );
  }
  const baselines = createBaselines(settings, workers, Math.min(kdfConcurrency, poolSize));
  await baselines.measure('before');
  const diskSeconds = settings.smoke ? 1 : 3;
  log(`measuring the disk's flush latency (fdatasync after a 64 KiB append, in ${os.tmpdir()}, ${diskSeconds} s)`);
  const disk = await measureDiskFlush(os.tmpdir(), diskSeconds);
  log(`disk: fdatasync p50 ${disk.latencyMs.p50} ms, p99 ${disk.latencyMs.p99} ms`);

  // Adjacent probes: the host's speed drifts over minutes, even within one run (docs/benchmarks.md), so each
  // scenario is also compared with baselines measured right before and after it.
  const probeSeconds = { warmup: Math.min(1, settings.warmup), duration: Math.min(3, settings.duration) };
  const probes: Probes = {
    ceiling: async () => (await measureCeiling(settings, workers, probeSeconds)).requestsPerSecond,
    kdf: async () => (await measureKdf(Math.min(kdfConcurrency, poolSize), probeSeconds.duration)).hashesPerSecond,
  };
  const stores = await runStores({ settings, workers: workersFlag ? workers : undefined, probes }, notes);
  await baselines.measure('after');
  const report = buildReport({
    settings,
    workers,
    kdfConcurrency,
    hashConcurrency,
    logLevel: probeEnv.OAUTHD_LOG_LEVEL!,
    machine,
    kdfRuns: baselines.kdfRuns,
    ceilingRuns: baselines.ceilingRuns,
    disk,
    stores,
    notes,
  });
  const text = renderText(report);
  if (settings.json) {
    process.stderr.write(text);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(text);
  }
  return report.ok ? 0 : 1;
}

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

import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker as Thread } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/parsers.js';
import type { RunningServer } from '../server.js';
import { configFrom, type StoreOptions } from './context.js';
import type { ThreadReport } from './server-thread.js';

export interface ServeOptions extends StoreOptions {
  host?: string;
  port?: string;
  adminHost?: string;
  adminPort?: string;
  workers?: string;
}

/** `--workers`, else OAUTHD_WORKERS (config file included), else one process; `auto` is one per core. */
function workerCount(flag: string | undefined, configured: number | 'auto'): number {
  if (flag === undefined) return configured === 'auto' ? availableParallelism() : configured;
  if (flag === 'auto') return availableParallelism();
  if (!/^\d+$/.test(flag) || +flag < 1 || +flag > 256) {
    throw new ConfigError(`--workers: must be a whole number from 1 to 256, or auto (got ${JSON.stringify(flag)})`);
  }
  return +flag;
}

/**
 * `oauthd serve`: one process (the server in a worker thread), or with several workers a cluster
 * (node:cluster), see runClusterPrimary.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const config = configFrom(options);
  if (config.process.memoryProfile === 'small') preferSmallHeap();
  if (cluster.isWorker) return runClusterWorker(options);
  const workers = workerCount(options.workers, config.process.workers);
  if (workers === 1) return runInThread(options);
  return runClusterPrimary(config, workers);
}

/**
 * A cluster's primary migrates the store once, forks the workers (they share the listening socket), restarts a
 * worker that dies, and on SIGTERM/SIGINT lets every worker drain. The primary alone serves the admin listener:
 * its `/metrics` is the whole cluster's (prom-client's AggregatorRegistry asks every worker over IPC and sums),
 * its `/readyz` probes the store from the primary and counts the workers listening.
 */
async function runClusterPrimary(config: Config, workers: number): Promise<void> {
  // Migrate once, before any worker opens the store. The primary keeps its store open for /readyz.
  // Loaded here, not at the top: a one-process server's main thread never needs them (memory).
  const [
    { createServices },
    { announcement, createLogger, reachableListenUrl, startAdminListener },
    { AggregatorRegistry },
    limiter,
    { reachableUrl },
  ] = await Promise.all([
    import('../services.js'),
    import('../server.js'),
    import('prom-client'),
    import('rate-limiter-flexible'),
    import('../console-origin.js'),
  ]);
  const logger = createLogger(config.process.logLevel);
  // It alone reports the store's warnings (one line, not one per worker).
  const services = await createServices(config, logger, { onStoreWarning: (message) => logger.warn(message) });
  const aggregator = new AggregatorRegistry();
  const listeningWorkers = new Set<number>();
  // Bound before any worker is forked: a taken admin port stops the server at once, one line, exit 1.
  let admin: Awaited<ReturnType<typeof startAdminListener>>;
  try {
    admin = await startAdminListener(config, {
      logger,
      metrics: { contentType: aggregator.contentType, render: () => aggregator.clusterMetrics() },
      store: services.store,
      workers: () => ({ listening: listeningWorkers.size, configured: workers }),
      bruteForceCounters: services.throttleCounters,
      services,
    });
  } catch (error) {
    await services.close();
    throw error;
  }
  // The console is served here, signed in by the workers: they build its callback from this origin.
  services.console.setOrigin(reachableListenUrl(admin.app, config.admin.host, config.admin.port));
  const workerEnv = { OAUTHD_CONSOLE_URL: config.admin.consoleUrl ?? services.console.origin() };
  // Workers that cannot bind the public port would exit and be restarted forever: find out here instead,
  // and stop with one line, as a single process does.
  try {
    await assertCanListen(config.http.host, config.http.port);
  } catch (error) {
    await Promise.all([admin.app.close(), services.close()]);
    throw error;
  }
  const counts = await services.store.counts();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();

  // The workers' brute-force counters live here when there is no Redis (RateLimiterCluster asks over IPC).
  new limiter.RateLimiterClusterMaster();
  superviseWorkers(workers, listeningWorkers, workerEnv, {
    onAllListening: (url) => {
      // The public address the console sends browsers to (the port is the workers' shared one).
      services.setPublicBaseUrl(`${reachableUrl(config.http.host, Number(new URL(url).port))}${config.http.basePath}`);
      process.stderr.write(announcement(url, config.http.basePath, admin.url));
    },
    close: () => Promise.all([admin.app.close(), services.close()]),
  });
}

/**
 * Forks `count` workers and restarts one that dies; `listening` holds the ids of those listening. On
 * SIGTERM/SIGINT every worker drains, then `close` runs and the process exits.
 */
function superviseWorkers(
  count: number,
  listening: Set<number>,
  env: Record<string, string>,
  hooks: { onAllListening: (url: string) => void; close: () => Promise<unknown> },
): void {
  let stopping = false;
  let announced = false;
  const fork = (): Worker => {
    // glibc would keep one arena per libuv pool thread, each holding an argon2 block: two arenas hold fewer
    // (docs/benchmarks.md, *Memory (RSS)*). An operator's own setting wins.
    const worker = cluster.fork({
      ...env,
      OAUTHD_WORKERS: '1',
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    });
    worker.on('message', (message: { type?: string; url?: string }) => {
      if (message.type !== 'oauthd:listening') return;
      listening.add(worker.id);
      if (!announced && listening.size === count) {
        announced = true;
        hooks.onAllListening(message.url ?? '');
      }
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork();
  const exit = () => {
    hooks.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) exit();
      return;
    }
    process.stderr.write(`oauthd: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) exit();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Binds host:port and lets it go again; rejects with the listen error (EADDRINUSE, EACCES…). Port 0 is always free. */
function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function printEmptyStoreHint(): void {
  process.stderr.write(
    [
      '',
      'oauthd: the store has no clients or no users yet. Create them with:',
      '  npx oauthd client create --name my-app',
      '  npx oauthd user create --username alice --password-stdin',
      '',
      '',
    ].join('\n'),
  );
}

/**
 * V8's `--optimize-for-size`, set from inside the process (the server is started as a plain `node …/main.js
 * serve`: no launch flag can be relied on) before the server's heap exists. V8 reads it at each garbage
 * collection: under load the old generation stays near its live size instead of growing well past it
 * (docs/benchmarks.md, *Memory (RSS)*). An operator's own `node --optimize-for-size` or
 * `--no-optimize-for-size` wins (NODE_OPTIONS is searched too, though Node accepts only some V8 flags there).
 */
function preferSmallHeap(): void {
  if (/--(no-)?optimize[-_]for[-_]size\b/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`))
    return;
  setFlagsFromString('--optimize-for-size');
}

/**
 * V8's young generation of the server thread, in MiB: V8 counts three semi-spaces, so the new space is 2 × 2 MiB.
 * Left to V8, the new space grows several-fold under load, which alone kept one process above its memory target
 * (docs/benchmarks.md, *Memory (RSS)*). A young generation this small promotes more objects to the old one,
 * which `--optimize-for-size` (preferSmallHeap) then keeps collected.
 */
export const SERVER_YOUNG_GENERATION_MB = 6;

/** Whether the operator sized V8's young generation with a launch flag: theirs wins then. */
const youngGenerationFlagged = () =>
  /--max-semi-space-size|--semi-space-size/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);

/**
 * One process: the server runs in a worker thread, whose heap takes `resourceLimits` (a main thread's young
 * generation is fixed at launch). This thread only parses the command line, forwards SIGTERM/SIGINT and writes
 * the start-up lines; the server logs, drains and closes exactly as in a cluster worker.
 */
async function runInThread(options: ServeOptions): Promise<void> {
  const thread = new Thread(new URL('./server-thread.js', import.meta.url), {
    workerData: options,
    ...(configFrom(options).process.memoryProfile === 'fast' || youngGenerationFlagged()
      ? {}
      : { resourceLimits: { maxYoungGenerationSizeMb: SERVER_YOUNG_GENERATION_MB } }),
  });
  // Signal handlers come first: a SIGTERM during start-up must still drain and close the store.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    thread.postMessage({ type: 'stop', signal });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    thread.on('message', (message: ThreadReport) => {
      if (message.type === 'failed') {
        failure = message.message;
        return;
      }
      if (message.emptyStore) printEmptyStoreHint();
      process.stderr.write(message.announcement);
      resolve();
    });
    // A crash of the server thread is a crash of the server: its stack on stderr, then exit code 1.
    thread.on('error', (error) => process.stderr.write(`${error.stack ?? String(error)}\n`));
    // The process ends when, and as, the thread ends: after draining (0), a failed shutdown or a crash (1).
    // A start-up failure goes to the CLI's one stderr line and exit code 1, as for every command.
    thread.on('exit', (code) => {
      if (failure !== undefined) reject(new Error(failure));
      else process.exit(code);
    });
  });
}

/** A cluster worker: the server in this process, reporting to the primary (which serves the admin listener). */
async function runClusterWorker(options: ServeOptions): Promise<void> {
  const config = configFrom(options);
  // Signal handlers come first: a SIGTERM during start-up, or the moment readiness is announced, must
  // still drain and close the store, never kill the process mid-write.
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!server) return; // start-up sees `stopping` and shuts down as soon as it can
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server?.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker whose primary is gone (killed) drains and leaves rather than serve on alone.
  process.on('disconnect', () => stop('primary gone'));

  const [{ startServer }, { AggregatorRegistry }] = await Promise.all([import('../server.js'), import('prom-client')]);
  // The primary has reported the store's warnings already: one line, not one per worker.
  server = await startServer(config, { admin: false, overrides: { onStoreWarning: () => {} } });
  if (stopping) {
    await server.close();
    process.exit(0);
  }
  // Answer the primary's requests for this worker's metrics (the constructor installs the listener).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([server.services.metrics.registry]);
  process.send?.({ type: 'oauthd:listening', url: server.url });
}

import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { ConfigError } from '../config/config.js';
import { announcement, createLogger, startAdminListener, startServer, type RunningServer } from '../server.js';
import { createServices } from '../services.js';
import { configFrom, type StoreOptions } from './context.js';

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
 * `oauthd serve`: one process, or with several workers a cluster (node:cluster) whose primary migrates the
 * store once, forks the workers (they share the listening socket), restarts a worker that dies, and on
 * SIGTERM/SIGINT lets every worker drain. The primary alone serves the admin listener: its `/metrics` is
 * the whole cluster's (prom-client's AggregatorRegistry asks every worker over IPC and sums), its `/readyz`
 * probes the store from the primary and counts the workers listening.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const config = configFrom(options);
  if (cluster.isWorker) return runServer(options, true);
  const workers = workerCount(options.workers, config.workers);
  if (workers === 1) return runServer(options, false);

  // The primary: migrate once, before any worker opens the store. It keeps its store open for /readyz.
  const logger = createLogger(config.logLevel);
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
    });
  } catch (error) {
    await services.close();
    throw error;
  }
  // Workers that cannot bind the public port would exit and be restarted forever: find out here instead,
  // and stop with one line, as a single process does.
  try {
    await assertCanListen(config.host, config.port);
  } catch (error) {
    await Promise.all([admin.app.close(), services.close()]);
    throw error;
  }
  const counts = await services.store.counts();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();

  // The workers' brute-force counters live here when there is no Redis (RateLimiterCluster asks over IPC).
  new RateLimiterClusterMaster();
  let stopping = false;
  let announced = false;
  const fork = (): Worker => {
    // glibc would keep one arena per libuv pool thread, each holding a 19 MiB argon2 block: two arenas keep
    // a worker near 110 MiB instead of ~200 (docs/benchmarks.md). An operator's own setting wins.
    const worker = cluster.fork({ OAUTHD_WORKERS: '1', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' });
    worker.on('message', (message: { type?: string; url?: string }) => {
      if (message.type !== 'oauthd:listening') return;
      listeningWorkers.add(worker.id);
      if (!announced && listeningWorkers.size === workers) {
        announced = true;
        process.stderr.write(announcement(message.url ?? '', config.basePath, admin.url));
      }
    });
    return worker;
  };
  for (let i = 0; i < workers; i++) fork();
  const exit = () => {
    Promise.all([admin.app.close(), services.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  cluster.on('exit', (worker, code, signal) => {
    listeningWorkers.delete(worker.id);
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

async function runServer(options: ServeOptions, inCluster: boolean): Promise<void> {
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
  if (inCluster) process.on('disconnect', () => stop('primary gone'));

  // In a cluster the primary serves the admin listener for every worker, and has reported the store's
  // warnings already.
  server = await startServer(config, inCluster ? { admin: false, overrides: { onStoreWarning: () => {} } } : { admin: true });
  if (stopping) {
    await server.close();
    process.exit(0);
  }
  if (inCluster) {
    // Answer the primary's requests for this worker's metrics (the constructor installs the listener).
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([server.services.metrics.registry]);
    process.send?.({ type: 'oauthd:listening', url: server.url });
    return;
  }
  const counts = await server.services.store.counts();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();
  process.stderr.write(announcement(server.url, config.basePath, server.adminUrl));
}

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry } from 'prom-client';
import { ConfigError } from '../config/config.js';
import { createLogger, startServer, type RunningServer } from '../server.js';
import { createServices } from '../services.js';
import { configFrom, type StoreOptions } from './context.js';

export interface ServeOptions extends StoreOptions {
  host?: string;
  port?: string;
  workers?: string;
}

const METRICS_REQUEST = 'oauthd:metrics-request';
const METRICS_RESPONSE = 'oauthd:metrics-response';

/** `--workers`, else OAUTHD_WORKERS, else one per core. */
function workerCount(flag: string | undefined): number {
  const value = flag ?? process.env.OAUTHD_WORKERS;
  if (value === undefined || value === '') return availableParallelism();
  if (!/^\d+$/.test(value) || +value < 1 || +value > 256) {
    throw new ConfigError(`${flag !== undefined ? '--workers' : 'OAUTHD_WORKERS'}: must be a whole number from 1 to 256 (got ${JSON.stringify(value)})`);
  }
  return +value;
}

/**
 * `oauthd serve`: one process, or with several workers a cluster (node:cluster) whose primary migrates the
 * store once, forks the workers (they share the listening socket), restarts a worker that dies, and on
 * SIGTERM/SIGINT lets every worker drain. `/metrics` of any worker reports the whole cluster.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const config = configFrom(options);
  if (cluster.isWorker) return runServer(options, true);
  const workers = workerCount(options.workers);
  if (workers === 1) return runServer(options, false);

  // The primary: migrate once, before any worker opens the store. It alone reports the store's warnings.
  const services = await createServices(config, createLogger('silent'), {
    onStoreWarning: (message) => createLogger(config.logLevel).warn(message),
  });
  const counts = await services.store.counts();
  await services.close();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();

  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let announced = false;
  let listening = 0;
  const fork = (): Worker => {
    // glibc would keep one arena per libuv pool thread, each holding a 19 MiB argon2 block: two arenas keep
    // a worker near 110 MiB instead of ~200 (docs/benchmarks.md). An operator's own setting wins.
    const worker = cluster.fork({ OAUTHD_WORKERS: '1', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' });
    worker.on('message', (message: { type?: string; id?: number; url?: string }) => {
      if (message.type === 'oauthd:listening' && !announced && ++listening === workers) {
        announced = true;
        process.stderr.write(`oauthd: token endpoint at ${message.url}${config.basePath}/o/token/\n`);
      }
      if (message.type === METRICS_REQUEST) {
        aggregator.clusterMetrics().then(
          (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
          (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
        );
      }
    });
    return worker;
  };
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`oauthd: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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

  // In a cluster the primary has reported the store's warnings already: one line, not one per worker.
  server = await startServer(config, inCluster ? { overrides: { onStoreWarning: () => {} } } : {});
  if (stopping) {
    await server.close();
    process.exit(0);
  }
  if (inCluster) {
    // Answer the primary's requests for this worker's metrics (the constructor installs the listener).
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([server.services.metrics.registry]);
    server.services.metrics.render = clusterMetrics;
    process.send?.({ type: 'oauthd:listening', url: server.url });
    return;
  }
  const counts = await server.services.store.counts();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();
  process.stderr.write(`oauthd: token endpoint at ${server.url}${config.basePath}/o/token/\n`);
}

let nextRequest = 0;
/** In a worker: the whole cluster's metrics, aggregated by the primary. */
function clusterMetrics(): Promise<string> {
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string; id?: number; text?: string; error?: string }) => {
      if (message.type !== METRICS_RESPONSE || message.id !== id) return;
      process.off('message', onMessage);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? '');
    };
    process.on('message', onMessage);
    process.send?.({ type: METRICS_REQUEST, id });
  });
}

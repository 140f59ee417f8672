import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker as Thread } from 'node:worker_threads';
import { ConfigError } from '../config/config.js';
import type { RunningServer } from '../server.js';
import { configFrom, type StoreOptions } from './context.js';
import type { ThreadReport } from './server-thread.js';

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
  preferSmallHeap();
  if (cluster.isWorker) return runClusterWorker(options);
  const workers = workerCount(options.workers);
  if (workers === 1) return runInThread(options);

  // The primary: migrate once, before any worker opens the store.
  const [{ createServices }, { createLogger }, { AggregatorRegistry }, { RateLimiterClusterMaster }] = await Promise.all([
    import('../services.js'),
    import('../server.js'),
    import('prom-client'),
    import('rate-limiter-flexible'),
  ]);
  const services = await createServices(config, createLogger('silent'));
  const counts = await services.store.counts();
  await services.close();
  if (counts.clients === 0 || counts.users === 0) printEmptyStoreHint();

  // The workers' brute-force counters live here when there is no Redis (RateLimiterCluster asks over IPC).
  new RateLimiterClusterMaster();
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let announced = false;
  let listening = 0;
  const fork = (): Worker => {
    // glibc would keep one arena per libuv pool thread, each holding an argon2 block (7 MiB): two arenas keep
    // fewer of them (docs/benchmarks.md). An operator's own setting wins.
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

/**
 * V8's `--optimize-for-size`, set from inside the process (the server is started as a plain `node …/main.js
 * serve`: no launch flag can be relied on) before the server's heap exists. V8 reads it at each garbage
 * collection: under load the old generation stays near its live size instead of growing by 10–30 MiB
 * (docs/benchmarks.md, *RSS*). An operator's own `node --optimize-for-size` or `--no-optimize-for-size` wins
 * (NODE_OPTIONS is searched too, though Node accepts only some V8 flags there).
 */
function preferSmallHeap(): void {
  if (/--(no-)?optimize[-_]for[-_]size\b/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return;
  setFlagsFromString('--optimize-for-size');
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
 * V8's young generation of the server thread, in MiB: V8 counts three semi-spaces, so the new space is 2 × 2 MiB.
 * Left to V8, the new space grows to 32 MiB under load, which alone kept one process above 150 MiB
 * (docs/benchmarks.md, *RSS*). A young generation this small promotes more objects to the old one, which
 * `--optimize-for-size` (preferSmallHeap) then keeps collected.
 */
export const SERVER_YOUNG_GENERATION_MB = 6;

/** Whether the operator sized V8's young generation with a launch flag: theirs wins then. */
const youngGenerationFlagged = () => /--max-semi-space-size|--semi-space-size/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);

/**
 * One process: the server runs in a worker thread, whose heap takes `resourceLimits` (a main thread's young
 * generation is fixed at launch). This thread only parses the command line, forwards SIGTERM/SIGINT and writes
 * the start-up lines; the server logs, drains and closes exactly as in a cluster worker.
 */
async function runInThread(options: ServeOptions): Promise<void> {
  const config = configFrom(options);
  const thread = new Thread(new URL('./server-thread.js', import.meta.url), {
    workerData: { host: options.host, port: options.port, databaseUrl: options.databaseUrl },
    ...(youngGenerationFlagged() ? {} : { resourceLimits: { maxYoungGenerationSizeMb: SERVER_YOUNG_GENERATION_MB } }),
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
      process.stderr.write(`oauthd: token endpoint at ${message.url}${config.basePath}/o/token/\n`);
      resolve();
    });
    // A crash of the server thread is a crash of the server: its stack on stderr, then exit code 1.
    thread.on('error', (error) => process.stderr.write(`${error.stack ?? String(error)}\n`));
    // The process ends when, and as, the thread ends: after draining (0), a failed shutdown or a crash (1).
    // A start-up failure goes to the CLI's one stderr line and exit code 1, as before the thread.
    thread.on('exit', (code) => {
      if (failure !== undefined) reject(new Error(failure));
      else process.exit(code);
    });
  });
}

/** A cluster worker: the server in this process, reporting to the primary. */
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
  server = await startServer(config);
  if (stopping) {
    await server.close();
    process.exit(0);
  }
  // Answer the primary's requests for this worker's metrics (the constructor installs the listener).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([server.services.metrics.registry]);
  server.services.metrics.render = clusterMetrics;
  process.send?.({ type: 'oauthd:listening', url: server.url });
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

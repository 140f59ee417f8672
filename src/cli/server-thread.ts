/**
 * The server of a one-process `oauthd serve`, run in a worker thread (see runInThread in serve.ts): a worker
 * thread's V8 heap takes `resourceLimits`, so its young generation can be kept small without a launch flag.
 * Signals reach the main thread only; it posts `stop` here. Everything else is the server as a cluster worker runs it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { announcement, startServer, type RunningServer } from '../server.js';
import { configFrom } from './context.js';
import type { ServeOptions } from './serve.js';

/**
 * Messages from the thread to the main thread. The thread's exit code is the process's: the main thread
 * exits only once the thread has ended (exiting under a running thread that holds native handles aborts).
 */
export type ThreadReport =
  | { type: 'listening'; announcement: string; emptyStore: boolean }
  | { type: 'failed'; message: string };

const port = parentPort!;
const report = (message: ThreadReport) => port.postMessage(message);

let server: RunningServer | undefined;
let stopping = false;

/**
 * Ends the thread with `code` once its event loop is empty. Not process.exit at once: a hash still running on
 * libuv's pool (the dummy hash made at start, a login in flight) would complete into a torn-down thread and
 * abort the process. A handle left open by mistake cannot keep it alive: after 5 s it exits anyway.
 */
function finish(code: number): void {
  process.exitCode = code;
  port.unref();
  setTimeout(() => process.exit(code), 5_000).unref();
}

function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  if (!server) return; // start-up sees `stopping` and shuts down as soon as it can
  server.app.log.info({ signal }, 'shutting down');
  server.close().then(
    () => finish(0),
    (error: unknown) => {
      server?.app.log.error({ err: error }, 'shutdown failed');
      finish(1);
    },
  );
}

port.on('message', (message: { type?: string; signal?: string }) => {
  if (message.type === 'stop') stop(message.signal ?? 'SIGTERM');
});

try {
  server = await startServer(configFrom(workerData as ServeOptions), { admin: true });
} catch (error) {
  report({ type: 'failed', message: (error as Error).message ?? String(error) });
  finish(1);
}
if (server) {
  if (stopping) {
    await server.close();
    finish(0);
  } else {
    // A stop that arrives while the store is counted closes it under the count: announce nothing then.
    const counts = await server.services.store.counts().catch(() => null);
    if (!stopping) {
      const config = configFrom(workerData as ServeOptions);
      report({
        type: 'listening',
        announcement: announcement(server.url, config.http.basePath, server.adminUrl),
        emptyStore: counts !== null && (counts.clients === 0 || counts.users === 0),
      });
    }
  }
}

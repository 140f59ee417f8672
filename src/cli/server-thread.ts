/**
 * The server of a one-process `oauthd serve`, run in a worker thread (see runInThread in serve.ts): a worker
 * thread's V8 heap takes `resourceLimits`, so its young generation can be kept small without a launch flag.
 * Signals reach the main thread only; it posts `stop` here. Everything else is the server as it always was.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startServer, type RunningServer } from '../server.js';
import { configFrom } from './context.js';
import type { ServeOptions } from './serve.js';

/** Messages from the thread to the main thread. */
export type ThreadReport =
  | { type: 'listening'; url: string; emptyStore: boolean }
  | { type: 'failed'; message: string }
  | { type: 'closed'; ok: boolean };

const port = parentPort!;
const report = (message: ThreadReport) => port.postMessage(message);

let server: RunningServer | undefined;
let stopping = false;

function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  if (!server) return; // start-up sees `stopping` and shuts down as soon as it can
  server.app.log.info({ signal }, 'shutting down');
  server.close().then(
    () => report({ type: 'closed', ok: true }),
    (error: unknown) => {
      server?.app.log.error({ err: error }, 'shutdown failed');
      report({ type: 'closed', ok: false });
    },
  );
}

port.on('message', (message: { type?: string; signal?: string }) => {
  if (message.type === 'stop') stop(message.signal ?? 'SIGTERM');
});

try {
  server = await startServer(configFrom(workerData as ServeOptions));
} catch (error) {
  report({ type: 'failed', message: (error as Error).message ?? String(error) });
  port.close();
}
if (server) {
  if (stopping) {
    await server.close();
    report({ type: 'closed', ok: true });
  } else {
    const counts = await server.services.store.counts();
    report({ type: 'listening', url: server.url, emptyStore: counts.clients === 0 || counts.users === 0 });
  }
}

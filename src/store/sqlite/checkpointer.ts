import { once } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that crosses
 * `wal_autocheckpoint` pages, on the committing connection: with better-sqlite3 that is the event loop, blocked
 * while pages are copied and both files fsynced. The server gives its connection a high threshold (a backstop)
 * and runs PASSIVE checkpoints every `intervalMs` from a worker thread with its own connection: PASSIVE never
 * waits on a lock nor blocks the writer (https://sqlite.org/c3ref/wal_checkpoint_v2.html).
 * docs/design-notes.md, *The store*.
 */
export interface Checkpointer {
  close(): Promise<void>;
}

// The worker is given as source (not a file) so it runs the same from dist/ and from the TypeScript sources
// under test; better-sqlite3 is resolved here and passed in. Dynamic imports in an async function: the
// source must run both as a CommonJS script and as a module (an eval worker inherits --input-type).
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { default: Database } = await import(workerData.betterSqlite3);
  const db = new Database(workerData.path);
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      // SQLITE_BUSY (another checkpoint running, e.g. another process's): the next tick tries again.
      if (!/^SQLITE_BUSY|^SQLITE_LOCKED/.test(String(error && error.code))) {
        parentPort.postMessage({ error: String(error && error.message) });
      }
    }
  };
  const timer = setInterval(checkpoint, workerData.intervalMs);
  parentPort.on('message', (message) => {
    if (message !== 'close') return;
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.close();
  });
})();
`;

export function startCheckpointer(
  path: string,
  options: { intervalMs?: number; onError?: (message: string) => void } = {},
): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path,
      intervalMs: options.intervalMs ?? 100,
      betterSqlite3: pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href,
    },
    // A few MiB of JavaScript heap is all it needs.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(message.error);
  });
  worker.on('error', (error) => options.onError?.(error.message));
  const exited = once(worker, 'exit');
  // After the listeners: adding a 'message' listener refs the worker's port again, and a process that never
  // closes its store (a script, a test) would then never exit.
  worker.unref();
  return {
    async close() {
      worker.postMessage('close');
      const timeout = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

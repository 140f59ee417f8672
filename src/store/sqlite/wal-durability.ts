import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

/** Flushes a file's data to stable storage; the default is fdatasync(2) on libuv's thread pool. */
export type SyncFile = (fd: number) => Promise<void>;

export const fdatasyncOffLoop: SyncFile = (fd) =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

export interface WalDurability {
  /** Call after every committed write transaction. */
  committed(): void;
  /** Resolves once every transaction committed before the call is on stable storage. */
  durable(): Promise<void>;
  /** Rejects durable() from now on (with the first sync failure) if a sync ever failed. */
  readonly failure: Error | null;
  /** Waits for the sync in flight, then closes the WAL's descriptor. */
  close(): Promise<void>;
}

/**
 * Durable commits without blocking the event loop: the connection runs `synchronous = NORMAL` in WAL mode (a
 * commit appends its frames without fsync), and no write is acknowledged before an fdatasync of the `-wal`
 * file, started after its commit, has completed on libuv's thread pool. Commits made while one sync is in
 * flight share the next one. What a client is told is committed is as durable as with `synchronous = FULL`.
 *
 * A failed fdatasync is not retried (the kernel may have dropped the dirty pages): every later durable()
 * rejects, and the store answers unavailable until a restart lets SQLite recover from the disk.
 * docs/design-notes.md, *The store*.
 */
export function walDurability(walPath: string, sync: SyncFile = fdatasyncOffLoop): WalDurability {
  let fd: number | undefined;
  let committedCount = 0;
  let syncedCount = 0;
  let inFlight: Promise<void> | null = null;
  let failure: Error | null = null;
  let waiters: { target: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  /** The WAL's descriptor, reopened if the file was replaced (it never is while this connection is open). */
  const walFd = (): number => {
    if (fd !== undefined && fstatSync(fd).nlink > 0) return fd;
    if (fd !== undefined) closeSync(fd);
    fd = openSync(walPath, 'r');
    return fd;
  };

  const fail = (error: unknown) => {
    failure ??= Object.assign(new Error(`fdatasync of the SQLite WAL failed: ${(error as Error).message}`), {
      code: 'SQLITE_IOERR_FSYNC',
      cause: error,
    });
    for (const w of waiters) w.reject(failure);
    waiters = [];
  };

  const start = () => {
    const covers = committedCount;
    let descriptor: number;
    try {
      descriptor = walFd();
    } catch (error) {
      fail(error);
      return;
    }
    inFlight = sync(descriptor).then(
      () => {
        inFlight = null;
        syncedCount = covers;
        const still = [];
        for (const w of waiters)
          if (w.target <= syncedCount) w.resolve();
          else still.push(w);
        waiters = still;
        if (waiters.length > 0) start();
      },
      (error: unknown) => {
        inFlight = null;
        fail(error);
      },
    );
  };

  return {
    committed() {
      committedCount += 1;
    },
    durable() {
      if (failure) return Promise.reject(failure);
      const target = committedCount;
      if (syncedCount >= target) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ target, resolve, reject });
        // A sync already in flight may have started before this commit: the next one covers it.
        if (!inFlight) start();
      });
    },
    get failure() {
      return failure;
    },
    async close() {
      while (inFlight) await inFlight;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** For stores without a WAL file (`:memory:`): SQLite's own setting is all there is. */
export const noWal: WalDurability = {
  committed() {},
  durable: () => Promise.resolve(),
  failure: null,
  close: () => Promise.resolve(),
};

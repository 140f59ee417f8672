import type { ClientStore, Clock, StoreMaintenance } from '../core/ports.js';

/** What the cleanup needs of the store: its two batch deletions, and the clients' own grace windows. */
export type CleanupStore = Pick<StoreMaintenance, 'deleteExpired' | 'eraseSealedSuccessors'> &
  Pick<ClientStore, 'listClients'>;

export interface CleanupOptions {
  retentionSeconds: number;
  /** Keep audit events this long; undefined keeps them forever. */
  auditRetentionSeconds?: number;
  /**
   * OAUTHD_REFRESH_GRACE_SECONDS: sealed successors of tokens used longer ago than this are erased — or than
   * the longest window a client has of its own (`--refresh-grace`), read at each run.
   */
  successorGraceSeconds: number;
  /** Rows per kind per batch. */
  batchSize?: number;
  /** Stop a run after this long (the rest waits for the next run). */
  maxRunMs?: number;
  /** Called after each batch with the totals so far: dead rows deleted, sealed responses erased. */
  onProgress?: (progress: CleanupProgress) => void;
}

export interface CleanupProgress {
  /**
   * Dead rows deleted: expired access tokens, used/revoked/expired refresh tokens past retention, their grants,
   * old audit events.
   */
  deleted: number;
  /** Sealed refresh responses erased (past the grace window). */
  erased: number;
}

/**
 * How far back a run looks again for sealed successors, before where the previous run finished: a rotation's
 * `used_at` is its request's clock, which its commit can follow by a few seconds (busy and statement
 * timeouts, 5 s each), and another instance's clock may be a little behind. A successor missed even so is
 * erased by a process's first run or by `oauthd cleanup`, which walk every used token.
 */
const SUCCESSOR_LOOKBACK_SECONDS = 120;

/** Where the erasure of sealed successors goes on from (a used_at); 0 walks every used token. */
export interface SealedCursor {
  from: number;
}

/**
 * One run: deletes dead tokens, then erases sealed successors past the grace window from `cursor.from` on
 * (moving it), in batches, until nothing is left or the time budget is spent; returns how many rows went.
 */
async function runCleanup(
  store: CleanupStore,
  clock: Clock,
  options: CleanupOptions,
  cursor: SealedCursor,
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  // A client's own grace window may be longer than the server's: keep its retries' answers that long.
  const graceSeconds = (await store.listClients()).reduce(
    (longest, client) => Math.max(longest, client.policy.refreshGraceSeconds ?? 0),
    options.successorGraceSeconds,
  );
  const deadline = Date.now() + (options.maxRunMs ?? Number.POSITIVE_INFINITY);
  // Let requests in between batches.
  const yieldToRequests = () => new Promise((resolve) => setImmediate(resolve));
  let total = 0;
  let erased = 0;
  for (;;) {
    const deleted = await store.deleteExpired({
      now: clock.now(),
      retentionSeconds: options.retentionSeconds,
      limit: batchSize,
      ...(options.auditRetentionSeconds !== undefined ? { auditRetentionSeconds: options.auditRetentionSeconds } : {}),
    });
    total += deleted;
    options.onProgress?.({ deleted: total, erased: 0 });
    if (deleted < batchSize) break;
    if (Date.now() >= deadline) return total;
    await yieldToRequests();
  }
  for (;;) {
    const now = clock.now();
    const { next, erased: erasedNow } = await store.eraseSealedSuccessors({
      now,
      graceSeconds,
      usedFrom: cursor.from,
      limit: batchSize,
    });
    erased += erasedNow;
    options.onProgress?.({ deleted: total, erased });
    if (next === null) {
      // Done up to now − grace; the next run looks again a little before that.
      cursor.from = Math.max(cursor.from, now - graceSeconds - SUCCESSOR_LOOKBACK_SECONDS);
      return total;
    }
    cursor.from = next;
    if (Date.now() >= deadline) return total;
    await yieldToRequests();
  }
}

/**
 * Deletes dead tokens in batches until none is left or the time budget is spent, and erases every sealed
 * successor past the grace window; returns how many rows were deleted.
 */
export async function cleanupDeadTokens(store: CleanupStore, clock: Clock, options: CleanupOptions): Promise<number> {
  return runCleanup(store, clock, options, { from: 0 });
}

/**
 * Runs the cleanup every `intervalSeconds` (with jitter, so the workers of a cluster and several instances
 * spread out), at most one run at a time, each bounded in time. The erasure of sealed successors walks the
 * used tokens once from the start (over as many runs as it takes), then only those used since the previous
 * run. Errors are reported, never thrown.
 */
export function scheduleCleanup(
  store: CleanupStore,
  clock: Clock,
  options: CleanupOptions & {
    intervalSeconds: number;
    onRun: (deleted: number) => void;
    onError: (error: unknown) => void;
  },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const cursor: SealedCursor = { from: 0 };
  const run = () => {
    if (running || stopped) return;
    running = runCleanup(store, clock, { maxRunMs: 1000, ...options }, cursor)
      .then(options.onRun, options.onError)
      .finally(() => (running = null));
  };
  const timer = setInterval(run, options.intervalSeconds * 1000 * (0.8 + Math.random() * 0.4));
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

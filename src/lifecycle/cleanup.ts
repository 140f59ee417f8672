import type { Clock, Store } from '../core/ports.js';

export interface CleanupOptions {
  retentionSeconds: number;
  /** Keep audit events this long; undefined keeps them forever. */
  auditRetentionSeconds?: number;
  /** OAUTHD_REFRESH_GRACE_SECONDS: sealed successors of tokens used longer ago than this are erased. */
  successorGraceSeconds: number;
  /** Rows per kind per batch. */
  batchSize?: number;
  /** Stop a run after this long (the rest waits for the next run). */
  maxRunMs?: number;
}

/**
 * How far back a run that follows a complete one looks for sealed successors, before the previous run's
 * window end: a rotation's `used_at` is its request's clock, which its commit can follow by a few seconds
 * (busy and statement timeouts, 5 s each), and another instance's clock may be a little behind. Each run
 * walks the used tokens of this span and of the time since the last run, not the whole retention (without an
 * index of sealed rows, every used token in the range is looked at). A successor missed here (a commit later
 * than this, a clock further behind) is erased by the next first run of a process, or by `oauthd cleanup`,
 * which look at every used token.
 */
const SUCCESSOR_LOOKBACK_SECONDS = 120;

interface CleanupRun {
  deleted: number;
  /** Nothing was left for this run's `now`: the next run need not look for successors before `sealedBefore`. */
  complete: boolean;
  sealedBefore: number;
}

async function runCleanup(store: Store, clock: Clock, options: CleanupOptions & { successorUsedSince?: number }): Promise<CleanupRun> {
  const batchSize = options.batchSize ?? 1000;
  const deadline = Date.now() + (options.maxRunMs ?? Number.POSITIVE_INFINITY);
  let total = 0;
  let now = clock.now();
  for (;;) {
    now = clock.now();
    const deleted = await store.deleteExpired({
      now,
      retentionSeconds: options.retentionSeconds,
      limit: batchSize,
      successorGraceSeconds: options.successorGraceSeconds,
      ...(options.successorUsedSince !== undefined ? { successorUsedSince: options.successorUsedSince } : {}),
      ...(options.auditRetentionSeconds !== undefined ? { auditRetentionSeconds: options.auditRetentionSeconds } : {}),
    });
    total += deleted;
    if (deleted < batchSize) return { deleted: total, complete: true, sealedBefore: now - options.successorGraceSeconds };
    if (Date.now() >= deadline) return { deleted: total, complete: false, sealedBefore: now - options.successorGraceSeconds };
    // Let requests in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Deletes dead tokens (and erases sealed successors past the grace window) in batches until none is left or
 * the time budget is spent; returns how many rows went.
 */
export async function cleanupDeadTokens(store: Store, clock: Clock, options: CleanupOptions): Promise<number> {
  return (await runCleanup(store, clock, options)).deleted;
}

/**
 * Runs the cleanup every `intervalSeconds` (with jitter, so the workers of a cluster and several instances
 * spread out), at most one run at a time, each bounded in time. Errors are reported, never thrown.
 */
export function scheduleCleanup(
  store: Store,
  clock: Clock,
  options: CleanupOptions & { intervalSeconds: number; onRun: (deleted: number) => void; onError: (error: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  // Where the last complete run stopped erasing sealed successors; the first run looks at every used token.
  let sealedUpTo: number | undefined;
  const run = () => {
    if (running || stopped) return;
    const successorUsedSince = sealedUpTo === undefined ? undefined : sealedUpTo - SUCCESSOR_LOOKBACK_SECONDS;
    running = runCleanup(store, clock, { maxRunMs: 1000, ...options, ...(successorUsedSince !== undefined ? { successorUsedSince } : {}) })
      .then((result) => {
        if (result.complete) sealedUpTo = result.sealedBefore;
        options.onRun(result.deleted);
      }, options.onError)
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

import type { Clock, Store } from '../core/ports.js';

export interface CleanupOptions {
  retentionSeconds: number;
  /** Keep audit events this long; undefined keeps them forever. */
  auditRetentionSeconds?: number;
  /** Rows per kind per batch. */
  batchSize?: number;
  /** Stop a run after this long (the rest waits for the next run). */
  maxRunMs?: number;
}

/** Deletes dead tokens in batches until none is left or the time budget is spent; returns how many went. */
export async function cleanupDeadTokens(store: Store, clock: Clock, options: CleanupOptions): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const deadline = Date.now() + (options.maxRunMs ?? Number.POSITIVE_INFINITY);
  let total = 0;
  for (;;) {
    const deleted = await store.deleteExpired({
      now: clock.now(),
      retentionSeconds: options.retentionSeconds,
      limit: batchSize,
      ...(options.auditRetentionSeconds !== undefined ? { auditRetentionSeconds: options.auditRetentionSeconds } : {}),
    });
    total += deleted;
    if (deleted < batchSize || Date.now() >= deadline) return total;
    // Let requests in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
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
  const run = () => {
    if (running || stopped) return;
    running = cleanupDeadTokens(store, clock, { maxRunMs: 1000, ...options })
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

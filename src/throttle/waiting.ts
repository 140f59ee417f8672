import { temporarilyUnavailable } from '../core/errors.js';

/** What a try answers when refused only because the counters are full of attempts still being verified. */
export type Full = { allowed: false; full: true };

/**
 * Waits while the counters are full of attempts being verified: tries again (polling, with a growing pause)
 * until an answer other than `full`; after `maxWaitMs` the attempt is refused with Retry-After: 1.
 */
export async function patiently<T extends { allowed: boolean }>(
  maxWaitMs: number,
  attempt: () => Promise<T | Full>,
): Promise<T | { allowed: false; retryAfterSeconds: number }> {
  const deadline = Date.now() + maxWaitMs;
  for (let pauseMs = 10; ; pauseMs = Math.min(pauseMs * 2, 200)) {
    const decision = await attempt();
    if (!('full' in decision)) return decision;
    if (Date.now() + pauseMs > deadline) return { allowed: false, retryAfterSeconds: 1 };
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

// The counters could not be reached (the cluster primary did not answer in time): answer 503 rather
// than let guesses through uncounted.
export async function orUnavailable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw temporarilyUnavailable(`brute-force counters unavailable: ${(error as Error).message}`);
  }
}

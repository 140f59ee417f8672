import type { EpochSeconds } from './types.js';

/**
 * The wall clock, injected so tests control time: the core never reads the time itself, so the time inside
 * a token (its key prefix, its grant's UUIDv7) and the time in its rows come from one clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Whole seconds since the Unix epoch: always `epochSeconds(nowMs())`. */
  now(): EpochSeconds;
}

/** The whole second a millisecond time falls in. */
export const epochSeconds = (ms: number): EpochSeconds => Math.floor(ms / 1000);

/** A clock reading milliseconds from `readMs`, with `now()` derived from the same reading. */
export function clockOf(readMs: () => number): Clock {
  return { nowMs: readMs, now: () => epochSeconds(readMs()) };
}

import type { LockoutSubject } from './types.js';

/** Who a failed or attempted login is attributed to. */
export interface ThrottleSubjects {
  /** The client's IP (behind trusted proxies only, the forwarded one). */
  ip: string;
  username?: string;
  clientId?: string;
}

/** The outcome of an attempt that was let through: the caller reports how the secret check ended. */
export interface ThrottleReservation {
  /** The secret was right: the reserved attempt is given back and the consecutive-failure streak ends. */
  succeeded(): Promise<void>;
  /**
   * The secret was wrong: the reserved attempt stays counted; `lockedOut` when it started a lockout, and
   * `locked` the subjects it locked, each for `seconds`.
   */
  failed(): Promise<{ lockedOut: boolean; locked?: (LockoutSubject & { seconds: number })[] }>;
}

export type ThrottleDecision =
  /** `weight`: how many forms of the secret the attempt may try (at most what was asked for). */
  { allowed: true; weight: number; reservation: ThrottleReservation } | { allowed: false; retryAfterSeconds: number };

/**
 * Brute-force defence (RFC 6749 §4.3.2: the password grant MUST be protected against it; RFC 6819
 * §5.2.3.3). An attempt is counted *before* its secret is verified: `reserve` takes a point from every
 * counter atomically, so N concurrent guesses can never all pass a check made before any of them failed.
 * `weight` is how many secrets the request will try (Basic credentials tried decoded and raw count twice).
 */
export interface LoginThrottle {
  reserve(subjects: ThrottleSubjects, weight?: number): Promise<ThrottleDecision>;
  /**
   * For a secret already judged right without a slow hash: allowed unless a subject is locked or a
   * counter has no room left for `weight` more attempts (waiting meanwhile, as `reserve` does), counting
   * nothing. The right secret is refused during a lockout like any other (no oracle), yet legitimate
   * concurrent requests hold no capacity.
   */
  check(
    subjects: ThrottleSubjects,
    weight?: number,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  /**
   * Ends a lockout early (`oauthd lockout clear`): forgets the subject's counter and lock, so its next attempt
   * is judged as a first one. Optional: a throttle without it cannot be cleared.
   */
  clear?(subject: LockoutSubject): Promise<void>;
}

const noReservation: ThrottleReservation = { succeeded: async () => {}, failed: async () => ({ lockedOut: false }) };

/** No throttling (tests of other behaviour). */
export const noThrottle: LoginThrottle = {
  reserve: async (_subjects, weight = 1) => ({ allowed: true, weight, reservation: noReservation }),
  check: async () => ({ allowed: true }),
};

import type { Redis } from 'ioredis';

/** Brute-force limits (RFC 6749 §4.3.2, §10.10; RFC 6819 §4.4.3.6, §5.2.3.3). Every number is a setting. */
export interface ThrottleSettings {
  /** Failed attempts (logins or client authentications) from one IP within `windowSeconds` before that IP is locked. */
  maxFailuresPerIp: number;
  /**
   * Failed logins for one username, from any IP, within `windowSeconds` before the username is locked
   * (distributed guessing).
   */
  maxFailuresPerUser: number;
  /** Consecutive failed logins for one username from one IP before that pair is locked out. */
  maxFailuresPerUserIp: number;
  /** From this many consecutive failures of one username from one IP on, each further attempt waits 1, 2, 4… s. */
  backoffAfter: number;
  /** Failed client authentications for one client id from one IP within `windowSeconds` before that pair is locked. */
  maxFailuresPerClientIp: number;
  /** How long a lockout lasts, and the window the counters count in, in seconds. */
  lockoutSeconds: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  maxFailuresPerIp: 100,
  maxFailuresPerUser: 100,
  maxFailuresPerUserIp: 10,
  backoffAfter: 3,
  maxFailuresPerClientIp: 20,
  lockoutSeconds: 900,
  windowSeconds: 3600,
};

/** Where the counters live. */
export interface ThrottleBackend {
  /** Shared by every instance; an outage falls back to `local` counting (the insurance limiter). */
  redis?: Redis;
  /** In a node:cluster worker: count in the primary (RateLimiterClusterMaster), so N workers share one limit. */
  cluster?: boolean;
  keyPrefix?: string;
  /** How long an attempt may wait for a counter full of attempts still being verified. Default 3000 ms. */
  maxWaitMs?: number;
}

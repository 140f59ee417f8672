import type { LockoutStore, LoginThrottle } from '../core/ports.js';
import type { Lockout } from '../core/types.js';

/** How often a running server asks the store for lockouts cleared by `oauthd lockout clear`. */
export const LOCKOUT_SYNC_INTERVAL_MS = 1000;
/**
 * How far back each poll looks, in seconds. A clear is stamped with the clock of the host that ran the CLI:
 * looking back this far (rather than from the last poll) still finds it when that clock is behind this one.
 */
const LOOK_BACK_SECONDS = 300;

export interface LockoutSync {
  stop(): Promise<void>;
}

/**
 * Carries `oauthd lockout clear` to this server's brute-force counters. The CLI cannot reach them (they
 * live in this process, the cluster primary or Redis), so it marks the lockout rows cleared in the store;
 * this poll finds them within `intervalMs` and forgets the counters and locks they name
 * (LoginThrottle.clear). Each cleared row is applied once per process: clears seen at start are taken as
 * applied already (by the processes that were running), so a restarted server never wipes a newer lockout
 * of the same subject. A failing poll is retried at the next tick (`onError` hears once per outage).
 */
export function startLockoutSync(
  store: Pick<LockoutStore, 'lockoutsClearedSince'>,
  throttle: Required<Pick<LoginThrottle, 'clear'>>,
  options: { intervalMs?: number; onError?: (error: unknown) => void; onCleared?: (lockout: Lockout) => void } = {},
): LockoutSync {
  const intervalMs = options.intervalMs ?? LOCKOUT_SYNC_INTERVAL_MS;
  const applied = new Map<string, number>();
  const keyOf = (l: Lockout) => `${l.id}:${l.clearedAt}`;
  let primed = false;
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    const now = Math.floor(Date.now() / 1000);
    try {
      const cleared = await store.lockoutsClearedSince(now - LOOK_BACK_SECONDS);
      for (const l of cleared) {
        const key = keyOf(l);
        if (applied.has(key)) continue;
        if (primed) {
          await throttle.clear(l);
          options.onCleared?.(l);
        }
        applied.set(key, l.clearedAt ?? now);
      }
      primed = true;
      failing = false;
      for (const [key, at] of applied) if (at < now - 2 * LOOK_BACK_SECONDS) applied.delete(key);
    } catch (error) {
      if (!failing && !stopped) options.onError?.(error);
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  running = tick().finally(schedule);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => {});
    },
  };
}

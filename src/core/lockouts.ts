import type { Clock, LockoutStore, ThrottleReservation } from './ports.js';

type Locked = NonNullable<Awaited<ReturnType<ThrottleReservation['failed']>>['locked']>;

/** What a handler that may start a lockout needs of the store. */
export type LockoutRecorder = Pick<LockoutStore, 'recordLockouts'>;

/**
 * Records the lockouts a failed attempt started, so that an operator can list and clear them (`oauthd
 * lockout`): the counters themselves live in the server's throttle (memory, the cluster primary or Redis),
 * out of the CLI's reach. Written after the lock is set, next to the `lockout.started` audit event.
 */
export async function recordLockouts(store: LockoutRecorder, clock: Clock, locked: Locked | undefined): Promise<void> {
  if (!locked || locked.length === 0) return;
  const now = clock.now();
  await store.recordLockouts(
    locked.map(({ seconds, ...subject }) => ({ ...subject, startedAt: now, until: now + seconds })),
  );
}

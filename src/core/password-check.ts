import type { Clock, EventSink, LoginThrottle, PasswordHasher, UserStore } from './ports.js';
import { recordLockouts, type LockoutRecorder } from './lockouts.js';
import type { User } from './types.js';

/** What a password check reads and writes. */
export type PasswordCheckStore = Pick<UserStore, 'findUserByUsername' | 'replacePasswordHash'> & LockoutRecorder;

export interface PasswordCheckDeps {
  store: PasswordCheckStore;
  clock: Clock;
  passwordHasher: PasswordHasher;
  events: EventSink;
  throttle: LoginThrottle;
}

export type PasswordCheck =
  | { ok: true; user: User }
  /** `detail` names the cause for logs only: unknown user, wrong password or disabled user. */
  | { ok: false; reason: 'invalid'; detail: string }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * One guess at a user's password, under the brute-force limits (RFC 6749 §4.3.2: MUST protect against brute
 * force) and the timing defence, shared by the password grant and the login page so that a guess counts alike
 * wherever it is made. `audit` is merged into the `login.failed` and `lockout.started` events (the client id for
 * the grant, `via: 'page'` for the page).
 *
 * The attempt is counted before the password is checked (a burst cannot pass the check before its first failure
 * is counted), and a locked subject is refused before the password is checked, so even the right password gets
 * the same refusal (no oracle). An unknown user, a user without a usable password and a disabled user cost one
 * full verification each (the hasher verifies a dummy hash when there is no real one): the timing tells nothing.
 */
export async function checkPassword(
  deps: PasswordCheckDeps,
  input: { username: string; password: string; ip: string },
  audit: Record<string, string>,
): Promise<PasswordCheck> {
  const { store, clock, passwordHasher, events, throttle } = deps;
  const { username, password, ip } = input;
  const decision = await throttle.reserve({ ip, username });
  if (!decision.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: decision.retryAfterSeconds };

  let user: User | null;
  let verified: { ok: boolean; needsRehash: boolean };
  try {
    user = await store.findUserByUsername(username);
    verified = await passwordHasher.verify(user?.passwordHash ?? null, password);
  } catch (error) {
    await decision.reservation.succeeded(); // an outage is not a guess
    throw error;
  }
  if (!user || !verified.ok || !user.isActive) {
    const why = !user ? 'unknown user' : !verified.ok ? 'wrong password' : 'user disabled';
    events.emit('login.failed', { ...audit, username, ip, reason: why });
    const { lockedOut, locked } = await decision.reservation.failed();
    if (lockedOut) events.emit('lockout.started', { ...audit, username, ip, subject: 'user' });
    await recordLockouts(store, clock, locked);
    return { ok: false, reason: 'invalid', detail: why };
  }
  await decision.reservation.succeeded();

  if (verified.needsRehash && user.passwordHash !== null) {
    // Upgrade the stored hash to the current algorithm and parameters while we hold the password.
    const newHash = await passwordHasher.hash(password);
    await store.replacePasswordHash(user.id, user.passwordHash, newHash, clock.now());
  }
  return { ok: true, user };
}

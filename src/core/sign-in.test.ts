import { beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAuthorizationStore,
  recordingSink,
  testClock,
  type FakeAuthorizationStore,
} from '../../test/helpers/authorization-fakes.js';
import type { SignIn } from './authorize/api.js';
import type { LoginThrottle, PasswordHasher, ThrottleSubjects } from './ports.js';
import { createSignIn } from './sign-in.js';
import { tokenKey } from './tokens.js';
import type { User } from './types.js';

/** `v1:` hashes are outdated (they need a rehash), `v2:` current; the password follows the prefix. */
function fakeHasher() {
  const verified: (string | null)[] = [];
  const hasher: PasswordHasher = {
    hash: async (password) => `v2:${password}`,
    async verify(stored, password) {
      verified.push(stored);
      const ok = stored !== null && stored.slice(3) === password;
      return { ok, needsRehash: ok && stored.startsWith('v1:') };
    },
  };
  return { hasher, verified };
}

/** Locks a username after `limit` failures; remembers what it was asked. */
function fakeThrottle(limit: number) {
  const failures = new Map<string, number>();
  const reserved: ThrottleSubjects[] = [];
  const throttle: LoginThrottle = {
    async reserve(subjects, weight = 1) {
      reserved.push(subjects);
      const name = subjects.username ?? '';
      if ((failures.get(name) ?? 0) >= limit) return { allowed: false, retryAfterSeconds: 30 };
      return {
        allowed: true,
        weight,
        reservation: {
          succeeded: async () => {
            failures.delete(name);
          },
          failed: async () => {
            const n = (failures.get(name) ?? 0) + 1;
            failures.set(name, n);
            if (n < limit) return { lockedOut: false };
            const subject = { kind: 'user' as const, username: name, clientId: null, ipKey: null, seconds: 30 };
            return { lockedOut: true, locked: [subject] };
          },
        },
      };
    },
    check: async () => ({ allowed: true }),
  };
  return { throttle, reserved };
}

const user = (id: number, username: string, passwordHash: string | null, isActive = true): User => ({
  id,
  username,
  passwordHash,
  isActive,
  isAdmin: false,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
});

let store: FakeAuthorizationStore;
let recorded: ReturnType<typeof recordingSink>;
let hashing: ReturnType<typeof fakeHasher>;
let throttling: ReturnType<typeof fakeThrottle>;
let signIn: SignIn;
let time: ReturnType<typeof testClock>;

beforeEach(() => {
  time = testClock();
  store = fakeAuthorizationStore(
    [],
    [user(1, 'alice', 'v2:right'), user(2, 'olga', 'v1:old'), user(3, 'dan', 'v2:x', false)],
  );
  recorded = recordingSink();
  hashing = fakeHasher();
  throttling = fakeThrottle(3);
  signIn = createSignIn({
    store,
    clock: time.clock,
    passwordHasher: hashing.hasher,
    events: recorded.sink,
    throttle: throttling.throttle,
    sessionTtlSeconds: 3600,
  });
});

const ip = '192.0.2.1';

describe('signIn', () => {
  it('starts a session kept by its hash, and audits the sign-in', async () => {
    const result = await signIn.signIn({ username: 'alice', password: 'right', ip });
    if (!result.ok) throw new Error('expected a session');
    const now = time.clock.now();
    expect(result.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.session).toEqual({ userId: 1, username: 'alice', createdAt: now, expiresAt: now + 3600 });
    expect([...store.sessions.keys()]).toEqual([tokenKey(result.sessionToken).toString('hex')]);
    expect(JSON.stringify([...store.sessions.values()])).not.toContain(result.sessionToken);
    expect(recorded.events).toEqual([
      { event: 'login.succeeded', fields: { username: 'alice', user_id: 1, ip, via: 'page' } },
    ]);
    expect(throttling.reserved).toEqual([{ ip, username: 'alice' }]);
  });

  it.each([
    ['a wrong password', 'alice', 'wrong', 'wrong password'],
    ['an unknown user', 'nobody', 'right', 'unknown user'],
    ['a disabled user', 'dan', 'x', 'user disabled'],
  ])('answers invalid to %s, after a full verification, and audits why', async (_what, username, password, why) => {
    expect(await signIn.signIn({ username, password, ip })).toEqual({ ok: false, reason: 'invalid' });
    expect(hashing.verified).toHaveLength(1); // the dummy hash is verified for an unknown user (null here)
    expect(recorded.events).toEqual([{ event: 'login.failed', fields: { via: 'page', username, ip, reason: why } }]);
    expect(JSON.stringify(recorded.events)).not.toContain(`"${password}"`);
    expect(store.sessions.size).toBe(0);
  });

  it('locks out after repeated failures, records the lockout, and then refuses even the right password', async () => {
    for (let i = 0; i < 3; i++) await signIn.signIn({ username: 'alice', password: 'wrong', ip });
    expect(recorded.names()).toContain('lockout.started');
    expect(store.lockouts).toEqual([
      expect.objectContaining({ kind: 'user', username: 'alice', until: time.clock.now() + 30 }),
    ]);
    expect(await signIn.signIn({ username: 'alice', password: 'right', ip })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 30,
    });
    expect(hashing.verified).toHaveLength(3); // the refused attempt cost no verification
  });

  it('refuses input no user could have before the store, the hasher or the throttle see it', async () => {
    for (const [username, password] of [
      ['', 'right'],
      ['ali\u0000ce', 'right'],
      ['alice', 'x'.repeat(4097)],
    ] as const) {
      expect(await signIn.signIn({ username, password, ip })).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(throttling.reserved).toEqual([]);
    expect(hashing.verified).toEqual([]);
  });

  it('upgrades an outdated hash on success', async () => {
    expect((await signIn.signIn({ username: 'olga', password: 'old', ip })).ok).toBe(true);
    expect(store.rehashed).toEqual([{ userId: 2, newHash: 'v2:old' }]);
  });
});

describe('session and signOut', () => {
  it('finds the live session, and none once signed out, expired or for a foreign token', async () => {
    const result = await signIn.signIn({ username: 'alice', password: 'right', ip });
    if (!result.ok) throw new Error('expected a session');
    expect(await signIn.session(result.sessionToken)).toMatchObject({ userId: 1, username: 'alice' });
    expect(await signIn.session('not-a-token')).toBeNull();
    // Another token of the same length: its first character changed (the last one carries padding bits, and
    // replacing it with a fixed letter could leave it as it was).
    const first = result.sessionToken[0] === 'A' ? 'B' : 'A';
    expect(await signIn.session(`${first}${result.sessionToken.slice(1)}`)).toBeNull();
    time.advance(3600);
    expect(await signIn.session(result.sessionToken)).toBeNull();
  });

  it('ends the session and audits it once', async () => {
    const result = await signIn.signIn({ username: 'alice', password: 'right', ip });
    if (!result.ok) throw new Error('expected a session');
    await signIn.signOut(result.sessionToken, ip);
    expect(await signIn.session(result.sessionToken)).toBeNull();
    await signIn.signOut(result.sessionToken, ip);
    expect(recorded.events.filter((e) => e.event === 'session.ended')).toEqual([
      { event: 'session.ended', fields: { user_id: 1, username: 'alice', ip, via: 'page' } },
    ]);
  });
});

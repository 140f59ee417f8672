import { beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAuthorizationStore,
  recordingSink,
  testClient,
  testClock,
  type FakeAuthorizationStore,
} from '../../../test/helpers/authorization-fakes.js';
import type { DeviceFlow } from '../authorize/api.js';
import { OAuthError } from '../errors.js';
import { noThrottle } from '../ports.js';
import type { ClientRateLimiter } from '../token-endpoint.js';
import { tokenKey } from '../tokens.js';
import { DEVICE_CODE_GRANT } from '../types.js';
import { createDeviceFlow } from './flow.js';

const VERIFY = 'https://as.example/device';
const tv = testClient({ clientId: 'tv', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'] });
const bob = { userId: 9, username: 'bob' };

/** Counts per key in a fixed minute, like throttle/client-rate-limit.ts, and remembers every key it saw. */
function countingLimiter() {
  const counts = new Map<string, number>();
  const limiter: ClientRateLimiter = {
    async take(key, perMinute) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return n <= perMinute ? { allowed: true } : { allowed: false, retryAfterSeconds: 42 };
    },
  };
  return { limiter, counts };
}

let store: FakeAuthorizationStore;
let recorded: ReturnType<typeof recordingSink>;
let guesses: ReturnType<typeof countingLimiter>;
let flow: DeviceFlow;
let time: ReturnType<typeof testClock>;

beforeEach(() => {
  time = testClock();
  store = fakeAuthorizationStore([tv, testClient()]);
  recorded = recordingSink();
  guesses = countingLimiter();
  flow = createDeviceFlow({
    store,
    clock: time.clock,
    events: recorded.sink,
    throttle: noThrottle,
    clientSecretHasher: { hash: async () => '', verify: async () => ({ ok: false, needsRehash: false }) },
    policy: { knownScopes: ['read', 'write'], defaultScopes: ['read'] },
    deviceCodeTtlSeconds: 600,
    pollIntervalSeconds: 5,
    userCodeGuesses: guesses.limiter,
    userCodeAttemptsPerMinute: 3,
    guessKeyOf: (ip) => `ip:${ip}`,
  });
});

const authorize = (params: [string, string][] = [['client_id', 'tv']]) =>
  flow.authorize({ params, basic: null, clientIp: '192.0.2.1' }, VERIFY);

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('device authorization (RFC 8628 §3.1–3.2)', () => {
  it('answers codes, URIs, lifetime and interval, and keeps only hashes', async () => {
    const response = await authorize([
      ['client_id', 'tv'],
      ['scope', 'read write'],
    ]);
    expect(response).toMatchObject({
      verification_uri: VERIFY,
      expires_in: 600,
      interval: 5,
    });
    expect(response.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(response.verification_uri_complete).toBe(`${VERIFY}?user_code=${response.user_code}`);
    expect(response.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [stored] = [...store.devices.values()];
    expect(stored).toMatchObject({ clientId: 'tv', scope: ['read', 'write'], intervalSeconds: 5 });
    expect(stored?.hash).toEqual(tokenKey(response.device_code));
    expect(stored?.userCodeHash).toEqual(tokenKey(response.user_code.replace('-', '')));
    expect(stored?.expiresAt).toBe(time.clock.now() + 600);
    expect(recorded.events).toEqual([
      { event: 'device_code.issued', fields: { client_id: 'tv', ip: '192.0.2.1', scope: 'read write' } },
    ]);
  });

  it('draws another user code when one is taken', async () => {
    const create = store.createDeviceCode;
    let calls = 0;
    store.createDeviceCode = async (code) => (++calls === 1 ? 'user_code_taken' : create(code));
    await authorize();
    expect(calls).toBe(2);
    expect(store.devices.size).toBe(1);
  });

  it('gives up after a few collisions in a row, as temporarily unavailable', async () => {
    store.createDeviceCode = async () => 'user_code_taken';
    expect((await refusal(authorize())).code).toBe('temporarily_unavailable');
  });

  it('refuses a client without the device grant, an unknown client and a bad scope', async () => {
    expect((await refusal(authorize([['client_id', 'app']]))).code).toBe('unauthorized_client');
    expect((await refusal(authorize([['client_id', 'nobody']]))).code).toBe('invalid_client');
    const scope: [string, string][] = [
      ['client_id', 'tv'],
      ['scope', 'admin'],
    ];
    expect((await refusal(authorize(scope))).code).toBe('invalid_scope');
    expect(store.devices.size).toBe(0);
  });
});

describe('the user-code page', () => {
  it('finds a pending request by its code, typed loosely', async () => {
    const { user_code } = await authorize();
    const typed = ` ${user_code.toLowerCase().replace('-', ' ')} `;
    expect(await flow.lookup(typed, '198.51.100.1')).toEqual({
      ok: true,
      request: { client: tv, scope: ['read'], userCode: user_code },
    });
  });

  it('answers invalid for a malformed, unknown or expired code alike', async () => {
    const { user_code } = await authorize();
    expect(await flow.lookup('AEIO-UAEI', '198.51.100.1')).toEqual({ ok: false, reason: 'invalid' });
    expect(await flow.lookup('BBBB-BBBB', '198.51.100.2')).toEqual({ ok: false, reason: 'invalid' });
    time.advance(600);
    expect(await flow.lookup(user_code, '198.51.100.3')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('counts every attempt per IP before looking, malformed ones included', async () => {
    const { user_code } = await authorize();
    for (const typed of ['nonsense', 'BBBB-BBBB', 'CCCC-CCCC']) await flow.lookup(typed, '198.51.100.1');
    // The right code, once the IP's attempts are spent, is refused like any other (no oracle).
    expect(await flow.lookup(user_code, '198.51.100.1')).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 42,
    });
    expect(guesses.counts.get('ip:198.51.100.1')).toBe(4);
    expect((await flow.lookup(user_code, '198.51.100.9')).ok).toBe(true);
  });

  it('approves once, audits it, and the code is no longer pending', async () => {
    const { user_code, device_code } = await authorize();
    expect(await flow.decide(user_code, true, bob, '198.51.100.1')).toEqual({ ok: true, approved: true });
    expect(store.devices.get(tokenKey(device_code).toString('hex'))).toMatchObject({ status: 'approved', userId: 9 });
    expect(recorded.events.at(-1)).toEqual({
      event: 'device.approved',
      fields: { client_id: 'tv', user_id: 9, username: 'bob', ip: '198.51.100.1', scope: 'read' },
    });
    expect(await flow.decide(user_code, false, bob, '198.51.100.1')).toEqual({ ok: false, reason: 'not_pending' });
    expect(await flow.lookup(user_code, '198.51.100.1')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('denies, and counts decisions as guesses too', async () => {
    const { user_code } = await authorize();
    expect(await flow.decide('bbbb-bbbb', true, bob, '198.51.100.1')).toEqual({ ok: false, reason: 'not_pending' });
    expect(await flow.decide(user_code, false, bob, '198.51.100.1')).toEqual({ ok: true, approved: false });
    expect(recorded.names().at(-1)).toBe('device.denied');
    const next = await authorize();
    expect(await flow.decide(next.user_code, true, bob, '198.51.100.1')).toEqual({ ok: true, approved: true });
    const last = await authorize();
    expect(await flow.decide(last.user_code, true, bob, '198.51.100.1')).toMatchObject({
      ok: false,
      reason: 'throttled',
    });
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAuthorizationStore,
  recordingSink,
  testClient,
  testClock,
  type FakeAuthorizationStore,
} from '../../../test/helpers/authorization-fakes.js';
import { OAuthError } from '../errors.js';
import { tokenKey } from '../tokens.js';
import { DEVICE_CODE_GRANT, type Client, type TokenResponse } from '../types.js';
import { createDeviceCodeGrant } from './device-code.js';
import type { GrantHandler } from './grant.js';

const policy = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: null,
  refreshGraceSeconds: 0,
  knownScopes: ['read', 'write'],
  defaultScopes: ['read'],
};
const tv = testClient({ clientId: 'tv', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'] });
const other = testClient({ clientId: 'other', grantTypes: [DEVICE_CODE_GRANT] });

let store: FakeAuthorizationStore;
let recorded: ReturnType<typeof recordingSink>;
let grant: GrantHandler;
let time: ReturnType<typeof testClock>;

beforeEach(async () => {
  time = testClock();
  store = fakeAuthorizationStore([tv, other]);
  recorded = recordingSink();
  grant = createDeviceCodeGrant({ store, clock: time.clock, events: recorded.sink, policy });
  const now = time.clock.now();
  await store.createDeviceCode({
    hash: tokenKey('device-1'),
    userCodeHash: tokenKey('WDJBMJHT'),
    clientId: 'tv',
    scope: ['read'],
    issuedAt: now,
    expiresAt: now + 600,
    intervalSeconds: 5,
  });
});

const poll = (deviceCode = 'device-1', client: Client = tv) =>
  grant.handle({ client, params: new Map([['device_code', deviceCode]]), clientIp: '192.0.2.1' });

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

const decide = (approved: boolean) =>
  store.decideDeviceCode(tokenKey('device-1'), { approved, userId: 9, now: time.clock.now() });

describe('the device code grant (RFC 8628 §3.4–3.5)', () => {
  it('requires device_code', async () => {
    const error = await refusal(grant.handle({ client: tv, params: new Map(), clientIp: '192.0.2.1' }));
    expect(error.code).toBe('invalid_request');
  });

  it('answers authorization_pending while the user has not decided', async () => {
    expect((await refusal(poll())).code).toBe('authorization_pending');
  });

  it('answers slow_down as a 400 without Retry-After to a poll within the interval, which grows by 5 s', async () => {
    await refusal(poll());
    time.advance(4);
    const error = await refusal(poll());
    expect(error).toMatchObject({ code: 'slow_down', status: 400, retryAfterSeconds: undefined });
    expect(error.description).toMatch(/10 seconds/);
    time.advance(10);
    expect((await refusal(poll())).code).toBe('authorization_pending');
  });

  it('answers access_denied once the user denied', async () => {
    await decide(false);
    expect((await refusal(poll())).code).toBe('access_denied');
  });

  it('answers expired_token once the code expired, whatever its state', async () => {
    await decide(true);
    time.advance(600);
    expect((await refusal(poll())).code).toBe('expired_token');
    expect(store.grants).toEqual([]);
  });

  it('refuses an unknown code and another client’s code with invalid_grant', async () => {
    expect((await refusal(poll('device-2'))).code).toBe('invalid_grant');
    await decide(true);
    expect((await refusal(poll('device-1', other))).code).toBe('invalid_grant');
  });

  it('issues tokens once approved, and only once', async () => {
    await decide(true);
    const response = (await poll()) as TokenResponse;
    expect(response).toMatchObject({ token_type: 'Bearer', scope: 'read', expires_in: 3600 });
    expect(response.refresh_token).toEqual(expect.any(String));
    expect(store.grants).toEqual([
      { grant: expect.objectContaining({ clientId: 'tv', userId: 9, grantType: DEVICE_CODE_GRANT }), refresh: true },
    ]);
    expect(recorded.events).toEqual([
      {
        event: 'token.issued',
        fields: expect.objectContaining({ grant_type: DEVICE_CODE_GRANT, client_id: 'tv', user_id: 9, scope: 'read' }),
      },
    ]);
    time.advance(10);
    expect((await refusal(poll())).code).toBe('invalid_grant');
  });

  it('gives one of two concurrent polls the tokens, the other invalid_grant', async () => {
    await decide(true);
    // Both polls pass the interval check (as two requests a full interval apart that reach the store together).
    const recordPoll = store.pollDeviceCode;
    store.pollDeviceCode = async (hash, clientId, nowMs) => {
      const polled = await recordPoll(hash, clientId, nowMs);
      return polled && { ...polled, tooSoon: false };
    };
    const both = await Promise.allSettled([poll(), poll()]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'invalid_grant' });
    expect(store.grants).toHaveLength(1);
  });

  it('gives no refresh token to a client without the refresh grant', async () => {
    store.clients.splice(0, 1, { ...tv, grantTypes: [DEVICE_CODE_GRANT] });
    await decide(true);
    const response = await poll('device-1', { ...tv, grantTypes: [DEVICE_CODE_GRANT] });
    expect(response).not.toHaveProperty('refresh_token');
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAuthorizationStore,
  recordingSink,
  testClient,
  testClock,
  type FakeAuthorizationStore,
} from '../../../test/helpers/authorization-fakes.js';
import type { NewAuthorizationCode } from '../authorization-ports.js';
import { OAuthError } from '../errors.js';
import { tokenKey } from '../tokens.js';
import type { Client, TokenResponse, User } from '../types.js';
import { createAuthorizationCodeGrant } from './authorization-code.js';
import type { GrantHandler } from './grant.js';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const REDIRECT = 'https://app.example/cb';
const policy = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 86400,
  refreshGraceSeconds: 0,
  knownScopes: ['read', 'write'],
  defaultScopes: ['read'],
};
const alice: User = {
  id: 7,
  username: 'alice',
  passwordHash: null,
  isActive: true,
  isAdmin: false,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
};

let store: FakeAuthorizationStore;
let recorded: ReturnType<typeof recordingSink>;
let grant: GrantHandler;
let time: ReturnType<typeof testClock>;
const app = testClient();

beforeEach(() => {
  time = testClock();
  store = fakeAuthorizationStore([app, testClient({ clientId: 'other' })], [{ ...alice }]);
  recorded = recordingSink();
  grant = createAuthorizationCodeGrant({ store, clock: time.clock, events: recorded.sink, policy });
});

async function issueCode(code: string, changes: Partial<NewAuthorizationCode> = {}): Promise<string> {
  const now = time.clock.now();
  await store.createAuthorizationCode({
    hash: tokenKey(code),
    clientId: 'app',
    userId: 7,
    redirectUri: REDIRECT,
    scope: ['read'],
    codeChallenge: CHALLENGE,
    codeChallengeMethod: 'S256',
    issuedAt: now,
    expiresAt: now + 60,
    ...changes,
  });
  return code;
}

const exchange = (params: Record<string, string>, client: Client = app) =>
  grant.handle({ client, params: new Map(Object.entries(params)), clientIp: '192.0.2.1' });

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('the authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6)', () => {
  it('exchanges a code with its verifier for an access and a refresh token', async () => {
    await issueCode('code-1');
    const response = (await exchange({
      code: 'code-1',
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
    })) as TokenResponse;
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read' });
    expect(response.refresh_token).toEqual(expect.any(String));
    expect(store.grants).toEqual([
      {
        grant: expect.objectContaining({
          clientId: 'app',
          userId: 7,
          grantType: 'authorization_code',
          scope: ['read'],
        }),
        refresh: true,
      },
    ]);
    expect(recorded.names()).toEqual(['authorization_code.redeemed', 'token.issued']);
    expect(recorded.events[1]?.fields).toMatchObject({ grant_type: 'authorization_code', user_id: 7, scope: 'read' });
    expect(JSON.stringify(recorded.events)).not.toContain(response.access_token);
  });

  it('gives no refresh token to a client without the refresh grant', async () => {
    const noRefresh = testClient({ grantTypes: ['authorization_code'] });
    store.clients.splice(0, 1, noRefresh);
    await issueCode('code-1');
    const response = await exchange({ code: 'code-1', code_verifier: VERIFIER }, noRefresh);
    expect(response).not.toHaveProperty('refresh_token');
    expect(store.grants[0]?.refresh).toBe(false);
  });

  it('requires the code parameter', async () => {
    expect((await refusal(exchange({ code_verifier: VERIFIER }))).code).toBe('invalid_request');
  });

  it.each([
    ['unknown', {}, { code: 'nope' }],
    ['expired', { expiresAt: 1_800_000_000 }, {}],
    ['of another client', { clientId: 'other' }, {}],
  ])('refuses a code that is %s with invalid_grant', async (_what, changes, params) => {
    await issueCode('code-1', changes);
    const error = await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER, ...params }));
    expect(error.code).toBe('invalid_grant');
    expect(error.description).toBe('The authorization code is invalid, expired, or was already used.');
    expect(store.grants).toEqual([]);
  });

  it('refuses the code of a user disabled since', async () => {
    await issueCode('code-1');
    store.users[0]!.isActive = false;
    expect((await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER }))).code).toBe('invalid_grant');
  });

  describe('redirect_uri (RFC 6749 §4.1.3)', () => {
    it('must be identical when given', async () => {
      await issueCode('code-1');
      const error = await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER, redirect_uri: `${REDIRECT}/` }));
      expect(error).toMatchObject({ code: 'invalid_grant', description: expect.stringMatching(/redirect_uri/) });
    });

    it('may be left out by a client with one registered URI, the one the code went to', async () => {
      await issueCode('code-1');
      expect(await exchange({ code: 'code-1', code_verifier: VERIFIER })).toHaveProperty('access_token');
    });

    it('is required when the client has several, or the code went to another loopback port', async () => {
      const two = testClient({}, { redirectUris: [REDIRECT, 'https://app.example/two'] });
      await issueCode('code-1');
      expect((await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER }, two))).code).toBe('invalid_grant');
      const loopback = testClient({}, { redirectUris: ['http://127.0.0.1/cb'] });
      await issueCode('code-2', { redirectUri: 'http://127.0.0.1:5000/cb' });
      expect((await refusal(exchange({ code: 'code-2', code_verifier: VERIFIER }, loopback))).code).toBe(
        'invalid_grant',
      );
      const given = { code: 'code-2', code_verifier: VERIFIER, redirect_uri: 'http://127.0.0.1:5000/cb' };
      expect(await exchange(given, loopback)).toHaveProperty('access_token');
    });
  });

  describe('PKCE (RFC 7636 §4.6)', () => {
    it.each([
      ['a wrong verifier', { code_verifier: `${VERIFIER.slice(0, -1)}A` }],
      ['no verifier', {}],
      ['a malformed verifier', { code_verifier: 'short' }],
      ['the challenge itself', { code_verifier: CHALLENGE }],
    ])('refuses %s', async (_what, params) => {
      await issueCode('code-1');
      const error = await refusal(exchange({ code: 'code-1', ...params }));
      expect(error).toMatchObject({ code: 'invalid_grant', description: expect.stringMatching(/code_verifier/) });
    });

    it('checks a plain challenge', async () => {
      await issueCode('code-1', { codeChallenge: VERIFIER, codeChallengeMethod: 'plain' });
      expect(await exchange({ code: 'code-1', code_verifier: VERIFIER })).toHaveProperty('access_token');
    });

    it('refuses a verifier for a code issued without a challenge, and takes none', async () => {
      await issueCode('code-1', { codeChallenge: null, codeChallengeMethod: null });
      expect((await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER }))).code).toBe('invalid_grant');
      expect(await exchange({ code: 'code-1' })).toHaveProperty('access_token');
    });
  });

  describe('reuse (RFC 6749 §4.1.2)', () => {
    it('refuses a second exchange and revokes the grant of the first', async () => {
      await issueCode('code-1');
      await exchange({ code: 'code-1', code_verifier: VERIFIER });
      const grantId = store.grants[0]?.grant.id;
      time.advance(5);
      const error = await refusal(exchange({ code: 'code-1', code_verifier: VERIFIER }));
      expect(error.code).toBe('invalid_grant');
      expect(store.revoked).toEqual([grantId]);
      expect(recorded.events.at(-1)).toEqual({
        event: 'authorization_code.reused',
        fields: { client_id: 'app', user_id: 7, username: 'alice', grant_id: grantId, ip: '192.0.2.1' },
      });
      expect(store.grants).toHaveLength(1);
    });

    it('answers the loser of a concurrent exchange as reuse', async () => {
      await issueCode('code-1');
      const both = await Promise.allSettled([
        exchange({ code: 'code-1', code_verifier: VERIFIER }),
        exchange({ code: 'code-1', code_verifier: VERIFIER }),
      ]);
      expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(store.revoked).toEqual([store.grants[0]?.grant.id]);
      expect(recorded.names()).toContain('authorization_code.reused');
    });
  });
});

/**
 * The token endpoint as a pure function of its ports: RFC 6749 §3.2, §4.3, §6 and RFC 9700 §4.14.2,
 * with an injected clock, a recording event sink and a real (in-memory SQLite) store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../crypto/argon2-hasher.js';
import { openStore } from '../store/store.js';
import { createAdmin } from './admin/index.js';
import { createBearerValidator } from './bearer.js';
import { OAuthError } from './errors.js';
import { clockOf, noThrottle, type EventSink, type Store } from './ports.js';
import { createTokenEndpoint, type TokenEndpoint } from './token-endpoint.js';
import { tokenKey } from './tokens.js';
import { DEVICE_CODE_GRANT, type TokenResponse } from './types.js';

const fast = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
const policy = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: null,
  refreshGraceSeconds: 0,
  knownScopes: ['read', 'write'],
  defaultScopes: ['read', 'write'],
};

let store: Store;
let now: number;
let events: { event: string; fields: Record<string, unknown> }[];
let endpoint: TokenEndpoint;
const clock = clockOf(() => now * 1000);
const sink: EventSink = { emit: (event, fields) => events.push({ event, fields }) };

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  now = 1_800_000_000;
  events = [];
  endpoint = createTokenEndpoint({
    store,
    clock,
    passwordHasher: fast,
    clientSecretHasher: fast,
    events: sink,
    throttle: noThrottle,
    policy,
  });
  const admin = createAdmin({
    store,
    passwordHasher: fast,
    clock,
    knownScopes: policy.knownScopes,
    defaultScopes: policy.defaultScopes,
    events: { emit: () => {} },
    actor: 'test',
  });
  await admin.createClient({ name: 'app', clientId: 'app', clientSecret: 'app-secret' });
  await admin.createUser('alice', 'alice-password');
});

const password = (extra: [string, string][] = []) =>
  endpoint.handle({
    params: [
      ['grant_type', 'password'],
      ['username', 'alice'],
      ['password', 'alice-password'],
      ['client_id', 'app'],
      ['client_secret', 'app-secret'],
      ...extra,
    ],
    basic: null,
    clientIp: '192.0.2.1',
  }) as Promise<TokenResponse>;
const refresh = (token: string) =>
  endpoint.handle({
    params: [
      ['grant_type', 'refresh_token'],
      ['refresh_token', token],
    ],
    basic: { clientId: 'app', secretCandidates: ['app-secret'] },
    clientIp: '192.0.2.1',
  }) as Promise<TokenResponse>;

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('the token endpoint core', () => {
  it('issues a pair whose access token expires one TTL after the injected clock', async () => {
    const response = await password();
    const principal = await createBearerValidator({ store, clock }).validate(response.access_token);
    expect(principal.expiresAt).toBe(now + 3600);
    expect(principal.issuedAt).toBe(now);
  });

  it('mints with the injected clock: the key prefix of each token and the grant id carry its time', async () => {
    now = 1_500_000_000; // years before the wall clock: a token minted with Date.now() would not carry it
    const first = await password();
    const second = await refresh(first.refresh_token);
    for (const token of [first.access_token, first.refresh_token, second.access_token, second.refresh_token]) {
      expect(tokenKey(token).readUIntBE(0, 6)).toBe(now * 1000);
    }
    const record = await store.findAccessToken(tokenKey(first.access_token));
    expect(record?.issuedAt).toBe(now);
    expect(parseInt(record!.grantId.replace(/-/g, '').slice(0, 12), 16)).toBe(now * 1000);
  });

  it('mints a client_credentials token with the injected clock, without a refresh token or a user', async () => {
    now = 1_500_000_000;
    await createAdmin({
      store,
      passwordHasher: fast,
      clock,
      knownScopes: policy.knownScopes,
      defaultScopes: policy.defaultScopes,
      events: { emit: () => {} },
      actor: 'test',
    }).createClient({ name: 'svc', clientId: 'svc', clientSecret: 'svc-secret', grantTypes: ['client_credentials'] });
    const response = await endpoint.handle({
      params: [['grant_type', 'client_credentials']],
      basic: { clientId: 'svc', secretCandidates: ['svc-secret'] },
      clientIp: '192.0.2.1',
    });
    expect(Object.keys(response)).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(tokenKey(response.access_token).readUIntBE(0, 6)).toBe(now * 1000);
    const record = await store.findAccessToken(tokenKey(response.access_token));
    expect(record).toMatchObject({ clientId: 'svc', userId: null, username: null, issuedAt: now });
    expect(parseInt(record!.grantId.replace(/-/g, '').slice(0, 12), 16)).toBe(now * 1000);
    expect(events.at(-1)).toMatchObject({ event: 'token.issued', fields: { grant_type: 'client_credentials' } });
  });

  it('emits token.issued and refresh_token.rotated events without any secret', async () => {
    const first = await password();
    const second = await refresh(first.refresh_token);
    expect(events.map((e) => e.event)).toEqual(['token.issued', 'refresh_token.rotated']);
    const text = JSON.stringify(events);
    for (const secret of [
      first.access_token,
      first.refresh_token,
      second.access_token,
      second.refresh_token,
      'app-secret',
      'alice-password',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('emits login.failed with the reason for a wrong password, and never the password', async () => {
    const error = await rejection(
      endpoint.handle({
        params: [
          ['grant_type', 'password'],
          ['username', 'alice'],
          ['password', 'not-hers'],
          ['client_id', 'app'],
          ['client_secret', 'app-secret'],
        ],
        basic: null,
        clientIp: '192.0.2.1',
      }),
    );
    expect(error.code).toBe('invalid_grant');
    expect(error.detail).toBe('wrong password');
    expect(events).toEqual([
      {
        event: 'login.failed',
        fields: { client_id: 'app', username: 'alice', ip: '192.0.2.1', reason: 'wrong password' },
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('not-hers');
  });

  it('revokes the family and emits refresh_token.reused on a second use', async () => {
    const first = await password();
    const second = await refresh(first.refresh_token);
    const error = await rejection(refresh(first.refresh_token));
    expect(error.code).toBe('invalid_grant');
    expect(events.at(-1)?.event).toBe('refresh_token.reused');
    expect((await rejection(refresh(second.refresh_token))).code).toBe('invalid_grant');
  });

  it('expires refresh tokens only when a refresh TTL is configured', async () => {
    const withTtl = createTokenEndpoint({
      store,
      clock,
      passwordHasher: fast,
      clientSecretHasher: fast,
      events: sink,
      throttle: noThrottle,
      policy: { ...policy, refreshTokenTtlSeconds: 60 },
    });
    const issued = (await withTtl.handle({
      params: [
        ['grant_type', 'password'],
        ['username', 'alice'],
        ['password', 'alice-password'],
        ['client_id', 'app'],
        ['client_secret', 'app-secret'],
      ],
      basic: null,
      clientIp: '192.0.2.1',
    })) as TokenResponse;
    now += 60;
    const error = await rejection(
      withTtl.handle({
        params: [
          ['grant_type', 'refresh_token'],
          ['refresh_token', issued.refresh_token],
          ['client_id', 'app'],
          ['client_secret', 'app-secret'],
        ],
        basic: null,
        clientIp: '192.0.2.1',
      }),
    );
    expect(error.detail).toBe('expired refresh token');
  });

  it('upgrades a password hash made with older parameters on the next successful login', async () => {
    const before = (await store.findUserByUsername('alice'))!.passwordHash!;
    expect(before).toContain('m=1024');
    const stronger = createArgon2Hasher({ memoryCostKiB: 2048, timeCost: 1, parallelism: 1 });
    const upgraded = createTokenEndpoint({
      store,
      clock,
      passwordHasher: stronger,
      clientSecretHasher: fast,
      events: sink,
      throttle: noThrottle,
      policy,
    });
    await upgraded.handle({
      params: [
        ['grant_type', 'password'],
        ['username', 'alice'],
        ['password', 'alice-password'],
        ['client_id', 'app'],
        ['client_secret', 'app-secret'],
      ],
      basic: null,
      clientIp: '192.0.2.1',
    });
    const after = (await store.findUserByUsername('alice'))!.passwordHash!;
    expect(after).toContain('m=2048');
    expect((await stronger.verify(after, 'alice-password')).ok).toBe(true);
  });

  it('checks the grant type before authenticating the client and the client before the grant parameters', async () => {
    expect(
      (await rejection(endpoint.handle({ params: [['grant_type', 'implicit']], basic: null, clientIp: '192.0.2.1' })))
        .code,
    ).toBe('unsupported_grant_type');
    expect(
      (await rejection(endpoint.handle({ params: [['grant_type', 'password']], basic: null, clientIp: '192.0.2.1' })))
        .code,
    ).toBe('invalid_client');
    expect(
      (
        await rejection(
          endpoint.handle({
            params: [
              ['grant_type', 'password'],
              ['client_id', 'app'],
              ['client_secret', 'app-secret'],
            ],
            basic: null,
            clientIp: '192.0.2.1',
          }),
        )
      ).description,
    ).toBe('Request is missing username parameter.');
  });
});

describe('the browser and device grants at the token endpoint', () => {
  const ask = (params: [string, string][]) =>
    rejection(endpoint.handle({ params: [['client_id', 'tv'], ...params], basic: null, clientIp: '192.0.2.1' }));

  beforeEach(async () => {
    const admin = createAdmin({
      store,
      passwordHasher: fast,
      clock,
      knownScopes: policy.knownScopes,
      defaultScopes: policy.defaultScopes,
      events: { emit: () => {} },
      actor: 'test',
    });
    await admin.createClient({
      name: 'tv',
      clientId: 'tv',
      isPublic: true,
      grantTypes: ['authorization_code', DEVICE_CODE_GRANT],
      policy: { redirectUris: ['https://tv.example/cb'] },
    });
  });

  it('dispatches authorization_code and the device grant by its URN (RFC 8628 §3.4)', async () => {
    expect((await ask([['grant_type', 'authorization_code']])).description).toBe('Request is missing code parameter.');
    expect((await ask([['grant_type', DEVICE_CODE_GRANT]])).description).toBe(
      'Request is missing device_code parameter.',
    );
  });

  it('does not take the CLI alias device_code on the wire', async () => {
    expect((await ask([['grant_type', 'device_code']])).code).toBe('unsupported_grant_type');
  });

  it('refuses the grants to a client not allowed them', async () => {
    const asApp = (grantType: string) =>
      rejection(
        endpoint.handle({
          params: [['grant_type', grantType]],
          basic: { clientId: 'app', secretCandidates: ['app-secret'] },
          clientIp: '192.0.2.1',
        }),
      );
    expect((await asApp('authorization_code')).code).toBe('unauthorized_client');
    expect((await asApp(DEVICE_CODE_GRANT)).code).toBe('unauthorized_client');
  });
});

/**
 * Token introspection and server metadata over real HTTP against a real store.
 * RFC 7662 §2.1 (request and its authorization), §2.2 (active and inactive responses), §2.3 (a bearer token
 * without sufficient privileges: 401 with the RFC 6750 §3 challenge), §4 (token scanning); RFC 8414 §2, §3
 * (metadata and its well-known URL with a path-bearing issuer).
 */
import { GRANT_TYPES } from '../../src/core/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
const clock = testClock();

beforeAll(async () => {
  server = await startTestServer(
    { OAUTHD_SCOPES: 'read write introspection', OAUTHD_BASE_PATH: '/api/secure' },
    { clock },
  );
  await seedSpecSample(server);
  await server.services.admin.createClient({ name: 'other', clientId: 'other-client', clientSecret: 'other-secret' });
  await server.services.admin.createClient({
    name: 'payouts API',
    clientId: 'resource-server',
    clientSecret: 'rs-secret',
    scopes: 'introspection',
  });
  await server.services.admin.createClient({
    name: 'ops',
    clientId: 'ops',
    clientSecret: 'ops-secret',
    scopes: 'read introspection',
  });
  // A resource server marked --introspect, without the introspection scope among its allowed scopes.
  await server.services.admin.createClient({
    name: 'ledger API',
    clientId: 'ledger-api',
    clientSecret: 'ledger-secret',
    scopes: 'read',
    canIntrospect: true,
  });
  // A resource server marked --introspect that may also be granted the introspection scope (bearer use).
  await server.services.admin.createClient({
    name: 'audit API',
    clientId: 'audit-api',
    clientSecret: 'audit-secret',
    scopes: 'read introspection',
    canIntrospect: true,
  });
  // A public client whose allowed scopes include introspection: it has no secret, so it sees only its own tokens.
  await server.services.admin.createClient({
    name: 'mobile',
    clientId: 'mobile',
    isPublic: true,
    scopes: 'read introspection',
  });
});

afterAll(async () => {
  await server.stop();
});

async function introspect(fields: Record<string, string>, authorization?: string) {
  const response = await fetch(`${server.oauthUrl}/introspect/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}
const asSeed = basic(SEED.clientId, SEED.clientSecret);
const asResourceServer = basic('resource-server', 'rs-secret');

async function login() {
  const { json } = await passwordGrant(server);
  return { access: json.access_token as string, refresh: json.refresh_token as string };
}

describe('active tokens (RFC 7662 §2.2)', () => {
  it('describes a live access token to the client it was issued to', async () => {
    const pair = await login();
    const { status, json, headers } = await introspect({ token: pair.access }, asSeed);
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(json).toEqual({
      active: true,
      scope: 'read write',
      client_id: SEED.clientId,
      username: SEED.username,
      token_type: 'Bearer',
      token_use: 'access_token',
      exp: clock.now() + 3600,
      iat: clock.now(),
      sub: expect.stringMatching(/^\d+$/),
    });
  });

  it('describes a live refresh token as token_use refresh_token, without a token type or expiry', async () => {
    const pair = await login();
    const { json } = await introspect({ token: pair.refresh, token_type_hint: 'refresh_token' }, asSeed);
    expect(json).toMatchObject({
      active: true,
      client_id: SEED.clientId,
      username: SEED.username,
      scope: 'read write',
      token_use: 'refresh_token',
    });
    expect(json).not.toHaveProperty('token_type');
    expect(json).not.toHaveProperty('exp');
  });

  it("lets a resource server registered with the introspection scope see every client's tokens", async () => {
    const pair = await login();
    expect((await introspect({ token: pair.access }, asResourceServer)).json.active).toBe(true);
  });

  it(
    'lets a resource server created with --introspect see every ' + "client's tokens, without the introspection scope",
    async () => {
      const pair = await login();
      const { status, json } = await introspect({ token: pair.access }, basic('ledger-api', 'ledger-secret'));
      expect(status).toBe(200);
      expect(json).toMatchObject({ active: true, client_id: SEED.clientId });
    },
  );

  it(
    "lets a client registered with the introspection scope see every client's tokens with its credentials in the " +
      'body',
    async () => {
      const pair = await login();
      expect(
        (await introspect({ token: pair.access, client_id: 'ops', client_secret: 'ops-secret' })).json,
      ).toMatchObject({ active: true, client_id: SEED.clientId });
    },
  );

  it(
    'lets a bearer token carrying the introspection scope, issued to a client created with --introspect, see ' +
      "every client's tokens",
    async () => {
      const caller = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'introspection' },
        { authorization: basic('audit-api', 'audit-secret') },
      );
      expect(caller.status).toBe(200);
      const pair = await login();
      const { status, json } = await introspect({ token: pair.access }, `Bearer ${caller.json.access_token as string}`);
      expect(status).toBe(200);
      expect(json).toMatchObject({ active: true, client_id: SEED.clientId });
    },
  );

  it('accepts client credentials in the body', async () => {
    const pair = await login();
    expect(
      (await introspect({ token: pair.access, client_id: SEED.clientId, client_secret: SEED.clientSecret })).json
        .active,
    ).toBe(true);
  });
});

describe('inactive tokens are {"active": false} and nothing more (RFC 7662 §2.2)', () => {
  it.each([
    ['an unknown token', async () => 'nope'],
    [
      'a revoked access token',
      async () => {
        const pair = await login();
        await fetch(`${server.oauthUrl}/revoke_token/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: asSeed },
          body: `token=${pair.access}`,
        });
        return pair.access;
      },
    ],
    [
      'a rotated access token',
      async () => {
        const pair = await login();
        await refreshGrant(server, pair.refresh);
        return pair.access;
      },
    ],
    [
      'a used refresh token',
      async () => {
        const pair = await login();
        await refreshGrant(server, pair.refresh);
        return pair.refresh;
      },
    ],
    [
      "another client's token, asked by a client without the introspection scope",
      async () => {
        const pair = await login();
        return pair.access;
      },
    ],
    [
      "another client's token, asked by a public client whose allowed scopes include introspection",
      async () => {
        const pair = await login();
        return pair.access;
      },
    ],
  ])('for %s', async (name, tokenFor) => {
    const token = await tokenFor();
    const who = name.includes('public client')
      ? undefined
      : name.startsWith('another')
        ? basic('other-client', 'other-secret')
        : asSeed;
    if (who === undefined) {
      // A public client authenticates with its client_id alone (RFC 6749 §2.1): no proof it is a resource server.
      const { status, json } = await introspect({ token, client_id: 'mobile' });
      expect(status).toBe(200);
      expect(json).toEqual({ active: false });
      return;
    }
    const { status, json } = await introspect({ token }, who);
    expect(status).toBe(200);
    expect(json).toEqual({ active: false });
  });

  it('for an expired access token', async () => {
    const pair = await login();
    clock.advance(3600);
    try {
      expect((await introspect({ token: pair.access }, asSeed)).json).toEqual({ active: false });
    } finally {
      clock.advance(-3600);
    }
  });
});

describe('who may introspect (RFC 7662 §2.1, §4)', () => {
  it('answers an unauthenticated caller with 401 invalid_client', async () => {
    const { status, json, headers } = await introspect({ token: 'x' });
    expect(status).toBe(401);
    expect(json.error).toBe('invalid_client');
    expect(headers.get('www-authenticate')).toBe('Basic realm="oauthd"');
  });

  /** RFC 7662 §2.3: a bearer token without sufficient privileges is 401 with the RFC 6750 §3 challenge. */
  async function expectRefusedBearer(callerToken: string) {
    const pair = await login();
    const { status, json, headers } = await introspect({ token: pair.access }, `Bearer ${callerToken}`);
    expect(status).toBe(401);
    expect(json).toEqual({ error: 'invalid_token', error_description: 'The access token may not introspect tokens.' });
    expect(headers.get('www-authenticate')).toBe(
      'Bearer realm="oauthd", error="invalid_token", error_description="The access token may not introspect tokens."',
    );
  }

  it(
    "answers a user's bearer token from an ordinary client, without the introspection scope, with 401 " +
      'invalid_token',
    async () => {
      await expectRefusedBearer((await login()).access);
    },
  );

  it(
    "answers a user's bearer token carrying the introspection scope but issued to a client not created with " +
      '--introspect with 401 invalid_token',
    async () => {
      const ops = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'introspection' },
        { authorization: basic('ops', 'ops-secret') },
      );
      expect(ops.json.scope).toBe('introspection');
      await expectRefusedBearer(ops.json.access_token as string);
    },
  );

  it(
    'answers a bearer token issued to a client created with --introspect but without the introspection scope ' +
      'with 401 invalid_token',
    async () => {
      const audit = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'read' },
        { authorization: basic('audit-api', 'audit-secret') },
      );
      expect(audit.json.scope).toBe('read');
      await expectRefusedBearer(audit.json.access_token as string);
    },
  );

  it('answers a bearer token issued to a public client, whatever its scope, with 401 invalid_token', async () => {
    const mobile = await postToken(server, {
      grant_type: 'password',
      username: SEED.username,
      password: SEED.password,
      scope: 'introspection',
      client_id: 'mobile',
    });
    expect(mobile.json.scope).toBe('introspection');
    await expectRefusedBearer(mobile.json.access_token as string);
  });

  it('answers an invalid bearer token with 401 invalid_token', async () => {
    const { status, headers } = await introspect({ token: 'x' }, 'Bearer not-a-live-token');
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers a missing token parameter with invalid_request', async () => {
    const { status, json } = await introspect({}, asSeed);
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', error_description: 'Missing token parameter.' });
  });
});

describe('server metadata (RFC 8414)', () => {
  it('is served at the RFC 8414 §3 URL for an issuer with a path, and under the base path', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server/api/secure',
      '/api/secure/.well-known/oauth-authorization-server',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      const issuer = `${server.url}/api/secure`;
      expect(metadata).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/o/token/`,
        revocation_endpoint: `${issuer}/o/revoke_token/`,
        introspection_endpoint: `${issuer}/o/introspect/`,
        authorization_endpoint: `${issuer}/o/authorize/`,
        device_authorization_endpoint: `${issuer}/o/device-authorization/`,
        grant_types_supported: [...GRANT_TYPES],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        // The admin API's built-in scopes are known whatever OAUTHD_SCOPES says.
        // The built-in admin scopes are known but not advertised (RFC 8414 §2 lets a server leave some out).
        scopes_supported: ['read', 'write', 'introspection'],
        // RFC 8414 §2, RFC 7636 §4.3, RFC 9207 §3.
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
      expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'password']));
    }
  });

  it('uses OAUTHD_ISSUER when set', async () => {
    const other = await startTestServer({ OAUTHD_ISSUER: 'https://auth.example.com' });
    try {
      const metadata = (await (await fetch(`${other.url}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      expect(metadata.issuer).toBe('https://auth.example.com');
      expect(metadata.token_endpoint).toBe('https://auth.example.com/o/token/');
      expect(metadata.authorization_endpoint).toBe('https://auth.example.com/o/authorize/');
    } finally {
      await other.stop();
    }
  });

  it('lists endpoints that really answer', async () => {
    const metadata = (await (
      await fetch(`${server.url}/.well-known/oauth-authorization-server/api/secure`)
    ).json()) as Record<string, string>;
    const pair = await login();
    const response = await fetch(metadata.introspection_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: asSeed },
      body: `token=${pair.access}`,
    });
    expect(((await response.json()) as { active: boolean }).active).toBe(true);
  });
});

/**
 * The client credentials grant over real HTTP against a real store (SQLite, or PostgreSQL with
 * OAUTHD_TEST_STORE=postgres). RFC 6749 §4.4 (confidential clients only), §4.4.2 (request, scope), §4.4.3 (no
 * refresh token), §3.3 (scope), §5.2 (errors); RFC 7662 (introspection without a user), RFC 7009 (revocation),
 * RFC 6750 §3.1 (userinfo for a token without a user), the auth gateway and the resource-server kit.
 */
import { ClientCredentials } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntrospectionVerifier } from '../../src/kit/index.js';
import { createDatabaseVerifier } from '../../src/kit/database.js';
import { SERVER_POLICY } from '../../src/core/types.js';
import { runCli } from '../helpers/cli.js';
import { basic, postToken, seedSpecSample, startTestServer, userinfo, type TestServer } from '../helpers/server.js';

let server: TestServer;
const SVC = { clientId: 'payouts-batch', clientSecret: 'payouts-batch-secret' };
const svcAuth = { authorization: basic(SVC.clientId, SVC.clientSecret) };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write introspection', OAUTHD_DEFAULT_SCOPES: 'read' });
  await seedSpecSample(server);
  const { admin } = server.services;
  await admin.createClient({
    name: 'payouts batch',
    ...SVC,
    grantTypes: ['client_credentials'],
    scopes: 'read write',
  });
  await admin.createClient({ name: 'both', clientId: 'both', clientSecret: 'both-secret', scopes: 'read write' });
  await admin.updateClient('both', { grantTypes: ['password', 'client_credentials', 'refresh_token'] });
  await admin.createClient({ name: 'web', clientId: 'web', clientSecret: 'web-secret' });
  await admin.createClient({
    name: 'resource server',
    clientId: 'rs',
    clientSecret: 'rs-secret',
    canIntrospect: true,
  });
  // A public client allowed client_credentials cannot be created by the CLI or the admin service: write it to
  // the store directly, as a database carried over from elsewhere could hold it.
  await server.services.store.createClient({
    clientId: 'spa',
    name: 'spa',
    secretHash: null,
    isPublic: true,
    grantTypes: ['client_credentials', 'password'],
    scopes: ['read'],
    canIntrospect: false,
    policy: SERVER_POLICY,
    createdAt: Math.floor(Date.now() / 1000),
  });
});

afterAll(async () => {
  await server.stop();
});

const clientCredentials = (extra: Record<string, string> = {}, headers: Record<string, string> = svcAuth) =>
  postToken(server, { grant_type: 'client_credentials', ...extra }, headers);

async function introspect(token: string) {
  const response = await fetch(`${server.oauthUrl}/introspect/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('rs', 'rs-secret') },
    body: new URLSearchParams({ token }).toString(),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('grant_type=client_credentials (RFC 6749 §4.4)', () => {
  it('issues an access token without a refresh token (§4.4.3), in the §5.1 shape', async () => {
    const { status, headers, json } = await clientCredentials({ scope: 'write' });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(json)).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'write' });
    expect(json).not.toHaveProperty('refresh_token');
  });

  it('authenticates the client in the body too (§2.3.1)', async () => {
    const { status } = await clientCredentials({ client_id: SVC.clientId, client_secret: SVC.clientSecret }, {});
    expect(status).toBe(200);
  });

  it('grants the default scopes ∩ the allowed ones when no scope is asked for (§3.3)', async () => {
    expect((await clientCredentials()).json.scope).toBe('read');
  });

  it('refuses a scope beyond the allowed ones or unknown with invalid_scope (§3.3)', async () => {
    for (const scope of ['introspection', 'read admin']) {
      const { status, json } = await clientCredentials({ scope });
      expect(status).toBe(400);
      expect(json.error).toBe('invalid_scope');
    }
  });

  it('serves a client allowed the password grant as well', async () => {
    const { status, json } = await clientCredentials(
      { scope: 'read write' },
      { authorization: basic('both', 'both-secret') },
    );
    expect(status).toBe(200);
    expect(json.scope).toBe('read write');
  });

  it('refuses a client not allowed the grant with unauthorized_client (§5.2)', async () => {
    const { status, json } = await clientCredentials({}, { authorization: basic('web', 'web-secret') });
    expect(status).toBe(400);
    expect(json.error).toBe('unauthorized_client');
  });

  it('refuses a public client, even one allowed the grant, with unauthorized_client (§4.4)', async () => {
    const { status, json } = await clientCredentials({ client_id: 'spa' }, {});
    expect(status).toBe(400);
    expect(json.error).toBe('unauthorized_client');
  });

  it('refuses a wrong secret with invalid_client (§5.2)', async () => {
    const { status, headers, json } = await clientCredentials({}, { authorization: basic(SVC.clientId, 'wrong') });
    expect(status).toBe(401);
    expect(json.error).toBe('invalid_client');
    expect(headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('records token.issued with grant_type client_credentials and counts it in the metrics', async () => {
    await clientCredentials();
    expect(server.logs()).toMatch(/"event":"token.issued"[^\n]*"grant_type":"client_credentials"/);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/oauthd_tokens_issued_total\{grant_type="client_credentials"\} [1-9]/);
  });

  it('is listed in the server metadata (RFC 8414 §2) and in the OpenAPI document', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
    };
    expect(metadata.grant_types_supported).toContain('client_credentials');
    const openapi = (await (await fetch(`${server.oauthUrl}/openapi.json`)).json()) as any;
    const body = openapi.paths['/o/token/'].post.requestBody.content['application/x-www-form-urlencoded'].schema;
    expect(body.properties.grant_type.enum).toContain('client_credentials');
    expect(openapi.components.schemas.TokenResponse.required).not.toContain('refresh_token');
  });
});

describe('a token without a user', () => {
  it('introspects with client_id, scope, exp, iat, token_type, token_use, active, no username', async () => {
    const { json } = await clientCredentials({ scope: 'read write' });
    const answer = await introspect(json.access_token as string);
    expect(Object.keys(answer).sort()).toEqual(
      ['active', 'client_id', 'exp', 'iat', 'scope', 'token_type', 'token_use'].sort(),
    );
    expect(answer).toMatchObject({
      active: true,
      client_id: SVC.clientId,
      scope: 'read write',
      token_type: 'Bearer',
      token_use: 'access_token',
    });
    expect(answer.exp).toBe((answer.iat as number) + 3600);
  });

  it('is revoked by its client (RFC 7009) and then inactive', async () => {
    const token = (await clientCredentials()).json.access_token as string;
    const response = await fetch(`${server.oauthUrl}/revoke_token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...svcAuth },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await introspect(token)).toEqual({ active: false });
    expect((await userinfo(server, token)).status).toBe(401);
  });

  it('gets 403 insufficient_scope from /o/userinfo/: there is no user (RFC 6750 §3.1)', async () => {
    const token = (await clientCredentials()).json.access_token as string;
    const { status, headers, json } = await userinfo(server, token);
    expect(status).toBe(403);
    expect(json.error).toBe('insufficient_scope');
    expect(json.error_description).toMatch(/issued to a client, not to a user/);
    expect(headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]*", error="insufficient_scope"/);
  });

  it('passes the gateway with the client and empty user headers, even when the client sent its own', async () => {
    const token = (await clientCredentials({ scope: 'read write' })).json.access_token as string;
    const response = await fetch(`${server.oauthUrl}/auth/payouts?scope=write`, {
      headers: { authorization: `Bearer ${token}`, 'x-auth-user': 'alice', 'x-auth-user-id': '1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-client-id')).toBe(SVC.clientId);
    expect(response.headers.get('x-auth-scope')).toBe('read write');
    expect(response.headers.get('x-auth-expires')).toMatch(/^\d+$/);
    // Present and empty: a proxy that copies the authorizer's headers overwrites what the client sent.
    expect(response.headers.get('x-auth-user')).toBe('');
    expect(response.headers.get('x-auth-user-id')).toBe('');
  });

  it('reaches the resource-server kit as a principal with the client and a null user', async () => {
    const token = (await clientCredentials({ scope: 'write' })).json.access_token as string;
    const verifiers = [
      createIntrospectionVerifier({
        introspectionUrl: `${server.oauthUrl}/introspect/`,
        clientId: 'rs',
        clientSecret: 'rs-secret',
        maxStalenessMs: 0,
      }),
      createDatabaseVerifier({ databaseUrl: server.config.store.databaseUrl, maxStalenessMs: 0 }),
    ];
    for (const verifier of verifiers) {
      try {
        expect(await verifier.validate(token)).toMatchObject({
          clientId: SVC.clientId,
          userId: null,
          username: null,
          scope: ['write'],
        });
      } finally {
        await verifier.close();
      }
    }
  });
});

describe('an independent OAuth 2.0 client library (simple-oauth2 ClientCredentials)', () => {
  for (const authorizationMethod of ['header', 'body'] as const) {
    it(`obtains a token with client authentication in the ${authorizationMethod} and uses it`, async () => {
      const client = new ClientCredentials({
        client: { id: SVC.clientId, secret: SVC.clientSecret },
        auth: { tokenHost: server.url, tokenPath: '/o/token/' },
        options: { authorizationMethod },
      });
      const token = await client.getToken({ scope: 'read' });
      expect(token.token.token_type).toBe('Bearer');
      expect(token.token.refresh_token).toBeUndefined();
      expect(token.expired()).toBe(false);
      const response = await fetch(`${server.oauthUrl}/auth/`, {
        headers: { authorization: `Bearer ${token.token.access_token as string}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-auth-client-id')).toBe(SVC.clientId);
    });
  }
});

describe('the client secret brute-force limits on client_credentials', () => {
  it('throttles wrong secrets with 429 slow_down, even for the right secret', async () => {
    const limited = await startTestServer({ OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '3' });
    try {
      await limited.services.admin.createClient({ name: 'svc', ...SVC, grantTypes: ['client_credentials'] });
      const attempt = (secret: string) =>
        postToken(limited, { grant_type: 'client_credentials' }, { authorization: basic(SVC.clientId, secret) });
      for (let i = 0; i < 3; i++) expect((await attempt(`guess-${i}`)).status).toBe(401);
      const locked = await attempt(SVC.clientSecret);
      expect(locked.status).toBe(429);
      expect(locked.json.error).toBe('slow_down');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });
});

describe('oauthd client create --grant-types client_credentials', () => {
  const cli = (args: string[]) =>
    runCli(server.config.store.databaseUrl, args, '', { OAUTHD_SCOPES: 'read write introspection' });

  it('creates a confidential client for the grant alone, and its generated secret works at once', async () => {
    const created = await cli(['client', 'create', '--name', 'cron', '--grant-types', 'client_credentials', '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string; grant_types: string[] };
    expect(client.grant_types).toEqual(['client_credentials']);
    const { status } = await clientCredentials({}, { authorization: basic(client.client_id, client.client_secret) });
    expect(status).toBe(200);
  });

  it('shows the audit trail of a machine client: token.issued and grant.revoked, without a user', async () => {
    const token = (await clientCredentials()).json.access_token as string;
    await fetch(`${server.oauthUrl}/revoke_token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...svcAuth },
      body: new URLSearchParams({ token }).toString(),
    });
    await server.services.audit.flush();
    const listed = await cli(['audit', '--json', '--client', SVC.clientId, '--limit', '1000']);
    expect(listed.code, listed.stderr).toBe(0);
    const events = JSON.parse(listed.stdout) as Record<string, unknown>[];
    const issued = events.filter((e) => e.event === 'token.issued');
    expect(issued.length).toBeGreaterThan(0);
    for (const event of issued) {
      expect(event).toMatchObject({ grant_type: 'client_credentials', user_id: null, username: null, ip: '127.0.0.1' });
    }
    expect(events.find((e) => e.event === 'grant.revoked')).toMatchObject({ user_id: null, username: null });
  });

  it('keeps password,refresh_token as the default grant types', async () => {
    const created = await cli(['client', 'create', '--name', 'legacy', '--json']);
    expect(created.code).toBe(0);
    expect((JSON.parse(created.stdout) as { grant_types: string[] }).grant_types).toEqual([
      'password',
      'refresh_token',
    ]);
  });

  it('refuses a public client with client_credentials in one line, creating nothing (RFC 6749 §4.4)', async () => {
    for (const args of [
      ['client', 'create', '--name', 'spa2', '--client-id', 'spa2', '--public', '--grant-types', 'client_credentials'],
      ['client', 'update', 'spa', '--grant-types', 'client_credentials,password'],
    ]) {
      const before = await server.services.store.listClients();
      const result = await cli(args);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/public client cannot use client_credentials/);
      expect(await server.services.store.listClients()).toEqual(before);
    }
  });
});

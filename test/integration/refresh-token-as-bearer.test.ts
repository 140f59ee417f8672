/**
 * A refresh token is never a bearer credential, wherever a bearer token is checked: the resource-server kit
 * (its introspection verifier and its database verifier, mounted on a real Fastify API), `/o/userinfo/` and
 * the auth gateway `/o/auth/…` (called directly, without nginx). With and without a refresh-token expiry
 * (`OAUTHD_REFRESH_TOKEN_TTL`): an expiring refresh token looks, to a naive reader of an introspection
 * answer, like an access token.
 * RFC 6750 §1.2 and §3.1 (only an access token is a bearer token; anything else is invalid_token),
 * RFC 6749 §1.5 and §10.4 (a refresh token goes to the token endpoint only, with the client's credentials),
 * RFC 7662 §2.2 (the introspection answer, here with `token_use` saying which kind of token it is).
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntrospectionVerifier, oauthdKit, type TokenVerifier } from '../../src/kit/index.js';
import { createDatabaseVerifier } from '../../src/kit/database.js';
import {
  basic,
  passwordGrant,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

const RESOURCE_SERVER = { clientId: 'payouts-api', secret: 'payouts-api-secret' };

/** A Fastify API protected by the kit with `verifier`, on 127.0.0.1. */
async function startApi(verifier: TokenVerifier): Promise<{ url: string; app: FastifyInstance }> {
  const app = Fastify();
  await app.register(oauthdKit, { verifier });
  app.get('/balance', { preHandler: app.requireToken() }, async (request) => ({ user: request.oauth!.username }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, app };
}

describe.each([
  ['without an expiry', {}],
  ['with an expiry (OAUTHD_REFRESH_TOKEN_TTL)', { OAUTHD_REFRESH_TOKEN_TTL: '86400' }],
])('a refresh token %s', (_name, env: Record<string, string>) => {
  let server: TestServer;
  const verifiers: TokenVerifier[] = [];
  const apis: Record<'introspection' | 'database', { url: string; app: FastifyInstance }> = {} as never;
  let pair: { access: string; refresh: string };

  beforeAll(async () => {
    server = await startTestServer({ OAUTHD_SCOPES: 'read write introspection', ...env });
    await seedSpecSample(server);
    await server.services.admin.createClient({
      name: 'payouts API',
      clientId: RESOURCE_SERVER.clientId,
      clientSecret: RESOURCE_SERVER.secret,
      canIntrospect: true,
    });
    // No cache: every request reaches oauthd (or its database), so each answer is the verifier's own.
    const introspection = createIntrospectionVerifier({
      introspectionUrl: `${server.oauthUrl}/introspect/`,
      clientId: RESOURCE_SERVER.clientId,
      clientSecret: RESOURCE_SERVER.secret,
      maxStalenessMs: 0,
    });
    const database = createDatabaseVerifier({ databaseUrl: server.config.store.databaseUrl, maxStalenessMs: 0 });
    verifiers.push(introspection, database);
    apis.introspection = await startApi(introspection);
    apis.database = await startApi(database);
    const { json } = await passwordGrant(server);
    pair = { access: json.access_token as string, refresh: json.refresh_token as string };
  });

  afterAll(async () => {
    for (const api of Object.values(apis)) await api.app.close();
    for (const verifier of verifiers) await verifier.close();
    await server.stop();
  });

  const balance = (which: 'introspection' | 'database', token: string) =>
    fetch(`${apis[which].url}/balance`, { headers: { authorization: `Bearer ${token}` } });

  it(
    'is described by introspection as token_use refresh_token, without a token_type, and the access token as an ' +
      'access_token of type Bearer',
    async () => {
      const introspect = async (token: string) => {
        const response = await fetch(`${server.oauthUrl}/introspect/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic(RESOURCE_SERVER.clientId, RESOURCE_SERVER.secret),
          },
          body: new URLSearchParams({ token }).toString(),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      const refresh = await introspect(pair.refresh);
      expect(refresh).toMatchObject({ active: true, token_use: 'refresh_token' });
      expect(refresh).not.toHaveProperty('token_type');
      if (env.OAUTHD_REFRESH_TOKEN_TTL) expect(refresh.exp).toEqual(expect.any(Number));
      else expect(refresh).not.toHaveProperty('exp');
      expect(await introspect(pair.access)).toMatchObject({
        active: true,
        token_use: 'access_token',
        token_type: 'Bearer',
      });
    },
  );

  it.each(['introspection', 'database'] as const)(
    "is refused by the kit's %s verifier with 401 invalid_token, while the access token is admitted",
    async (which) => {
      const refused = await balance(which, pair.refresh);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(await refused.json()).toMatchObject({ error: 'invalid_token' });
      const admitted = await balance(which, pair.access);
      expect(admitted.status).toBe(200);
    },
  );

  it('is refused by /o/userinfo/ with 401 invalid_token', async () => {
    const { status, headers, json } = await userinfo(server, pair.refresh);
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(json.error).toBe('invalid_token');
  });

  it('is refused by the auth gateway /o/auth/… with 401 invalid_token', async () => {
    const response = await fetch(`${server.oauthUrl}/auth/api/payouts`, {
      headers: { authorization: `Bearer ${pair.refresh}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(response.headers.get('x-auth-user')).toBeNull();
    const accepted = await fetch(`${server.oauthUrl}/auth/api/payouts`, {
      headers: { authorization: `Bearer ${pair.access}` },
    });
    expect(accepted.status).toBe(200);
  });

  it('still refreshes once afterwards: being refused as a bearer token did not use it up', async () => {
    const { status } = await refreshGrant(server, pair.refresh);
    expect(status).toBe(200);
  });
});

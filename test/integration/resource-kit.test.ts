/**
 * The resource-server kit, driven through the runnable examples in examples/ (a Fastify payouts API
 * and an Express one) as real processes, against a real oauthd over real HTTP.
 * RFC 6750 §2.1 (Authorization header), §3 and §3.1 (challenges: invalid_request, invalid_token,
 * insufficient_scope with the required scope), RFC 9700 §2.5 (no tokens in URLs), RFC 7662 (remote
 * validation), and the staleness bound of the kit's cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExample, type ExampleProcess } from '../helpers/kit-example.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const STALENESS_MS = 1000;
let server: TestServer;
const apis: (ExampleProcess & { name: string })[] = [];

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write introspection' });
  await seedSpecSample(server);
  await server.services.admin.createClient({
    name: 'payouts API',
    clientId: 'payouts-api',
    clientSecret: 'payouts-api-secret',
    canIntrospect: true,
  });
  await server.services.admin.createClient({
    name: 'reader',
    clientId: 'reader',
    clientSecret: 'reader-secret',
    scopes: 'read',
  });
  const staleness = { PAYOUTS_MAX_STALENESS_MS: String(STALENESS_MS) };
  const introspection = {
    ...staleness,
    OAUTHD_INTROSPECTION_URL: `${server.oauthUrl}/introspect/`,
    OAUTHD_CLIENT_ID: 'payouts-api',
    OAUTHD_CLIENT_SECRET: 'payouts-api-secret',
  };
  const started = await Promise.all([
    startExample('examples/payouts-api.mjs', {
      ...staleness,
      OAUTHD_DATABASE_URL: server.config.store.databaseUrl,
    }).then((a) => ({ name: 'Fastify, database', ...a })),
    startExample('examples/payouts-api.mjs', introspection).then((a) => ({ name: 'Fastify, introspection', ...a })),
    startExample('examples/express-api.mjs', introspection).then((a) => ({ name: 'Express, introspection', ...a })),
  ]);
  apis.push(...started);
});

afterAll(async () => {
  for (const api of apis) api.child.kill('SIGTERM');
  await server.stop();
});

const balance = (url: string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${url}/balance${query}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function accessToken(clientId: string = SEED.clientId, secret: string = SEED.clientSecret): Promise<string> {
  const { json } = await postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: SEED.password },
    { authorization: basic(clientId, secret) },
  );
  return json.access_token as string;
}

describe.each(['Fastify, database', 'Fastify, introspection', 'Express, introspection'])('the kit (%s)', (name) => {
  const api = () => apis.find((a) => a.name === name)!;

  it('admits a valid token with the scope and hands the principal to the route', async () => {
    const response = await balance(api().url, bearer(await accessToken()));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: SEED.username });
  });

  it('answers a request without a token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const response = await balance(api().url);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="payouts"');
  });

  it('answers an unknown token with 401 invalid_token', async () => {
    const response = await balance(api().url, bearer('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="payouts", error="invalid_token", error_description="[^"]+"$/,
    );
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  });

  it('answers a token in the query string with 400 invalid_request (RFC 9700 §2.5)', async () => {
    const response = await balance(api().url, {}, `?access_token=${await accessToken()}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('stops accepting a revoked token within the staleness bound, never later', async () => {
    const token = await accessToken();
    expect((await balance(api().url, bearer(token))).status).toBe(200); // now cached as valid
    const revoked = await fetch(`${server.oauthUrl}/revoke_token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: `token=${token}`,
    });
    expect(revoked.status).toBe(200);
    const revokedAt = performance.now();
    // Poll; remember when the last request that was still admitted was *sent* (its answer may come later
    // on a loaded machine, which says nothing about the cache).
    let status = 200;
    let lastAdmittedSentAt = revokedAt;
    while (status === 200 && performance.now() - revokedAt < STALENESS_MS * 3) {
      const sentAt = performance.now();
      status = (await balance(api().url, bearer(token))).status;
      if (status === 200) {
        lastAdmittedSentAt = sentAt;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    expect(status).toBe(401);
    // The bound counts from the moment the cached lookup started, which was before the revocation.
    expect(lastAdmittedSentAt - revokedAt).toBeLessThanOrEqual(STALENESS_MS);
    for (let i = 0; i < 5; i++) expect((await balance(api().url, bearer(token))).status).toBe(401);
  });
});

describe('scopes (RFC 6750 §3.1 insufficient_scope)', () => {
  it("answers a token without the route's scopes with 403 and names the required scope", async () => {
    const fastifyApi = apis.find((a) => a.name === 'Fastify, database')!;
    const readOnly = await accessToken('reader', 'reader-secret');
    const response = await fetch(`${fastifyApi.url}/payouts`, { method: 'POST', headers: bearer(readOnly) });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="payouts", error="insufficient_scope", error_description="The access token does not carry ' +
        'the scope this resource requires.", scope="read write"',
    );
    const full = await fetch(`${fastifyApi.url}/payouts`, { method: 'POST', headers: bearer(await accessToken()) });
    expect(full.status).toBe(201);
  });
});

describe('remote validation failures', () => {
  it('answers 503, never a false "valid", when oauthd cannot be reached', async () => {
    const api = await startExample('examples/payouts-api.mjs', {
      OAUTHD_INTROSPECTION_URL: 'http://127.0.0.1:1/o/introspect/',
      OAUTHD_CLIENT_ID: 'payouts-api',
      OAUTHD_CLIENT_SECRET: 'payouts-api-secret',
    });
    try {
      const response = await balance(api.url, bearer(await accessToken()));
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toBe('temporarily_unavailable');
    } finally {
      api.child.kill('SIGTERM');
    }
  });

  it('treats wrong introspection credentials as unavailable, not as valid', async () => {
    const api = await startExample('examples/payouts-api.mjs', {
      OAUTHD_INTROSPECTION_URL: `${server.oauthUrl}/introspect/`,
      OAUTHD_CLIENT_ID: 'payouts-api',
      OAUTHD_CLIENT_SECRET: 'wrong',
    });
    try {
      expect((await balance(api.url, bearer(await accessToken()))).status).toBe(503);
    } finally {
      api.child.kill('SIGTERM');
    }
  });
});

it('keeps a valid token working across the bound (the cache refreshes, it does not expire tokens)', async () => {
  const api = apis.find((a) => a.name === 'Fastify, introspection')!;
  const { json } = await passwordGrant(server);
  const token = json.access_token as string;
  expect((await balance(api.url, bearer(token))).status).toBe(200);
  await new Promise((r) => setTimeout(r, STALENESS_MS + 100));
  expect((await balance(api.url, bearer(token))).status).toBe(200);
});

/**
 * The auth gateway `{BASE_PATH}/o/auth/*` fails closed on an ambiguous scope requirement, over real HTTP
 * without a proxy in front (test/integration/gateway-nginx.test.ts covers nginx).
 * RFC 6750 §3.1 (invalid_request, insufficient_scope); RFC 6749 §3.1 (parameters must not be repeated) and
 * §3.3 (a scope is a set of NQCHAR tokens).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, serialise } from '../helpers/raw-http.js';
import { passwordGrant, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let readOnly: string;
let readWrite: string;

beforeAll(async () => {
  server = await startTestServer();
  await seedSpecSample(server);
  readOnly = (await passwordGrant(server, { scope: 'read' })).json.access_token as string;
  readWrite = (await passwordGrant(server)).json.access_token as string;
});

afterAll(async () => {
  await server.stop();
});

/** GET `{oauthUrl}/auth/check<query>` with a bearer token and the given headers. */
async function gateway(query: string, token: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.oauthUrl}/auth/check${query}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** The same request over a bare socket, so a header can be sent twice (fetch would join the two values). */
async function rawGateway(query: string, token: string, headers: [string, string][]) {
  const port = Number(new URL(server.url).port);
  const bytes = serialise({
    method: 'GET',
    target: `/o/auth/check${query}`,
    headers: [['Host', '127.0.0.1'], ['Authorization', `Bearer ${token}`], ...headers, ['Connection', 'close']],
  });
  const { responses } = await rawExchange(port, bytes);
  expect(responses).toHaveLength(1);
  const [response] = responses;
  return { status: response!.status, json: JSON.parse(response!.body.toString('utf8')) as Record<string, unknown> };
}

/** 400 invalid_request with the Bearer challenge naming the error, no-store, and the given description. */
function expectAmbiguous(
  response: { status: number; json: Record<string, unknown>; headers?: Headers },
  description: string,
): void {
  expect(response.status).toBe(400);
  expect(response.json).toEqual({ error: 'invalid_request', error_description: description });
  if (response.headers) {
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
    expect(response.headers.get('cache-control')).toBe('no-store');
  }
}

describe('the gateway with one clear scope requirement', () => {
  it('refuses a read-only token for ?scope=write with 403 insufficient_scope and admits a read write one', async () => {
    expect((await gateway('?scope=write', readOnly)).status).toBe(403);
    expect((await gateway('?scope=write', readWrite)).status).toBe(200);
  });

  it(
    'refuses a read-only token for X-Auth-Required-Scope: write ' + 'with 403 and admits it with no requirement at all',
    async () => {
      expect((await gateway('', readOnly, { 'X-Auth-Required-Scope': 'write' })).status).toBe(403);
      expect((await gateway('', readOnly)).status).toBe(200);
    },
  );

  it('admits a header and a query that name the same scopes, in any order', async () => {
    expect((await gateway('?scope=write+read', readWrite, { 'X-Auth-Required-Scope': 'read write' })).status).toBe(200);
    expect((await gateway('?scope=write', readOnly, { 'X-Auth-Required-Scope': 'write' })).status).toBe(403);
  });
});

describe('the gateway with an ambiguous scope requirement answers 400 invalid_request, never 200', () => {
  it('refuses a repeated scope parameter, even when both copies agree', async () => {
    expectAmbiguous(await gateway('?scope=write&scope=write', readOnly), 'The scope parameter must not be repeated.');
    expectAmbiguous(await gateway('?scope=write&scope=read', readWrite), 'The scope parameter must not be repeated.');
    expectAmbiguous(await gateway('?scope=&scope=', readWrite), 'The scope parameter must not be repeated.');
  });

  it(
    'refuses an empty X-Auth-Required-Scope instead of letting ' + 'it override the query and require nothing',
    async () => {
      expectAmbiguous(
        await gateway('?scope=write', readOnly, { 'X-Auth-Required-Scope': '' }),
        'The X-Auth-Required-Scope header is empty; omit it to require no scope.',
      );
      expectAmbiguous(
        await gateway('', readOnly, { 'X-Auth-Required-Scope': '   ' }),
        'The X-Auth-Required-Scope header is empty; omit it to require no scope.',
      );
    },
  );

  it('refuses an empty scope parameter', async () => {
    expectAmbiguous(await gateway('?scope=', readOnly), 'The scope parameter is empty; omit it to require no scope.');
    expectAmbiguous(await gateway('?scope', readOnly), 'The scope parameter is empty; omit it to require no scope.');
  });

  it('refuses a malformed X-Auth-Required-Scope or scope parameter', async () => {
    expectAmbiguous(
      await gateway('', readWrite, { 'X-Auth-Required-Scope': 'pay"outs' }),
      'The X-Auth-Required-Scope header is malformed.',
    );
    expectAmbiguous(
      await gateway('', readWrite, { 'X-Auth-Required-Scope': 'read\twrite' }),
      'The X-Auth-Required-Scope header is malformed.',
    );
    expectAmbiguous(await gateway('?scope=pay%22outs', readWrite), 'The scope parameter is malformed.');
  });

  it('refuses a header and a query that name different scopes, whichever is the wider', async () => {
    const description = 'The X-Auth-Required-Scope header and the scope parameter name different scopes.';
    expectAmbiguous(await gateway('?scope=write', readOnly, { 'X-Auth-Required-Scope': 'read' }), description);
    expectAmbiguous(await gateway('?scope=read', readWrite, { 'X-Auth-Required-Scope': 'read write' }), description);
  });

  it('refuses an X-Auth-Required-Scope sent twice, which would otherwise arrive joined as "write, read"', async () => {
    expectAmbiguous(
      await rawGateway('', readWrite, [
        ['X-Auth-Required-Scope', 'write'],
        ['x-auth-required-scope', 'read'],
      ]),
      'The X-Auth-Required-Scope header must not be repeated.',
    );
    expectAmbiguous(
      await rawGateway('?scope=write', readOnly, [
        ['X-Auth-Required-Scope', 'write'],
        ['X-Auth-Required-Scope', ''],
      ]),
      'The X-Auth-Required-Scope header must not be repeated.',
    );
  });

  it('checks the requirement before the token: an ambiguous one is 400 even without a token', async () => {
    const response = await fetch(`${server.oauthUrl}/auth/check?scope=write&scope=write`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });
});

/**
 * The token endpoint spec's samples (docs/token-endpoint.md, "The token endpoint spec"), run as written against
 * a real server on 127.0.0.1 with a real SQLite file: curl with -u, HTTPie with credentials in the URL,
 * Postman's OAuth 2.0 helper (both of its client authentication modes), and an independent OAuth client
 * library. The spec's URL https://stagingpayouts.paymobsolutions.com/api/secure/o/token/ becomes
 * http://127.0.0.1:<port>/api/secure/o/token/ (OAUTHD_BASE_PATH=/api/secure); nothing else changes.
 * Without curl or HTTPie (`apt-get install curl httpie`) their tests skip with a warning, unless
 * OAUTHD_REQUIRE_CURL=1 / OAUTHD_REQUIRE_HTTPIE=1 (.ci/run installs both and sets both).
 * RFC 6749 §2.3.1, §4.3, §5.1, §5.2, §6.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ResourceOwnerPassword } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED, seedSpecSample, startTestServer, userinfo, type TestServer } from '../helpers/server.js';
import { CURL, HTTPIE, systemProgram } from '../helpers/tools.js';

const run = promisify(execFile);
const curl = systemProgram(CURL, "the token endpoint spec's curl samples (test/integration/spec-samples.test.ts)");
const httpie = systemProgram(
  HTTPIE,
  "the token endpoint spec's HTTPie samples (test/integration/spec-samples.test.ts)",
);
let server: TestServer;
let env: string;

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_BASE_PATH: '/api/secure' });
  await seedSpecSample(server);
  env = `${server.url}/api/secure`;
});

afterAll(async () => {
  await server.stop();
});

/** Splits `curl -i` output into status, headers and JSON body. */
function parseHttpOutput(output: string): { status: number; json: Record<string, unknown>; head: string } {
  const normalized = output.replace(/\r\n/g, '\n');
  const bodyStart = normalized.lastIndexOf('\n\n');
  const head = normalized.slice(0, bodyStart);
  const status = Number(/HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]);
  return { status, head, json: JSON.parse(normalized.slice(bodyStart + 2)) as Record<string, unknown> };
}

describe.skipIf(curl === null)('curl, as written in the spec', () => {
  it('generates a token with the spec sample 1 command (-u id:secret, form body with % ^ @ & escaped)', async () => {
    // Verbatim from "Generate new access token using CURL", only the host changed.
    const { stdout } = await run(curl!, [
      '-i',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/x-www-form-urlencoded',
      '-u',
      '4l9iHGND54sLJILML1xGGkWUDqO77iCda:qZIuRHN0oKxwGFaJtKhnAcTIcVvvz1AmRCv0RTVOozyoc6eqtOWhEFyUPRbyfRs8uqzDLy' +
        'LxWVxbDB6TxmhyG78jCTpE',
      '-d',
      'grant_type=password&username=paymob_send_api_checker&password=H%25bRUg%5EeaOZ%40HGabcLs7SOr9D1EL3%26',
      `${env}/o/token/`,
    ]);
    const { status, json, head } = parseHttpOutput(stdout);
    expect(status).toBe(200);
    expect(head.toLowerCase()).toContain('cache-control: no-store');
    expect(Object.keys(json)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(json).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });

    // Then the refresh sample (2.1), with the refresh token just received.
    const refreshed = parseHttpOutput(
      (
        await run(curl!, [
          '-i',
          '-X',
          'POST',
          '-H',
          'Content-Type: application/x-www-form-urlencoded',
          '-u',
          `${SEED.clientId}:${SEED.clientSecret}`,
          '-d',
          `grant_type=refresh_token&refresh_token=${json.refresh_token as string}`,
          `${env}/o/token/`,
        ])
      ).stdout,
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.json).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });
    expect(refreshed.json.refresh_token).not.toBe(json.refresh_token);

    // "must be sent at the header with every request"
    expect((await userinfo(server, refreshed.json.access_token as string)).status).toBe(200);
  });

  it('answers a wrong password with the spec failure body', async () => {
    const { stdout } = await run(curl!, [
      '-i',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/x-www-form-urlencoded',
      '-u',
      `${SEED.clientId}:${SEED.clientSecret}`,
      '-d',
      'grant_type=password&username=paymob_send_api_checker&password=H%bRUg^eaOZ@HGabcLs7SOr9D1EL3&',
      `${env}/o/token/`,
    ]);
    // The unescaped password above is what a careless integrator sends: `%bR` is not an escape, so the
    // body is malformed and the answer is invalid_request, never a silently altered password.
    expect(parseHttpOutput(stdout).json.error).toBe('invalid_request');

    const wrong = parseHttpOutput(
      (
        await run(curl!, [
          '-i',
          '-X',
          'POST',
          '-H',
          'Content-Type: application/x-www-form-urlencoded',
          '-u',
          `${SEED.clientId}:${SEED.clientSecret}`,
          '-d',
          'grant_type=password&username=paymob_send_api_checker&password=wrong',
          `${env}/o/token/`,
        ])
      ).stdout,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid credentials given.' });
  });
});

describe.skipIf(httpie === null)('HTTPie, as written in the spec', () => {
  it('generates (1.2) and refreshes (2.2) a token with credentials in the URL', async () => {
    const url = `http://${SEED.clientId}:${SEED.clientSecret}@${env.replace(/^http:\/\//, '')}/o/token/`;
    const generate = await run(httpie!, [
      '--ignore-stdin',
      '-v',
      '-f',
      url,
      'grant_type=password',
      `username=${SEED.username}`,
      `password=${SEED.password}`,
    ]);
    const first = parseHttpOutput(generate.stdout);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ expires_in: 3600, scope: 'read write', token_type: 'Bearer' });

    const refresh = await run(httpie!, [
      '--ignore-stdin',
      '-v',
      '-f',
      url,
      'grant_type=refresh_token',
      `refresh_token=${first.json.refresh_token as string}`,
    ]);
    const second = parseHttpOutput(refresh.stdout);
    expect(second.status).toBe(200);
    expect(second.json.refresh_token).not.toBe(first.json.refresh_token);
  });
});

describe("Postman's OAuth 2.0 helper (Password Credentials)", () => {
  // What Postman sends for grant type "Password Credentials": a form body with grant_type, username,
  // password and scope, and the client credentials either as a Basic header or in the body.
  const postmanBody = (extra: Record<string, string>) =>
    new URLSearchParams({
      grant_type: 'password',
      username: SEED.username,
      password: SEED.password,
      scope: 'read write',
      ...extra,
    }).toString();

  it('works with "Send as Basic Auth header"', async () => {
    const response = await fetch(`${env}/o/token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${SEED.clientId}:${SEED.clientSecret}`).toString('base64')}`,
      },
      body: postmanBody({}),
    });
    expect(response.status).toBe(200);
  });

  it('works with "Send client credentials in body"', async () => {
    const response = await fetch(`${env}/o/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: postmanBody({ client_id: SEED.clientId, client_secret: SEED.clientSecret }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ scope: 'read write', token_type: 'Bearer', expires_in: 3600 });
  });
});

describe('an independent OAuth 2.0 client library (simple-oauth2)', () => {
  for (const authorizationMethod of ['header', 'body'] as const) {
    it(`gets, uses and refreshes a token with client authentication in the ${authorizationMethod}`, async () => {
      const client = new ResourceOwnerPassword({
        client: { id: SEED.clientId, secret: SEED.clientSecret },
        auth: { tokenHost: server.url, tokenPath: '/api/secure/o/token/' },
        options: { authorizationMethod },
      });
      const token = await client.getToken({ username: SEED.username, password: SEED.password, scope: 'read' });
      expect(token.token.token_type).toBe('Bearer');
      expect(token.token.scope).toBe('read');
      expect(token.expired()).toBe(false);
      expect((await userinfo(server, token.token.access_token as string)).status).toBe(200);

      const refreshed = await token.refresh();
      expect(refreshed.token.access_token).not.toBe(token.token.access_token);
      expect((await userinfo(server, refreshed.token.access_token as string)).status).toBe(200);
      expect((await userinfo(server, token.token.access_token as string)).status).toBe(401);

      await expect(client.getToken({ username: SEED.username, password: 'wrong' })).rejects.toMatchObject({
        data: { payload: { error: 'invalid_grant', error_description: 'Invalid credentials given.' } },
      });
    });
  }
});

/**
 * The device authorization endpoint, POST {BASE_PATH}/o/device-authorization/ (RFC 8628 §3.1–3.2), over real
 * HTTP against a real store: client authentication like the token endpoint (RFC 6749 §2.3.1), its
 * RFC-shaped errors (RFC 6749 §5.2), no-store (§5.1), form and JSON bodies, parameters in the URL refused, 405
 * for other methods, and a verification URI derived from the issuer like the metadata's endpoints (RFC 8414).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { createDeviceClient, type DeviceClient, requestDeviceAuthorization } from '../helpers/device.js';
import { basic, SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const TV: DeviceClient = { clientId: 'tv', clientSecret: 'tv-secret' };
const PUBLIC: DeviceClient = { clientId: 'public-cli', clientSecret: null };
const TV_AUTH = { authorization: basic(TV.clientId, TV.clientSecret!) };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' });
  await seedSpecSample(server);
  await createDeviceClient(server, TV);
  await createDeviceClient(server, PUBLIC, [DEVICE_CODE_GRANT]);
});

afterAll(async () => {
  await server?.stop();
});

const KEYS = ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete', 'expires_in', 'interval'];

function expectNoStore(headers: Headers) {
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('pragma')).toBe('no-cache');
}

describe('the device authorization response (RFC 8628 §3.2)', () => {
  it('answers a confidential client with Basic: the six fields in order, no-store', async () => {
    const answer = await requestDeviceAuthorization(server, { scope: 'write' }, TV_AUTH);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expectNoStore(answer.headers);
    expect(Object.keys(answer.json)).toEqual(KEYS);
    expect(answer.json.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answer.json).toMatchObject({ verification_uri: `${server.url}/o/device/`, expires_in: 600, interval: 5 });
  });

  it('takes the secret in the body, a public client by client_id, JSON, and the path without slash', async () => {
    const post = await requestDeviceAuthorization(server, { client_id: TV.clientId, client_secret: TV.clientSecret! });
    expect(post.status).toBe(200);
    const publicClient = await requestDeviceAuthorization(server, { client_id: PUBLIC.clientId });
    expect(publicClient.status).toBe(200);
    const json = await fetch(`${server.oauthUrl}/device-authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...TV_AUTH },
      body: JSON.stringify({ scope: 'read write' }),
    });
    expect(json.status).toBe(200);
    expect(Object.keys((await json.json()) as object)).toEqual(KEYS);
  });

  it('gives every request its own device code and user code', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => requestDeviceAuthorization(server, { client_id: PUBLIC.clientId })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.json.device_code)).size).toBe(10);
    expect(new Set(answers.map((a) => a.json.user_code)).size).toBe(10);
  });
});

describe('errors of the device authorization endpoint', () => {
  it('answers invalid_client 401 with the Basic challenge, whatever was wrong', async () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{}, {}],
      [{}, { authorization: basic(TV.clientId, 'wrong-secret') }],
      [{ client_id: TV.clientId }, {}],
      [{ client_id: 'no-such-client' }, {}],
      [{}, { authorization: 'Basic !!!' }],
    ];
    for (const [body, headers] of cases) {
      const answer = await requestDeviceAuthorization(server, body, headers);
      expect(answer.status, JSON.stringify(body)).toBe(401);
      expect(answer.json.error).toBe('invalid_client');
      expect(answer.headers.get('www-authenticate')).toBe('Basic realm="oauthd"');
      expectNoStore(answer.headers);
    }
  });

  it('answers unauthorized_client to a client without the device grant', async () => {
    const answer = await requestDeviceAuthorization(
      server,
      {},
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: 'unauthorized_client', error_description: expect.any(String) });
  });

  it('answers invalid_scope to a scope the client may not have', async () => {
    const answer = await requestDeviceAuthorization(server, { scope: 'read admin' }, TV_AUTH);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe('invalid_scope');
  });

  it('refuses parameters in the URL, repeats and other content types with invalid_request', async () => {
    const inUrl = await requestDeviceAuthorization(server, {}, TV_AUTH, '?scope=read');
    expect(inUrl.status).toBe(400);
    expect(inUrl.json).toEqual({
      error: 'invalid_request',
      error_description: 'Send the parameters in the request body, not in the URL.',
    });
    const repeated = await requestDeviceAuthorization(server, 'scope=read&scope=write', TV_AUTH);
    expect(repeated.status).toBe(400);
    expect(repeated.json.error).toBe('invalid_request');
    const text = await fetch(`${server.oauthUrl}/device-authorization/`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...TV_AUTH },
      body: 'scope=read',
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('answers 405 with Allow: POST to the other methods', async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const response = await fetch(`${server.oauthUrl}/device-authorization/`, { method, headers: TV_AUTH });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
      expectNoStore(response.headers);
    }
  });
});

describe('the verification URI follows the issuer, as the metadata does (RFC 8414 §2)', () => {
  async function metadataAndAnswer(env: Record<string, string>, headers: Record<string, string> = {}) {
    const other = await startTestServer(env);
    try {
      await createDeviceClient(other, PUBLIC, [DEVICE_CODE_GRANT]);
      const base = `${other.url}${other.config.http.basePath}`;
      const metadata = (await (
        await fetch(`${base}/.well-known/oauth-authorization-server`, { headers })
      ).json()) as Record<string, string>;
      const answer = await requestDeviceAuthorization(other, { client_id: PUBLIC.clientId }, headers);
      // The page itself, at this server's own address (the issuer may name a host that is not this one).
      const page = await fetch(`${base}/o/device/?user_code=${answer.json.user_code as string}`, { headers });
      return { other, metadata, answer: answer.json, pageStatus: page.status };
    } finally {
      await other.stop();
    }
  }

  it('is {issuer}/o/device/ under a base path, and the page answers there', async () => {
    const { other, metadata, answer, pageStatus } = await metadataAndAnswer({ OAUTHD_BASE_PATH: '/api/secure' });
    expect(metadata.device_authorization_endpoint).toBe(`${other.url}/api/secure/o/device-authorization/`);
    expect(answer.verification_uri).toBe(`${metadata.issuer}/o/device/`);
    expect(pageStatus).toBe(200);
  });

  it('uses OAUTHD_ISSUER when set', async () => {
    const issuer = 'https://auth.example.com/api/secure';
    const { metadata, answer } = await metadataAndAnswer({ OAUTHD_BASE_PATH: '/api/secure', OAUTHD_ISSUER: issuer });
    expect(metadata.device_authorization_endpoint).toBe(`${issuer}/o/device-authorization/`);
    expect(answer.verification_uri).toBe(`${issuer}/o/device/`);
    expect(answer.verification_uri_complete).toBe(`${issuer}/o/device/?user_code=${answer.user_code as string}`);
  });

  it('honours X-Forwarded-Proto only from a proxy in OAUTHD_TRUST_PROXY', async () => {
    const forwarded = { 'x-forwarded-proto': 'https' };
    const trusted = await metadataAndAnswer({ OAUTHD_TRUST_PROXY: '127.0.0.1' }, forwarded);
    expect(trusted.answer.verification_uri).toBe(`${trusted.metadata.issuer}/o/device/`);
    expect(trusted.answer.verification_uri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/o\/device\/$/);
    const untrusted = await metadataAndAnswer({}, forwarded);
    expect(untrusted.answer.verification_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/o\/device\/$/);
  });
});

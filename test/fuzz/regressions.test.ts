/**
 * The bugs the fuzzer (endpoints.fuzz.test.ts) found in src/, all fixed: each one's minimal input, sent over
 * a raw socket, so that none comes back unnoticed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, type RawResponse } from '../helpers/raw-http.js';
import { basic, type TestServer } from '../helpers/server.js';
import { startFuzzTarget } from './target.js';
import { bodyText, jsonOf } from './oracle.js';

let server: TestServer;
let port: number;
/** A client with a generated secret, and the seed user's pair (see startFuzzTarget). */
const fuzzClient = { clientId: '', clientSecret: '' };
const live = { access: '', refresh: '' };

beforeAll(async () => {
  server = await startFuzzTarget({ live, fuzzClient });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.stop();
});

describe('bugs found by fuzzing, fixed: their minimal inputs', () => {
  const send = async (head: string, body: Buffer | string = '') => {
    const bytes = Buffer.concat([
      Buffer.from(head, 'latin1'),
      Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'),
    ]);
    const exchange = await rawExchange(port, bytes, { head: head.startsWith('HEAD') });
    expect(exchange.responses.length).toBeGreaterThan(0);
    return exchange.responses[0]!;
  };
  const rfcShapedOrEmpty = (r: RawResponse) => {
    if (r.body.length === 0) return;
    const json = jsonOf(r);
    expect(json).not.toBeNull();
    expect(Object.keys(json!).sort()).toEqual(['error', 'error_description']);
    expect(bodyText(r)).not.toContain('statusCode');
  };

  // Requests Node's HTTP parser rejects (conflicting framing, oversized headers) were answered with
  // Fastify's own error JSON, which docs/token-endpoint.md promises never to send; the app's
  // clientErrorHandler now writes the RFC body (or none).
  it('answers Content-Length with Transfer-Encoding: chunked with 400 and an RFC-shaped (or empty) body', async () => {
    const r = await send(
      'POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ' +
        'application/x-www-form-urlencoded\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      '0\r\n\r\n',
    );
    expect(r.status).toBe(400);
    rfcShapedOrEmpty(r);
  });

  it('answers headers over the limit with 431 and an RFC-shaped (or empty) body', async () => {
    const r = await send(
      `GET /o/userinfo/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Junk: ${'x'.repeat(20_000)}\r\n\r\n`,
    );
    expect(r.status).toBe(431);
    rfcShapedOrEmpty(r);
  });

  // A required scope that is not NQCHAR (RFC 6749 §3.3) made /o/auth/* answer 500: input any client can
  // send, since Envoy's ext_authz appends the client's own path and query to the gateway URL.
  it('answers a malformed required scope on the gateway with a 4xx, not 500', async () => {
    const r = await send(
      `GET /o/auth/x?scope=%22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ` +
        `${live.access}\r\n\r\n`,
    );
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });

  // `access_token` in the query string is invalid_request (RFC 9700 §2.5); sent twice, the query parser
  // made it an array and the route saw no token at all (401).
  it(
    'refuses access_token repeated in the userinfo query with ' + '400 invalid_request, as it refuses it once',
    async () => {
      const once = await send('GET /o/userinfo/?access_token=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(once.status).toBe(400);
      const twice = await send(
        'GET /o/userinfo/?access_token=x&access_token=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(twice.status).toBe(400);
      expect(jsonOf(twice)?.error).toBe('invalid_request');
    },
  );

  // docs/token-endpoint.md: "bytes that are not UTF-8 are invalid_request, never silently altered". The
  // body used to reach the parsers already decoded, every invalid byte turned into U+FFFD.
  it('refuses a body with a byte that is not UTF-8 with 400 invalid_request', async () => {
    const r = await send(
      'POST /o/revoke_token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ' +
        'application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n',
      Buffer.from('token=\xff', 'latin1'),
    );
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });

  // PostgreSQL text cannot hold U+0000: a NUL in a client_id or username made the query fail (500) there.
  // A parameter holding NUL is now refused before any lookup (core/params.ts), on every store.
  it('answers a NUL in a parameter with 400 invalid_request on every store, never 500', async () => {
    const body = 'grant_type=password&client_id=%00';
    const r = await send(
      `POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ` +
        `application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });

  it('does not log in with a Latin-1 password byte that was silently replaced by U+FFFD', async () => {
    await server.services.admin.createUser('latin1-victim', 'caf\ufffd-au-lait');
    const body = Buffer.concat([
      Buffer.from('grant_type=password&username=latin1-victim&password=caf'),
      Buffer.from([0xe9]),
      Buffer.from('-au-lait'),
    ]);
    const r = await send(
      `POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ` +
        `${basic(fuzzClient.clientId, fuzzClient.clientSecret)}\r\nContent-Type: ` +
        `application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });
});

/**
 * Limits that keep hostile or slow clients from costing more than honest ones, over real sockets:
 * slow headers and bodies (slowloris), header and parameter size caps, the bound on concurrent password
 * hashing (load shedding instead of an unbounded queue), and timing that does not tell unknown users,
 * wrong passwords and disabled users apart.
 * RFC 6749 §10.10 / RFC 6819 §4.4.3.6 (online guessing), §5.1.4.2.2; RFC 9110 §15.5.9 (408),
 * RFC 6585 §5 (431).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    OAUTHD_HEADERS_TIMEOUT_MS: '500',
    OAUTHD_REQUEST_TIMEOUT_MS: '1000',
    OAUTHD_MAX_HEADER_BYTES: '4096',
  });
  await seedSpecSample(server);
  await server.services.admin.createUser('disabled-user', 'disabled-pass');
  await server.services.admin.setUserActive('disabled-user', false);
});

afterAll(async () => {
  await server.stop();
});

/** Writes raw bytes (optionally in slow pieces) and resolves with what the server answered and when it closed. */
function raw(chunks: string[], gapMs: number): Promise<{ response: string; closedAfterMs: number }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++]!);
    }, gapMs);
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedAfterMs: performance.now() - started });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a slow connection open'));
    }, 8000);
  });
}

describe('slow clients', () => {
  it('closes a connection whose headers trickle in past the headers timeout', async () => {
    const pieces = [
      'POST /o/token/ HTTP/1.1\r\n',
      'Host: x\r\n',
      ...Array.from({ length: 40 }, (_, n) => `X-Pad-${n}: y\r\n`),
    ];
    const { response, closedAfterMs } = await raw(pieces, 100);
    expect(closedAfterMs).toBeLessThan(3000);
    if (response !== '') expect(response).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection whose body trickles in past the request timeout', async () => {
    const body = 'grant_type=password&username=a&password=b';
    const head =
      `POST /o/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ` +
      `${body.length}\r\n\r\n`;
    const { closedAfterMs, response } = await raw([head, ...body.split('')], 100);
    expect(closedAfterMs).toBeLessThan(3500);
    expect(response === '' || /^HTTP\/1\.1 408/.test(response)).toBe(true);
  });
});

describe('size caps', () => {
  it('answers oversized headers with 431', async () => {
    const response = await fetch(`${server.oauthUrl}/token/`, {
      method: 'POST',
      headers: { 'x-big': 'a'.repeat(6000) },
    });
    expect(response.status).toBe(431);
  });

  it('answers too many parameters with invalid_request', async () => {
    const body = Array.from({ length: 70 }, (_, n) => `p${n}=x`).join('&');
    const { status, json } = await postToken(server, `grant_type=password&${body}`, {
      authorization: basic(SEED.clientId, SEED.clientSecret),
    });
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', error_description: 'Too many parameters.' });
  });

  it('answers an overlong parameter value with invalid_request, before any password is hashed', async () => {
    const { status, json } = await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: 'p'.repeat(5000) },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', error_description: 'A parameter is too long.' });
  });
});

describe('timing of failed logins (RFC 6749 §4.3.2: no user enumeration)', () => {
  it('cannot tell an unknown user, a wrong password and a disabled user apart by their times', async () => {
    const cases = {
      unknown: { username: 'no-such-user', password: 'whatever' },
      wrong: { username: SEED.username, password: 'wrong-password' },
      disabled: { username: 'disabled-user', password: 'disabled-pass' },
    } as const;
    const times: Record<keyof typeof cases, number[]> = { unknown: [], wrong: [], disabled: [] };
    const order = Object.keys(cases) as (keyof typeof cases)[];
    for (let round = 0; round < 25; round++) {
      // Interleaved, in a shuffled order each round, so machine noise falls on every kind alike.
      for (const kind of [...order].sort(() => Math.random() - 0.5)) {
        const start = performance.now();
        const { json } = await postToken(
          server,
          { grant_type: 'password', ...cases[kind] },
          { authorization: basic(SEED.clientId, SEED.clientSecret) },
        );
        times[kind].push(performance.now() - start);
        expect(json).toEqual({ error: 'invalid_grant', error_description: 'Invalid credentials given.' });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const medians = order.map((k) => median(times[k]));
    // Each costs one argon2id verification (tens of ms); skipping it for unknown users would make them
    // about 20-50 times faster. Medians within a factor 1.5 of each other: indistinguishable here.
    expect(Math.max(...medians) / Math.min(...medians)).toBeLessThan(1.5);
    expect(Math.min(...medians)).toBeGreaterThan(5);
  });
});

describe('bounded password hashing', () => {
  it('sheds a flood of password grants with 503 temporarily_unavailable while refreshes keep succeeding', async () => {
    const small = await startTestServer({ OAUTHD_HASH_CONCURRENCY: '1', OAUTHD_HASH_QUEUE_LIMIT: '4' });
    try {
      await seedSpecSample(small);
      const { json } = await passwordGrant(small); // also warms the client-secret cache
      let refresh = json.refresh_token as string;
      const flood = Promise.all(Array.from({ length: 40 }, () => passwordGrant(small)));
      const refreshStatuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await refreshGrant(small, refresh);
        refreshStatuses.push(r.status);
        refresh = r.json.refresh_token as string;
      }
      const results = await flood;
      const statuses = results.map((r) => r.status);
      expect(refreshStatuses).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      const shed = results.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
      expect(shed[0]!.json.error).toBe('temporarily_unavailable');
      expect(shed[0]!.headers.get('retry-after')).toBe('1');
    } finally {
      await small.stop();
    }
  });
});

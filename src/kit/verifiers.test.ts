import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntrospectionVerifier } from './verifiers.js';

// The introspection verifier reads RFC 7662 §2.2 answers; only an access token is a bearer credential
// (RFC 6750 §1.2). Each case is an answer an introspection endpoint could give, served over real HTTP.
const EXP = Math.floor(Date.now() / 1000) + 3600;
const base = { active: true, scope: 'read', client_id: 'c', username: 'alice', iat: EXP - 3600, sub: '7' };
let answer: Record<string, unknown> = {};
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/o/introspect/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const verify = (body: Record<string, unknown>) => {
  answer = body;
  return createIntrospectionVerifier({
    introspectionUrl: url,
    clientId: 'rs',
    clientSecret: 's',
    maxStalenessMs: 0,
  }).validate('t');
};

describe('createIntrospectionVerifier accepts access tokens only', () => {
  it('admits an answer that says token_use access_token and token_type Bearer', async () => {
    await expect(verify({ ...base, token_type: 'Bearer', token_use: 'access_token', exp: EXP })).resolves.toMatchObject(
      { username: 'alice', expiresAt: EXP },
    );
  });

  it(
    'admits an access token of an oauthd without token_use (token_type compared case-insensitively, RFC 6749 ' +
      '§5.1)',
    async () => {
      await expect(verify({ ...base, token_type: 'bearer', exp: EXP })).resolves.toMatchObject({ username: 'alice' });
    },
  );

  it.each([
    ['a refresh token with an expiry', { token_use: 'refresh_token', exp: EXP }],
    ['a refresh token of an oauthd without token_use (no token_type, an exp)', { exp: EXP }],
    [
      'an answer whose token_use says refresh_token even with token_type Bearer',
      { token_type: 'Bearer', token_use: 'refresh_token', exp: EXP },
    ],
    ['an access_token answer without token_type', { token_use: 'access_token', exp: EXP }],
    ['a token of another type', { token_type: 'DPoP', token_use: 'access_token', exp: EXP }],
  ])('refuses %s with invalid_token', async (_name, fields) => {
    await expect(verify({ ...base, ...fields })).rejects.toMatchObject({ code: 'invalid_token' });
  });
});

describe('createIntrospectionVerifier during an outage of the introspection endpoint', () => {
  it(
    'logs one warning with the reason when it starts and one line ' + 'when it ends, however many requests meet it',
    async () => {
      const logged: string[] = [];
      const logger = { warn: (m: string) => logged.push(`warn ${m}`), info: (m: string) => logged.push(`info ${m}`) };
      let status = 200;
      const flaky = createServer((_request, response) => {
        response.statusCode = status;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ ...base, token_type: 'Bearer', token_use: 'access_token', exp: EXP }));
      });
      await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
      const flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/o/introspect/`;
      const verifier = createIntrospectionVerifier({
        introspectionUrl: flakyUrl,
        clientId: 'rs',
        clientSecret: 's',
        maxStalenessMs: 0,
        logger,
      });
      try {
        await expect(verifier.validate('t')).resolves.toMatchObject({ username: 'alice' });
        status = 500;
        for (let i = 0; i < 3; i++)
          await expect(verifier.validate('t')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
        expect(logged).toEqual([
          `warn oauthd kit: introspection at ${flakyUrl} failed (introspection answered 500); answering 503 ` +
            `until it answers again`,
        ]);
        status = 200;
        await expect(verifier.validate('t')).resolves.toMatchObject({ username: 'alice' });
        await expect(verifier.validate('t')).resolves.toMatchObject({ username: 'alice' });
        expect(logged).toHaveLength(2);
        expect(logged[1]).toBe(`info oauthd kit: introspection at ${flakyUrl} answers again`);
      } finally {
        await new Promise((resolve) => flaky.close(resolve));
      }
    },
  );

  it('names an unreachable endpoint in the warning, never the token', async () => {
    const logged: string[] = [];
    const logger = { warn: (m: string) => logged.push(m), info: (m: string) => logged.push(m) };
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const verifier = createIntrospectionVerifier({
      introspectionUrl: `http://127.0.0.1:${port}/o/introspect/`,
      clientId: 'rs',
      clientSecret: 's',
      maxStalenessMs: 0,
      logger,
    });
    await expect(verifier.validate('secret-token-value')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    await expect(verifier.validate('secret-token-value')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/introspection unreachable: TypeError ECONNREFUSED/);
    expect(logged[0]).not.toContain('secret-token-value');
  });
});

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
  return createIntrospectionVerifier({ introspectionUrl: url, clientId: 'rs', clientSecret: 's', maxStalenessMs: 0 }).validate('t');
};

describe('createIntrospectionVerifier accepts access tokens only', () => {
  it('admits an answer that says token_use access_token and token_type Bearer', async () => {
    await expect(verify({ ...base, token_type: 'Bearer', token_use: 'access_token', exp: EXP })).resolves.toMatchObject({ username: 'alice', expiresAt: EXP });
  });

  it('admits an access token of an oauthd without token_use (token_type compared case-insensitively, RFC 6749 §5.1)', async () => {
    await expect(verify({ ...base, token_type: 'bearer', exp: EXP })).resolves.toMatchObject({ username: 'alice' });
  });

  it.each([
    ['a refresh token with an expiry', { token_use: 'refresh_token', exp: EXP }],
    ['a refresh token of an oauthd without token_use (no token_type, an exp)', { exp: EXP }],
    ['an answer whose token_use says refresh_token even with token_type Bearer', { token_type: 'Bearer', token_use: 'refresh_token', exp: EXP }],
    ['an access_token answer without token_type', { token_use: 'access_token', exp: EXP }],
    ['a token of another type', { token_type: 'DPoP', token_use: 'access_token', exp: EXP }],
  ])('refuses %s with invalid_token', async (_name, fields) => {
    await expect(verify({ ...base, ...fields })).rejects.toMatchObject({ code: 'invalid_token' });
  });
});

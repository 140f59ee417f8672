/**
 * The authorization code grant at the token endpoint over real HTTP against a real store (SQLite, or
 * PostgreSQL with OAUTHD_TEST_STORE=postgres): the token response (RFC 6749 §4.1.4, §5.1), public clients,
 * every invalid_grant cause (§4.1.3, §5.2), PKCE under each client policy (RFC 7636 §4.6), loopback redirect
 * URIs (RFC 8252 §7.3) and unauthorized_client. Reuse, concurrency and storage at rest are in
 * authorization-code-reuse.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedInUser } from '../../src/core/authorize/api.js';
import { pkcePair } from '../helpers/authorize.js';
import {
  codeThroughPages,
  createFlowClient,
  createSignedInUser,
  exchange,
  expectInvalidGrant,
  type FlowClient,
  INVALID_CODE,
  issueCode,
  issueS256Code,
  PKCE_MISMATCH,
  REDIRECT_MISMATCH,
} from '../helpers/code-grant.js';
import { refreshAt, userinfoAt } from '../helpers/oauth-http.js';
import { startTestServer, type TestServer, testClock } from '../helpers/server.js';

let server: TestServer;
const clock = testClock();
let user: SignedInUser;

/** Confidential, with the refresh grant and its own access-token lifetime. */
const WEB: FlowClient = { clientId: 'cg-web', clientSecret: 'cg-web-secret', redirectUris: ['https://web.example/cb'] };
/** Confidential, the code grant alone. */
const NO_REFRESH: FlowClient = {
  clientId: 'cg-no-refresh',
  clientSecret: 'cg-no-refresh-secret',
  redirectUris: ['https://no-refresh.example/cb'],
};
/** Registered with the same redirect URI as WEB, so only the client binding tells their codes apart. */
const OTHER: FlowClient = { clientId: 'cg-other', clientSecret: 'cg-other-secret', redirectUris: WEB.redirectUris };
const TWO_URIS: FlowClient = {
  clientId: 'cg-two-uris',
  clientSecret: 'cg-two-uris-secret',
  redirectUris: ['https://two.example/first', 'https://two.example/second'],
};
const SPA: FlowClient = { clientId: 'cg-spa', clientSecret: null, redirectUris: ['https://spa.example/cb'] };
const PLAIN: FlowClient = { clientId: 'cg-plain', clientSecret: 'cg-plain-secret', redirectUris: ['https://p.ex/cb'] };
const OPTIONAL: FlowClient = { clientId: 'cg-opt', clientSecret: 'cg-opt-secret', redirectUris: ['https://o.ex/cb'] };
const NATIVE: FlowClient = {
  clientId: 'cg-native',
  clientSecret: 'cg-native-secret',
  redirectUris: ['http://127.0.0.1:5000/cb'],
};
const SEVERED: FlowClient = {
  clientId: 'cg-severed',
  clientSecret: 'cg-sev-secret',
  redirectUris: ['https://s.ex/cb'],
};

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' }, { clock });
  await createFlowClient(server, WEB, { accessTokenTtl: '900' });
  await createFlowClient(server, NO_REFRESH, { grantTypes: ['authorization_code'] });
  await createFlowClient(server, OTHER);
  await createFlowClient(server, TWO_URIS);
  await createFlowClient(server, SPA);
  await createFlowClient(server, PLAIN, { pkce: 'S256,plain' });
  await createFlowClient(server, OPTIONAL, { pkce: 'optional' });
  await createFlowClient(server, NATIVE);
  await createFlowClient(server, SEVERED);
  user = await createSignedInUser(server, 'cg-user');
});

afterAll(async () => {
  await server?.stop();
});

const redeem = (client: FlowClient, code: string, verifier: string, redirectUri = client.redirectUris[0]!) =>
  exchange(server, client, { code, code_verifier: verifier, redirect_uri: redirectUri });

describe('a code obtained through the pages, exchanged (RFC 6749 §4.1.3, §4.1.4, §5.1)', () => {
  let answer: Awaited<ReturnType<typeof exchange>>;

  beforeAll(async () => {
    await createSignedInUser(server, 'grace');
    const { code, verifier } = await codeThroughPages(
      server,
      WEB,
      { username: 'grace', password: 'grace-password-1' },
      'read write',
    );
    answer = await redeem(WEB, code, verifier);
  });

  it('answers the tokens, the scope consented to and the client’s expires_in, uncached', () => {
    expect(answer.status, answer.text).toBe(200);
    // RFC 6749 §5.1: no-store; the scope is the one requested, not the server's default (`read`).
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.json).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
      scope: 'read write',
    });
    expect(answer.json.access_token).not.toBe(answer.json.refresh_token);
  });

  it('gives an access token that userinfo knows as the user who signed in', async () => {
    const info = await userinfoAt(server.url, answer.json.access_token as string);
    expect(info.status, info.text).toBe(200);
    expect(info.json).toMatchObject({ username: 'grace', client_id: WEB.clientId, scope: 'read write' });
  });

  it('gives a refresh token that works at the refresh grant (RFC 6749 §6)', async () => {
    const refreshed = await refreshAt(server.url, answer.json.refresh_token as string, {
      clientId: WEB.clientId,
      clientSecret: WEB.clientSecret!,
    });
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.json).toMatchObject({ token_type: 'Bearer', scope: 'read write', expires_in: 900 });
    expect(refreshed.json!.access_token).not.toBe(answer.json.access_token);
  });
});

describe('the token response', () => {
  it('has no refresh token when the client lacks the refresh_token grant (RFC 6749 §4.1.4)', async () => {
    const { code, verifier } = await issueS256Code(server, NO_REFRESH, user);
    const answer = await redeem(NO_REFRESH, code, verifier);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json.access_token).toEqual(expect.any(String));
    expect(Object.keys(answer.json).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
  });

  it('is given to a public client that sends client_id in the body, no secret, and its verifier', async () => {
    const { code, verifier } = await issueS256Code(server, SPA, user);
    const answer = await redeem(SPA, code, verifier);
    expect(answer.status, answer.text).toBe(200);
    const info = await userinfoAt(server.url, answer.json.access_token as string);
    expect(info.json).toMatchObject({ username: user.username, client_id: SPA.clientId });
  });
});

describe('invalid_grant (RFC 6749 §5.2), one description per cause class, the code never echoed', () => {
  it('refuses an unknown code', async () => {
    const code = randomBytes(33).toString('base64url');
    expectInvalidGrant(await redeem(WEB, code, pkcePair().verifier), INVALID_CODE, code);
  });

  it('refuses the code of another client, which its own client can still exchange', async () => {
    const { code, verifier } = await issueS256Code(server, WEB, user);
    expectInvalidGrant(await redeem(OTHER, code, verifier), INVALID_CODE, code);
    expect((await redeem(WEB, code, verifier)).status).toBe(200);
  });

  it('refuses a wrong code_verifier (RFC 7636 §4.6)', async () => {
    const { code } = await issueS256Code(server, WEB, user);
    expectInvalidGrant(await redeem(WEB, code, pkcePair().verifier), PKCE_MISMATCH, code);
  });

  it('refuses a missing code_verifier for a code with a challenge (RFC 7636 §4.5)', async () => {
    const { code } = await issueS256Code(server, WEB, user);
    const answer = await exchange(server, WEB, { code, redirect_uri: WEB.redirectUris[0]! });
    expectInvalidGrant(answer, PKCE_MISMATCH, code);
  });

  it('refuses a redirect_uri other than the one the code was sent to, though registered', async () => {
    const { code, verifier } = await issueS256Code(server, TWO_URIS, user);
    expectInvalidGrant(await redeem(TWO_URIS, code, verifier, TWO_URIS.redirectUris[1]!), REDIRECT_MISMATCH, code);
    expect((await redeem(TWO_URIS, code, verifier, TWO_URIS.redirectUris[0]!)).status).toBe(200);
  });

  it('refuses a missing redirect_uri when the client has two registered URIs', async () => {
    const { code, verifier } = await issueS256Code(server, TWO_URIS, user);
    const answer = await exchange(server, TWO_URIS, { code, code_verifier: verifier });
    expectInvalidGrant(answer, REDIRECT_MISMATCH, code);
  });

  it('takes no redirect_uri from a client with one URI that sent none in its request (RFC 6749 §4.1.3)', async () => {
    const pkce = pkcePair();
    const query = { code_challenge: pkce.challenge, code_challenge_method: 'S256' };
    const { code, redirectedTo } = await issueCode(server, WEB, user, query);
    expect(redirectedTo.startsWith(`${WEB.redirectUris[0]}?`)).toBe(true);
    const answer = await exchange(server, WEB, { code, code_verifier: pkce.verifier });
    expect(answer.status, answer.text).toBe(200);
  });

  it('refuses a code older than OAUTHD_AUTHORIZATION_CODE_TTL (60 s by default)', async () => {
    const young = await issueS256Code(server, WEB, user);
    const old = await issueS256Code(server, WEB, user);
    clock.advance(59);
    expect((await redeem(WEB, young.code, young.verifier)).status).toBe(200);
    clock.advance(2);
    expectInvalidGrant(await redeem(WEB, old.code, old.verifier), INVALID_CODE, old.code);
  });

  it('refuses the code of a user disabled between the code and the exchange', async () => {
    const disabled = await createSignedInUser(server, 'cg-soon-disabled');
    const { code, verifier } = await issueS256Code(server, WEB, disabled);
    await server.services.admin.setUserActive(disabled.username, false);
    expectInvalidGrant(await redeem(WEB, code, verifier), INVALID_CODE, code);
  });

  it('refuses a code issued before the user was disabled, even once enabled again', async () => {
    const revived = await createSignedInUser(server, 'cg-revived');
    const { code, verifier } = await issueS256Code(server, WEB, revived);
    await server.services.admin.setUserActive(revived.username, false);
    await server.services.admin.setUserActive(revived.username, true);
    expectInvalidGrant(await redeem(WEB, code, verifier), INVALID_CODE, code);
  });

  it('refuses a code issued before a password reset that revoked the user’s tokens', async () => {
    const reset = await createSignedInUser(server, 'cg-reset');
    const { code, verifier } = await issueS256Code(server, WEB, reset);
    await server.services.admin.setPassword(reset.username, 'cg-reset-new-password', { revokeTokens: true });
    expectInvalidGrant(await redeem(WEB, code, verifier), INVALID_CODE, code);
  });
});

describe('PKCE under the client’s policy (RFC 7636 §4.2, §4.6)', () => {
  it("exchanges a plain-challenge code with the same verifier under 'S256 plain'", async () => {
    const verifier = pkcePair().verifier;
    const { code } = await issueCode(server, PLAIN, user, {
      code_challenge: verifier,
      code_challenge_method: 'plain',
    });
    const answer = await redeem(PLAIN, code, verifier);
    expect(answer.status, answer.text).toBe(200);
  });

  it("exchanges a code without a challenge under 'optional' without a verifier, never with one", async () => {
    const { code } = await issueCode(server, OPTIONAL, user, {});
    // RFC 7636 §4.6: a verifier for a code that has no challenge proves nothing and is refused.
    const withVerifier = await redeem(OPTIONAL, code, pkcePair().verifier);
    expectInvalidGrant(withVerifier, PKCE_MISMATCH, code);
    const without = await exchange(server, OPTIONAL, { code, redirect_uri: OPTIONAL.redirectUris[0]! });
    expect(without.status, without.text).toBe(200);
  });
});

describe('a loopback redirect URI (RFC 8252 §7.3)', () => {
  it('gives a code for another port of the registered URI, exchanged only with that exact URI', async () => {
    const pkce = pkcePair();
    const sentTo = 'http://127.0.0.1:61234/cb';
    const { code, redirectedTo } = await issueCode(server, NATIVE, user, {
      redirect_uri: sentTo,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect(redirectedTo.startsWith(`${sentTo}?`)).toBe(true);
    // Neither the registered port nor nothing at all: the code could have gone to any port.
    expectInvalidGrant(await redeem(NATIVE, code, pkce.verifier, NATIVE.redirectUris[0]), REDIRECT_MISMATCH, code);
    expectInvalidGrant(await exchange(server, NATIVE, { code, code_verifier: pkce.verifier }), REDIRECT_MISMATCH, code);
    expect((await redeem(NATIVE, code, pkce.verifier, sentTo)).status).toBe(200);
  });
});

describe('a client no longer allowed the grant', () => {
  it('is answered unauthorized_client at the token endpoint (RFC 6749 §5.2)', async () => {
    const { code, verifier } = await issueS256Code(server, SEVERED, user);
    await server.services.admin.updateClient(SEVERED.clientId, { grantTypes: ['client_credentials'] });
    const refused = await redeem(SEVERED, code, verifier);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.json).toEqual({ error: 'unauthorized_client', error_description: expect.any(String) });
    expect(refused.text).not.toContain(code);
    // The grant type alone was the reason: given back, the same code is exchanged.
    await server.services.admin.updateClient(SEVERED.clientId, { grantTypes: ['authorization_code'] });
    expect((await redeem(SEVERED, code, verifier)).status).toBe(200);
  });
});

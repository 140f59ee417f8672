/**
 * A code is single use (RFC 6749 §4.1.2), over real HTTP against a real store (SQLite, or PostgreSQL with
 * OAUTHD_TEST_STORE=postgres): presented again, it is refused and what its first exchange gave is revoked
 * (RFC 9700 §4.2.4), with the audit trail telling so; parallel exchanges of one code give tokens once; and a
 * code rests in the database only as its hash (RFC 6819 §5.1.4.1.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/ports.js';
import { tokenKey } from '../../src/core/tokens.js';
import {
  codeThroughPages,
  createFlowClient,
  createSignedInUser,
  exchange,
  expectInvalidGrant,
  type FlowClient,
  INVALID_CODE,
  issueS256Code,
  postAs,
  type TokenAnswer,
} from '../helpers/code-grant.js';
import { userinfoAt } from '../helpers/oauth-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const REUSED: FlowClient = {
  clientId: 'cr-reused',
  clientSecret: 'cr-reused-secret',
  redirectUris: ['https://r.ex/cb'],
};
/** Public: no secret to verify, so the parallel requests reach the store together. */
const RACED: FlowClient = { clientId: 'cr-raced', clientSecret: null, redirectUris: ['https://c.ex/cb'] };
const RACED_SECRET: FlowClient = {
  clientId: 'cr-raced-secret',
  clientSecret: 'cr-raced-secret-secret',
  redirectUris: ['https://cs.ex/cb'],
};
/** Registered with REUSED's redirect URI, so only the client binding tells their codes apart. */
const STRANGER: FlowClient = {
  clientId: 'cr-stranger',
  clientSecret: 'cr-stranger-secret',
  redirectUris: REUSED.redirectUris,
};
const AT_REST: FlowClient = { clientId: 'cr-rest', clientSecret: 'cr-rest-secret', redirectUris: ['https://h.ex/cb'] };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' });
  for (const client of [REUSED, STRANGER, RACED, RACED_SECRET, AT_REST]) await createFlowClient(server, client);
  await createSignedInUser(server, 'heidi');
});

afterAll(async () => {
  await server?.stop();
});

const redeem = (client: FlowClient, code: string, verifier: string) =>
  exchange(server, client, { code, code_verifier: verifier, redirect_uri: client.redirectUris[0]! });

/** Asserts that neither token of a token response works any more, at each place a token is used. */
async function expectRevoked(client: FlowClient, tokens: TokenAnswer): Promise<void> {
  const access = tokens.json.access_token as string;
  const refresh = tokens.json.refresh_token as string;
  expect((await userinfoAt(server.url, access)).status).toBe(401);
  const refreshed = await postAs(server, client, 'token/', { grant_type: 'refresh_token', refresh_token: refresh });
  expect(refreshed.status, refreshed.text).toBe(400);
  expect(refreshed.json.error).toBe('invalid_grant');
  for (const token of [access, refresh]) {
    expect((await postAs(server, client, 'introspect/', { token })).json).toEqual({ active: false });
  }
}

describe('a code presented twice (RFC 6749 §4.1.2)', () => {
  let code: string;
  let first: TokenAnswer;
  let second: TokenAnswer;

  beforeAll(async () => {
    const issued = await codeThroughPages(server, REUSED, { username: 'heidi', password: 'heidi-password-1' });
    code = issued.code;
    first = await redeem(REUSED, code, issued.verifier);
    expect(first.status, first.text).toBe(200);
    // Live before the reuse, so the checks below see the reuse revoke them and not some other cause.
    expect((await userinfoAt(server.url, first.json.access_token as string)).status).toBe(200);
    const live = await postAs(server, REUSED, 'introspect/', { token: first.json.refresh_token as string });
    expect(live.json).toMatchObject({ active: true, username: 'heidi' });
    second = await redeem(REUSED, code, issued.verifier);
  });

  it('is refused the second time with invalid_grant', () => {
    expectInvalidGrant(second, INVALID_CODE, code);
  });

  it('revokes the access token and the refresh token of the first exchange', async () => {
    await expectRevoked(REUSED, first);
  });

  it('leaves issued, redeemed and reused in the audit trail, of one grant, with no code in any detail', async () => {
    await server.services.audit.flush();
    const events = await server.services.store.queryAuditEvents({
      clientId: REUSED.clientId,
      username: 'heidi',
      limit: 100,
    });
    const only = (name: string): AuditEvent => {
      const named = events.filter((e) => e.event === name);
      expect(named, name).toHaveLength(1);
      return named[0]!;
    };
    const issued = only('authorization_code.issued');
    const redeemed = only('authorization_code.redeemed');
    const reused = only('authorization_code.reused');
    for (const event of [issued, redeemed, reused]) expect(event).toMatchObject({ username: 'heidi', ip: '127.0.0.1' });
    // The reuse names the grant the first exchange created: the one it revoked.
    expect(redeemed.grantId).toEqual(expect.any(String));
    expect(reused.grantId).toBe(redeemed.grantId);
    const everything = JSON.stringify(events);
    for (const secret of [code, first.json.access_token as string, first.json.refresh_token as string]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('a code presented again after its refresh token was rotated', () => {
  it('revokes the tokens of the rotation too: the whole grant of the first exchange', async () => {
    const user = await createSignedInUser(server, 'cr-rotator');
    const { code, verifier } = await issueS256Code(server, REUSED, user);
    const first = await redeem(REUSED, code, verifier);
    const rotated = await postAs(server, REUSED, 'token/', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
    });
    expect(rotated.status, rotated.text).toBe(200);
    expectInvalidGrant(await redeem(REUSED, code, verifier), INVALID_CODE, code);
    await expectRevoked(REUSED, rotated);
  });
});

describe('a used code presented by another client', () => {
  it('is refused and revokes nothing: only the client the code was issued to can present it at all', async () => {
    const user = await createSignedInUser(server, 'cr-owner-user');
    const { code, verifier } = await issueS256Code(server, REUSED, user);
    const first = await redeem(REUSED, code, verifier);
    expect(first.status, first.text).toBe(200);
    // RFC 6749 §4.1.3: the code was not issued to this client, so it is no use of the code, and no reuse.
    expectInvalidGrant(await redeem(STRANGER, code, verifier), INVALID_CODE, code);
    expect((await userinfoAt(server.url, first.json.access_token as string)).status).toBe(200);
    const refreshed = await postAs(server, REUSED, 'token/', {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
    });
    expect(refreshed.status, refreshed.text).toBe(200);
  });
});

describe('parallel exchanges of one code', () => {
  /** 8 exchanges at once: one 200, seven invalid_grant, and the winner's tokens revoked by the reuse. */
  async function race(client: FlowClient): Promise<void> {
    const user = await createSignedInUser(server, `racer-of-${client.clientId}`);
    const { code, verifier } = await issueS256Code(server, client, user);
    const answers = await Promise.all(Array.from({ length: 8 }, () => redeem(client, code, verifier)));
    const winners = answers.filter((a) => a.status === 200);
    expect(winners, JSON.stringify(answers.map((a) => a.status))).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 200);
    expect(losers).toHaveLength(7);
    for (const loser of losers) expectInvalidGrant(loser, INVALID_CODE, code);
    await expectRevoked(client, winners[0]!);
  }

  it('give tokens exactly once to a public client, and the reuse revokes them', async () => {
    await race(RACED);
  });

  it('give tokens exactly once to a confidential client, and the reuse revokes them', async () => {
    // One authenticated request first, so the secret is known and no slow hash spreads the eight apart.
    expect((await redeem(RACED_SECRET, 'no-such-code', 'x')).status).toBe(400);
    await race(RACED_SECRET);
  });
});

describe('a code at rest', () => {
  it('is stored only as its hash: no table holds its text, before or after the exchange', async () => {
    const issued = await codeThroughPages(server, AT_REST, { username: 'heidi', password: 'heidi-password-1' });
    // Stored, under its key (core/tokens.ts tokenKey), so the search below looks where the code would be.
    expect(await server.services.store.findAuthorizationCode(tokenKey(issued.code))).toMatchObject({
      clientId: AT_REST.clientId,
      usedAt: null,
    });
    expect((await server.databaseBytes()).toString('latin1')).not.toContain(issued.code);

    expect((await redeem(AT_REST, issued.code, issued.verifier)).status).toBe(200);
    await server.services.audit.flush();
    expect((await server.databaseBytes()).toString('latin1')).not.toContain(issued.code);
    expect(server.logs()).not.toContain(issued.code);
  });
});

// How tokens are keyed at rest (core/tokens.ts tokenKey): oauthd's 44-character tokens by their mint time then
// their SHA-256 digest, so a store's token tables grow at one end; every other token (oauthd's 43-character
// tokens from before the time prefix, django-oauth-toolkit's) by its SHA-256 digest, as it always was, so a
// store upgraded in place keeps honouring the sessions it holds. Over real HTTP, on the store under test.
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspectAt, refreshAt, tokenDigest, userinfoAt } from '../helpers/oauth-http.js';
import { withClient } from '../helpers/postgres.js';
import {
  SEED,
  TEST_STORE,
  passwordGrant,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const sha256 = (token: string) => createHash('sha256').update(token).digest();

/** The refresh-token keys of the store, in the store's key order. */
async function refreshKeysInKeyOrder(server: TestServer): Promise<Buffer[]> {
  if (TEST_STORE === 'sqlite') {
    const db = new Database(server.databasePath, { readonly: true });
    try {
      return (
        db.prepare('SELECT token_hash FROM refresh_tokens ORDER BY token_hash').all() as { token_hash: Buffer }[]
      ).map((r) => r.token_hash);
    } finally {
      db.close();
    }
  }
  return withClient(server.config.store.databaseUrl, async (c) =>
    (await c.query<{ token_hash: Buffer }>('SELECT token_hash FROM refresh_tokens ORDER BY token_hash')).rows.map(
      (r) => r.token_hash,
    ),
  );
}

describe(`token keys at rest (${TEST_STORE})`, () => {
  let server: TestServer;
  const base = () => `${server.url}${server.config.http.basePath}`;
  beforeAll(async () => {
    server = await startTestServer();
    await seedSpecSample(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(
    'keys the tokens it mints by mint time: the key order of the ' + 'refresh tokens is the order they were issued in',
    async () => {
      const issued: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await passwordGrant(server);
        expect(r.status).toBe(200);
        issued.push(r.json.refresh_token as string);
        await new Promise((resolve) => setTimeout(resolve, 2)); // a new millisecond for the next one
      }
      const keys = issued.map(tokenDigest);
      for (const key of keys) expect(key.length).toBe(38);
      const inStore = (await refreshKeysInKeyOrder(server)).filter((k) => keys.some((mine) => mine.equals(k)));
      expect(inStore).toEqual(keys);
      // The prefix is the mint time: within this test's run.
      const minted = keys.map((k) => k.readUIntBE(0, 6));
      expect(Math.min(...minted)).toBeGreaterThan(Date.now() - 60_000);
      expect(Math.max(...minted)).toBeLessThanOrEqual(Date.now());
    },
  );

  it(
    'honours a session stored before the time prefix (43-character tokens keyed by SHA-256): validate, ' +
      'introspect, refresh',
    async () => {
      const access = randomBytes(32).toString('base64url');
      const refresh = randomBytes(32).toString('base64url');
      expect([access.length, refresh.length]).toEqual([43, 43]);
      const user = await server.services.store.findUserByUsername(SEED.username);
      const now = Math.floor(Date.now() / 1000);
      // What the release before this change wrote for a password grant.
      await server.services.store.issueTokens({
        grant: {
          id: '0b7f1c2e-5d1a-4c3b-9f3e-2a1b0c9d8e7f',
          clientId: SEED.clientId,
          userId: user!.id,
          scope: ['read', 'write'],
          createdAt: now,
        },
        access: { hash: sha256(access), scope: ['read', 'write'], issuedAt: now, expiresAt: now + 3600 },
        refresh: { hash: sha256(refresh), scope: ['read', 'write'], issuedAt: now, expiresAt: null },
      });

      const me = await userinfoAt(base(), access);
      expect(me.status).toBe(200);
      expect(me.json?.username).toBe(SEED.username);
      const seen = await introspectAt(base(), access);
      expect(seen.status).toBe(200);
      expect(seen.json?.active).toBe(true);

      const next = await refreshAt(base(), refresh);
      expect(next.status).toBe(200);
      const pair = next.json as { access_token: string; refresh_token: string };
      expect(pair.access_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(pair.refresh_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect((await userinfoAt(base(), pair.access_token)).status).toBe(200);
      // The rotation revoked the old access token (found by its SHA-256 key), and the new pair lives on.
      expect((await userinfoAt(base(), access)).status).toBe(401);
      const again = await refreshAt(base(), pair.refresh_token);
      expect(again.status).toBe(200);
    },
  );
});

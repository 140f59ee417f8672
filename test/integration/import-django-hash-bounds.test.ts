/**
 * Imported password and client-secret hashes whose verification would cost more than oauthd allows
 * (core/hash-bounds.ts): `oauthd import django`, run as the built CLI into a running test server's database
 * (SQLite, or PostgreSQL with OAUTHD_TEST_STORE=postgres), from a django-oauth-toolkit 2.x-shaped SQLite
 * database built here with DOT's tables and Django's hash formats. Checked over real HTTP:
 * RFC 6749 §4.3.2 / §5.2 (such a user's login is invalid_grant, costing what a wrong password costs),
 * §2.3.1 / §5.2 (such a client's authentication is invalid_client), and the import's promises: exit 0, the
 * rows counted with their reason, a second run finds them present, the operator's fix (a new password, a
 * rotated secret) works. Also a hash past the bounds written straight into the store is never computed.
 *
 * `npm test` builds dist/ first; when running this file alone, run `npm run build` before.
 */
import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envWithoutOauthd, runOauthd, type RunResult } from '../helpers/process.js';
import { basic, postToken, startTestServer, userinfo, type TestServer } from '../helpers/server.js';

const SERVER_ENV = { OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read write' };
const INVALID_CREDENTIALS = { error: 'invalid_grant', error_description: 'Invalid credentials given.' };

/** Django's make_password for PBKDF2-SHA256, with the output length (Django's is 32) as a parameter. */
const pbkdf2 = (password: string, iterations: number, bytes = 32, salt = 'Dj4ngoSaltOfTwentyTwo1') =>
  `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, bytes, 'sha256').toString('base64')}`;
const phc64 = (bytes: number, fill: number) => Buffer.alloc(bytes, fill).toString('base64').replace(/=+$/, '');

const PASSWORD = 'the password DOT knew';
/** Users of the DOT database: one within bounds, the rest past them (the reason the import gives). */
const USERS = {
  // Within bounds (iterations kept low so the test stays cheap).
  within: { hash: pbkdf2(PASSWORD, 10_000) },
  // The review's examples: 9,999,999 iterations and a 4096-byte output; argon2 with 1 GiB and t = 64; p = 131072.
  pbkdf2Huge: {
    hash: `pbkdf2_sha256$9999999$Dj4ngoSaltOfTwentyTwo1$${Buffer.alloc(4096, 3).toString('base64')}`,
    reason: 'pbkdf2_sha256 with more than 3000000 iterations',
  },
  argon2Huge: {
    hash: `argon2$argon2id$v=19$m=1048576,t=64,p=8$${phc64(16, 1)}$${phc64(32, 2)}`,
    reason: 'argon2 with more than 131072 KiB of memory',
  },
  argon2Lanes: {
    hash: `argon2$argon2id$v=19$m=131072,t=1,p=131072$${phc64(16, 1)}$${phc64(32, 2)}`,
    reason: 'argon2 with a parallelism above 16',
  },
  argon2P17: {
    hash: `argon2$argon2id$v=19$m=102400,t=2,p=17$${phc64(16, 1)}$${phc64(32, 2)}`,
    reason: 'argon2 with a parallelism above 16',
  },
  bcrypt15: {
    hash: 'bcrypt_sha256$$2b$15$UtLaRJ3.3OTzh.WtVNf9tOsH2cTihivKNnrMMxuMszTiK83cUcMLK',
    reason: 'bcrypt_sha256 with a cost above 14',
  },
  iterations: {
    hash: 'pbkdf2_sha256$3000001$Dj4ngoSaltOfTwentyTwo1$9sQY366YsBKa7VKWO0sCDetEMDl454jao6eCUYSlHag=',
    reason: 'pbkdf2_sha256 with more than 3000000 iterations',
  },
  // A real hash of PASSWORD, one byte of output past the bound: it would match if it were computed.
  output65: { hash: pbkdf2(PASSWORD, 1000, 65), reason: 'pbkdf2_sha256 with an output longer than 64 bytes' },
} as const;
const PAST_BOUNDS = Object.entries(USERS).filter(([, u]) => 'reason' in u) as [
  string,
  { hash: string; reason: string },
][];

const CLIENTS = {
  // DOT 2.x hashes the secret with make_password; this one is within bounds.
  hashed: {
    clientId: 'dot-hashed-app',
    secret: 'hashedAppSecret0123456789abcdefghijklmnopqrstuvwxyz',
    iterations: 10_000,
    bytes: 32,
  },
  // A real hash of its secret with 65 bytes of output: past the bounds, so imported unusable.
  costly: {
    clientId: 'dot-costly-app',
    secret: 'costlyAppSecret0123456789abcdefghijklmnopqrstuvwxyz',
    iterations: 1000,
    bytes: 65,
  },
} as const;
const TOKENS = { access: 'CostlyAppAccessToken00000000000001', refresh: 'CostlyAppRefreshToken0000000000001' };

/** A DOT 2.x database as Django's migrations lay it out on SQLite (the columns the importer reads, and a few more). */
function buildDotDatabase(path: string): void {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL,
      "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE,
      "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool
        NOT NULL,
      "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
    CREATE TABLE "oauth2_provider_application" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
      "client_id" varchar(100) NOT NULL UNIQUE, "redirect_uris" text NOT NULL, "client_type" varchar(32) NOT NULL,
      "authorization_grant_type" varchar(32) NOT NULL, "client_secret" varchar(255) NOT NULL, "name" varchar(255)
        NOT NULL,
      "user_id" integer NULL REFERENCES "auth_user" ("id"), "skip_authorization" bool NOT NULL, "created" datetime
        NOT NULL,
      "updated" datetime NOT NULL, "algorithm" varchar(5) NOT NULL, "post_logout_redirect_uris" text NOT NULL,
      "hash_client_secret" bool NOT NULL);
    CREATE TABLE "oauth2_provider_accesstoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "token"
      varchar(255) NOT NULL UNIQUE,
      "expires" datetime NOT NULL, "scope" text NOT NULL, "application_id" bigint NULL REFERENCES
        "oauth2_provider_application" ("id"),
      "user_id" integer NULL REFERENCES "auth_user" ("id"), "created" datetime NOT NULL, "updated" datetime NOT NULL,
      "source_refresh_token_id" bigint NULL UNIQUE, "id_token_id" bigint NULL UNIQUE);
    CREATE TABLE "oauth2_provider_refreshtoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "token"
      varchar(255) NOT NULL,
      "access_token_id" bigint NULL UNIQUE REFERENCES "oauth2_provider_accesstoken" ("id"),
      "application_id" bigint NOT NULL REFERENCES "oauth2_provider_application" ("id"),
      "user_id" integer NOT NULL REFERENCES "auth_user" ("id"), "created" datetime NOT NULL, "updated" datetime NOT
        NULL,
      "revoked" datetime NULL);
  `);
  const when = '2026-11-01 10:00:00.000000';
  const insertUser =
    db.prepare(`INSERT INTO auth_user (password, last_login, is_superuser, username, last_name, email, is_staff,
      is_active, date_joined, first_name)
    VALUES (?, NULL, 0, ?, '', '', 0, 1, ?, '')`);
  for (const [username, u] of Object.entries(USERS)) insertUser.run(u.hash, username, when);
  const insertApp = db.prepare(`INSERT INTO oauth2_provider_application (client_id, redirect_uris, client_type,
      authorization_grant_type, client_secret, name, user_id, skip_authorization, created, updated, algorithm,
      post_logout_redirect_uris, hash_client_secret)
    VALUES (?, '', 'confidential', 'password', ?, ?, NULL, 0, ?, ?, '', '', 1)`);
  for (const c of Object.values(CLIENTS))
    insertApp.run(c.clientId, pbkdf2(c.secret, c.iterations, c.bytes, 'ClientSalt'), c.clientId, when, when);
  // A live pair of the costly client, for user "within".
  const appId = (
    db.prepare('SELECT id FROM oauth2_provider_application WHERE client_id = ?').get(CLIENTS.costly.clientId) as {
      id: number;
    }
  ).id;
  const userId = (db.prepare("SELECT id FROM auth_user WHERE username = 'within'").get() as { id: number }).id;
  const at = db
    .prepare(`INSERT INTO oauth2_provider_accesstoken (token, expires, scope, application_id, user_id, created, updated)
      VALUES (?, '2036-11-01 10:00:00.000000', 'read', ?, ?, ?, ?)`)
    .run(TOKENS.access, appId, userId, when, when);
  db.prepare(`INSERT INTO oauth2_provider_refreshtoken (token, access_token_id, application_id, user_id, created,
      updated, revoked)
    VALUES (?, ?, ?, ?, ?, ?, NULL)`).run(TOKENS.refresh, at.lastInsertRowid, appId, userId, when, when);
  db.close();
}

/** stderr without the import's progress lines (`oauthd: import: users 6/6`), which a pipe gets one per kind. */
const withoutProgress = (stderr: string) => stderr.replace(/^oauthd: import( \(dry run\))?: .*\n/gm, '');

/** `oauthd import django …` as an operator runs it, into the server's database. */
function importDjango(server: TestServer, from: string, extra: string[] = []): Promise<RunResult> {
  const args = [
    'import',
    'django',
    '--from',
    from,
    '--scopes',
    'read write',
    '--database-url',
    server.config.store.databaseUrl,
    ...extra,
  ];
  return runOauthd(args, { env: envWithoutOauthd(SERVER_ENV), timeoutMs: 30_000 });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('oauthd import django with password and client-secret hashes past the cost bounds', () => {
  let server: TestServer;
  let dir: string;
  let from: string;
  let first: RunResult;
  let summary: Record<string, any>;
  let dryRun: Record<string, any>;
  /** A client and a user made by oauthd itself: their failures are the yardstick. */
  let native: { clientId: string; secret: string };

  const login = (username: string, password: string) =>
    postToken(
      server,
      { grant_type: 'password', username, password },
      { authorization: basic(native.clientId, native.secret) },
    );

  beforeAll(async () => {
    server = await startTestServer(SERVER_ENV);
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-hash-bounds-'));
    from = join(dir, 'dot-2.sqlite3');
    buildDotDatabase(from);
    const created = await server.services.admin.createClient({
      name: 'native',
      clientId: 'native-app',
      grantTypes: ['password', 'refresh_token'],
    });
    native = { clientId: created.client.clientId, secret: created.clientSecret! };
    await server.services.admin.createUser('native-user', 'native password');
    dryRun = JSON.parse((await importDjango(server, from, ['--json', '--dry-run'])).stdout) as Record<string, any>;
    first = await importDjango(server, from, ['--json']);
    summary = JSON.parse(first.stdout) as Record<string, any>;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and imports every user and client, counting those made unusable with their reason', () => {
    expect([first.code, withoutProgress(first.stderr)]).toEqual([0, '']);
    const reasons: Record<string, number> = {};
    for (const [, u] of PAST_BOUNDS) {
      const key = `password hash past oauthd's cost bounds: ${u.reason}`;
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    expect(summary.users).toEqual({
      inSource: 8,
      created: 8,
      present: 0,
      updated: 0,
      skipped: 0,
      skippedWhy: {},
      unusable: 7,
      unusableWhy: reasons,
    });
    expect(summary.clients).toEqual({
      inSource: 2,
      created: 2,
      present: 0,
      updated: 0,
      skipped: 0,
      skippedWhy: {},
      unusable: 1,
      unusableWhy: {
        "client secret hash past oauthd's cost bounds: pbkdf2_sha256 with an output longer than 64 bytes": 1,
      },
    });
    expect(summary.refreshTokens).toMatchObject({ created: 1, skipped: 0 });
    const notes = summary.notes.join('\n');
    expect(notes).toMatch(/7 users imported without a usable password .*`oauthd user set-password`/);
    expect(notes).toMatch(/1 client imported with an unusable secret .*`oauthd client rotate-secret`: dot-costly-app/);
  });

  it('counts them the same in a --dry-run, which writes nothing', () => {
    const { dryRun: _d, target: _t, ...wouldDo } = dryRun;
    const { dryRun: _f, target: _u, ...did } = summary;
    expect(wouldDo).toEqual(did);
    expect(dryRun.target.users).toBe(1); // native-user only
  });

  it(
    'stores those users with no password and that client with ' + 'an unusable "!" secret, never the DOT hash',
    async () => {
      for (const [username] of PAST_BOUNDS) {
        expect((await server.services.store.findUserByUsername(username))?.passwordHash, username).toBeNull();
      }
      expect((await server.services.store.findUserByUsername('within'))?.passwordHash).toBe(USERS.within.hash);
      const costly = await server.services.store.findClient(CLIENTS.costly.clientId);
      expect(costly).toMatchObject({ isPublic: false });
      expect(costly!.secretHash).toMatch(/^!/);
      expect(costly!.secretHash).not.toContain('pbkdf2_sha256$');
    },
  );

  it('answers every such user 400 invalid_grant, even with the password DOT knew', async () => {
    expect((await login('within', PASSWORD)).status).toBe(200);
    for (const [username] of PAST_BOUNDS) {
      const answer = await login(username, PASSWORD);
      expect([answer.status, answer.json], username).toEqual([400, INVALID_CREDENTIALS]);
    }
  });

  it('spends about the time of a wrong password on such a user (the dummy hash, not theirs)', async () => {
    const time = async (username: string, password: string) => {
      const started = performance.now();
      const { status } = await login(username, password);
      expect(status).toBe(400);
      return performance.now() - started;
    };
    const wrong: number[] = [];
    const costly: number[] = [];
    for (let i = 0; i < 15; i++) {
      wrong.push(await time('native-user', 'wrong password'));
      costly.push(await time(PAST_BOUNDS[i % PAST_BOUNDS.length]![0], PASSWORD));
    }
    // Both pay one argon2id verification (~20+ ms). Loose bounds: the machine is shared. Computing any of
    // these hashes would take seconds (output65: a fraction; the others minutes).
    expect(median(costly)).toBeGreaterThan(median(wrong) * 0.5);
    expect(median(costly)).toBeLessThan(median(wrong) * 2 + 20);
  }, 60_000);

  it('answers the client with the unusable secret 401 invalid_client, even with its DOT secret', async () => {
    const auth = { authorization: basic(CLIENTS.costly.clientId, CLIENTS.costly.secret) };
    const password = await postToken(server, { grant_type: 'password', username: 'within', password: PASSWORD }, auth);
    expect([password.status, password.json.error]).toEqual([401, 'invalid_client']);
    const refresh = await postToken(server, { grant_type: 'refresh_token', refresh_token: TOKENS.refresh }, auth);
    expect([refresh.status, refresh.json.error]).toEqual([401, 'invalid_client']);
    // Its access token was imported and works; the client within bounds authenticates with its DOT secret.
    expect((await userinfo(server, TOKENS.access)).status).toBe(200);
    const hashed = await postToken(
      server,
      { grant_type: 'password', username: 'within', password: PASSWORD },
      { authorization: basic(CLIENTS.hashed.clientId, CLIENTS.hashed.secret) },
    );
    expect(hashed.status).toBe(200);
  });

  it('reports them present on a second run, creating and updating nothing, and leaves them unusable', async () => {
    const again = await importDjango(server, from, ['--json']);
    expect([again.code, withoutProgress(again.stderr)]).toEqual([0, '']);
    const second = JSON.parse(again.stdout) as Record<string, any>;
    // "within" logged in above, so its hash is argon2id now and stays: present too.
    expect(second.users).toMatchObject({ created: 0, present: 8, updated: 0, skipped: 0, unusable: 0 });
    expect(second.clients).toMatchObject({ created: 0, present: 2, updated: 0, skipped: 0, unusable: 0 });
    for (const [username] of PAST_BOUNDS) {
      expect((await server.services.store.findUserByUsername(username))?.passwordHash, username).toBeNull();
    }
  });

  it('lets the operator fix them: a new password logs in, a rotated secret authenticates', async () => {
    await server.services.admin.setPassword('pbkdf2Huge', 'a new password', { revokeTokens: false });
    expect((await login('pbkdf2Huge', 'a new password')).status).toBe(200);
    const secret = await server.services.admin.rotateClientSecret(CLIENTS.costly.clientId);
    const refresh = await postToken(
      server,
      { grant_type: 'refresh_token', refresh_token: TOKENS.refresh },
      { authorization: basic(CLIENTS.costly.clientId, secret) },
    );
    expect(refresh.status).toBe(200);
  });

  it('never computes a hash past the bounds written straight into the store: invalid_grant in about a wrong ' +
    "password's time", async () => {
    const direct = [
      USERS.output65.hash, // PASSWORD's own hash, 65 bytes
      USERS.argon2Huge.hash,
      `$argon2id$v=19$m=1048576,p=1,t=64$${phc64(16, 1)}$${phc64(32, 2)}`,
      USERS.pbkdf2Huge.hash,
    ];
    for (const hash of direct) {
      expect(
        await server.services.store.setUserPassword('native-user', hash, {
          revokeGrants: false,
          now: Math.floor(Date.now() / 1000),
        }),
      ).toBe(true);
      const started = performance.now();
      const answer = await login('native-user', PASSWORD);
      const elapsed = performance.now() - started;
      expect([answer.status, answer.json], hash.slice(0, 40)).toEqual([400, INVALID_CREDENTIALS]);
      expect(elapsed, hash.slice(0, 40)).toBeLessThan(3000);
    }
  }, 60_000);
});

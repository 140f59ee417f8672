/**
 * `oauthd import django` against the django-oauth-toolkit 1.7 fixtures of test/fixtures/django-oauth-toolkit
 * (the SQLite file, copied first, and the PostgreSQL dump, loaded into a fresh database), run as the built
 * CLI in a child process into a running test server's database, then checked over real HTTP, driven by the
 * labels of manifest.json:
 * RFC 6749 §4.3 (password grant: every active user logs in with the password DOT knew, and the Django hash
 * becomes argon2id), §6 (every live refresh token refreshes once with its client's credentials, §2.3.1 for
 * the confidential ones, client_id only for the public one), RFC 6750 (every live access token works on the
 * userinfo resource; expired, deleted and disabled users' tokens are invalid_token), §4.4 (the client-credentials
 * application becomes a confidential client_credentials client, and its user-less token stays active on
 * introspection, RFC 7662 §2.2, without a username), and the import's own
 * promises: the source is byte-identical afterwards, --dry-run writes nothing, a second import changes
 * nothing.
 *
 * `npm test` builds dist/ first; when running this file alone, run `npm run build` before.
 */
import { createHash, pbkdf2Sync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, envWithoutOauthd, runOauthd, type RunResult } from '../helpers/process.js';
import {
  createTestDatabase,
  dumpDatabase,
  postgresAvailable,
  withClient,
  type TestDatabase,
} from '../helpers/postgres.js';
import { basic, postToken, startTestServer, testClock, userinfo, type TestServer } from '../helpers/server.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'django-oauth-toolkit');

interface ManifestUser {
  username: string;
  password: string | null;
  is_active: boolean;
  password_hash: string;
}
interface ManifestApp {
  client_id: string;
  client_secret: string;
  client_type: 'confidential' | 'public';
}
interface ManifestToken {
  label: string;
  kind: 'access' | 'refresh';
  token: string;
  state: 'live' | 'expired' | 'revoked' | 'orphaned';
  scope: string;
  application: string;
  user: string | null;
}
interface Manifest {
  snapshot: string;
  users: ManifestUser[];
  applications: ManifestApp[];
  tokens: ManifestToken[];
  deleted_by_dot: { label: string; kind: string; token?: string }[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

// The manifest's settings: SCOPES read write payouts introspection admin ("admin": known, never granted),
// DEFAULT_SCOPES read write.
const SERVER_ENV = { OAUTHD_SCOPES: 'read write payouts introspection admin', OAUTHD_DEFAULT_SCOPES: 'read write' };
const CLIENT_SCOPES = 'read write payouts introspection';
const INVALID_CREDENTIALS = { error: 'invalid_grant', error_description: 'Invalid credentials given.' };

const user = (name: string) => manifest.users.find((u) => u.username === name)!;
const app = (clientId: string) => manifest.applications.find((a) => a.client_id === clientId)!;
const token = (label: string) => {
  const found = manifest.tokens.find((t) => t.label === label);
  if (!found) throw new Error(`no token ${label} in the manifest`);
  return found;
};
const inactive = new Set(manifest.users.filter((u) => !u.is_active).map((u) => u.username));
/**
 * The user tokens that work after an import: not those of disabled users. (The client_credentials token,
 * which has no user, is checked through introspection.)
 */
const importable = (t: ManifestToken) => t.user !== null && !inactive.has(t.user);
const SEED_CLIENT = manifest.applications[0]!;

/** Client authentication as its DOT integrator does it: Basic for confidential clients, client_id for public. */
function clientAuth(clientId: string): { headers: Record<string, string>; body: Record<string, string> } {
  const a = app(clientId);
  return a.client_type === 'public'
    ? { headers: {}, body: { client_id: a.client_id } }
    : { headers: { authorization: basic(a.client_id, a.client_secret) }, body: {} };
}

function login(server: TestServer, username: string, password: string) {
  return postToken(
    server,
    { grant_type: 'password', username, password },
    { authorization: basic(SEED_CLIENT.client_id, SEED_CLIENT.client_secret) },
  );
}

function refresh(server: TestServer, t: ManifestToken) {
  const auth = clientAuth(t.application);
  return postToken(server, { grant_type: 'refresh_token', refresh_token: t.token, ...auth.body }, auth.headers);
}

/** RFC 7662 §2.1: `token` introspected by the client `authorization` names. */
async function introspect(server: TestServer, accessToken: string, authorization: string) {
  const response = await fetch(`${server.oauthUrl}/introspect/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    body: new URLSearchParams({ token: accessToken }).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
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
    CLIENT_SCOPES,
    '--database-url',
    server.config.store.databaseUrl,
    ...extra,
  ];
  return runOauthd(args, { env: envWithoutOauthd(SERVER_ENV), timeoutMs: 20_000 });
}

async function importJson(server: TestServer, from: string, extra: string[] = []) {
  const result = await importDjango(server, from, ['--json', ...extra]);
  expect(withoutProgress(result.stderr)).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, any>;
}

/** Every row of oauthd's users, clients and token tables, read straight from the database. */
async function storeRows(server: TestServer): Promise<string> {
  const tables = {
    users: 'SELECT * FROM users ORDER BY username',
    clients: 'SELECT * FROM clients ORDER BY client_id',
    grants: 'SELECT * FROM grants ORDER BY id',
    access_tokens: 'SELECT * FROM access_tokens ORDER BY token_hash',
    refresh_tokens: 'SELECT * FROM refresh_tokens ORDER BY token_hash',
  };
  const show = (rows: unknown[]) =>
    JSON.stringify(rows, (_key, value: unknown) =>
      value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer'
        ? Buffer.from((value as { data: number[] }).data).toString('hex')
        : value,
    );
  const url = server.config.store.databaseUrl;
  const out: Record<string, string> = {};
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      for (const [name, sql] of Object.entries(tables)) out[name] = show(db.prepare(sql).all());
    } finally {
      db.close();
    }
  } else {
    await withClient(url, async (client) => {
      for (const [name, sql] of Object.entries(tables)) out[name] = show((await client.query(sql)).rows);
    });
  }
  return JSON.stringify(out);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The importer's verdicts on the fixture, the same for both sources. */
const EXPECTED_FIRST_IMPORT = {
  users: { inSource: 6, created: 6, present: 0, updated: 0, skipped: 0, skippedWhy: {} },
  clients: { inSource: 5, created: 5, present: 0, updated: 0, skipped: 0, skippedWhy: {} },
  accessTokens: {
    inSource: 9,
    created: 8,
    present: 0,
    updated: 0,
    skipped: 1,
    skippedWhy: { 'user is inactive': 1 },
  },
  refreshTokens: {
    inSource: 11,
    created: 8,
    present: 0,
    updated: 0,
    skipped: 3,
    skippedWhy: { 'user is inactive': 1, 'revoked in DOT': 2 },
  },
  clientCredentials: { clients: 1, accessTokens: 1 },
};

const pgSourceAvailable = await postgresAvailable('importing the django-oauth-toolkit PostgreSQL dump');

describe.each([
  { source: 'sqlite' as const, skip: false },
  { source: 'postgres' as const, skip: !pgSourceAvailable },
])('oauthd import django from the DOT 1.7 $source fixture', ({ source, skip }) => {
  let server: TestServer;
  let dir: string;
  let sourceDb: TestDatabase | undefined;
  let from: string;
  let sourceBefore: string;
  let dryRun: Record<string, any>;
  let rowsBeforeDryRun: string;
  let rowsAfterDryRun: string;
  let first: Record<string, any>;

  const sourceFingerprint = async () =>
    source === 'sqlite' ? sha256(readFileSync(from)) : sha256(await dumpDatabase(from));

  beforeAll(async () => {
    if (skip) return;
    // Live tokens expire in 2036 and seed_expired expired before the snapshot: a clock never earlier than
    // the snapshot keeps that true on a machine whose clock is wrong.
    const snapshot = Math.floor(Date.parse(manifest.snapshot) / 1000);
    server = await startTestServer(SERVER_ENV, {
      clock: testClock(Math.max(Math.floor(Date.now() / 1000), snapshot + 3600)),
    });
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-'));
    if (source === 'sqlite') {
      // Never the original: the import opens the copy read-only, and the test proves it stayed as it was.
      from = join(dir, 'dot-1.7.sqlite3');
      copyFileSync(join(FIXTURES, 'dot-1.7.sqlite3'), from);
    } else {
      sourceDb = await createTestDatabase();
      from = sourceDb.url;
      const dump = readFileSync(join(FIXTURES, 'dot-1.7-postgres.sql'), 'utf8');
      await withClient(from, (client) => client.query(dump));
    }
    sourceBefore = await sourceFingerprint();

    rowsBeforeDryRun = await storeRows(server);
    dryRun = await importJson(server, from, ['--dry-run']);
    rowsAfterDryRun = await storeRows(server);
    first = await importJson(server, from);
  });

  afterAll(async () => {
    if (skip) return;
    await server?.stop();
    await sourceDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('--dry-run reports exactly what the import then does, and writes nothing', () => {
    expect(rowsAfterDryRun).toBe(rowsBeforeDryRun);
    expect(dryRun.dryRun).toBe(true);
    const { dryRun: _d, target: _t, ...wouldDo } = dryRun;
    const { dryRun: _f, target: _u, ...did } = first;
    expect(wouldDo).toEqual(did);
  });

  it.skipIf(skip)('imports the users, clients and live tokens, and says what it skipped and why', () => {
    expect(first).toMatchObject({ dryRun: false, source: { kind: source }, ...EXPECTED_FIRST_IMPORT });
    expect(first.target).toEqual({ users: 6, clients: 5, grants: 9, accessTokens: 8, refreshTokens: 8 });
    expect(first.notes.join('\n')).toMatch(/1 refresh token had no access token left in DOT/);
    expect(first.notes.join('\n')).toMatch(
      new RegExp(
        '1 client-credentials application is a confidential client allowed the client_credentials grant only, ' +
          'and its 1 live access token is a grant to the client itself',
      ),
    );
  });

  it.skipIf(skip)(
    'brings the client-credentials application over as a confidential client_credentials client, ' +
      'its token without a user',
    async () => {
      const machine = app(token('service_cc').application);
      const client = await server.services.store.findClient(machine.client_id);
      expect(client).toMatchObject({ isPublic: false, grantTypes: ['client_credentials'] });
      // The token stays active, as on DOT: introspected by its own client, which authenticates with its DOT
      // secret (RFC 7662 §2.1, §2.2); a token without a user has no username or sub.
      const introspected = await introspect(
        server,
        token('service_cc').token,
        basic(machine.client_id, machine.client_secret),
      );
      expect(introspected.status).toBe(200);
      expect(introspected.json).toMatchObject({ active: true, client_id: machine.client_id, scope: 'read write' });
      expect(introspected.json).not.toHaveProperty('username');
      expect(introspected.json).not.toHaveProperty('sub');
      const wrong = await introspect(server, token('service_cc').token, basic(machine.client_id, 'not-the-secret'));
      expect(wrong.status).toBe(401);
    },
  );

  it.skipIf(skip)(
    'records how each grant began: password apps password, the client-credentials app client_credentials, the ' +
      'authorization-code app authorization_code',
    async () => {
      const grants = JSON.parse(JSON.parse(await storeRows(server)).grants as string) as {
        id: string;
        client_id: string;
        user_id: number | null;
        grant_type: string | null;
      }[];
      const byClient = new Map<string, Set<string | null>>();
      for (const g of grants) byClient.set(g.client_id, (byClient.get(g.client_id) ?? new Set()).add(g.grant_type));
      const seed = SEED_CLIENT.client_id;
      const machine = token('service_cc').application;
      const dashboard = token('alice_authcode').application;
      expect(byClient).toEqual(
        new Map<string, Set<string | null>>([
          [seed, new Set(['password'])],
          ['dot-peer-other-client', new Set(['password'])],
          ['dot-peer-public-client', new Set(['password'])],
          [machine, new Set(['client_credentials'])],
          // DOT records the grant type per application: its grants began with a code.
          [dashboard, new Set(['authorization_code'])],
        ]),
      );
      expect(grants.filter((g) => g.user_id === null).map((g) => [g.client_id, g.grant_type])).toEqual([
        [machine, 'client_credentials'],
      ]);
    },
  );

  it.skipIf(skip)(
    "keeps the authorization-code application's flow: its redirect URIs, consent asked, PKCE S256 required, " +
      'and says integrators must send PKCE',
    async () => {
      const dashboard = await server.services.store.findClient(token('alice_authcode').application);
      expect(dashboard).toMatchObject({ isPublic: false, grantTypes: ['authorization_code', 'refresh_token'] });
      expect(dashboard!.policy).toMatchObject({
        redirectUris: ['https://dashboard.example.com/oauth/callback', 'http://127.0.0.1:8765/callback'],
        skipConsent: null,
        pkce: null,
      });
      const notes = first.notes.join('\n');
      expect(notes).toContain(
        '1 authorization-code application keeps its code flow, which in oauthd requires PKCE with S256',
      );
      expect(notes).toContain('`oauthd client update <client-id> --pkce optional`');
      expect(notes).not.toMatch(/redirect URIs? skipped/);
    },
  );

  it.skipIf(skip)('lets the imported client-credentials application get new tokens with its DOT secret', async () => {
    const machine = app(token('service_cc').application);
    // As it did on DOT (RFC 6749 §4.4): no refresh token.
    const issued = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic(machine.client_id, machine.client_secret) },
    );
    expect(issued.status).toBe(200);
    expect(issued.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(issued.json).not.toHaveProperty('refresh_token');
  });

  it.skipIf(skip)('stores no DOT token, client secret or password in plaintext, only their hashes', async () => {
    const stored = (await server.databaseBytes()).toString('latin1');
    const secrets = [
      ...manifest.tokens.map((t) => t.token),
      ...manifest.applications.map((a) => a.client_secret),
      ...manifest.users.flatMap((u) => (u.password === null ? [] : [u.password])),
    ];
    expect(secrets).toHaveLength(20 + 5 + 5);
    for (const secret of secrets) expect(stored.includes(secret), secret).toBe(false);
  });

  it.skipIf(skip)('leaves the DOT database exactly as it was', async () => {
    expect(await sourceFingerprint()).toBe(sourceBefore);
  });

  it.skipIf(skip)(
    'lets every active user log in with their DOT password, and upgrades their hash to argon2id',
    async () => {
      // admin, the seed user, alice, and bob, whose hash has 150000 iterations and a 12-character salt.
      const active = manifest.users.filter((u) => u.is_active && u.password !== null);
      expect(active.map((u) => u.username)).toEqual(['admin', 'paymob_send_api_checker', 'alice', 'bob']);
      for (const u of active) {
        expect((await server.services.store.findUserByUsername(u.username))?.passwordHash).toBe(u.password_hash);
        const first = await login(server, u.username, u.password!);
        expect(first.status, u.username).toBe(200);
        expect(first.json).toMatchObject({ scope: 'read write', token_type: 'Bearer' });
        expect((await server.services.store.findUserByUsername(u.username))?.passwordHash).toMatch(/^\$argon2id\$/);
        // The argon2id hash works too, and a wrong password does not.
        expect((await login(server, u.username, u.password!)).status, u.username).toBe(200);
        expect((await login(server, u.username, `${u.password!}x`)).json).toEqual(INVALID_CREDENTIALS);
      }
    },
  );

  it.skipIf(skip)('refuses carol (inactive) and dave (unusable password) exactly like a wrong password', async () => {
    const wrong = await login(server, 'alice', 'not her password');
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual(INVALID_CREDENTIALS);

    const carol = await login(server, 'carol', user('carol').password!);
    expect([carol.status, carol.json]).toEqual([400, INVALID_CREDENTIALS]);
    // dave has no password; neither the unusable marker nor what follows it matches.
    const dave = user('dave');
    for (const attempt of [dave.password_hash, dave.password_hash.slice(1), 'password']) {
      const answer = await login(server, 'dave', attempt);
      expect([answer.status, answer.json]).toEqual([400, INVALID_CREDENTIALS]);
    }
    expect((await server.services.store.findUserByUsername('dave'))?.passwordHash).toBeNull();
    expect((await server.services.store.findUserByUsername('carol'))?.isActive).toBe(false);
  });

  it.skipIf(skip)('accepts every live access token on /o/userinfo/ as the same user, client and scope', async () => {
    const live = manifest.tokens.filter((t) => t.kind === 'access' && t.state === 'live' && importable(t));
    expect(live.map((t) => t.label).sort()).toEqual([
      'admin_payouts',
      'alice_authcode',
      'alice_live',
      'alice_public',
      'alice_read_only',
      'seed_live',
    ]);
    for (const t of live) {
      const { status, json } = await userinfo(server, t.token);
      expect(status, t.label).toBe(200);
      expect(json, t.label).toMatchObject({ username: t.user, client_id: t.application, scope: t.scope });
    }
  });

  it.skipIf(skip)(
    "refuses with 401 invalid_token: expired and DOT-deleted access tokens, and carol's (disabled user)",
    async () => {
      const refused = [
        token('seed_expired').token,
        token('carol_inactive').token,
        ...manifest.deleted_by_dot.filter((d) => d.kind === 'access').map((d) => d.token!),
      ];
      expect(refused).toHaveLength(5);
      for (const t of refused) {
        const { status, headers } = await userinfo(server, t);
        expect(status, t).toBe(401);
        expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
    },
  );

  it.skipIf(skip)(
    "refreshes every live refresh token once with its client's credentials, then calls it used",
    async () => {
      const live = manifest.tokens.filter(
        (t) => t.kind === 'refresh' && (t.state === 'live' || t.state === 'orphaned') && importable(t),
      );
      expect(live.map((t) => t.label).sort()).toEqual([
        'admin_payouts_rt',
        'alice_authcode_rt',
        'alice_live_rt',
        'alice_orphan_rt',
        'alice_public_rt',
        'alice_read_only_rt',
        'seed_expired_rt',
        'seed_live_rt',
      ]);
      for (const t of live) {
        const first = await refresh(server, t);
        expect(first.status, t.label).toBe(200);
        // The orphan's access token is gone, and DOT keeps no scope on refresh tokens: DEFAULT_SCOPES.
        expect(first.json.scope, t.label).toBe(t.label === 'alice_orphan_rt' ? 'read write' : t.scope);
        expect((await userinfo(server, first.json.access_token as string)).json).toMatchObject({
          username: t.user,
          client_id: t.application,
        });
        const again = await refresh(server, t);
        expect([again.status, again.json.error], t.label).toEqual([400, 'invalid_grant']);
      }
    },
  );

  it.skipIf(skip)("refuses with invalid_grant the refresh tokens DOT rotated or revoked, and carol's", async () => {
    for (const label of ['seed_rotated_rt', 'seed_revoked_rt', 'carol_inactive_rt']) {
      const { status, json } = await refresh(server, token(label));
      expect([status, json.error], label).toEqual([400, 'invalid_grant']);
    }
  });

  it.skipIf(skip)('changes nothing when run again, and says so', async () => {
    const before = await storeRows(server);
    const again = await importDjango(server, from);
    expect(withoutProgress(again.stderr)).toBe('');
    expect(again.code).toBe(0);
    const summary = again.stdout.trim().split('\n').at(-1)!;
    expect(summary).toMatch(
      new RegExp(
        `^users 0 created, 6 already present, 0 updated, 0 skipped; ` +
          `clients 0 created, 5 already present, 0 updated, 0 skipped; ` +
          `access tokens 0 created, 8 already present, 0 updated, 1 skipped .*; ` +
          `refresh tokens 0 created, 8 already present, 0 updated, 3 skipped `,
      ),
    );
    expect(await storeRows(server)).toBe(before);
    expect(await sourceFingerprint()).toBe(sourceBefore);
  });
});

/**
 * The cut-over's second import (the delta): DOT kept serving between the first import and the switch. The
 * rule under test: what oauthd has not touched since it was imported follows DOT (revocations, deleted
 * tokens, disabled users, changed passwords, new users and tokens); what oauthd has touched is oauthd's.
 * DOT's writes are replayed on a copy of the SQLite fixture with the statements DOT itself runs.
 */
describe('oauthd import django, run again after DOT changed (the delta of a cut-over)', () => {
  let server: TestServer;
  let dir: string;
  let from: string;
  let delta: Record<string, any>;
  /** The pair oauthd issued when seed_live_rt was refreshed here before the delta. */
  let seedOnOauthd: { access_token: string; refresh_token: string };
  const NEW_PASSWORD = {
    text: 'pässwörd with ünïcode & $ymbols',
    hash: 'pbkdf2_sha256$260000$I5BbHnZ5bCxTCUkDzCVtzl$9sQY366YsBKa7VKWO0sCDetEMDl454jao6eCUYSlHag=',
  };
  const ERIN = { access: 'ErinAccessToken000000000000001', refresh: 'ErinRefreshToken00000000000001' };
  /** A new client_credentials token of reporting-service (application 4): no user, no refresh token. */
  const MACHINE = 'MachineAccessToken000000000001';

  beforeAll(async () => {
    const snapshot = Math.floor(Date.parse(manifest.snapshot) / 1000);
    server = await startTestServer(SERVER_ENV, {
      clock: testClock(Math.max(Math.floor(Date.now() / 1000), snapshot + 3600)),
    });
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-delta-'));
    from = join(dir, 'dot-1.7.sqlite3');
    copyFileSync(join(FIXTURES, 'dot-1.7.sqlite3'), from);
    await importJson(server, from);

    // Used on oauthd before the delta: admin logs in (argon2id now), seed_live_rt is refreshed.
    expect((await login(server, 'admin', user('admin').password!)).status).toBe(200);
    const refreshed = await refresh(server, token('seed_live_rt'));
    expect(refreshed.status).toBe(200);
    seedOnOauthd = refreshed.json as typeof seedOnOauthd;

    // Meanwhile on DOT (the statements its models run):
    const dot = new Database(from);
    const now = '2026-11-26 10:00:00.123456';
    dot.exec(`
      -- /o/revoke_token/ of alice_live_rt (8): the refresh token is marked, its access token deleted.
      UPDATE oauth2_provider_refreshtoken SET revoked = '${now}', access_token_id = NULL WHERE id = 8;
      DELETE FROM oauth2_provider_accesstoken WHERE id = 8;
      -- alice_read_only's access token revoked alone: its refresh token (9) is orphaned.
      UPDATE oauth2_provider_refreshtoken SET access_token_id = NULL WHERE id = 9;
      DELETE FROM oauth2_provider_accesstoken WHERE id = 9;
      -- seed_live_rt (7) rotated on DOT too: oauthd refreshed it first, so oauthd's pair stands.
      UPDATE oauth2_provider_refreshtoken SET revoked = '${now}', access_token_id = NULL WHERE id = 7;
      DELETE FROM oauth2_provider_accesstoken WHERE id = 7;
      -- alice_public's pair deleted outright (e.g. cleartokens, or the rows removed by hand).
      DELETE FROM oauth2_provider_refreshtoken WHERE id = 10;
      DELETE FROM oauth2_provider_accesstoken WHERE id = 10;
      -- bob deactivated; dave and admin given a new password.
      UPDATE auth_user SET is_active = 0 WHERE username = 'bob';
      UPDATE auth_user SET password = '${NEW_PASSWORD.hash}' WHERE username IN ('dave', 'admin');
      -- A new user with a new pair on the seed client.
      INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email, is_staff,
        is_active, date_joined, first_name)
        VALUES (7, '${NEW_PASSWORD.hash}', NULL, 0, 'erin', '', 'erin@example.com', 0, 1, '${now}', '');
      INSERT INTO oauth2_provider_accesstoken (id, token, expires, scope, application_id, user_id, created, updated,
        source_refresh_token_id, id_token_id)
        VALUES (13, '${ERIN.access}', '2036-11-26 10:00:00.123456', 'read', 1, 7, '${now}', '${now}', NULL, NULL);
      INSERT INTO oauth2_provider_refreshtoken (id, token, access_token_id, application_id, user_id, created,
        updated, revoked)
        VALUES (12, '${ERIN.refresh}', 13, 1, 7, '${now}', '${now}', NULL);
      INSERT INTO oauth2_provider_accesstoken (id, token, expires, scope, application_id, user_id, created, updated,
        source_refresh_token_id, id_token_id)
        VALUES (14, '${MACHINE}', '2036-11-26 10:00:00.123456', 'read', 4, NULL, '${now}', '${now}', NULL, NULL);
      -- service_cc revoked on DOT (/o/revoke_token/ deletes an access token).
      DELETE FROM oauth2_provider_accesstoken WHERE token = '${token('service_cc').token}';
    `);
    dot.close();
    delta = await importJson(server, from);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts what it created, updated, left alone and skipped', () => {
    expect(delta).toMatchObject({
      users: { inSource: 7, created: 1, present: 4, updated: 2, skipped: 0 },
      clients: { inSource: 5, created: 0, present: 5, updated: 0, skipped: 0 },
      accessTokens: { inSource: 6, created: 2, present: 3, updated: 1, skipped: 1 },
      refreshTokens: { inSource: 11, created: 1, present: 6, updated: 1, skipped: 3 },
    });
    expect(delta.notes.join('\n')).toMatch(/2 token families imported earlier are gone from DOT .*: 2 revoked here/);
  });

  it('revokes what DOT revoked or deleted since, unless oauthd used it first', async () => {
    expect((await userinfo(server, token('alice_live').token)).status).toBe(401);
    expect((await refresh(server, token('alice_live_rt'))).json.error).toBe('invalid_grant');
    expect((await userinfo(server, token('alice_read_only').token)).status).toBe(401);
    expect((await userinfo(server, token('alice_public').token)).status).toBe(401);
    expect((await refresh(server, token('alice_public_rt'))).json.error).toBe('invalid_grant');
    // Refreshed on oauthd before DOT rotated it: oauthd's pair keeps working.
    expect((await userinfo(server, seedOnOauthd.access_token)).status).toBe(200);
    const next = await refresh(server, { ...token('seed_live_rt'), token: seedOnOauthd.refresh_token });
    expect(next.status).toBe(200);
  });

  it('keeps the orphaned refresh token working with its original scope', async () => {
    const { status, json } = await refresh(server, token('alice_read_only_rt'));
    expect([status, json.scope]).toEqual([200, 'read']);
  });

  it(
    'disables users DOT disabled, and takes new passwords only ' + 'for users who have not logged in on oauthd',
    async () => {
      expect((await login(server, 'bob', user('bob').password!)).json).toEqual(INVALID_CREDENTIALS);
      expect((await login(server, 'dave', NEW_PASSWORD.text)).status).toBe(200);
      expect((await login(server, 'admin', user('admin').password!)).status).toBe(200);
      expect((await login(server, 'admin', NEW_PASSWORD.text)).json).toEqual(INVALID_CREDENTIALS);
    },
  );

  it('brings in the new user and their tokens', async () => {
    expect((await login(server, 'erin', NEW_PASSWORD.text)).status).toBe(200);
    expect((await userinfo(server, ERIN.access)).json).toMatchObject({ username: 'erin', scope: 'read' });
    expect((await refresh(server, { ...token('seed_live_rt'), token: ERIN.refresh })).status).toBe(200);
  });

  it("brings in the client-credentials application's new token, and revokes the one DOT revoked", async () => {
    expect(delta.clientCredentials).toEqual({ clients: 1, accessTokens: 1 });
    const machine = app(token('service_cc').application);
    const asMachine = basic(machine.client_id, machine.client_secret);
    const fresh = await introspect(server, MACHINE, asMachine);
    expect(fresh.json).toMatchObject({ active: true, client_id: machine.client_id, scope: 'read' });
    expect(fresh.json).not.toHaveProperty('username');
    expect((await introspect(server, token('service_cc').token, asMachine)).json).toEqual({ active: false });
  });

  it('changes nothing when run a third time', async () => {
    const before = await storeRows(server);
    const again = await importJson(server, from);
    for (const kind of ['users', 'clients', 'accessTokens', 'refreshTokens']) {
      expect([again[kind].created, again[kind].updated], kind).toEqual([0, 0]);
    }
    expect(await storeRows(server)).toBe(before);
  });
});

/**
 * Authorization-code applications whose redirect URIs oauthd does not all accept, added to a copy of the 1.7
 * fixture as DOT's admin writes them: a public app with skip_authorization and one acceptable URI among bad
 * ones, and a confidential app with none acceptable. Then a second import, which must change nothing.
 */
describe('oauthd import django: authorization-code applications and their redirect URIs', () => {
  let server: TestServer;
  let dir: string;
  let from: string;
  let summary: Record<string, any>;
  const TV = 'dot-peer-tv-app';
  const LEGACY = 'dot-peer-legacy-web';

  beforeAll(async () => {
    const snapshot = Math.floor(Date.parse(manifest.snapshot) / 1000);
    server = await startTestServer(SERVER_ENV, {
      clock: testClock(Math.max(Math.floor(Date.now() / 1000), snapshot + 3600)),
    });
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-code-'));
    from = join(dir, 'dot-1.7.sqlite3');
    copyFileSync(join(FIXTURES, 'dot-1.7.sqlite3'), from);
    const now = '2026-11-26 10:00:00.123456';
    const dot = new Database(from);
    dot.exec(`
      INSERT INTO oauth2_provider_application (id, client_id, redirect_uris, client_type, authorization_grant_type,
        client_secret, name, user_id, skip_authorization, created, updated, algorithm)
        VALUES (6, '${TV}', 'com.example.tv:/cb http://tv.example.com/cb https://tv.example.com/cb#x',
          'public', 'authorization-code', '', 'tv-app', NULL, 1, '${now}', '${now}', ''),
        (7, '${LEGACY}', 'myapp://callback', 'confidential', 'authorization-code',
          'LegacyWebSecret0000000000000000000000000000001', 'legacy-web', NULL, 0, '${now}', '${now}', '');
    `);
    dot.close();
    summary = await importJson(server, from);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the URIs that pass, requires PKCE, and asks a public app whatever skip_authorization said', async () => {
    expect(summary.clients).toMatchObject({ inSource: 7, created: 7, skipped: 0 });
    const tv = await server.services.store.findClient(TV);
    expect(tv).toMatchObject({ isPublic: true, grantTypes: ['authorization_code', 'refresh_token'] });
    // RFC 8252 §8.6: a public client cannot skip consent.
    expect(tv!.policy).toMatchObject({ redirectUris: ['com.example.tv:/cb'], skipConsent: null, pkce: null });
  });

  it('gives an app without any acceptable URI refresh_token only, and says how to turn the flow on', async () => {
    const legacy = await server.services.store.findClient(LEGACY);
    expect(legacy).toMatchObject({ isPublic: false, grantTypes: ['refresh_token'] });
    expect(legacy!.policy).toMatchObject({ redirectUris: null, skipConsent: null });
    const notes = summary.notes.join('\n');
    expect(notes).toContain(`1 authorization-code application has no redirect URI oauthd accepts`);
    expect(notes).toContain(`--grant-types authorization_code,refresh_token\` turns the code flow on: ${LEGACY}`);
    expect(notes).toMatch(/2 authorization-code applications keep their code flow, which in oauthd requires PKCE/);
  });

  it('notes each redirect URI left out, with why', () => {
    const line = summary.notes.find((n: string) => n.includes('redirect URIs skipped')) as string;
    expect(line).toMatch(/^3 redirect URIs skipped: /);
    expect(line).toContain(`${TV} "http://tv.example.com/cb" (http is only allowed for a loopback host`);
    expect(line).toContain(`${TV} "https://tv.example.com/cb#x" (it has a fragment`);
    expect(line).toContain(`${LEGACY} "myapp://callback" (scheme "myapp" is not allowed`);
  });

  it('changes nothing when run again', async () => {
    const before = await storeRows(server);
    const again = await importJson(server, from);
    expect(again.clients).toMatchObject({ created: 0, present: 7, updated: 0 });
    expect(again.notes.join('\n')).not.toMatch(/authorization-code|redirect URI/);
    expect(await storeRows(server)).toBe(before);
  });
});

/**
 * DOT 2.x and 3.x layouts, simulated on a copy of the 1.7 fixture (no fixture of those versions exists):
 * DOT 2.x stores a Django hash of the client secret (pbkdf2_sha256, as make_password writes it) and records
 * in `hash_client_secret` whether it did; DOT 3.x adds `token_checksum` to access tokens. The columns are
 * appended, as Django's migrations do on SQLite.
 */
describe('oauthd import django from a DOT 2.x/3.x layout (hashed client secrets, token_checksum)', () => {
  let server: TestServer;
  let dir: string;
  let summary: Record<string, any>;

  beforeAll(async () => {
    const snapshot = Math.floor(Date.parse(manifest.snapshot) / 1000);
    server = await startTestServer(SERVER_ENV, {
      clock: testClock(Math.max(Math.floor(Date.now() / 1000), snapshot + 3600)),
    });
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-dot3-'));
    const from = join(dir, 'dot-3.sqlite3');
    copyFileSync(join(FIXTURES, 'dot-1.7.sqlite3'), from);
    const salt = 'Dot2SaltForTheSeedApp1';
    const djangoHash =
      `pbkdf2_sha256$260000$${salt}$` +
      `${pbkdf2Sync(SEED_CLIENT.client_secret, salt, 260_000, 32, 'sha256').toString('base64')}`;
    const dot = new Database(from);
    dot.exec(`
      ALTER TABLE oauth2_provider_application ADD COLUMN hash_client_secret bool NOT NULL DEFAULT 1;
      ALTER TABLE oauth2_provider_accesstoken ADD COLUMN token_checksum varchar(64) NULL;
      UPDATE oauth2_provider_application SET hash_client_secret = 0 WHERE client_id <> '${SEED_CLIENT.client_id}';
    `);
    dot
      .prepare('UPDATE oauth2_provider_application SET client_secret = ? WHERE client_id = ?')
      .run(djangoHash, SEED_CLIENT.client_id);
    dot.close();
    summary = await importJson(server, from);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a Django-hashed client secret as it is, and the client authenticates with its plaintext', async () => {
    expect(summary.source.dotLayout).toMatch(/3\.x/);
    expect(summary.clients).toMatchObject({ created: 5, skipped: 0 });
    expect((await server.services.store.findClient(SEED_CLIENT.client_id))?.secretHash).toMatch(
      /^pbkdf2_sha256\$260000\$/,
    );
    expect((await refresh(server, token('seed_live_rt'))).status).toBe(200);
    // hash_client_secret = false: a plaintext secret, hashed on import as in DOT 1.x.
    expect((await refresh(server, token('alice_live_rt'))).status).toBe(200);
    const wrong = await postToken(
      server,
      { grant_type: 'refresh_token', refresh_token: token('admin_payouts_rt').token },
      { authorization: basic(SEED_CLIENT.client_id, 'not-the-secret') },
    );
    expect([wrong.status, wrong.json.error]).toEqual([401, 'invalid_client']);
  });
});

/**
 * What the importer leaves out of the client_credentials grant, on a copy of the 1.7 fixture: a public
 * client-credentials application (RFC 6749 §4.4 allows the grant to confidential clients only) and a token
 * without a user of an application that is not a client-credentials one.
 */
describe('oauthd import django: what is not a client_credentials client or grant', () => {
  let server: TestServer;
  let dir: string;
  let summary: Record<string, any>;
  const STRAY = 'StrayUserlessToken000000000001';

  beforeAll(async () => {
    const snapshot = Math.floor(Date.parse(manifest.snapshot) / 1000);
    server = await startTestServer(SERVER_ENV, {
      clock: testClock(Math.max(Math.floor(Date.now() / 1000), snapshot + 3600)),
    });
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-cc-'));
    const from = join(dir, 'dot-1.7.sqlite3');
    copyFileSync(join(FIXTURES, 'dot-1.7.sqlite3'), from);
    const now = '2026-11-26 10:00:00.123456';
    const dot = new Database(from);
    dot.exec(`
      UPDATE oauth2_provider_application SET client_type = 'public' WHERE id = 4;
      INSERT INTO oauth2_provider_accesstoken (id, token, expires, scope, application_id, user_id, created, updated,
        source_refresh_token_id, id_token_id)
        VALUES (14, '${STRAY}', '2036-11-26 10:00:00.123456', 'read', 1, NULL, '${now}', '${now}', NULL, NULL);
    `);
    dot.close();
    summary = await importJson(server, from);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('skips them, and says why', async () => {
    expect(summary.clients).toMatchObject({
      created: 4,
      skipped: 1,
      skippedWhy: { 'public client-credentials application (client_credentials needs a confidential client)': 1 },
    });
    expect(summary.accessTokens).toMatchObject({
      created: 7,
      skipped: 3,
      skippedWhy: {
        'user is inactive': 1,
        'client not imported': 1,
        'no user (and not a client-credentials application)': 1,
      },
    });
    expect(summary.clientCredentials).toEqual({ clients: 0, accessTokens: 0 });
    expect(summary.notes.join('\n')).not.toMatch(/client-credentials/);
    expect(await server.services.store.findClient(token('service_cc').application)).toBeNull();
    const seed = basic(SEED_CLIENT.client_id, SEED_CLIENT.client_secret);
    expect((await introspect(server, STRAY, seed)).json).toEqual({ active: false });
  });
});

/**
 * The built-in admin scopes are known whatever OAUTHD_SCOPES says, yet an import never hands them out: an imported
 * application allowed client_credentials would otherwise get an admin API token at once.
 */
describe('oauthd import django: the admin scopes', () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer(SERVER_ENV);
    dir = mkdtempSync(join(tmpdir(), 'oauthd-import-django-admin-'));
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[]) =>
    runOauthd(
      [
        'import',
        'django',
        '--from',
        join(FIXTURES, 'dot-1.7.sqlite3'),
        '--database-url',
        server.config.store.databaseUrl,
      ].concat(extra),
      { env: envWithoutOauthd(SERVER_ENV), timeoutMs: 20_000 },
    );

  it('refuses --scopes naming an admin scope, importing nothing', async () => {
    const refused = await run(['--scopes', 'read oauthd:admin']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/oauthd:admin is never imported/);
    expect(await server.services.store.findClient(SEED_CLIENT.client_id)).toBeNull();
  });

  it('gives no imported client an admin scope, nor an admin token to a client-credentials app', async () => {
    const imported = await run(['--json']);
    expect(imported.code).toBe(0);
    const clients = await server.services.store.listClients();
    expect(clients.length).toBeGreaterThan(0);
    for (const client of clients) expect(client.scopes).not.toContain('oauthd:admin');
    for (const client of clients) expect(client.scopes).not.toContain('oauthd:admin:read');
    const cc = clients.find((c) => c.grantTypes.includes('client_credentials'));
    expect(cc).toBeDefined();
    const auth = clientAuth(cc!.clientId);
    const asked = await postToken(server, { grant_type: 'client_credentials', scope: 'oauthd:admin' }, auth.headers);
    expect([asked.status, asked.json.error]).toEqual([400, 'invalid_scope']);
  });
});

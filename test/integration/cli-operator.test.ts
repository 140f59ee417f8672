/**
 * The commands an operator reaches for, run as an operator runs them: the built CLI (child processes)
 * against the database of a real server (SQLite, or PostgreSQL with OAUTHD_TEST_STORE=postgres), and that
 * server over real HTTP.
 *
 * - `client update`: only the options given change; a bad value changes nothing. Per-client default scopes
 *   (RFC 6749 §3.3: the scope used when a request names none). Narrowed scopes: live access tokens keep
 *   theirs until they expire; a refresh narrows the new one to the client's scopes (RFC 6749 §6: never a
 *   scope not originally granted). Running servers see a change within OAUTHD_CLIENT_CACHE_MS.
 * - `user show | sessions | revoke | rename | delete`, each audited with the actor.
 *
 * When running this file alone, run `npm run build` first.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, within, type CliResult } from '../helpers/cli.js';
import { tokenKey } from '../../src/core/tokens.js';
import { CLI } from '../helpers/process.js';
import {
  SEED,
  basic,
  postToken,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
const ACTOR = `cli:${userInfo().username}`;
/** OAUTHD_CLIENT_CACHE_MS is 1000 by default: a change must be seen within it (plus a request's time). */
const CACHE_BOUND_MS = 1500;

const cli = (args: string[]): Promise<CliResult> => runCli(server.config.store.databaseUrl, args);

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

const json = async <T = Record<string, unknown>>(args: string[]): Promise<T> =>
  JSON.parse(await ok([...args, '--json'])) as T;

async function audit(event: string): Promise<Record<string, unknown>[]> {
  await server.services.audit.flush();
  return json<Record<string, unknown>[]>(['audit', '--event', event, '--limit', '1000']);
}

/** A confidential client with a chosen secret and the scopes given (through the admin service, the CLI's path). */
async function newClient(id: string, scopes = 'read write') {
  await server.services.admin.createClient({ name: id, clientId: id, clientSecret: `${id}-secret`, scopes });
  return { id, secret: `${id}-secret` };
}

function login(
  client: { id: string; secret: string },
  username: string,
  password: string,
  extra: Record<string, string> = {},
) {
  return postToken(
    server,
    { grant_type: 'password', username, password, ...extra },
    { authorization: basic(client.id, client.secret) },
  );
}

function refresh(client: { id: string; secret: string }, refreshToken: string, extra: Record<string, string> = {}) {
  return postToken(
    server,
    { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
    { authorization: basic(client.id, client.secret) },
  );
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  server = await startTestServer();
  await seedSpecSample(server);
});

afterAll(async () => {
  await server?.stop();
});

describe('oauthd client update', () => {
  it(
    'changes only the options given, client show prints the default scopes, and each change is a client.updated ' +
      'event with the actor',
    async () => {
      const c = await newClient('update-one');
      const before = await json(['client', 'show', c.id]);
      expect(before.default_scopes).toBeNull();
      expect(await ok(['client', 'show', c.id])).toContain(
        "default scopes: (the server's OAUTHD_DEFAULT_SCOPES among its scopes)",
      );

      const renamed = await json(['client', 'update', c.id, '--name', 'Renamed app']);
      expect(renamed).toEqual({ ...before, name: 'Renamed app' });
      await ok(['client', 'update', c.id, '--default-scopes', 'read']);
      expect(await json(['client', 'show', c.id])).toEqual({
        ...before,
        name: 'Renamed app',
        default_scopes: ['read'],
      });
      expect(await ok(['client', 'show', c.id])).toContain('default scopes: read\n');
      await ok(['client', 'update', c.id, '--grant-types', 'password', '--scopes', 'read']);
      expect(await json(['client', 'show', c.id])).toEqual({
        ...before,
        name: 'Renamed app',
        default_scopes: ['read'],
        scopes: ['read'],
        grant_types: ['password'],
      });

      const events = (await audit('client.updated')).filter((e) => e.client_id === c.id);
      expect(events.map((e) => e.changed).reverse()).toEqual(['name', 'defaultScopes', 'scopes grantTypes']);
      for (const e of events) expect(e.actor).toBe(ACTOR);
      expect(events[0]).toMatchObject({ scope: 'read', scope_removed: 'write', grant_types: 'password' });
    },
  );

  it('refuses a bad value with one line on stderr and a non-zero exit, and changes nothing', async () => {
    const c = await newClient('update-bad');
    await ok(['client', 'update', c.id, '--default-scopes', 'write']);
    const before = await json(['client', 'show', c.id]);
    const bad = [
      ['--scopes', 'read admin'],
      ['--scopes', ''],
      ['--grant-types', 'password,implicit'],
      ['--name', '  '],
      ['--name', 'ok', '--default-scopes', 'nope'],
      // The client's own default scope (write) would fall outside its scopes.
      ['--scopes', 'read'],
      ['--scopes', 'read', '--default-scopes', 'write'],
      [],
    ];
    for (const args of bad) {
      const result = await cli(['client', 'update', c.id, ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(/^oauthd: /);
    }
    expect(await json(['client', 'show', c.id])).toEqual(before);
    const unknown = await cli(['client', 'update', 'no-such-client', '--name', 'x']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'oauthd: no client with id "no-such-client"\n' });
  });

  it(
    'a password grant without scope gets the client’s default scopes once set, and the server’s defaults among ' +
      'its scopes again once cleared, within the client cache’s bound',
    async () => {
      const c = await newClient('update-defaults');
      const scopeOfLogin = async () => (await login(c, SEED.username, SEED.password)).json.scope;
      expect(await scopeOfLogin()).toBe('read write');
      await ok(['client', 'update', c.id, '--default-scopes', 'read']);
      const took = await within(CACHE_BOUND_MS, async () => (await scopeOfLogin()) === 'read');
      expect(took).toBeLessThan(CACHE_BOUND_MS);
      // A request naming its scope still gets what it asks for (RFC 6749 §3.3: the default is for no scope).
      expect((await login(c, SEED.username, SEED.password, { scope: 'write' })).json.scope).toBe('write');
      await ok(['client', 'update', c.id, '--default-scopes', '']);
      await within(CACHE_BOUND_MS, async () => (await scopeOfLogin()) === 'read write');
      expect((await json(['client', 'show', c.id])).default_scopes).toBeNull();
    },
  );

  it(
    'narrowed scopes: a live access token keeps its scope until it expires, and a refresh narrows the new one to ' +
      'the client’s scopes (RFC 6749 §6)',
    async () => {
      const c = await newClient('update-narrow');
      const first = await login(c, SEED.username, SEED.password);
      expect(first.json.scope).toBe('read write');
      await ok(['client', 'update', c.id, '--scopes', 'read']);
      await within(
        CACHE_BOUND_MS,
        async () => (await login(c, SEED.username, SEED.password, { scope: 'write' })).status === 400,
      );

      // The access token issued before the change still works, with the scope it was issued with.
      const info = await userinfo(server, first.json.access_token as string);
      expect(info.status).toBe(200);
      // Its refresh gives an access token of the scopes the client may still have.
      const refreshed = await refresh(c, first.json.refresh_token as string);
      expect(refreshed.status).toBe(200);
      expect(refreshed.json.scope).toBe('read');
      expect(
        (await server.services.store.findAccessToken(tokenKey(refreshed.json.access_token as string)))?.scope,
      ).toEqual(['read']);
      // Asking for the lost scope again (it was originally granted, so not invalid_scope) still gets only read.
      const again = await refresh(c, refreshed.json.refresh_token as string, { scope: 'read write' });
      expect(again.json.scope).toBe('read');

      // Taking the grant type away is seen by the running server within the bound too.
      await ok(['client', 'update', c.id, '--grant-types', 'password']);
      await within(
        CACHE_BOUND_MS,
        async () => (await refresh(c, again.json.refresh_token as string)).json.error === 'unauthorized_client',
      );
    },
  );
});

describe('oauthd user show, sessions, revoke, rename, delete', () => {
  it(
    'user show prints id, username, active, created, whether a ' + 'password is set and the count of live sessions',
    async () => {
      const u = await server.services.admin.createUser('shown', 'shown-password');
      const seed = { id: SEED.clientId, secret: SEED.clientSecret };
      expect(await json(['user', 'show', 'shown'])).toEqual({
        id: u.id,
        username: 'shown',
        is_active: true,
        is_admin: false,
        has_usable_password: true,
        created_at: new Date(u.createdAt * 1000).toISOString(),
        live_sessions: 0,
      });
      for (let i = 0; i < 2; i++) expect((await login(seed, 'shown', 'shown-password')).status).toBe(200);
      expect((await json(['user', 'show', 'shown'])).live_sessions).toBe(2);
      const text = await ok(['user', 'show', 'shown']);
      expect(text).toContain(`id:            ${u.id}\n`);
      expect(text).toContain('password:      set\n');
      expect(text).toContain('admin:         no\n');
      expect(text).toContain('live sessions: 2\n');
      const unknown = await cli(['user', 'show', 'nobody']);
      expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'oauthd: no user named "nobody"\n' });
    },
  );

  it(
    'user sessions lists one live grant per login with its client, scope, start and latest refresh; user revoke ' +
      '--client revokes only that client’s, then the rest',
    async () => {
      await server.services.admin.createUser('sessions', 'sessions-password');
      const a = await newClient('sessions-a');
      const b = await newClient('sessions-b');
      const la = await login(a, 'sessions', 'sessions-password', { scope: 'read' });
      const lb1 = await login(b, 'sessions', 'sessions-password');
      const lb2 = await login(b, 'sessions', 'sessions-password');
      await new Promise((r) => setTimeout(r, 1100));
      const refreshed = await refresh(a, la.json.refresh_token as string);
      expect(refreshed.status).toBe(200);

      const sessions = (await json<{ grants: Record<string, string>[] }>(['user', 'sessions', 'sessions'])).grants;
      expect(sessions.map((s) => [s.client_id, s.scope])).toEqual([
        ['sessions-a', 'read'],
        ['sessions-b', 'read write'],
        ['sessions-b', 'read write'],
      ]);
      expect(Date.parse(sessions[0]!.last_used_at!)).toBeGreaterThan(Date.parse(sessions[0]!.created_at!));
      expect(sessions[1]!.last_used_at).toBe(sessions[1]!.created_at);
      expect(await ok(['user', 'sessions', 'sessions'])).toMatch(
        /^grants \(one per login\):\ngrant_id\tclient_id\tscope\tcreated\tlast used\n/,
      );

      expect(await ok(['user', 'revoke', 'sessions', '--client', 'sessions-b'])).toBe(
        'revoked 2 session(s) of sessions with client sessions-b\nforgot 0 consents\n',
      );
      for (const l of [lb1, lb2]) expect((await userinfo(server, l.json.access_token as string)).status).toBe(401);
      expect((await refresh(b, lb1.json.refresh_token as string)).json.error).toBe('invalid_grant');
      expect((await userinfo(server, refreshed.json.access_token as string)).status).toBe(200);
      const left = await json<{ grants: Record<string, string>[] }>(['user', 'sessions', 'sessions']);
      expect(left.grants.map((s) => s.client_id)).toEqual(['sessions-a']);

      const all = await json<{ revoked: number; grant_ids: string[] }>(['user', 'revoke', 'sessions']);
      expect(all.revoked).toBe(1);
      expect((await userinfo(server, refreshed.json.access_token as string)).status).toBe(401);
      expect(await ok(['user', 'sessions', 'sessions'])).toBe(
        'grants (one per login): no live sessions of sessions\n\nsign-in sessions: none\n\nremembered consents: none\n',
      );

      const events = (await audit('grant.revoked')).filter((e) => e.username === 'sessions');
      expect(events).toHaveLength(3);
      for (const e of events)
        expect(e).toMatchObject({
          actor: ACTOR,
          via: 'admin',
          user_id: expect.any(Number),
          grant_id: expect.any(String),
        });
      expect(events.map((e) => e.client_id).sort()).toEqual(['sessions-a', 'sessions-b', 'sessions-b']);
      expect((await cli(['user', 'revoke', 'sessions', '--client', 'no-such-client'])).stderr).toBe(
        'oauthd: no client with id "no-such-client"\n',
      );
    },
  );

  it(
    'user sessions lists sign-in sessions and consents; user revoke --client forgets that consent, user revoke ' +
      'forgets the rest and ends the sign-in sessions; user disable ends them too',
    async () => {
      const { store } = server.services;
      const u = await server.services.admin.createUser('signed-in', 'signed-in-password');
      await newClient('consent-a');
      await newClient('consent-b');
      const now = Math.floor(Date.now() / 1000);
      const cookies = [randomBytes(32), randomBytes(32)];
      for (const hash of cookies) {
        await store.createBrowserSession({
          hash: tokenKey(hash.toString('hex')),
          userId: u.id,
          createdAt: now,
          expiresAt: now + 3600,
        });
      }
      await store.recordConsent(u.id, 'consent-a', ['read'], now);
      await store.recordConsent(u.id, 'consent-b', ['read', 'write'], now);

      const held = await json<{
        grants: unknown[];
        sign_in_sessions: Record<string, string>[];
        consents: Record<string, string>[];
      }>(['user', 'sessions', 'signed-in']);
      expect(held.grants).toEqual([]);
      expect(held.sign_in_sessions).toHaveLength(2);
      for (const session of held.sign_in_sessions) {
        expect(session.id).toMatch(/^[0-9a-f]{8}$/);
        expect(Date.parse(session.expires_at!) - Date.parse(session.created_at!)).toBe(3_600_000);
      }
      expect(held.consents.map((c) => [c.client_id, c.scope])).toEqual([
        ['consent-a', 'read'],
        ['consent-b', 'read write'],
      ]);
      const text = await ok(['user', 'sessions', 'signed-in']);
      expect(text).toContain('\nsign-in sessions:\nid\tcreated\texpires\n');
      expect(text).toMatch(/\nremembered consents:\nclient_id\tscope\tgiven\tupdated\nconsent-a\tread\t/);

      expect(await ok(['user', 'revoke', 'signed-in', '--client', 'consent-a'])).toBe(
        'revoked 0 session(s) of signed-in with client consent-a\nforgot 1 consent (consent-a)\n',
      );
      const after = await json<{ sign_in_sessions: unknown[]; consents: Record<string, string>[] }>([
        'user',
        'sessions',
        'signed-in',
      ]);
      expect(after.consents.map((c) => c.client_id)).toEqual(['consent-b']);
      expect(after.sign_in_sessions).toHaveLength(2);

      expect(await json(['user', 'revoke', 'signed-in'])).toEqual({
        username: 'signed-in',
        revoked: 0,
        grant_ids: [],
        consents_revoked: ['consent-b'],
        sign_in_sessions_ended: 2,
      });
      for (const hash of cookies)
        expect(await store.findBrowserSession(tokenKey(hash.toString('hex')), now)).toBeNull();
      expect(await json(['user', 'sessions', 'signed-in'])).toEqual({ grants: [], sign_in_sessions: [], consents: [] });
      const consentEvents = (await audit('consent.revoked')).filter((e) => e.username === 'signed-in');
      expect(consentEvents.map((e) => e.client_id).sort()).toEqual(['consent-a', 'consent-b']);
      for (const e of consentEvents) expect(e).toMatchObject({ actor: ACTOR, via: 'admin', user_id: u.id });
      const ended = (await audit('session.ended')).filter((e) => e.username === 'signed-in');
      expect(ended).toEqual([expect.objectContaining({ sessions: 2, via: 'admin', actor: ACTOR })]);

      const again = randomBytes(32);
      await store.createBrowserSession({
        hash: tokenKey(again.toString('hex')),
        userId: u.id,
        createdAt: now,
        expiresAt: now + 3600,
      });
      expect(await json(['user', 'disable', 'signed-in'])).toEqual({
        username: 'signed-in',
        is_active: false,
        tokens_revoked: true,
        sign_in_sessions_ended: true,
      });
      expect(await json(['user', 'sessions', 'signed-in'])).toMatchObject({ sign_in_sessions: [] });
    },
  );

  it(
    'user rename keeps the user’s tokens working, lets the new name log in and not the old one, and refuses a ' +
      'taken name',
    async () => {
      const u = await server.services.admin.createUser('before-rename', 'rename-password');
      await server.services.admin.createUser('taken-name', 'x-password');
      const seed = { id: SEED.clientId, secret: SEED.clientSecret };
      const tokens = await login(seed, 'before-rename', 'rename-password');
      expect(await ok(['user', 'rename', 'before-rename', 'after-rename'])).toBe(
        'renamed before-rename to after-rename; their tokens keep working\n',
      );
      const info = await userinfo(server, tokens.json.access_token as string);
      expect(info.status).toBe(200);
      const renewed = await refresh(seed, tokens.json.refresh_token as string);
      expect(renewed.status).toBe(200);
      expect((await login(seed, 'before-rename', 'rename-password')).status).toBe(400);
      expect((await login(seed, 'after-rename', 'rename-password')).status).toBe(200);

      const taken = await cli(['user', 'rename', 'after-rename', 'taken-name']);
      expect(taken).toEqual({ code: 1, stdout: '', stderr: 'oauthd: a user named "taken-name" already exists\n' });
      expect((await json(['user', 'show', 'after-rename'])).id).toBe(u.id);
      const [event] = await audit('user.renamed');
      expect(event).toMatchObject({
        user_id: u.id,
        username: 'after-rename',
        previous_username: 'before-rename',
        actor: ACTOR,
      });
    },
  );

  it(
    'user delete needs the exact username, deletes the user, and ' + 'every token it holds stops working at once',
    async () => {
      const u = await server.services.admin.createUser('doomed', 'doomed-password');
      const seed = { id: SEED.clientId, secret: SEED.clientSecret };
      const tokens = await login(seed, 'doomed', 'doomed-password');
      expect((await cli(['user', 'delete', 'Doomed'])).stderr).toBe('oauthd: no user named "Doomed"\n');
      expect((await cli(['user', 'delete', 'doom'])).code).toBe(1);
      expect(await ok(['user', 'delete', 'doomed'])).toBe(
        `deleted user doomed (id ${u.id}) and its 1 live session(s)\n`,
      );
      expect((await userinfo(server, tokens.json.access_token as string)).status).toBe(401);
      expect((await refresh(seed, tokens.json.refresh_token as string)).json.error).toBe('invalid_grant');
      expect((await login(seed, 'doomed', 'doomed-password')).status).toBe(400);
      expect((await cli(['user', 'show', 'doomed'])).code).toBe(1);
      const [event] = await audit('user.deleted');
      expect(event).toMatchObject({ user_id: u.id, username: 'doomed', grants_deleted: 1, actor: ACTOR });
    },
  );
});

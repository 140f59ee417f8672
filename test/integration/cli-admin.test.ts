/**
 * The admin CLI's handling of secrets and its audit trail, as an operator runs it: the built
 * `dist/cli/main.js` in child processes against the store of a real server (SQLite, or PostgreSQL with
 * OAUTHD_TEST_STORE=postgres), and that server over real HTTP.
 *
 * - No secret needs to go on a command line: `--client-secret-stdin`, `--password-stdin`; the argv forms warn.
 * - `user set-password` revokes the user's tokens unless `--keep-tokens` (RFC 6819 §5.1.4.2.x: a changed
 *   credential after a leak must end the sessions it opened).
 * - Every admin action is an audit event naming its actor; `grant.revoked` (RFC 7009) names the user.
 *
 * When running this file alone, run `npm run build` first.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { CLI } from '../helpers/process.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

type RunResult = CliResult;

let server: TestServer;
/** Every secret given to or printed by the CLI here: none may reach an audit event. */
const secrets: string[] = [SEED.clientSecret, SEED.password];
const ACTOR = `cli:${userInfo().username}`;

/** `oauthd <args>` against the test server's database; `input` goes to its stdin. */
const cli = (args: string[], input = ''): Promise<RunResult> => runCli(server.config.store.databaseUrl, args, input);

async function ok(args: string[], input = ''): Promise<RunResult> {
  const result = await cli(args, input);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result;
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

async function audit(...args: string[]): Promise<Record<string, unknown>[]> {
  await server.services.audit.flush();
  return JSON.parse((await ok(['audit', '--json', '--limit', '1000', ...args])).stdout) as Record<string, unknown>[];
}

async function login(client: { id: string; secret: string }, user: { username: string; password: string }) {
  const result = await postToken(
    server,
    { grant_type: 'password', username: user.username, password: user.password },
    { authorization: basic(client.id, client.secret) },
  );
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  return result.json as { access_token: string; refresh_token: string };
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  server = await startTestServer();
  await seedSpecSample(server);
});

afterAll(async () => {
  await server?.stop();
});

describe('no secret needs to go on a command line', () => {
  it(
    'client create --client-secret-stdin keeps the secret read from stdin, prints nothing of it, and the client ' +
      'authenticates with it',
    async () => {
      const secret = 'stdin-Chosen-client-secret_42';
      secrets.push(secret);
      const result = await ok(
        ['client', 'create', '--name', 'From stdin', '--client-id', 'stdin-app', '--client-secret-stdin', '--json'],
        `${secret}\n`,
      );
      expect(result.stdout).not.toContain(secret);
      expect(JSON.parse(result.stdout)).toMatchObject({ client_id: 'stdin-app', client_type: 'confidential' });
      expect(JSON.parse(result.stdout)).not.toHaveProperty('client_secret');
      await login({ id: 'stdin-app', secret }, { username: SEED.username, password: SEED.password });
    },
  );

  it(
    'client create --client-secret still works but prints one warning line on stderr that names the stdin option ' +
      'and not the secret',
    async () => {
      const secret = 'argv-Chosen-client-secret_43';
      secrets.push(secret);
      const result = await cli([
        'client',
        'create',
        '--name',
        'From argv',
        '--client-id',
        'argv-app',
        '--client-secret',
        secret,
      ]);
      expect(result.code).toBe(0);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^oauthd: warning: --client-secret .*ps.*history.*--client-secret-stdin\n$/);
      expect(result.stderr).not.toContain(secret);
      await login({ id: 'argv-app', secret }, { username: SEED.username, password: SEED.password });
    },
  );

  it('refuses --client-secret together with --client-secret-stdin with one line, creating nothing', async () => {
    const result = await cli(
      [
        'client',
        'create',
        '--name',
        'Both',
        '--client-id',
        'both-app',
        '--client-secret',
        'x-secret-1',
        '--client-secret-stdin',
      ],
      'y-secret-2',
    );
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual(['oauthd: give either --client-secret or --client-secret-stdin, not both']);
    expect(await server.services.store.findClient('both-app')).toBeNull();
  });

  it(
    'user create --password prints one warning line naming ' + '--password-stdin; --password-stdin prints none',
    async () => {
      secrets.push('argv-Passw0rd-carol', 'stdin-Passw0rd-dave');
      const argv = await cli(['user', 'create', '--username', 'carol', '--password', 'argv-Passw0rd-carol']);
      expect(argv.code).toBe(0);
      expect(lines(argv.stderr)).toHaveLength(1);
      expect(argv.stderr).toMatch(/^oauthd: warning: --password .*--password-stdin\n$/);
      expect(argv.stderr).not.toContain('argv-Passw0rd-carol');
      await ok(['user', 'create', '--username', 'dave', '--password-stdin'], 'stdin-Passw0rd-dave\n');
      await login(
        { id: SEED.clientId, secret: SEED.clientSecret },
        { username: 'dave', password: 'stdin-Passw0rd-dave' },
      );
    },
  );
});

describe('user set-password', () => {
  const erin = { username: 'erin', password: 'erin-Passw0rd-1' };

  beforeAll(async () => {
    secrets.push(erin.password);
    await ok(['user', 'create', '--username', erin.username, '--password-stdin'], erin.password);
  });

  async function setPassword(password: string, ...flags: string[]) {
    secrets.push(password);
    const result = await ok(['user', 'set-password', erin.username, '--password-stdin', '--json', ...flags], password);
    erin.password = password;
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it(
    'revokes every token the user holds by default: an access token issued before gets 401 on /o/userinfo/, its ' +
      'refresh token invalid_grant',
    async () => {
      const before = await login({ id: SEED.clientId, secret: SEED.clientSecret }, erin);
      expect((await userinfo(server, before.access_token)).status).toBe(200);
      expect(await setPassword('erin-Passw0rd-2')).toEqual({
        username: 'erin',
        password_changed: true,
        tokens_revoked: true,
        sign_in_sessions_ended: true,
      });
      expect((await userinfo(server, before.access_token)).status).toBe(401);
      const refreshed = await postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: before.refresh_token },
        { authorization: basic(SEED.clientId, SEED.clientSecret) },
      );
      expect(refreshed.status).toBe(400);
      expect(refreshed.json.error).toBe('invalid_grant');
      await login({ id: SEED.clientId, secret: SEED.clientSecret }, erin);
    },
  );

  it('--keep-tokens keeps the tokens issued before the change valid', async () => {
    const before = await login({ id: SEED.clientId, secret: SEED.clientSecret }, erin);
    expect(await setPassword('erin-Passw0rd-3', '--keep-tokens')).toEqual({
      username: 'erin',
      password_changed: true,
      tokens_revoked: false,
      sign_in_sessions_ended: false,
    });
    expect((await userinfo(server, before.access_token)).status).toBe(200);
  });

  it(
    'still accepts --revoke-tokens (the default, for existing scripts), and refuses it together with ' +
      '--keep-tokens',
    async () => {
      const before = await login({ id: SEED.clientId, secret: SEED.clientSecret }, erin);
      expect(await setPassword('erin-Passw0rd-4', '--revoke-tokens')).toMatchObject({ tokens_revoked: true });
      expect((await userinfo(server, before.access_token)).status).toBe(401);
      const both = await cli(
        ['user', 'set-password', erin.username, '--password-stdin', '--keep-tokens', '--revoke-tokens'],
        'erin-Passw0rd-5',
      );
      expect(both.code).toBe(1);
      expect(lines(both.stderr)).toEqual(['oauthd: give either --keep-tokens or --revoke-tokens, not both']);
      await login({ id: SEED.clientId, secret: SEED.clientSecret }, erin); // the password did not change
    },
  );

  it('prints in words whether the tokens were revoked', async () => {
    secrets.push('erin-Passw0rd-6', 'erin-Passw0rd-7');
    expect((await ok(['user', 'set-password', erin.username, '--password-stdin'], 'erin-Passw0rd-6')).stdout).toBe(
      'password changed for erin; their tokens are revoked and their sign-in sessions ended\n',
    );
    expect(
      (await ok(['user', 'set-password', erin.username, '--password-stdin', '--keep-tokens'], 'erin-Passw0rd-7'))
        .stdout,
    ).toBe('password changed for erin; their tokens stay valid\n');
    erin.password = 'erin-Passw0rd-7';
  });
});

describe('admin actions in the audit trail', () => {
  let frank = 0;
  let rotated = '';

  beforeAll(async () => {
    secrets.push('frank-Passw0rd-1', 'frank-Passw0rd-2', 'audited-client-secret-1');
    frank = (
      JSON.parse(
        (await ok(['user', 'create', '--username', 'frank', '--password-stdin', '--json'], 'frank-Passw0rd-1')).stdout,
      ) as { id: number }
    ).id;
    await ok(['user', 'set-password', 'frank', '--password-stdin'], 'frank-Passw0rd-2');
    await ok(['user', 'disable', 'frank']);
    await ok(['user', 'enable', 'frank']);
    await ok(
      ['client', 'create', '--name', 'Audited', '--client-id', 'audited-app', '--client-secret-stdin'],
      'audited-client-secret-1',
    );
    rotated = (
      JSON.parse((await ok(['client', 'rotate-secret', 'audited-app', '--json'])).stdout) as { client_secret: string }
    ).client_secret;
    secrets.push(rotated);
    const generated = JSON.parse(
      (await ok(['client', 'create', '--name', 'Generated', '--client-id', 'generated-app', '--json'])).stdout,
    ) as { client_secret: string };
    secrets.push(generated.client_secret);
    await ok(['client', 'delete', 'audited-app']);
  });

  it(
    'records user.created, user.password_changed, user.disabled and user.enabled with the user and the actor ' +
      'cli:<OS user>',
    async () => {
      const events = (await audit('--user', 'frank')).reverse();
      expect(events.map((e) => e.event)).toEqual([
        'user.created',
        'user.password_changed',
        'user.disabled',
        'user.enabled',
      ]);
      for (const e of events)
        expect(e).toMatchObject({ username: 'frank', user_id: frank, actor: ACTOR, client_id: null, ip: null });
      expect(events[1]).toMatchObject({ tokens_revoked: true });
      expect(events[2]).toMatchObject({ tokens_revoked: true });
    },
  );

  it('records client.created, client.secret_rotated and client.deleted with the client and the actor', async () => {
    const events = (await audit('--client', 'audited-app')).reverse();
    expect(events.map((e) => e.event)).toEqual(['client.created', 'client.secret_rotated', 'client.deleted']);
    for (const e of events) expect(e).toMatchObject({ client_id: 'audited-app', actor: ACTOR });
    expect(events[0]).toMatchObject({
      client_type: 'confidential',
      secret: 'chosen',
      grant_types: 'password refresh_token',
      scope: 'read write',
    });
    const generated = await audit('--client', 'generated-app');
    expect(generated).toEqual([
      expect.objectContaining({ event: 'client.created', secret: 'generated', actor: ACTOR }),
    ]);
  });

  it('oauthd audit --event accepts each new event name and returns only that event', async () => {
    for (const name of [
      'user.created',
      'user.disabled',
      'user.enabled',
      'user.password_changed',
      'client.created',
      'client.deleted',
      'client.secret_rotated',
    ]) {
      const events = await audit('--event', name);
      expect(events.length, name).toBeGreaterThan(0);
      expect(
        events.every((e) => e.event === name),
        name,
      ).toBe(true);
      expect(
        events.some((e) => e.actor === ACTOR),
        name,
      ).toBe(true);
    }
    const text = await ok(['audit', '--event', 'client.deleted']);
    expect(text.stdout).toMatch(/client\.deleted {2}client=audited-app {2}user=- {2}ip=- {2}actor=cli:\S+/);
  });

  it('grant.revoked names the user whose grant was revoked (user_id and username)', async () => {
    const tokens = (await passwordGrant(server)).json as { access_token: string };
    const response = await fetch(`${server.oauthUrl}/revoke_token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(response.status).toBe(200);
    const seedUser = await server.services.store.findUserByUsername(SEED.username);
    const revoked = await audit('--event', 'grant.revoked');
    expect(revoked[0]).toMatchObject({
      client_id: SEED.clientId,
      username: SEED.username,
      user_id: seedUser!.id,
      via: 'access_token',
    });
  });

  it('never holds a secret or password given to or printed by the CLI', async () => {
    const table = JSON.stringify(await audit());
    expect(table).toContain('client.secret_rotated');
    const leaked = secrets.filter((s) => table.includes(s));
    expect(leaked).toEqual([]);
  });
});

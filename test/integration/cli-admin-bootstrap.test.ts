/**
 * `oauthd admin bootstrap`, `user create --admin` and `user update --admin | --no-admin`, as an operator runs
 * them: the built `dist/cli/main.js` in child processes against the store of a real server (SQLite, or
 * PostgreSQL with OAUTHD_TEST_STORE=postgres), and that server over real HTTP. And the promise that the CLI and
 * the admin API cannot drift: a change made by the CLI and the same change made through the core action the
 * API calls (services.adminAs) write the same audit events with the same fields, the actor aside.
 *
 * When running this file alone, run `npm run build` first.
 */
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { basic, postToken, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const ACTOR = `cli:${userInfo().username}`;

const cli = (args: string[], input = ''): Promise<CliResult> => runCli(server.config.store.databaseUrl, args, input);

async function ok(args: string[], input = ''): Promise<CliResult> {
  const result = await cli(args, input);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result;
}

async function audit(...args: string[]): Promise<Record<string, unknown>[]> {
  await server.services.audit.flush();
  return JSON.parse((await ok(['audit', '--json', '--limit', '1000', ...args])).stdout) as Record<string, unknown>[];
}

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

describe('oauthd admin bootstrap', () => {
  it('refuses without exactly one of --username and --client, changing nothing', async () => {
    for (const args of [[], ['--username', 'a', '--client', 'b']]) {
      const result = await cli(['admin', 'bootstrap', ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('give either --username (an admin user) or --client (an admin client)');
    }
    expect(await server.services.admin.admins()).toEqual({ users: [], clients: [] });
  });

  it('creates an admin client whose secret, printed once, gets an oauthd:admin token', async () => {
    const created = JSON.parse(
      (await ok(['admin', 'bootstrap', '--client', 'ops scripts', '--client-id', 'ops', '--json'])).stdout,
    ) as { client_id: string; client_secret: string; scopes: string[] };
    expect(created).toMatchObject({ client_id: 'ops', scopes: ['oauthd:admin'] });
    const token = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic(created.client_id, created.client_secret) },
    );
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('oauthd:admin');
    const principal = await server.services.bearer.validate(token.json.access_token as string);
    expect(principal).toMatchObject({ clientId: 'ops', userId: null, userIsAdmin: false });
    // The secret is in no audit event.
    expect(JSON.stringify(await audit('--client', 'ops'))).not.toContain(created.client_secret);
  });

  it('run again, says which admin exists, exits 1 and changes nothing', async () => {
    const again = await cli(['admin', 'bootstrap', '--username', 'root', '--password-stdin'], 'root-password-1\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('an admin already exists (client "ops"); nothing was changed');
    expect(await server.services.store.findUserByUsername('root')).toBeNull();
    const client = await cli(['admin', 'bootstrap', '--client', 'more']);
    expect(client.code).toBe(1);
    expect((await server.services.admin.listClients()).map((c) => c.clientId)).toEqual(['ops']);
  });
});

describe('oauthd user create --admin and user update --admin | --no-admin', () => {
  it('makes an admin whose password-grant token carries oauthd:admin, and takes it back', async () => {
    const created = JSON.parse(
      (await ok(['user', 'create', '--username', 'ann', '--admin', '--password-stdin', '--json'], 'ann-password-1\n'))
        .stdout,
    ) as { is_admin: boolean };
    expect(created.is_admin).toBe(true);
    await server.services.admin.createClient({
      name: 'console-like',
      clientId: 'admin-app',
      clientSecret: 'admin-app-secret',
      grantTypes: ['password'],
      scopes: 'read oauthd:admin',
    });
    const login = () =>
      postToken(
        server,
        { grant_type: 'password', username: 'ann', password: 'ann-password-1', scope: 'read oauthd:admin' },
        { authorization: basic('admin-app', 'admin-app-secret') },
      );
    const asAdmin = await login();
    expect(asAdmin.json.scope).toBe('read oauthd:admin');
    const token = asAdmin.json.access_token as string;
    expect((await server.services.bearer.validate(token)).userIsAdmin).toBe(true);

    // The last active admin stays one: nobody could sign in to the console any more.
    const last = await cli(['user', 'update', 'ann', '--no-admin']);
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('"ann" is the last active admin and cannot be made an ordinary user');
    expect((await server.services.bearer.validate(token)).userIsAdmin).toBe(true);
    await server.services.admin.createUser('keeper', 'keeper-password', { isAdmin: true });

    expect((await ok(['user', 'update', 'ann', '--no-admin'])).stdout).toBe('ann is no longer an admin\n');
    // Taking the flag revokes the grants holding an admin scope (a refresh would keep it, RFC 6749 §6).
    await expect(server.services.bearer.validate(token)).rejects.toThrow('The access token has been revoked.');
    expect((await login()).json.scope).toBe('read');
    const listed = (await ok(['user', 'list'])).stdout;
    expect(listed).toMatch(/\tkeeper\tactive\tadmin/);
    expect(listed).not.toMatch(/\tann\t.*admin/);
    await ok(['user', 'update', 'ann', '--admin']);
    expect((await ok(['user', 'list'])).stdout).toMatch(/\tann\tactive\tadmin/);
  });

  it('refuses user update without --admin or --no-admin', async () => {
    const result = await cli(['user', 'update', 'ann']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing to change: give --admin or --no-admin');
  });
});

describe('the CLI and the admin API write the same audit events', () => {
  /** Events of `username`, oldest first, without what differs by nature (when, which row, who acted). */
  async function trail(username: string): Promise<Record<string, unknown>[]> {
    const events = (await audit('--user', username)).reverse();
    return events.map(({ at: _at, user_id: _id, username: _name, ...rest }) => rest);
  }

  it('creates, disables, enables, renames and grants admin alike, the actor aside', async () => {
    const api = server.services.adminAs('api:user:ann');
    await ok(['user', 'create', '--username', 'cli-user', '--password-stdin'], 'cli-user-password\n');
    await ok(['user', 'disable', 'cli-user']);
    await ok(['user', 'enable', 'cli-user']);
    await ok(['user', 'update', 'cli-user', '--admin']);
    await ok(['user', 'rename', 'cli-user', 'cli-user2']);

    await api.createUser('api-user', 'api-user-password');
    await api.updateUser('api-user', { isActive: false });
    await api.updateUser('api-user', { isActive: true });
    await api.updateUser('api-user', { isAdmin: true });
    await api.updateUser('api-user', { username: 'api-user2' });

    // Renamed: the earlier events name the old username; --user finds the events of each name.
    const cliAll = [...(await trail('cli-user')), ...(await trail('cli-user2'))];
    const apiAll = [...(await trail('api-user')), ...(await trail('api-user2'))];
    expect(cliAll.map((e) => e.event)).toEqual([
      'user.created',
      'user.disabled',
      'user.enabled',
      'user.admin_granted',
      'user.renamed',
    ]);
    expect(cliAll.every((e) => e.actor === ACTOR)).toBe(true);
    expect(apiAll.every((e) => e.actor === 'api:user:ann')).toBe(true);
    const withoutActor = (events: typeof cliAll) =>
      events.map(({ actor: _a, previous_username: previous, ...rest }) => ({
        ...rest,
        ...(previous !== undefined ? { previous_username: String(previous).replace(/^(cli|api)-/, '') } : {}),
      }));
    expect(withoutActor(apiAll)).toEqual(withoutActor(cliAll));
  });
});

/**
 * The admin CLI and `oauthd serve`, as an operator runs them: the built `dist/cli/main.js` in child
 * processes against fresh SQLite files, and the running server over real HTTP.
 *
 * `npm test` builds dist/ first; when running this file alone, run `npm run build` before.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  ROOT,
  envWithoutOauthd,
  runOauthd,
  spawnServer,
  type ExitStatus,
  type RunResult,
  type ServerProcess,
} from '../helpers/process.js';

/** What the start-up line says the admin listener serves. */
const ADMIN_PATHS = '/metrics, /healthz, /readyz, /admin/v1/, /console/';

const INVALID_CREDENTIALS = { error: 'invalid_grant', error_description: 'Invalid credentials given.' };

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

let tmpRoot = '';

/** A fresh directory under this file's temporary root (removed in afterAll). */
function freshDir(name: string): string {
  const dir = join(tmpRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The child's environment: this process's, without any OAUTHD_* setting that could leak in, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // The admin listener on a free port: the default, 8001, would collide between servers run side by side.
  return envWithoutOauthd({ OAUTHD_LOG_LEVEL: 'warn', OAUTHD_WORKERS: '1', OAUTHD_ADMIN_PORT: '0', ...env });
}

/** Runs `oauthd <args>` to completion; `input` is written to its stdin (which is then closed). */
function run(
  args: string[],
  options: { env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<RunResult> {
  // A command that should fail fast but starts a server instead must not hang the suite.
  return runOauthd(args, {
    env: childEnv(options.env),
    input: options.input ?? '',
    timeoutMs: options.timeoutMs ?? 15_000,
  });
}

/** Runs a command that must succeed; fails with its stderr otherwise. */
async function ok(args: string[], options: { env: Record<string, string>; input?: string }): Promise<RunResult> {
  const result = await run(args, options);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result;
}

/** The non-empty lines of a stream's text. */
const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

/**
 * Starts `oauthd serve <args>`, waits until it announces its token endpoint on stderr, then until it answers
 * GET /healthz: serve installs its SIGTERM handler only after the announcement (see the shutdown test at
 * the end), so the other tests wait one round trip before they may stop it.
 */
async function serve(args: string[], env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServe(args, env);
  try {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  } catch (error) {
    server.process.kill('SIGKILL');
    throw error;
  }
  return server;
}

/**
 * Starts `oauthd serve <args>` and resolves as soon as it announces its token endpoint and admin listener on
 * stderr.
 */
function startServe(args: string[], env: Record<string, string>): Promise<ServerProcess> {
  return spawnServer(env, args, { baseEnv: childEnv({}), timeoutMs: 10_000 });
}

/** SIGTERM, then how it exited. */
async function stopServe(server: ServerProcess): Promise<ExitStatus> {
  await server.stop();
  return server.exited;
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

interface JsonResponse {
  status: number;
  json: Record<string, unknown>;
}

async function passwordGrant(
  tokenUrl: string,
  client: { id: string; secret: string },
  user: { username: string; password: string },
): Promise<JsonResponse> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
    body: new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function userinfo(origin: string, accessToken: string, basePath = ''): Promise<JsonResponse> {
  const response = await fetch(`${origin}${basePath}/o/userinfo/`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The shape of every successful password grant in this file (default TTL and scopes). */
const TOKEN_RESPONSE = {
  access_token: expect.any(String),
  expires_in: 3600,
  refresh_token: expect.any(String),
  scope: 'read write',
  token_type: 'Bearer',
};

/** Every plaintext credential used in the main store, checked against its bytes at the end. */
const plaintexts: string[] = [];

/** A successful password grant; its tokens are remembered as plaintexts that must never reach the store. */
async function login(
  tokenUrl: string,
  client: { id: string; secret: string },
  user: { username: string; password: string },
) {
  const result = await passwordGrant(tokenUrl, client, user);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  expect(result.json).toEqual(TOKEN_RESPONSE);
  const tokens = { accessToken: result.json.access_token as string, refreshToken: result.json.refresh_token as string };
  plaintexts.push(tokens.accessToken, tokens.refreshToken);
  return tokens;
}

beforeAll(() => {
  tmpRoot = mkdtempSync(join(tmpdir(), 'oauthd-cli-test-'));
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
});

afterAll(() => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// The main store: created by migrate, filled by the admin commands, served, and finally inspected byte by byte
// ---------------------------------------------------------------------------------------------------------

describe('oauthd admin CLI and server on one SQLite store', () => {
  let databasePath = '';
  let env: Record<string, string> = {};

  /** The client whose secret oauthd generated. */
  const generated = { id: '', secret: '' };
  /** The client whose credentials were given on the command line. */
  const chosen = { id: 'legacy-app.example', secret: 'Ch0sen-legacy-secret_value.with~symbols!' };
  const alice = { username: 'alice', password: 'correct horse battery staple' };
  const bob = { username: 'bob', password: 'b0b-initial-Passw0rd' };

  let server: ServerProcess | undefined;

  beforeAll(() => {
    // A directory that does not exist yet: migrate creates it along with the file.
    databasePath = join(freshDir('main'), 'nested', 'oauthd.sqlite3');
    env = { OAUTHD_DATABASE_URL: `sqlite:${databasePath}` };
    plaintexts.push(chosen.secret, alice.password, bob.password);
  });

  afterAll(async () => {
    if (!server) return;
    const { code, signal } = await stopServe(server);
    // Graceful shutdown: SIGTERM closes the server and the store, then exits 0.
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  describe('migrate', () => {
    it('creates the database file (and its directory) and exits 0', async () => {
      expect(existsSync(databasePath)).toBe(false);
      const result = await ok(['migrate'], { env });
      expect(result.stdout).toMatch(/^created the database schema \(version \d+\) in sqlite:.*oauthd\.sqlite3\n$/);
      expect(existsSync(databasePath)).toBe(true);
    });

    it('is idempotent: running it again on the migrated store exits 0', async () => {
      await ok(['migrate'], { env });
      const json = await ok(['migrate', '--json'], { env });
      expect(JSON.parse(json.stdout)).toMatchObject({ migrated: true, database: `sqlite:${databasePath}` });
      expect(JSON.parse(json.stdout).from_version).toBe(JSON.parse(json.stdout).version);
    });
  });

  describe('client create with a generated secret', () => {
    it('prints the generated client_secret exactly once in the human output', async () => {
      const result = await ok(['client', 'create', '--name', 'Human output app'], { env });
      const secrets = [...result.stdout.matchAll(/^client_secret: (\S+)$/gm)].map((m) => m[1]!);
      expect(secrets).toHaveLength(1);
      const secret = secrets[0]!;
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(result.stdout.split(secret)).toHaveLength(2); // the secret appears once, not twice
      expect(result.stdout).toMatch(/^client_id: {3}\S+$/m);
      expect(result.stdout).toContain('only its hash is kept, it cannot be shown again');
      plaintexts.push(secret);
    });

    it('returns client_id, client_type, grant_types, scopes and client_secret with --json', async () => {
      const result = await ok(['client', 'create', '--name', 'My App', '--json'], { env });
      const json = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(json).toEqual({
        client_id: expect.any(String),
        name: 'My App',
        client_type: 'confidential',
        grant_types: ['password', 'refresh_token'],
        scopes: ['read', 'write'],
        default_scopes: null,
        introspect: false,
        // Every field null: the server's settings (docs/clients.md, "Per-client policy").
        policy: {
          access_token_ttl: null,
          refresh_token_ttl: null,
          refresh_idle_ttl: null,
          refresh_grace: null,
          allowed_networks: null,
          rate_limit_per_minute: null,
          password_grant_sunset: null,
          // No redirect URI (no code flow), consent asked, PKCE with S256 required (docs/clients.md).
          redirect_uris: [],
          skip_consent: false,
          pkce: 'S256',
        },
        client_secret: expect.any(String),
        created_at: expect.any(String),
      });
      generated.id = json.client_id as string;
      generated.secret = json.client_secret as string;
      expect(generated.id).not.toBe('');
      expect(generated.secret.length).toBeGreaterThanOrEqual(32);
      expect(generated.secret).not.toBe(generated.id);
      plaintexts.push(generated.secret);
    });

    it('client show and client list never print the secret or any hash, as text or JSON', async () => {
      const outputs = [
        await ok(['client', 'show', generated.id], { env }),
        await ok(['client', 'show', generated.id, '--json'], { env }),
        await ok(['client', 'list'], { env }),
        await ok(['client', 'list', '--json'], { env }),
      ];
      for (const { stdout } of outputs) {
        expect(stdout).toContain(generated.id);
        expect(stdout).not.toContain(generated.secret);
        expect(stdout).not.toContain('sha256$');
        expect(stdout).not.toContain('$argon2');
        expect(stdout).not.toMatch(/secret/i);
      }
      const shown = JSON.parse(outputs[1]!.stdout) as Record<string, unknown>;
      expect(shown).toMatchObject({ client_id: generated.id, name: 'My App', client_type: 'confidential' });
      const listed = JSON.parse(outputs[3]!.stdout) as Record<string, unknown>[];
      expect(listed.map((c) => c.client_id)).toContain(generated.id);
      for (const c of listed)
        expect(Object.keys(c).sort()).toEqual([
          'client_id',
          'client_type',
          'created_at',
          'default_scopes',
          'grant_types',
          'introspect',
          'name',
          'policy',
          'scopes',
        ]);
    });
  });

  describe('client create with given credentials', () => {
    it('keeps the given client id and secret and does not echo the secret', async () => {
      const result = await ok(
        ['client', 'create', '--name', 'Legacy', '--client-id', chosen.id, '--client-secret-stdin', '--json'],
        { env, input: `${chosen.secret}\n` },
      );
      expect(result.stdout).not.toContain(chosen.secret);
      const json = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(json).toMatchObject({ client_id: chosen.id, client_type: 'confidential' });
      expect(json).not.toHaveProperty('client_secret');

      const shown = await ok(['client', 'show', chosen.id], { env });
      expect(shown.stdout).toContain(`client_id:   ${chosen.id}`);
      for (const forbidden of [chosen.secret, 'sha256$', '$argon2']) expect(shown.stdout).not.toContain(forbidden);
    });

    it('keeps the secret out of the human output too', async () => {
      const secret = 'another-Chosen-secret-42';
      plaintexts.push(secret);
      const result = await ok(
        ['client', 'create', '--name', 'Legacy 2', '--client-id', 'legacy-2', '--client-secret-stdin'],
        { env, input: secret },
      );
      expect(result.stdout).toContain('client_id:   legacy-2');
      expect(result.stdout).not.toContain(secret);
      expect(result.stdout).not.toContain('client_secret');
    });

    it('refuses a client id that already exists, exiting non-zero with exactly one line on stderr', async () => {
      const result = await run(
        ['client', 'create', '--name', 'Again', '--client-id', chosen.id, '--client-secret-stdin'],
        { env, input: 'whatever-secret' },
      );
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
      expect(result.stderr).toContain('already exists');
      expect(result.stderr).toContain(chosen.id);
      expect(result.stderr).not.toContain('whatever-secret');
    });

    it(
      'client create --introspect marks a resource server, and ' + 'client show and client list --json say so',
      async () => {
        const created = await ok(
          ['client', 'create', '--name', 'Payouts API', '--client-id', 'payouts-api', '--introspect', '--json'],
          { env },
        );
        expect(JSON.parse(created.stdout)).toMatchObject({
          client_id: 'payouts-api',
          client_type: 'confidential',
          introspect: true,
        });
        plaintexts.push((JSON.parse(created.stdout) as { client_secret: string }).client_secret);
        const shown = await ok(['client', 'show', 'payouts-api'], { env });
        expect(shown.stdout).toMatch(/^introspect: {2}yes\b/m);
        expect(JSON.parse((await ok(['client', 'show', 'payouts-api', '--json'], { env })).stdout)).toMatchObject({
          introspect: true,
        });
        const listed = JSON.parse((await ok(['client', 'list', '--json'], { env })).stdout) as {
          client_id: string;
          introspect: boolean;
        }[];
        expect(listed.find((c) => c.client_id === 'payouts-api')?.introspect).toBe(true);
        expect(listed.find((c) => c.client_id === chosen.id)?.introspect).toBe(false);
        expect((await ok(['client', 'show', chosen.id], { env })).stdout).toMatch(/^introspect: {2}no$/m);
      },
    );

    it('refuses --public together with --introspect with one line on stderr, creating nothing', async () => {
      const result = await run(
        ['client', 'create', '--name', 'Pub RS', '--client-id', 'pub-rs', '--public', '--introspect'],
        { env },
      );
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual([
        'oauthd: a public client cannot introspect: it has no secret to prove it is the resource server',
      ]);
      expect((await run(['client', 'show', 'pub-rs'], { env })).code).not.toBe(0);
    });

    it('refuses --public together with --client-secret-stdin', async () => {
      const result = await run(['client', 'create', '--name', 'Pub', '--public', '--client-secret-stdin'], {
        env,
        input: 'pub-secret-xyz',
      });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual(['oauthd: a public client has no secret']);
    });

    it('refuses an unknown scope in --scopes, naming it', async () => {
      const result = await run(['client', 'create', '--name', 'Scopes', '--scopes', 'read admin'], { env });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toContain('unknown scope(s): admin');
    });

    it('refuses a --grant-types list with an unsupported grant type', async () => {
      const known =
        'password, client_credentials, refresh_token, authorization_code, ' +
        'urn:ietf:params:oauth:grant-type:device_code (or device_code for the last)';
      for (const grantTypes of ['password,implicit', ',']) {
        const result = await run(['client', 'create', '--name', 'Grants', '--grant-types', grantTypes], { env });
        expect(result.code, grantTypes).not.toBe(0);
        expect(result.stdout, grantTypes).toBe('');
        expect(lines(result.stderr), grantTypes).toEqual([`oauthd: grant types must be among: ${known}`]);
      }
      // Known, but the code flow needs somewhere to send the code (docs/clients.md).
      const code = await run(['client', 'create', '--name', 'Grants', '--grant-types', 'authorization_code'], { env });
      expect(code.code).not.toBe(0);
      expect(lines(code.stderr)).toEqual([
        'oauthd: the authorization_code grant needs at least one --redirect-uri: there is nowhere else to send ' +
          'the code',
      ]);
    });

    it('did not store any of the refused clients', async () => {
      const listed = JSON.parse((await ok(['client', 'list', '--json'], { env })).stdout) as { name: string }[];
      expect(listed.map((c) => c.name).sort()).toEqual([
        'Human output app',
        'Legacy',
        'Legacy 2',
        'My App',
        'Payouts API',
      ]);
    });
  });

  describe('user create and user list', () => {
    it('creates a user with the password read from stdin', async () => {
      const result = await ok(['user', 'create', '--username', alice.username, '--password-stdin'], {
        env,
        input: `${alice.password}\n`,
      });
      expect(result.stdout).toMatch(/^created user alice \(id \d+\)\n$/);
      expect(result.stdout).not.toContain(alice.password);
      const json = await ok(['user', 'create', '--username', bob.username, '--password-stdin', '--json'], {
        env,
        input: bob.password,
      });
      expect(JSON.parse(json.stdout)).toMatchObject({ username: 'bob', is_active: true, has_usable_password: true });
    });

    it('refuses both --password and --password-stdin with one clear stderr line', async () => {
      const result = await run(
        ['user', 'create', '--username', 'carol', '--password', 'pw-on-argv-1', '--password-stdin'],
        {
          env,
          input: 'pw-on-stdin-1\n',
        },
      );
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual(['oauthd: give either --password or --password-stdin, not both']);
    });

    it('refuses a user create without any password option with one clear stderr line', async () => {
      const result = await run(['user', 'create', '--username', 'carol'], { env });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toContain('--password-stdin');
    });

    it('refuses a duplicate username, exiting non-zero with one stderr line', async () => {
      const result = await run(['user', 'create', '--username', alice.username, '--password-stdin'], {
        env,
        input: 'some-other-password',
      });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual(['oauthd: a user named "alice" already exists']);
    });

    it('user list --json shows is_active and never a password hash', async () => {
      const text = await ok(['user', 'list'], { env });
      const json = await ok(['user', 'list', '--json'], { env });
      for (const { stdout } of [text, json]) {
        for (const forbidden of ['$argon2', alice.password, bob.password, 'password_hash'])
          expect(stdout).not.toContain(forbidden);
      }
      expect(text.stdout).toMatch(/^\d+\talice\tactive$/m);
      const users = JSON.parse(json.stdout) as Record<string, unknown>[];
      expect(users).toEqual([
        {
          id: expect.any(Number),
          username: 'alice',
          is_active: true,
          is_admin: false,
          has_usable_password: true,
          created_at: expect.any(String),
        },
        {
          id: expect.any(Number),
          username: 'bob',
          is_active: true,
          is_admin: false,
          has_usable_password: true,
          created_at: expect.any(String),
        },
      ]);
    });
  });

  describe('serve, and the admin commands acting on the running server', () => {
    beforeAll(async () => {
      const port = await freePort();
      server = await serve([], { ...env, OAUTHD_HOST: '127.0.0.1', OAUTHD_PORT: String(port) });
      expect(server.tokenUrl).toBe(`http://127.0.0.1:${port}/o/token/`);
    });

    it('does not print the empty-store hint when clients and users exist', () => {
      expect(server!.stderr()).not.toContain('oauthd client create');
      expect(lines(server!.stderr())).toEqual([
        `oauthd: token endpoint at ${server!.tokenUrl}`,
        `oauthd: admin listener (${ADMIN_PATHS}; keep it private) at ${server!.adminUrl}`,
      ]);
    });

    it('issues tokens to the client with a generated secret and to the client with a chosen secret', async () => {
      const a = await login(server!.tokenUrl, generated, alice);
      const b = await login(server!.tokenUrl, chosen, bob);
      expect(a.accessToken).not.toBe(b.accessToken);
      const info = await userinfo(server!.url, a.accessToken);
      expect(info.status).toBe(200);
      expect(info.json).toMatchObject({ username: 'alice', client_id: generated.id, scope: 'read write' });
    });

    it('client rotate-secret makes the old secret fail with 401 invalid_client and the new one work', async () => {
      const result = await ok(['client', 'rotate-secret', generated.id, '--json'], { env });
      const json = JSON.parse(result.stdout) as { client_id: string; client_secret: string };
      expect(json.client_id).toBe(generated.id);
      expect(json.client_secret).not.toBe(generated.secret);
      plaintexts.push(json.client_secret);

      // The server caches clients for OAUTHD_CLIENT_CACHE_MS (1 s): the old secret goes within that bound.
      const rotatedAt = performance.now();
      let old = await passwordGrant(server!.tokenUrl, generated, alice);
      while (old.status === 200 && performance.now() - rotatedAt < 1_500) {
        await new Promise((r) => setTimeout(r, 50));
        old = await passwordGrant(server!.tokenUrl, generated, alice);
      }
      expect(old.status).toBe(401);
      expect(old.json.error).toBe('invalid_client');

      generated.secret = json.client_secret;
      await login(server!.tokenUrl, generated, alice);
    });

    it(
      'user set-password --keep-tokens makes the old password fail with invalid_grant and the new one work, ' +
        'keeping tokens',
      async () => {
        const before = await login(server!.tokenUrl, generated, alice);
        const newPassword = 'alice-second-Passw0rd';
        plaintexts.push(newPassword);
        const result = await ok(['user', 'set-password', alice.username, '--password-stdin', '--keep-tokens'], {
          env,
          input: `${newPassword}\n`,
        });
        expect(result.stdout).toBe('password changed for alice; their tokens stay valid\n');

        const old = await passwordGrant(server!.tokenUrl, generated, alice);
        expect(old.status).toBe(400);
        expect(old.json).toEqual(INVALID_CREDENTIALS);

        alice.password = newPassword;
        await login(server!.tokenUrl, generated, alice);
        // With --keep-tokens, tokens issued before the change stay valid.
        expect((await userinfo(server!.url, before.accessToken)).status).toBe(200);
      },
    );

    it(
      'user set-password (revoking by default) makes a previously ' + 'issued access token get 401 on /o/userinfo/',
      async () => {
        const before = await login(server!.tokenUrl, generated, alice);
        expect((await userinfo(server!.url, before.accessToken)).status).toBe(200);
        const newPassword = 'alice-third-Passw0rd';
        plaintexts.push(newPassword);
        const result = await ok(['user', 'set-password', alice.username, '--password-stdin'], {
          env,
          input: newPassword,
        });
        expect(result.stdout).toBe(
          'password changed for alice; their tokens are revoked and their sign-in sessions ended\n',
        );

        const info = await userinfo(server!.url, before.accessToken);
        expect(info.status).toBe(401);
        expect(info.json.error).toBe('invalid_token');
        alice.password = newPassword;
        await login(server!.tokenUrl, generated, alice);
      },
    );

    it('user disable refuses logins with the same invalid_grant body and revokes tokens issued before', async () => {
      const before = await login(server!.tokenUrl, chosen, bob);
      expect((await userinfo(server!.url, before.accessToken)).status).toBe(200);
      const result = await ok(['user', 'disable', bob.username], { env });
      expect(result.stdout).toBe('disabled bob; their tokens are revoked and their sign-in sessions ended\n');

      const refused = await passwordGrant(server!.tokenUrl, chosen, bob);
      expect(refused.status).toBe(400);
      expect(refused.json).toEqual(INVALID_CREDENTIALS);
      const info = await userinfo(server!.url, before.accessToken);
      expect(info.status).toBe(401);
      expect(info.json.error).toBe('invalid_token');

      const users = JSON.parse((await ok(['user', 'list', '--json'], { env })).stdout) as {
        username: string;
        is_active: boolean;
      }[];
      expect(users.find((u) => u.username === 'bob')?.is_active).toBe(false);
      expect(users.find((u) => u.username === 'alice')?.is_active).toBe(true);
    });

    it('user enable lets the disabled user log in again', async () => {
      const result = await ok(['user', 'enable', bob.username, '--json'], { env });
      expect(JSON.parse(result.stdout)).toEqual({ username: 'bob', is_active: true });
      const tokens = await login(server!.tokenUrl, chosen, bob);
      expect((await userinfo(server!.url, tokens.accessToken)).status).toBe(200);
    });

    it(
      'client delete revokes its tokens (401 on /o/userinfo/) ' + 'and the client then gets 401 invalid_client',
      async () => {
        const tokens = await login(server!.tokenUrl, chosen, bob);
        const other = await login(server!.tokenUrl, generated, alice);
        const result = await ok(['client', 'delete', chosen.id], { env });
        expect(result.stdout).toBe(`deleted client ${chosen.id} and its tokens\n`);

        const info = await userinfo(server!.url, tokens.accessToken);
        expect(info.status).toBe(401);
        expect(info.json.error).toBe('invalid_token');
        const refused = await passwordGrant(server!.tokenUrl, chosen, bob);
        expect(refused.status).toBe(401);
        expect(refused.json.error).toBe('invalid_client');
        // Another client's tokens are untouched.
        expect((await userinfo(server!.url, other.accessToken)).status).toBe(200);

        const again = await run(['client', 'show', chosen.id], { env });
        expect(again.code).not.toBe(0);
        expect(lines(again.stderr)).toEqual([`oauthd: no client with id "${chosen.id}"`]);
      },
    );

    it(
      'never writes a client secret, password or token given or ' + 'issued in plaintext to the SQLite file or its WAL',
      () => {
        expect(plaintexts.length).toBeGreaterThanOrEqual(20);
        const files = [databasePath, `${databasePath}-wal`].filter((path) => existsSync(path));
        expect(files).toContain(databasePath);
        const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
        expect(bytes.length).toBeGreaterThan(0);
        // Sanity: the store does hold the data (names and ids), just not the secrets.
        expect(bytes.includes('legacy-2')).toBe(true);
        const leaked = plaintexts.filter((secret) => bytes.includes(secret));
        expect(leaked).toEqual([]);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// serve: start-up messages, configuration errors, flags, base path
// ---------------------------------------------------------------------------------------------------------

describe('oauthd serve', () => {
  it('prints on stderr the commands that create a client and a user when the store is empty', async () => {
    const dir = freshDir('empty');
    const port = await freePort();
    const server = await serve([], {
      OAUTHD_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
      OAUTHD_PORT: String(port),
    });
    try {
      const stderr = lines(server.stderr());
      expect(stderr.some((line) => line.includes('oauthd client create'))).toBe(true);
      expect(stderr.some((line) => line.includes('oauthd user create'))).toBe(true);
      expect(stderr.slice(-2)).toEqual([
        `oauthd: token endpoint at http://127.0.0.1:${port}/o/token/`,
        `oauthd: admin listener (${ADMIN_PATHS}; keep it private) at ${server.adminUrl}`,
      ]);
    } finally {
      expect(await stopServe(server)).toEqual({ code: 0, signal: null });
    }
  });

  describe('with an invalid configuration', () => {
    const cases: { name: string; variable: string; env: Record<string, string> }[] = [
      { name: 'OAUTHD_PORT=abc', variable: 'OAUTHD_PORT', env: { OAUTHD_PORT: 'abc' } },
      {
        name: 'OAUTHD_ACCESS_TOKEN_TTL=-5',
        variable: 'OAUTHD_ACCESS_TOKEN_TTL',
        env: { OAUTHD_ACCESS_TOKEN_TTL: '-5' },
      },
      {
        name: "OAUTHD_DEFAULT_SCOPES='read admin' with OAUTHD_SCOPES='read write'",
        variable: 'OAUTHD_DEFAULT_SCOPES',
        env: { OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read admin' },
      },
      {
        name: 'OAUTHD_DATABASE_URL=mysql://u:pw@h/db',
        variable: 'OAUTHD_DATABASE_URL',
        env: { OAUTHD_DATABASE_URL: 'mysql://u:pw@h/db' },
      },
    ];
    for (const c of cases) {
      it(`exits non-zero on ${c.name}, printing one line that names ${c.variable}`, async () => {
        const dir = freshDir(`config-${c.variable}`);
        const result = await run(['serve'], {
          env: { OAUTHD_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`, OAUTHD_PORT: '0', ...c.env },
          timeoutMs: 10_000,
        });
        expect(result.signal).toBeNull(); // exited by itself, did not start serving
        expect(result.code).not.toBe(0);
        expect(result.code).not.toBeNull();
        const stderr = lines(result.stderr);
        expect(stderr).toHaveLength(1);
        expect(stderr[0]).toContain(c.variable);
        expect(result.stdout).toBe('');
        if (c.variable === 'OAUTHD_DATABASE_URL') {
          expect(result.stderr + result.stdout).not.toContain('pw');
          expect(stderr[0]).toContain('u:***@h/db');
        }
      });
    }
  });

  it('serves the token endpoint under OAUTHD_BASE_PATH=/api/secure and answers 404 at /o/token/', async () => {
    const dir = freshDir('base-path');
    const env = { OAUTHD_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}` };
    const client = { id: 'base-path-client', secret: 'base-path-Secret-value' };
    const user = { username: 'dora', password: 'dora-Passw0rd!' };
    await ok(['migrate'], { env });
    await ok(['client', 'create', '--name', 'Base path', '--client-id', client.id, '--client-secret-stdin'], {
      env,
      input: client.secret,
    });
    await ok(['user', 'create', '--username', user.username, '--password-stdin'], { env, input: user.password });

    const port = await freePort();
    const server = await serve([], { ...env, OAUTHD_PORT: String(port), OAUTHD_BASE_PATH: '/api/secure' });
    try {
      expect(server.tokenUrl).toBe(`http://127.0.0.1:${port}/api/secure/o/token/`);
      const granted = await passwordGrant(`${server.url}/api/secure/o/token/`, client, user);
      expect(granted.status).toBe(200);
      expect(granted.json).toEqual(TOKEN_RESPONSE);
      const info = await userinfo(server.url, granted.json.access_token as string, '/api/secure');
      expect(info.status).toBe(200);
      expect(info.json.username).toBe('dora');

      const unprefixed = await passwordGrant(`${server.url}/o/token/`, client, user);
      expect(unprefixed.status).toBe(404);
    } finally {
      expect(await stopServe(server)).toEqual({ code: 0, signal: null });
    }
  });

  it('lets --host, --port and --database-url override the environment', async () => {
    const dir = freshDir('flags');
    const flagPort = await freePort();
    let envPort = await freePort();
    while (envPort === flagPort) envPort = await freePort();
    const server = await serve(
      ['--host', '127.0.0.1', '--port', String(flagPort), '--database-url', `sqlite:${join(dir, 'db.sqlite3')}`],
      // Each environment value alone would make serve listen elsewhere or fail to start.
      { OAUTHD_HOST: '0.0.0.0', OAUTHD_PORT: String(envPort), OAUTHD_DATABASE_URL: 'mysql://u:pw@h/db' },
    );
    try {
      expect(server.tokenUrl).toBe(`http://127.0.0.1:${flagPort}/o/token/`);
      const health = await fetch(`http://127.0.0.1:${flagPort}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(await isListening(envPort)).toBe(false);
      expect(existsSync(join(dir, 'db.sqlite3'))).toBe(true);
    } finally {
      expect(await stopServe(server)).toEqual({ code: 0, signal: null });
    }
  });

  it(
    'exits 0 on a SIGTERM sent the moment it announces its ' + 'token endpoint (the announcement means ready)',
    async () => {
      // A supervisor may stop the server as soon as it reports ready; that stop must be graceful too. The
      // window is short, so several servers are started, a few at a time, and each is stopped at once.
      const attempt = async (i: number) => {
        const dir = freshDir(`sigterm-${i}`);
        const server = await startServe([], {
          OAUTHD_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
          OAUTHD_PORT: '0',
        });
        return stopServe(server);
      };
      const exits = [];
      for (let round = 0; round < 3; round++)
        exits.push(...(await Promise.all([0, 1, 2, 3].map((i) => attempt(round * 4 + i)))));
      expect(exits).toEqual(Array.from({ length: 12 }, () => ({ code: 0, signal: null })));
    },
  );
});

describe('oauthd --version', () => {
  it('prints the version of package.json and exits 0, with -V too', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const result = await ok([flag], { env: {} });
      expect(result.stdout).toBe(`${version}\n`);
    }
  });
});

/**
 * The CLI as an operator meets it: the built `dist/cli/main.js` in child processes (through pipes, and on a
 * real pseudo-terminal made by util-linux `script`) against the store of a real server (SQLite, or
 * PostgreSQL with OAUTHD_TEST_STORE=postgres), and that server over real HTTP.
 *
 * - Every `--help` has an example; a usage error is one line on stderr with a hint, exit code 1.
 * - On a terminal, `--password-stdin` and `--client-secret-stdin` ask twice without echo.
 * - A password policy (OAUTHD_PASSWORD_MIN_LENGTH / OAUTHD_PASSWORD_MAX_LENGTH) on every way one is set,
 *   not on imported hashes.
 * - `audit` refuses unknown events, an empty time range and bad limits; counts read right ("1 user").
 * - `import django` and `cleanup` show progress on stderr; a dry run says "would create".
 *
 * When running this file alone, run `npm run build` first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS } from '../../src/core/audit-events.js';
import { plural } from '../../src/core/plural.js';
import { cliEnv as sharedCliEnv, runCli, type CliResult } from '../helpers/cli.js';
import { CLI, ROOT } from '../helpers/process.js';
import { SEED, basic, postToken, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

type RunResult = CliResult;

let server: TestServer;
let dir: string;
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of a CLI run: no OAUTHD_* from the test's own environment, the server's database. */
const cliEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  sharedCliEnv(server.config.store.databaseUrl, extra);

/** `oauthd <args>` through pipes; `input` goes to its stdin. */
const cli = (args: string[], input = '', env: Record<string, string> = {}): Promise<RunResult> =>
  runCli(server.config.store.databaseUrl, args, input, env);

const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * `oauthd <args>` on a pseudo-terminal (`script -qec`): each answer is typed once its prompt has appeared
 * (the n-th time for a repeated prompt), as a person would. Resolves with everything the terminal showed
 * (stdout and stderr, with the terminal's own echo if it were on) and the exit code; a run that waits for
 * a prompt that never comes is killed after 10 s.
 */
function onTerminal(
  args: string[],
  answers: [prompt: string, typed: string][],
  env: Record<string, string> = {},
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: cliEnv(env), stdio: 'pipe' });
    let screen = '';
    let next = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const seen = (prompt: string) => screen.split(prompt).length - 1;
    const wanted = (k: number) => answers.slice(0, k + 1).filter(([p]) => p === answers[k]![0]).length;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
      while (next < answers.length && seen(answers[next]![0]) >= wanted(next)) child.stdin.write(answers[next++]![1]);
    });
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, screen });
    });
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

async function login(
  username: string,
  password: string,
  client: { id: string; secret: string } = { id: SEED.clientId, secret: SEED.clientSecret },
) {
  return postToken(
    server,
    { grant_type: 'password', username, password },
    { authorization: basic(client.id, client.secret) },
  );
}

async function usernames(): Promise<string[]> {
  const result = await cli(['user', 'list', '--json']);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { username: string }[]).map((u) => u.username);
}

/** Every command path, read from the help itself (`oauthd --help`, then each group's). */
async function allCommands(prefix: string[] = []): Promise<string[][]> {
  const help = (await cli([...prefix, '--help'])).stdout;
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const below = await Promise.all(names.map((name) => allCommands([...prefix, name])));
  return names.flatMap((name, i) => [[...prefix, name], ...below[i]!]);
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'oauthd-cli-ergonomics-'));
  server = await startTestServer();
  await seedSpecSample(server);
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('help and usage errors', () => {
  it('shows an example in the --help of every command and command group', async () => {
    const commands = await allCommands();
    expect(commands.map((c) => c.join(' '))).toEqual(
      expect.arrayContaining([
        'serve',
        'migrate',
        'cleanup',
        'client create',
        'user set-password',
        'audit',
        'import django',
      ]),
    );
    const helps = await Promise.all(commands.map((command) => cli([...command, '--help'])));
    commands.forEach((command, i) => {
      expect(helps[i]!.code, command.join(' ')).toBe(0);
      expect(helps[i]!.stdout, command.join(' ')).toMatch(new RegExp(`\\nExamples:\\n {2}\\$ oauthd ${command[0]}`));
    });
  }, 90_000);

  it.each([
    [
      ['client', 'create'],
      "oauthd: error: required option '--name <name>' not specified (see: oauthd client create --help)",
    ],
    [
      ['user', 'create', '--password-stdin'],
      "oauthd: error: required option '--username <username>' not specified (see: oauthd user create --help)",
    ],
    [
      ['import', 'django'],
      "oauthd: error: required option '--from <path|url>' not specified (see: oauthd import django --help)",
    ],
    [['client', 'show'], "oauthd: error: missing required argument 'client-id' (see: oauthd client show --help)"],
    [
      ['user', 'set-password', '--password-stdin'],
      "oauthd: error: missing required argument 'username' (see: oauthd user set-password --help)",
    ],
    [['user', 'disable'], "oauthd: error: missing required argument 'username' (see: oauthd user disable --help)"],
    [['serve', '--json'], "oauthd: error: unknown option '--json' (see: oauthd serve --help)"],
    [['frobnicate'], "oauthd: error: unknown command 'frobnicate' (see: oauthd --help)"],
  ])('`oauthd %j` prints one line with a hint, not the usage text, and exits 1', async (args, line) => {
    const result = await cli(args);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
  });

  it('advertises --json only where it works: not on serve, and on migrate it prints JSON', async () => {
    expect((await cli(['serve', '--help'])).stdout).not.toContain('--json');
    const migrate = await cli(['migrate', '--json']);
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.stdout)).toMatchObject({ migrated: true });
  });

  it('prints its version with --version and -V', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect((await cli(['-V'])).stdout).toBe(`${VERSION}\n`);
  });
});

describe('passwords and secrets typed on a terminal', () => {
  it.skipIf(!HAS_SCRIPT)(
    'user create --password-stdin asks twice without echoing, and the user can then log in',
    async () => {
      const password = 'typed-on-a-tty-Passw0rd';
      const run = await onTerminal(
        ['user', 'create', '--username', 'tty-user', '--password-stdin'],
        [
          ['Password: ', `${password}\r`],
          ['Repeat password: ', `${password}\r`],
        ],
      );
      expect(run.screen).toContain('Password: ');
      expect(run.screen).toContain('Repeat password: ');
      expect(run.screen).not.toContain(password);
      expect(run.screen).not.toContain('typed');
      expect(run.screen).toMatch(/created user tty-user \(id \d+\)/);
      expect(run.code).toBe(0);
      expect((await login('tty-user', password)).status).toBe(200);
    },
  );

  it.skipIf(!HAS_SCRIPT)('refuses two different entries with one line, exits 1 and creates no user', async () => {
    const run = await onTerminal(
      ['user', 'create', '--username', 'tty-mismatch', '--password-stdin'],
      [
        ['Password: ', 'first-Passw0rd-typed\r'],
        ['Repeat password: ', 'second-Passw0rd-typed\r'],
      ],
    );
    expect(run.code).toBe(1);
    expect(run.screen).not.toContain('Passw0rd-typed');
    expect(lines(run.screen.replace(/\r/g, '')).at(-1)).toBe('oauthd: the passwords do not match; nothing was changed');
    expect(await usernames()).not.toContain('tty-mismatch');
  });

  it.skipIf(!HAS_SCRIPT)('refuses a password the policy forbids before asking for it again', async () => {
    const run = await onTerminal(
      ['user', 'create', '--username', 'tty-short', '--password-stdin'],
      [['Password: ', 'short\r']],
    );
    expect(run.code).toBe(1);
    expect(run.screen).not.toContain('Repeat password: ');
    expect(run.screen).toContain('oauthd: the password must be at least 8 characters (OAUTHD_PASSWORD_MIN_LENGTH)');
    expect(await usernames()).not.toContain('tty-short');
  });

  it.skipIf(!HAS_SCRIPT)(
    'user set-password --password-stdin asks twice on a terminal; backspace edits, arrow keys add nothing',
    async () => {
      const run = await onTerminal(
        ['user', 'set-password', 'tty-user', '--password-stdin'],
        [
          ['Password: ', 'new-tty-Passw0rdX\u007f\u001b[D\r'],
          ['Repeat password: ', 'new-tty-Passw0rd\r'],
        ],
      );
      expect(run.code).toBe(0);
      expect(run.screen).not.toContain('new-tty');
      expect((await login('tty-user', 'new-tty-Passw0rd')).status).toBe(200);
    },
  );

  it.skipIf(!HAS_SCRIPT)(
    'client create --client-secret-stdin asks for the secret twice without echo, and the client authenticates with it',
    async () => {
      const secret = 'a-client-secret-typed-at-a-tty';
      const run = await onTerminal(
        ['client', 'create', '--name', 'tty-app', '--client-id', 'tty-app', '--client-secret-stdin'],
        [
          ['Client secret: ', `${secret}\r`],
          ['Repeat client secret: ', `${secret}\r`],
        ],
      );
      expect(run.code).toBe(0);
      expect(run.screen).not.toContain(secret);
      expect(run.screen).toContain('client_id:   tty-app');
      expect((await login(SEED.username, SEED.password, { id: 'tty-app', secret })).status).toBe(200);
    },
  );

  it('still reads a pipe to EOF, dropping one trailing newline, without prompting', async () => {
    const result = await cli(['user', 'create', '--username', 'piped-user', '--password-stdin'], 'piped-Passw0rd\n');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((await login('piped-user', 'piped-Passw0rd')).status).toBe(200);
  });
});

describe('the password policy', () => {
  const tooShort = 'Sh0rt!x'; // 7 characters
  const tooLong = 'x'.repeat(1025);
  const MIN = 'oauthd: the password must be at least 8 characters (OAUTHD_PASSWORD_MIN_LENGTH)';
  const MAX = 'oauthd: the password must be at most 1024 characters (OAUTHD_PASSWORD_MAX_LENGTH)';

  it.each([
    ['--password-stdin, too short', ['--password-stdin'], tooShort, MIN],
    ['--password-stdin, too long', ['--password-stdin'], tooLong, MAX],
    ['--password, too short', ['--password', tooShort], '', MIN],
    ['--password, too long', ['--password', tooLong], '', MAX],
  ])(
    'user create refuses a password (%s) naming the rule, exits 1 and creates nothing',
    async (_label, flags, input, message) => {
      const result = await cli(['user', 'create', '--username', 'policy-victim', ...flags], input);
      expect(result.code).toBe(1);
      expect(lines(result.stderr).filter((l) => !l.startsWith('oauthd: warning:'))).toEqual([message]);
      expect(result.stdout).toBe('');
      expect(await usernames()).not.toContain('policy-victim');
    },
  );

  it.each([
    ['--password-stdin, too short', ['--password-stdin'], tooShort, MIN],
    ['--password-stdin, too long', ['--password-stdin'], tooLong, MAX],
    ['--password, too short', ['--password', tooShort], '', MIN],
    ['--password, too long', ['--password', tooLong], '', MAX],
  ])(
    'user set-password refuses a password (%s), exits 1, and the old password and tokens keep working',
    async (_label, flags, input, message) => {
      const before = await login(SEED.username, SEED.password);
      expect(before.status).toBe(200);
      const result = await cli(['user', 'set-password', SEED.username, ...flags], input);
      expect(result.code).toBe(1);
      expect(lines(result.stderr).filter((l) => !l.startsWith('oauthd: warning:'))).toEqual([message]);
      expect((await login(SEED.username, SEED.password)).status).toBe(200);
      const refreshed = await postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: before.json.refresh_token as string },
        { authorization: basic(SEED.clientId, SEED.clientSecret) },
      );
      expect(refreshed.status).toBe(200);
    },
  );

  it('accepts exactly the minimum and exactly the maximum', async () => {
    expect((await cli(['user', 'create', '--username', 'eight', '--password-stdin'], '12345678')).code).toBe(0);
    expect((await login('eight', '12345678')).status).toBe(200);
    expect((await cli(['user', 'create', '--username', 'long-one', '--password-stdin'], 'y'.repeat(1024))).code).toBe(
      0,
    );
    expect((await login('long-one', 'y'.repeat(1024))).status).toBe(200);
  });

  it('follows OAUTHD_PASSWORD_MIN_LENGTH and OAUTHD_PASSWORD_MAX_LENGTH', async () => {
    const env = { OAUTHD_PASSWORD_MIN_LENGTH: '12', OAUTHD_PASSWORD_MAX_LENGTH: '16' };
    const short = await cli(['user', 'create', '--username', 'configured', '--password-stdin'], 'eleven-char', env);
    expect([short.code, short.stderr]).toEqual([
      1,
      'oauthd: the password must be at least 12 characters (OAUTHD_PASSWORD_MIN_LENGTH)\n',
    ]);
    const long = await cli(
      ['user', 'create', '--username', 'configured', '--password-stdin'],
      'seventeen-chars!!',
      env,
    );
    expect([long.code, long.stderr]).toEqual([
      1,
      'oauthd: the password must be at most 16 characters (OAUTHD_PASSWORD_MAX_LENGTH)\n',
    ]);
    expect(await usernames()).not.toContain('configured');
    const bad = await cli(['user', 'list'], '', { OAUTHD_PASSWORD_MIN_LENGTH: '20', OAUTHD_PASSWORD_MAX_LENGTH: '10' });
    expect([bad.code, bad.stderr]).toEqual([
      1,
      'oauthd: OAUTHD_PASSWORD_MIN_LENGTH: must not exceed OAUTHD_PASSWORD_MAX_LENGTH (10)\n',
    ]);
  });

  it(
    'does not apply to password hashes imported from django-oauth-toolkit: such users log in with their old ' +
      'password',
    async () => {
      const from = join(dir, 'dot-policy.sqlite3');
      copyFileSync(join(ROOT, 'test', 'fixtures', 'django-oauth-toolkit', 'dot-1.7.sqlite3'), from);
      // Longer than every password of the fixture: none could be set now, each is imported.
      const env = {
        OAUTHD_PASSWORD_MIN_LENGTH: '64',
        OAUTHD_SCOPES: 'read write payouts introspection admin',
        OAUTHD_DEFAULT_SCOPES: 'read write',
      };
      const result = await cli(['import', 'django', '--from', from, '--scopes', 'read write', '--json'], '', env);
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as { users: { created: number } }).users.created).toBeGreaterThan(0);
      expect((await login('alice', 'correct horse battery staple')).status).toBe(200);
    },
  );
});

describe('oauthd audit', () => {
  it('refuses an unknown --event with one line naming every valid event', async () => {
    const result = await cli(['audit', '--event', 'bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`oauthd: --event: no event named "bogus"; the events are ${AUDIT_EVENTS.join(', ')}\n`);
    expect(result.stdout).toBe('');
  });

  it('lists every event in its --help, from the same list', async () => {
    const help = (await cli(['audit', '--help'])).stdout.replace(/\s+/g, ' ');
    for (const event of AUDIT_EVENTS) expect(help).toContain(event);
  });

  it('knows the same events as docs/security.md, "The audit trail"', () => {
    const section = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8')
      .split('## The audit trail')[1]!
      .split('\n## ')[0]!;
    const documented = [...section.matchAll(/`([a-z_]+\.[a-z_]+)`/g)]
      .map((m) => m[1]!)
      .filter((e) => !e.endsWith('.md') && !e.endsWith('.ts'));
    expect([...new Set(documented)].sort()).toEqual([...AUDIT_EVENTS].sort());
  });

  it('filters by a valid --event', async () => {
    await server.services.audit.flush();
    const result = await cli(['audit', '--event', 'user.created', '--json']);
    expect(result.code).toBe(0);
    const events = JSON.parse(result.stdout) as { event: string }[];
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['user.created']));
  });

  it.each([
    [['--since', '1h', '--until', '2h']],
    [['--since', '2026-11-25T12:00:00Z', '--until', '2026-11-25T10:00:00Z']],
    [['--since', '2026-11-25T10:00:00Z', '--until', '2026-11-25T10:00:00Z']],
  ])('refuses --since that is not before --until (%j) with one line', async (args) => {
    const result = await cli(['audit', ...args]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^oauthd: --since \(.+\) must be before --until \(.+\)\n$/);
  });

  it.each(['15', '2 hours', 'yesterday', '2026-13-45'])(
    'refuses --since %j, which is neither an ISO date nor an age, with one line',
    async (since) => {
      const result = await cli(['audit', '--since', since]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `oauthd: --since takes an ISO date (2026-11-25T10:00:00Z) or an age (15m, 2h, 7d), got ` +
          `${JSON.stringify(since)}\n`,
      );
    },
  );

  it.each(['0', '-1', 'ten', '1.5', '100001', ''])(
    'refuses --limit %j with one line naming the range',
    async (limit) => {
      const result = await cli(['audit', '--limit', limit]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `oauthd: --limit takes a whole number from 1 to 100000, got ${JSON.stringify(limit)}\n`,
      );
    },
  );
});

describe('counts, progress and dry runs', () => {
  it('says "1 second", "2 seconds", "0 users": singular only for exactly one', () => {
    expect([
      plural(1, 'second'),
      plural(2, 'second'),
      plural(0, 'user'),
      plural(1, 'token family', 'token families'),
    ]).toEqual(['1 second', '2 seconds', '0 users', '1 token family']);
  });

  it('cleanup says what it removed and erased, with the right plural', async () => {
    const result = await cli(['cleanup']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        String.raw`^removed \d+ dead rows? \(expired and retired tokens, their grants, ` +
          String.raw`audit events past retention\); erased \d+ sealed refresh responses?\n$`,
      ),
    );
    expect(result.stdout).not.toMatch(/\b1 dead rows\b|\b1 sealed refresh responses\b/);
  });

  it.skipIf(!HAS_SCRIPT)('cleanup shows its progress on a terminal as a line rewritten in place', async () => {
    const run = await onTerminal(['cleanup'], []);
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/\r\x1b\[Koauthd: cleanup: \d+ dead rows? removed/);
    expect(run.screen).toMatch(/removed \d+ dead rows?/);
  });

  it(
    'a dry run of import django says "would create", shows a progress line per kind on stderr, and keeps --json ' +
      'stdout clean',
    async () => {
      const from = join(dir, 'dot-dry.sqlite3');
      copyFileSync(join(ROOT, 'test', 'fixtures', 'django-oauth-toolkit', 'dot-1.7.sqlite3'), from);
      const env = { OAUTHD_SCOPES: 'read write payouts introspection admin', OAUTHD_DEFAULT_SCOPES: 'read write' };
      const text = await cli(['import', 'django', '--from', from, '--scopes', 'read write', '--dry-run'], '', env);
      expect(text.code).toBe(0);
      const summary = text.stdout.trim().split('\n').at(-1)!;
      expect(summary).toMatch(
        /^dry run, nothing written: users would create \d+, \d+ already present, would update \d+, \d+ skipped/,
      );
      expect(summary).not.toMatch(/\d+ created|\d+ updated/);
      for (const kind of ['users', 'clients', 'refresh tokens', 'access tokens']) {
        expect(text.stderr).toMatch(new RegExp(`^oauthd: import \\(dry run\\): ${kind} (\\d+)/\\1$`, 'm'));
      }
      const json = await cli(
        ['import', 'django', '--from', from, '--scopes', 'read write', '--dry-run', '--json'],
        '',
        env,
      );
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true });
      expect(lines(json.stderr).every((l) => l.startsWith('oauthd: import (dry run): '))).toBe(true);
    },
  );

  it.skipIf(!HAS_SCRIPT)('import django rewrites its progress in place on a terminal', async () => {
    const from = join(dir, 'dot-tty.sqlite3');
    copyFileSync(join(ROOT, 'test', 'fixtures', 'django-oauth-toolkit', 'dot-1.7.sqlite3'), from);
    const env = { OAUTHD_SCOPES: 'read write payouts introspection admin', OAUTHD_DEFAULT_SCOPES: 'read write' };
    const run = await onTerminal(['import', 'django', '--from', from, '--scopes', 'read write', '--dry-run'], [], env);
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/\r\x1b\[Koauthd: import \(dry run\): users 0\/\d+…/);
    expect(run.screen).toContain('dry run, nothing written: users would create');
  });
});

/**
 * The CLI and the database it is pointed at: every command but `migrate` and `serve` refuses a database
 * that does not exist or holds no oauthd schema (naming the URL and the fix, creating nothing), and
 * `migrate` says what it did. SQLite files and, where PostgreSQL runs, a real PostgreSQL database.
 *
 * Runs the built CLI (`npm run build` first when running this file alone).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/process.js';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'oauthd-cli-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function oauthd(args: string[], databaseUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OAUTHD_')) env[k] = v;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...env, OAUTHD_DATABASE_URL: databaseUrl } },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const COMMANDS: string[][] = [
  ['client', 'create', '--name', 'app'],
  ['client', 'list'],
  ['user', 'disable', 'alice'],
  ['user', 'list'],
  ['audit'],
  ['cleanup'],
];

describe('the CLI against a SQLite file that does not exist', () => {
  it.each(COMMANDS.map((args) => [args.join(' '), args] as const))(
    'refuses `oauthd %s` with one line naming the URL and `oauthd migrate`, and creates no file',
    async (_name, args) => {
      const sub = join(dir, `missing-${args.join('-')}`);
      const url = `sqlite:${join(sub, 'oauthd.sqlite3')}`;
      const result = await oauthd(args, url);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toEqual([
        `oauthd: no database at ${url}: run \`oauthd migrate\` to create it, or point --database-url / ` +
          `OAUTHD_DATABASE_URL at the server's database`,
      ]);
      expect(result.stdout).toBe('');
      expect(existsSync(sub)).toBe(false);
    },
  );

  it('refuses a SQLite file that holds no oauthd schema, and leaves it as it was', async () => {
    const path = join(dir, 'empty.sqlite3');
    writeFileSync(path, '');
    const result = await oauthd(['client', 'list'], `sqlite:${path}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`no oauthd schema in sqlite:${path}: run \`oauthd migrate\``);
    expect(readdirSync(dir).filter((f) => f.startsWith('empty.sqlite3'))).toEqual(['empty.sqlite3']);
  });
});

describe('oauthd import django', () => {
  it('names the path it could not open when the DOT database file does not exist, and creates nothing', async () => {
    const target = join(dir, 'import-target', 'oauthd.sqlite3');
    const result = await oauthd(['import', 'django', '--from', './no-such-dot.sqlite3'], `sqlite:${target}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      `oauthd: cannot open the django-oauth-toolkit database ./no-such-dot.sqlite3 ` +
        `(${join(ROOT, 'no-such-dot.sqlite3')}): no such file\n`,
    );
    expect(existsSync(join(dir, 'import-target'))).toBe(false);
  });
});

describe('oauthd migrate', () => {
  it(
    'says it created the schema on a new file, then that it is ' + 'up to date, and the other commands then work',
    async () => {
      const url = `sqlite:${join(dir, 'new', 'oauthd.sqlite3')}`;
      const created = await oauthd(['migrate'], url);
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/^created the database schema \(version (\d+)\) in sqlite:.*\n$/);
      const again = await oauthd(['migrate', '--json'], url);
      const json = JSON.parse(again.stdout) as { version: number; from_version: number };
      expect(json.from_version).toBe(json.version);
      expect((await oauthd(['migrate'], url)).stdout).toMatch(
        /^database schema is up to date \(version \d+\) in sqlite:/,
      );
      expect((await oauthd(['client', 'list'], url)).code).toBe(0);
    },
  );
});

describe('the CLI against PostgreSQL', async () => {
  const available = await postgresAvailable('cli-database.test.ts');

  it.skipIf(!available)(
    'refuses a database that does not exist, and one without the schema, naming the URL without its password',
    async () => {
      const db = await createTestDatabase();
      try {
        const missing = db.url
          .replace(/\/[^/?]+(\?|$)/, '/oauthd_no_such_database$1')
          .replace('//postgres@', '//postgres:s3cret@');
        const gone = await oauthd(['client', 'list'], missing);
        expect(gone.code).not.toBe(0);
        expect(gone.stderr).toContain('no database at postgres://postgres:***@');
        expect(gone.stderr).not.toContain('s3cret');
        const empty = await oauthd(['user', 'list'], db.url);
        expect(empty.code).not.toBe(0);
        expect(empty.stderr).toContain('no oauthd schema in');
        const migrated = await oauthd(['migrate'], db.url);
        expect(migrated.stdout).toMatch(/^created the database schema \(version \d+\) in postgres:/);
        expect((await oauthd(['user', 'list'], db.url)).code).toBe(0);
      } finally {
        await db.drop();
      }
    },
  );
});

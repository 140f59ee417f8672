/**
 * The SQLite store on disk: its directory 0700, the database and its -wal and -shm files 0600, whatever the
 * umask; a store found readable beyond its owner is reported with one warning. The real CLI in child
 * processes, under `umask 000`. (SQLite only: PostgreSQL keeps its own files.)
 *
 * When running this file alone, run `npm run build` first.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, envWithoutOauthd, runOauthd, spawnServer, type Launch } from '../helpers/process.js';
import { TEST_STORE } from '../helpers/server.js';
import { LATEST_SCHEMA_VERSION } from '../../src/services.js';

let root = '';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  root = mkdtempSync(join(tmpdir(), 'oauthd-perms-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

function env(databasePath: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return envWithoutOauthd({
    OAUTHD_DATABASE_URL: `sqlite:${databasePath}`,
    OAUTHD_WORKERS: '1',
    OAUTHD_LOG_LEVEL: 'warn',
    ...extra,
  });
}

/** The CLI under `umask 000`: the store must set its modes itself. */
const UMASK_000: Launch = {
  command: '/bin/sh',
  args: ['-c', 'umask 000; exec "$0" "$@"', process.execPath, CLI],
  cwd: ROOT,
};

/** `umask 000; oauthd <args>` to completion. */
async function run(
  databasePath: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runOauthd(args, { env: env(databasePath), launch: UMASK_000 });
  return { code, stdout, stderr };
}

/**
 * `umask 000; oauthd serve` until it announces its token endpoint; `inspect` runs while it holds the store
 * open (so the -wal and -shm files exist), then SIGTERM. Resolves with its stdout (the JSON log) and stderr.
 */
async function whileServing(
  databasePath: string,
  extra: Record<string, string>,
  inspect: () => void,
): Promise<{ stdout: string; stderr: string }> {
  const baseEnv = env(databasePath, { OAUTHD_HOST: '127.0.0.1', OAUTHD_PORT: '0', OAUTHD_ADMIN_PORT: '0' });
  const server = await spawnServer(extra, [], { baseEnv, launch: UMASK_000 });
  try {
    inspect();
  } catch (error) {
    server.process.kill('SIGKILL');
    throw error;
  }
  await server.stop();
  await server.closed;
  return { stdout: server.stdout(), stderr: server.stderr() };
}

const WARNING = /readable beyond its owner/;

describe.skipIf(TEST_STORE === 'postgres')('SQLite file permissions under umask 000', () => {
  it('migrate creates the missing directories 0700 and the database 0600, and warns about nothing', async () => {
    const databasePath = join(root, 'fresh', 'nested', 'oauthd.sqlite3');
    const result = await run(databasePath, ['migrate']);
    expect(result).toEqual({
      code: 0,
      stdout: `created the database schema (version ${LATEST_SCHEMA_VERSION}) in sqlite:${databasePath}\n`,
      stderr: '',
    });
    expect(mode(join(root, 'fresh'))).toBe('0700');
    expect(mode(join(root, 'fresh', 'nested'))).toBe('0700');
    expect(mode(databasePath)).toBe('0600');
  });

  it('a serving store has its database, -wal and -shm files 0600', async () => {
    const databasePath = join(root, 'serving', 'oauthd.sqlite3');
    const seen: Record<string, string> = {};
    const { stdout } = await whileServing(databasePath, {}, () => {
      for (const suffix of ['', '-wal', '-shm']) seen[suffix || 'db'] = mode(`${databasePath}${suffix}`);
    });
    expect(seen).toEqual({ db: '0600', '-wal': '0600', '-shm': '0600' });
    expect(stdout).not.toMatch(WARNING);
  });

  it(
    "a pre-existing 0644 database gets exactly one warning line on the CLI's stderr, naming the file and its " +
      'mode; the command still succeeds',
    async () => {
      const databasePath = join(root, 'loose', 'oauthd.sqlite3');
      expect((await run(databasePath, ['migrate'])).code).toBe(0);
      chmodSync(databasePath, 0o644);
      const result = await run(databasePath, ['migrate']);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        `database schema is up to date (version ${LATEST_SCHEMA_VERSION}) in sqlite:${databasePath}\n`,
      );
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(WARNING);
      expect(lines[0]).toMatch(/^oauthd: warning: /);
      expect(lines[0]).toContain(`${databasePath} (0644)`);
      expect(lines[0]).toContain('chmod 600');
      expect(mode(databasePath)).toBe('0644'); // reported, not changed behind the operator's back
    },
  );

  it('the server logs one warning through its logger for a 0644 database, also with several workers', async () => {
    const databasePath = join(root, 'loose-served', 'oauthd.sqlite3');
    expect((await run(databasePath, ['migrate'])).code).toBe(0);
    chmodSync(databasePath, 0o644);
    for (const workers of ['1', '2']) {
      const { stdout } = await whileServing(databasePath, { OAUTHD_WORKERS: workers }, () => {});
      const warnings = stdout.split('\n').filter((l) => WARNING.test(l));
      expect(warnings, `${workers} worker(s)`).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({
        level: 40,
        msg: expect.stringContaining(`${databasePath} (0644)`),
      });
    }
  });
});

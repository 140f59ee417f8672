/**
 * The npm package, as an operator gets it: `npm pack` in this repository, `npm install` of the tarball
 * into an empty folder (its dependencies from the registry), then the installed CLI: `oauthd --version`,
 * `oauthd migrate`, a client and a user created with it, `oauthd serve` on 127.0.0.1 and one password grant over
 * HTTP (RFC 6749 §4.3).
 *
 * It takes minutes (the install downloads every dependency and may compile better-sqlite3), so it runs
 * only with OAUTHD_TEST_PACK=1, which .ci/run sets; without it, it is skipped with a warning.
 * The tarball is packed from the dist/ that `npm test` has just built (`--ignore-scripts`: rebuilding
 * dist/ here would rewrite files that other test files are running). `npm pack` on its own builds first.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runOauthd, spawnServer } from './helpers/process.js';

const run = promisify(execFile);
const ENABLED = process.env.OAUTHD_TEST_PACK === '1';
if (!ENABLED) {
  console.warn(
    '!!!!! SKIPPED: the npm package test (test/package.test.ts: npm pack, install into an empty folder, run) ' +
      'takes minutes; set OAUTHD_TEST_PACK=1 to run it (.ci/run does) !!!!!',
  );
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};

/**
 * The environment of the npm and oauthd children: this one's without what `npm test` and vitest add (the
 * npm_* variables would point npm at this repository) and without any OAUTHD_* setting.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|OAUTHD_|VITEST|INIT_CWD$|NODE_ENV$)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

let dir = '';
let app = '';
let tarball = '';
let packedFiles: string[] = [];
let installOutput = '';
let databaseUrl = '';

/** `npx oauthd <args>` in the app; `--no`: never fetch a package named oauthd from the registry. */
const npx = (args: string[], options: { input?: string } = {}) =>
  runOauthd(args, {
    env: cleanEnv({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_LOG_LEVEL: 'warn' }),
    input: options.input ?? '',
    launch: { command: 'npx', args: ['--no', '--', 'oauthd'], cwd: app },
  });

describe.skipIf(!ENABLED)('the npm package', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-pack-'));
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      env: cleanEnv(),
    });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info!.filename);
    packedFiles = info!.files.map((f) => f.path).sort();

    app = join(dir, 'app');
    mkdirSync(app);
    databaseUrl = `sqlite:${join(app, 'data', 'oauthd.sqlite3')}`;
    // An empty folder, as an operator's: npm creates its package.json. npm 11 runs the native modules'
    // install scripts and lists them as not yet approved (README: "Installing the package").
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      env: cleanEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    installOutput = `${installed.stdout}${installed.stderr}`;
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'packs the built CLI, library and kit with package.json and README, and no tests, benchmarks, sources or ' +
      'source maps',
    () => {
      expect(packedFiles).toContain('package.json');
      expect(packedFiles).toContain('README.md');
      for (const entry of [
        'dist/cli/main.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/kit/index.js',
        'dist/kit/index.d.ts',
      ]) {
        expect(packedFiles).toContain(entry);
      }
      const unexpected = packedFiles.filter(
        (file) => !['package.json', 'README.md'].includes(file) && !/^dist\/.+\.(js|d\.ts)$/.test(file),
      );
      expect(unexpected).toEqual([]);
      expect(packedFiles.filter((file) => /(^|\/)(test|bench|src)\/|\.test\.|\.map$/.test(file))).toEqual([]);
      // Only what the sources compile to: a file left in dist/ by an older build would be shipped too.
      const stale = packedFiles
        .filter((file) => file.endsWith('.js'))
        .filter((file) => !existsSync(join(ROOT, file.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))));
      expect(stale).toEqual([]);
    },
  );

  it('installs into an empty folder, and imports no package that is not one of its dependencies', () => {
    expect(existsSync(join(app, 'node_modules', 'oauthd', 'dist', 'cli', 'main.js'))).toBe(true);
    expect(installOutput).not.toMatch(/ERR!/);
    // Every package the installed code imports is one of its dependencies (devDependencies are not installed),
    // or itself (the kit's usage comment imports 'oauthd/kit').
    const imported = new Set<string>();
    const walk = (at: string): void => {
      for (const entry of readdirSync(at, { withFileTypes: true })) {
        const path = join(at, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.js')) {
          const text = readFileSync(path, 'utf8');
          for (const match of text.matchAll(
            new RegExp(
              String.raw`(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"./][^'"]*)['"]|` +
                String.raw`import\(\s*['"]([^'"./][^'"]*)['"]\s*\)`,
              'gm',
            ),
          )) {
            const spec = (match[1] ?? match[2])!;
            if (!spec.startsWith('node:'))
              imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
          }
        }
      }
    };
    walk(join(app, 'node_modules', 'oauthd', 'dist'));
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((name) => name !== pkg.name && !(name in pkg.dependencies))).toEqual([]);
  });

  it('answers npx oauthd --version with the package version', async () => {
    const { stdout, code } = await npx(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
  }, 60_000);

  it('migrates a new SQLite database, creates a client and a user, ' +
    'serves, and issues a token for a password grant', async () => {
    const migrated = await npx(['migrate', '--json']);
    expect(migrated.stderr).toBe('');
    expect(JSON.parse(migrated.stdout)).toMatchObject({ migrated: true, from_version: 0 });

    const created = await npx(['client', 'create', '--name', 'packaged', '--json']);
    expect(created.code).toBe(0);
    const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const user = await npx(['user', 'create', '--username', 'alice', '--password-stdin', '--json'], {
      input: 'correct horse battery staple',
    });
    expect(user.code).toBe(0);

    // The installed bin itself (what npx runs), so that SIGTERM reaches the server and not npx.
    const server = await spawnServer({}, ['--host', '127.0.0.1', '--port', '0', '--workers', '1'], {
      baseEnv: cleanEnv({ OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_LOG_LEVEL: 'warn' }),
      launch: { command: join(app, 'node_modules', '.bin', 'oauthd'), args: [], cwd: app },
      timeoutMs: 30_000,
    });
    const { tokenUrl } = server;
    try {
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: 'alice',
          password: 'correct horse battery staple',
        }).toString(),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
      expect(body.access_token).toEqual(expect.any(String));
      expect(body.refresh_token).toEqual(expect.any(String));
    } finally {
      await server.stop();
    }
    expect((await server.exited).code).toBe(0);
  }, 120_000);
});

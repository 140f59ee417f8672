/**
 * The layer boundaries of docs/design-notes.md, held by a test rather than by convention:
 * core/ is pure (imports only core/ and node:crypto); http/, cli/, store/ and crypto/ never import
 * each other except through core/ types; only services.ts, server.ts and index.ts know every layer.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every module a file imports: packages as named, local modules as paths under src/ ('core/scope'). */
function importsOf(file: string): { spec: string; local: boolean }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(({ 1: spec }) =>
    spec!.startsWith('.')
      ? { spec: relative(SRC, join(file, '..', spec!)).replace(/\.js$/, ''), local: true }
      : { spec: spec!, local: false },
  );
}

const layerOf = (path: string): string => path.split('/')[0]!;

describe('layer boundaries', () => {
  const files = sourceFiles(SRC).map((f) => ({ name: relative(SRC, f), imports: importsOf(f) }));

  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.find((f) => f.name === 'core/token-endpoint.ts')?.imports).toContainEqual({ spec: 'core/client-auth', local: true });
  });

  it('keeps core/ pure: it imports only core/ and node:crypto', () => {
    for (const file of files.filter((f) => f.name.startsWith('core/'))) {
      for (const { spec } of file.imports) {
        expect(spec === 'node:crypto' || spec.startsWith('core/'), `${file.name} imports ${spec}`).toBe(true);
      }
    }
  });

  it('lets http/, cli/, store/, crypto/ and config/ reach other layers only through core/ (or the composition root for cli/)', () => {
    const allowed: Record<string, string[]> = {
      http: ['http', 'core', 'kit', 'services'],
      // The admin listener reuses the HTTP layer's log serializers and store probe; never the reverse.
      admin: ['admin', 'core', 'http'],
      kit: ['kit', 'core', 'store'],
      throttle: ['throttle', 'core'],
      metrics: ['metrics', 'core'],
      audit: ['audit', 'core'],
      lifecycle: ['lifecycle', 'core'],
      store: ['store', 'core'],
      crypto: ['crypto', 'core'],
      config: ['config', 'core', 'store'],
      cli: ['cli', 'core', 'config', 'services', 'server', 'lifecycle', 'importers'],
      importers: ['importers', 'core', 'store', 'crypto'],
    };
    for (const file of files) {
      const layer = layerOf(file.name);
      const permitted = allowed[layer];
      if (!permitted) continue;
      for (const { spec } of file.imports.filter((i) => i.local)) {
        expect(permitted.includes(layerOf(spec)), `${file.name} imports ${spec}`).toBe(true);
      }
    }
  });
});

describe('the repository stands alone', () => {
  // Paths into a directory beside the clone (fixtures, specs, design notes kept elsewhere): a clone on its
  // own would miss them. Written as a pattern, so that this file does not name them itself.
  const OUTSIDE = /\.\.\/shared|shared\/(?:fixtures|spec)/;
  // npm's lock file records resolved paths it was given, which the repository does not read.
  const EXEMPT = new Set(['package-lock.json']);

  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f !== '');

  it('lists the tracked files with git', () => {
    expect(tracked).toContain('package.json');
    expect(tracked).toContain('test/fixtures/django-oauth-toolkit/manifest.json');
  });

  it('has no tracked file but package-lock.json that points outside the repository', () => {
    // latin1 maps every byte to one character, so binary files (the SQLite fixture) are searched too.
    const offenders = tracked
      .filter((file) => !EXEMPT.has(file) && existsSync(join(ROOT, file)))
      .flatMap((file) => {
        const lines = readFileSync(join(ROOT, file), 'latin1').split('\n');
        return lines.flatMap((line, i) => (OUTSIDE.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 160)}`] : []));
      });
    expect(offenders).toEqual([]);
  });
});

describe('the documentation speaks to users', () => {
  // The docs describe the product as it is. A development diary ("this session", "the issue asks") belongs in
  // git history, not in README.md or docs/. A user's own session is "the login session".
  const DIARY = [/\b(this|the (first|second|third|fourth|next|previous)) session\b/i, /the issue (asks|says)/i];
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  it('finds README.md and the docs/*.md pages', () => {
    expect(docs).toContain('README.md');
    expect(docs).toContain('docs/benchmarks.md');
  });

  it('has no line in README.md or docs/*.md that reads like a development diary', () => {
    const offenders = docs.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (DIARY.some((re) => re.test(line)) ? [`${file}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
    expect(offenders).toEqual([]);
  });
});

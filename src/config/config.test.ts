import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, renderConfigDocs } from './config.js';
import { OPTIONS } from './options.js';
import { ConfigError } from './parsers.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      store: { databaseUrl: 'sqlite:./data/oauthd.sqlite3', clientCacheMs: 1000, tokenCacheEntries: 10_000 },
      policy: {
        accessTokenTtlSeconds: 3600,
        refreshTokenTtlSeconds: null,
        refreshAbsoluteTtlSeconds: null,
        refreshGraceSeconds: 0,
        // The admin API's built-in scopes are known whatever OAUTHD_SCOPES says.
        knownScopes: ['read', 'write', 'oauthd:admin', 'oauthd:admin:read'],
        defaultScopes: ['read', 'write'],
      },
      throttle: {
        maxFailuresPerIp: 100,
        maxFailuresPerUser: 100,
        maxFailuresPerUserIp: 10,
        backoffAfter: 3,
        maxFailuresPerClientIp: 20,
        lockoutSeconds: 900,
        windowSeconds: 3600,
      },
      redis: { url: null },
      http: {
        host: '127.0.0.1',
        port: 8000,
        basePath: '',
        issuer: null,
        realm: 'oauthd',
        trustProxy: [],
        maxBodyBytes: 16384,
        requestTimeoutMs: 10000,
        headersTimeoutMs: 5000,
        keepAliveTimeoutMs: 5000,
        maxHeaderBytes: 8192,
      },
      admin: { host: '127.0.0.1', port: 8001, consoleUrl: null },
      hashing: { maxConcurrent: 2, maxQueue: 256 },
      passwords: { minLength: 8, maxLength: 1024 },
      cleanup: { intervalSeconds: 60, retentionSeconds: 604800, auditRetentionSeconds: 7776000 },
      process: { workers: 1, memoryProfile: 'small', logLevel: 'info' },
      usage: { flushSeconds: 10 },
      sunset: { link: null },
      authorization: {
        codeTtlSeconds: 60,
        sessionTtlSeconds: 28_800,
        deviceCodeTtlSeconds: 600,
        devicePollIntervalSeconds: 5,
        userCodeAttemptsPerMinute: 10,
      },
      pages: { productName: 'oauthd', logoFile: null, scopeDescriptions: {} },
    });
  });

  it('takes OAUTHD_PASSWORD_GRANT_SUNSET_LINK as an absolute http(s) URL and refuses anything else', () => {
    const link = 'https://developers.example.com/migrate';
    expect(loadConfig({ OAUTHD_PASSWORD_GRANT_SUNSET_LINK: link }).sunset.link).toBe(link);
    expect(() => loadConfig({ OAUTHD_PASSWORD_GRANT_SUNSET_LINK: '/migrate' })).toThrow(
      /OAUTHD_PASSWORD_GRANT_SUNSET_LINK: must be an absolute URL/,
    );
    expect(() => loadConfig({ OAUTHD_PASSWORD_GRANT_SUNSET_LINK: 'ftp://example.com/x' })).toThrow(/http\(s\) URL/);
    expect(() => loadConfig({ OAUTHD_USAGE_FLUSH_SECONDS: '0' })).toThrow(/OAUTHD_USAGE_FLUSH_SECONDS/);
  });

  it('reads every variable from the environment', () => {
    const config = loadConfig({
      OAUTHD_DATABASE_URL: 'sqlite:/tmp/x.sqlite3',
      OAUTHD_HOST: '0.0.0.0',
      OAUTHD_PORT: '9000',
      OAUTHD_BASE_PATH: '/api/secure/',
      OAUTHD_ACCESS_TOKEN_TTL: '600',
      OAUTHD_REFRESH_TOKEN_TTL: '86400',
      OAUTHD_SCOPES: 'read write payouts',
      OAUTHD_DEFAULT_SCOPES: 'read',
      OAUTHD_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      store: { databaseUrl: 'sqlite:/tmp/x.sqlite3' },
      http: { host: '0.0.0.0', port: 9000, basePath: '/api/secure' },
      policy: {
        accessTokenTtlSeconds: 600,
        refreshTokenTtlSeconds: 86400,
        knownScopes: ['read', 'write', 'payouts', 'oauthd:admin', 'oauthd:admin:read'],
        defaultScopes: ['read'],
      },
      process: { logLevel: 'warn' },
    });
  });

  it.each([
    ['OAUTHD_PORT', 'abc'],
    ['OAUTHD_PORT', '70000'],
    ['OAUTHD_ACCESS_TOKEN_TTL', '-5'],
    ['OAUTHD_ACCESS_TOKEN_TTL', '0'],
    ['OAUTHD_ACCESS_TOKEN_TTL', '1.5'],
    ['OAUTHD_REFRESH_TOKEN_TTL', 'forever'],
    ['OAUTHD_BASE_PATH', 'api/secure'],
    ['OAUTHD_BASE_PATH', '/api secure'],
    ['OAUTHD_SCOPES', 'read "write"'],
    ['OAUTHD_SCOPES', ''],
    ['OAUTHD_LOG_LEVEL', 'loud'],
    ['OAUTHD_DATABASE_URL', 'mysql://user:hunter2@db/oauth'],
    ['OAUTHD_HOST', ''],
    ['OAUTHD_ADMIN_HOST', ' '],
    ['OAUTHD_ADMIN_PORT', '65536'],
    ['OAUTHD_ADMIN_PORT', 'metrics'],
    ['OAUTHD_ADMIN_PORT', '8000'],
    ['OAUTHD_MAX_BODY_BYTES', '10'],
    ['OAUTHD_REALM', 'a"b'],
    ['OAUTHD_ISSUER', 'not a url'],
    ['OAUTHD_ISSUER', 'https://auth.example.com/?x=1'],
  ])('refuses %s=%j with one line naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`${name}:`)).toBe(true);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('hunter2');
  });

  it(
    'accepts postgres:// and postgresql:// database URLs as given, and refuses a malformed one without showing ' +
      'its password',
    () => {
      for (const url of ['postgres://oauthd:hunter2@db.internal:5432/oauthd?max=20', 'postgresql://db/oauthd']) {
        expect(loadConfig({ OAUTHD_DATABASE_URL: url }).store.databaseUrl).toBe(url);
      }
      expect(() => loadConfig({ OAUTHD_DATABASE_URL: 'postgres://oauthd:hunter2@[bad/oauthd' })).toThrow(
        /^OAUTHD_DATABASE_URL: not a valid postgres:\/\/ URL: "postgres:\/\/oauthd:\*\*\*@\[bad\/oauthd"$/,
      );
    },
  );

  it(
    "refuses an admin listener on the public listener's host and port, and allows both on port 0 (a free port " +
      'each)',
    () => {
      expect(() => loadConfig({ OAUTHD_PORT: '9000', OAUTHD_ADMIN_PORT: '9000' })).toThrow(
        /^OAUTHD_ADMIN_PORT: must differ from OAUTHD_PORT/,
      );
      expect(
        loadConfig({ OAUTHD_PORT: '9000', OAUTHD_ADMIN_PORT: '9000', OAUTHD_ADMIN_HOST: '10.0.0.1' }),
      ).toMatchObject({
        admin: { host: '10.0.0.1', port: 9000 },
      });
      expect(loadConfig({ OAUTHD_PORT: '0', OAUTHD_ADMIN_PORT: '0' })).toMatchObject({
        http: { port: 0 },
        admin: { port: 0 },
      });
    },
  );

  it("takes the pages' product name, logo file and scope descriptions, and refuses bad ones naming the setting", () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauthd-logo-'));
    const logo = join(dir, 'logo.svg');
    writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg"/>');
    try {
      const config = loadConfig({
        OAUTHD_PRODUCT_NAME: ' Payouts ',
        OAUTHD_LOGO_FILE: logo,
        OAUTHD_SCOPE_DESCRIPTIONS: '{"read": " See your payouts "}',
      });
      expect(config.pages).toEqual({
        productName: 'Payouts',
        logoFile: logo,
        scopeDescriptions: { read: 'See your payouts' },
      });
      expect(() => loadConfig({ OAUTHD_PRODUCT_NAME: 'x'.repeat(61) })).toThrow(
        /^OAUTHD_PRODUCT_NAME: must be 1 to 60/,
      );
      expect(() => loadConfig({ OAUTHD_PRODUCT_NAME: 'a\nb' })).toThrow(/^OAUTHD_PRODUCT_NAME:/);
      expect(() => loadConfig({ OAUTHD_LOGO_FILE: join(dir, 'missing.png') })).toThrow(
        /^OAUTHD_LOGO_FILE: .* readable/,
      );
      expect(() => loadConfig({ OAUTHD_LOGO_FILE: join(dir, 'logo.gif') })).toThrow(/^OAUTHD_LOGO_FILE: must name/);
      expect(() => loadConfig({ OAUTHD_SCOPE_DESCRIPTIONS: '["read"]' })).toThrow(
        /^OAUTHD_SCOPE_DESCRIPTIONS: must be/,
      );
      expect(() => loadConfig({ OAUTHD_SCOPE_DESCRIPTIONS: '{"bad scope": "x"}' })).toThrow(
        /^OAUTHD_SCOPE_DESCRIPTIONS: "bad scope" must be a scope name/,
      );
      expect(() => loadConfig({ OAUTHD_AUTHORIZATION_CODE_TTL: '601' })).toThrow(/^OAUTHD_AUTHORIZATION_CODE_TTL:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses default scopes that are not known scopes', () => {
    expect(() => loadConfig({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read admin' })).toThrow(
      /^OAUTHD_DEFAULT_SCOPES:/,
    );
  });

  it('takes OAUTHD_WORKERS as a count or auto, and refuses anything else naming the setting', () => {
    expect(loadConfig({ OAUTHD_WORKERS: 'auto' }).process.workers).toBe('auto');
    expect(loadConfig({ OAUTHD_WORKERS: '3' }).process.workers).toBe(3);
    expect(() => loadConfig({ OAUTHD_WORKERS: '0' })).toThrow(/^OAUTHD_WORKERS: must be a whole number from 1 to 256/);
    expect(() => loadConfig({ OAUTHD_WORKERS: 'many' })).toThrow(/^OAUTHD_WORKERS:/);
  });

  it('takes OAUTHD_MEMORY_PROFILE small or fast, and refuses anything else', () => {
    expect(loadConfig({ OAUTHD_MEMORY_PROFILE: 'fast' }).process.memoryProfile).toBe('fast');
    expect(() => loadConfig({ OAUTHD_MEMORY_PROFILE: 'tiny' })).toThrow(
      /^OAUTHD_MEMORY_PROFILE: must be small or fast/,
    );
  });

  it('refuses more hashing slots than the thread pool has threads', () => {
    expect(() => loadConfig({ OAUTHD_HASH_CONCURRENCY: '5' })).toThrow(
      /^OAUTHD_HASH_CONCURRENCY: 5 is above the thread pool size \(4, UV_THREADPOOL_SIZE\)/,
    );
    expect(loadConfig({ OAUTHD_HASH_CONCURRENCY: '4' }).hashing.maxConcurrent).toBe(4);
    expect(loadConfig({ OAUTHD_HASH_CONCURRENCY: '8', UV_THREADPOOL_SIZE: '8' }).hashing.maxConcurrent).toBe(8);
  });

  it(
    'refuses a per-username limit at or below the per-(username, IP) one: one IP could lock the user out ' +
      'everywhere',
    () => {
      expect(() => loadConfig({ OAUTHD_MAX_FAILURES_PER_USER: '10' })).toThrow(
        /^OAUTHD_MAX_FAILURES_PER_USER: must be above OAUTHD_MAX_FAILURES_PER_USER_IP/,
      );
      expect(loadConfig({ OAUTHD_MAX_FAILURES_PER_USER: '11' }).throttle.maxFailuresPerUser).toBe(11);
    },
  );

  it('reads a JSON config file, which the environment and then the flags override', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauthd-config-'));
    const file = join(dir, 'oauthd.json');
    writeFileSync(file, JSON.stringify({ OAUTHD_PORT: 9100, OAUTHD_HOST: '10.0.0.1', OAUTHD_BASE_PATH: '/file' }));
    const config = loadConfig(
      { OAUTHD_CONFIG_FILE: file, OAUTHD_HOST: '127.0.0.2', OAUTHD_BASE_PATH: '/env' },
      { OAUTHD_BASE_PATH: '/flag' },
    );
    expect(config).toMatchObject({ http: { port: 9100, host: '127.0.0.2', basePath: '/flag' } });
  });

  it('refuses a config file with an unknown key or that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauthd-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ OAUTHD_PROT: 1 }));
    expect(() => loadConfig({ OAUTHD_CONFIG_FILE: bad })).toThrow(/^OAUTHD_CONFIG_FILE: unknown setting "OAUTHD_PROT"/);
    writeFileSync(bad, '{ not json');
    expect(() => loadConfig({ OAUTHD_CONFIG_FILE: bad })).toThrow(/^OAUTHD_CONFIG_FILE: cannot read/);
  });
});

describe('OPTIONS', () => {
  it('gives each option its own variable and its own Config field', () => {
    expect(new Set(OPTIONS.map((o) => o.env)).size).toBe(OPTIONS.length);
    expect(new Set(OPTIONS.map((o) => o.path)).size).toBe(OPTIONS.length);
  });
});

describe('docs/configuration.md', () => {
  it('is the output of renderConfigDocs (run npm run docs:config after changing an option)', () => {
    const path = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(renderConfigDocs());
  });
});

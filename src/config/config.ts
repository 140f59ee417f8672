import { readFileSync } from 'node:fs';
import { parseScope, isSubset } from '../core/scope.js';
import { redactUrl } from '../store/store.js';

/** The whole configuration, validated. Only this module reads the environment or config files. */
export interface Config {
  databaseUrl: string;
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  basePath: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number | null;
  refreshGraceSeconds: number;
  scopes: string[];
  defaultScopes: string[];
  logLevel: string;
  maxBodyBytes: number;
  realm: string;
  issuer: string | null;
  redisUrl: string | null;
  trustProxy: string[];
  maxFailuresPerIp: number;
  maxFailuresPerUser: number;
  maxFailuresPerUserIp: number;
  backoffAfter: number;
  maxFailuresPerClientIp: number;
  lockoutSeconds: number;
  failureWindowSeconds: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  hashConcurrency: number;
  cleanupIntervalSeconds: number;
  tokenRetentionSeconds: number;
  auditRetentionSeconds: number;
  hashQueueLimit: number;
  clientCacheMs: number;
  tokenCacheEntries: number;
  /** Processes serving the public port: a number, or `auto` for one per core. */
  workers: number | 'auto';
  /** Keep V8's heap small (memory) rather than let it grow (throughput). */
  memoryProfile: 'small' | 'fast';
  /**
   * The shortest password an administrator may set (`user create`, `user set-password`, the admin module),
   * in characters (Unicode code points). Imported hashes are not checked: their passwords are unknown.
   */
  passwordMinLength: number;
  /**
   * The longest password that may be set, in characters. argon2 takes any length, but every login hashes
   * what is sent: a bound keeps a multi-megabyte password from being stored (and later sent) at all.
   */
  passwordMaxLength: number;
}

/** A configuration value was invalid. The message is one line naming the variable; it holds no secret. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Option<K extends keyof Config> {
  env: string;
  key: K;
  /** Shown as the default in docs/configuration.md. */
  defaultText: string;
  description: string;
  parse(value: string | undefined): Config[K];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || +value < min || +value > max) {
    throw new ConfigError(`${env}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return +value;
}

function scopeList(env: string, value: string): string[] {
  const parsed = parseScope(value);
  if (parsed === null) {
    throw new ConfigError(`${env}: must be a space-separated list of scope names (RFC 6749 §3.3 characters), got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/**
 * Every setting, with its meaning, unit, default and security effect. docs/configuration.md is generated
 * from this table (`npm run docs:config`), and a test keeps the two equal.
 */
export const OPTIONS: readonly Option<keyof Config>[] = [
  {
    env: 'OAUTHD_DATABASE_URL', key: 'databaseUrl', defaultText: 'sqlite:./data/oauthd.sqlite3',
    description: 'Where tokens, clients and users are stored. `sqlite:<path>` is a SQLite file (created, with its directory, on first start), for one host. `postgres://user:password@host:5432/database` (or `postgresql://`) is a PostgreSQL database, which must exist (the schema is created on start), for several instances; `?max=N` sets the connections per process (default 10) and `?statement_timeout=MS` the longest a query may run (default 5000), other parameters go to node-postgres (e.g. `sslmode`). Either holds only hashes of tokens, secrets and passwords, but protect it like any credential store.',
    parse: (v) => {
      const url = v ?? 'sqlite:./data/oauthd.sqlite3';
      if (/^postgres(ql)?:\/\/./.test(url)) {
        try {
          new URL(url);
        } catch {
          throw new ConfigError(`OAUTHD_DATABASE_URL: not a valid postgres:// URL: ${JSON.stringify(redactUrl(url))}`);
        }
        return url;
      }
      if (!/^sqlite:.+/.test(url)) {
        throw new ConfigError(`OAUTHD_DATABASE_URL: expected sqlite:<path> or postgres://…, got ${JSON.stringify(redactUrl(url))}`);
      }
      return url;
    },
  },
  {
    env: 'OAUTHD_HOST', key: 'host', defaultText: '127.0.0.1',
    description: 'Address of the public listener (the OAuth endpoints, metadata, `/healthz`, `/readyz`). The default accepts local connections only; put oauthd behind a TLS-terminating proxy, or use `0.0.0.0` only where the network is trusted: RFC 6749 §3.2 requires TLS for the token endpoint.',
    parse: (v) => {
      const host = (v ?? '127.0.0.1').trim();
      if (host === '' || /\s/.test(host)) throw new ConfigError(`OAUTHD_HOST: must be a host name or IP address, got ${JSON.stringify(v)}`);
      return host;
    },
  },
  {
    env: 'OAUTHD_PORT', key: 'port', defaultText: '8000',
    description: 'TCP port of the public listener (0 picks a free one).',
    parse: (v) => integer('OAUTHD_PORT', v ?? '8000', 0, 65535),
  },
  {
    env: 'OAUTHD_ADMIN_HOST', key: 'adminHost', defaultText: '127.0.0.1',
    description: 'Address of the admin listener, which serves `/metrics` (Prometheus), `/healthz` and `/readyz` with detail, without authentication. The metrics count failed logins by reason, which would tell an outsider whether a username exists: keep it on a loopback or private address that only operators and the metrics scraper reach, and never route it through the public proxy.',
    parse: (v) => {
      const host = (v ?? '127.0.0.1').trim();
      if (host === '' || /\s/.test(host)) throw new ConfigError(`OAUTHD_ADMIN_HOST: must be a host name or IP address, got ${JSON.stringify(v)}`);
      return host;
    },
  },
  {
    env: 'OAUTHD_ADMIN_PORT', key: 'adminPort', defaultText: '8001',
    description: 'TCP port of the admin listener (0 picks a free one; the start-up line says which). Must differ from OAUTHD_PORT on the same host. With `--workers`, the primary process serves it once, with the whole cluster\'s metrics.',
    parse: (v) => integer('OAUTHD_ADMIN_PORT', v ?? '8001', 0, 65535),
  },
  {
    env: 'OAUTHD_BASE_PATH', key: 'basePath', defaultText: '(empty)',
    description: 'Path prefix of every endpoint, e.g. `/api/secure` serves the token endpoint at `/api/secure/o/token/`.',
    parse: (v) => {
      const path = (v ?? '').trim().replace(/\/+$/, '');
      if (path !== '' && !/^(\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)+$/.test(path)) {
        throw new ConfigError(`OAUTHD_BASE_PATH: must be a URL path starting with "/", e.g. /api/secure (got ${JSON.stringify(v)})`);
      }
      return path;
    },
  },
  {
    env: 'OAUTHD_ACCESS_TOKEN_TTL', key: 'accessTokenTtlSeconds', defaultText: '3600',
    description: 'Lifetime of access tokens, in seconds (`expires_in`). Shorter limits the damage of a leaked token.',
    parse: (v) => integer('OAUTHD_ACCESS_TOKEN_TTL', v ?? '3600', 1, 315_360_000),
  },
  {
    env: 'OAUTHD_REFRESH_TOKEN_TTL', key: 'refreshTokenTtlSeconds', defaultText: '0 (never expire)',
    description: 'Lifetime of refresh tokens, in seconds; 0: they never expire by time and live until used (each use returns a new one, the old one dies).',
    parse: (v) => {
      const seconds = integer('OAUTHD_REFRESH_TOKEN_TTL', v ?? '0', 0, 315_360_000);
      return seconds === 0 ? null : seconds;
    },
  },
  {
    env: 'OAUTHD_REFRESH_GRACE_SECONDS', key: 'refreshGraceSeconds', defaultText: '0 (off)',
    description: 'Idempotent rotation: for this many seconds after a refresh, presenting the same refresh token again returns the same new pair, byte for byte, as long as that pair\'s refresh token is unused (a client whose response was lost retries safely). The pair is kept encrypted under a key derived from the old refresh token, never in plaintext. 0: every second use is reuse and revokes the grant family (RFC 9700 §4.14.2). At most 60.',
    parse: (v) => integer('OAUTHD_REFRESH_GRACE_SECONDS', v ?? '0', 0, 60),
  },
  {
    env: 'OAUTHD_SCOPES', key: 'scopes', defaultText: 'read write',
    description: 'Every scope the server knows, space-separated (case-sensitive, RFC 6749 §3.3). A client may be granted only known scopes.',
    parse: (v) => scopeList('OAUTHD_SCOPES', v ?? 'read write'),
  },
  {
    env: 'OAUTHD_DEFAULT_SCOPES', key: 'defaultScopes', defaultText: 'read write',
    description: 'Scopes granted when a request names none, limited to what the client may have. Must be known scopes; also the default `--scopes` of `oauthd client create`.',
    parse: (v) => scopeList('OAUTHD_DEFAULT_SCOPES', v ?? 'read write'),
  },
  {
    env: 'OAUTHD_LOG_LEVEL', key: 'logLevel', defaultText: 'info',
    description: `Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines on stdout; they never contain a token, secret or password.`,
    parse: (v) => {
      const level = (v ?? 'info').trim();
      if (!LOG_LEVELS.includes(level)) throw new ConfigError(`OAUTHD_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(v)})`);
      return level;
    },
  },
  {
    env: 'OAUTHD_MAX_BODY_BYTES', key: 'maxBodyBytes', defaultText: '16384',
    description: 'Largest request body accepted on the OAuth endpoints, in bytes; larger ones get 413. Token requests are a few hundred bytes.',
    parse: (v) => integer('OAUTHD_MAX_BODY_BYTES', v ?? '16384', 1024, 1_048_576),
  },
  {
    env: 'OAUTHD_REALM', key: 'realm', defaultText: 'oauthd',
    description: 'The `realm` of `WWW-Authenticate` challenges (RFC 6750 §3, RFC 7617).',
    parse: (v) => {
      const realm = v ?? 'oauthd';
      if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]{1,100}$/.test(realm)) throw new ConfigError(`OAUTHD_REALM: must be 1-100 printable ASCII characters without quotes or backslashes`);
      return realm;
    },
  },
  {
    env: 'OAUTHD_ISSUER', key: 'issuer', defaultText: '(derived from each request)',
    description: 'The issuer identifier (RFC 8414 §2): the public https URL of this server, including OAUTHD_BASE_PATH, e.g. `https://auth.example.com/api/secure`. Metadata and endpoint URLs are built from it. Unset, they are derived from the Host header of each request, which is fine for development only.',
    parse: (v) => {
      if (v === undefined || v.trim() === '') return null;
      let url: URL;
      try {
        url = new URL(v.trim());
      } catch {
        throw new ConfigError(`OAUTHD_ISSUER: must be an absolute URL such as https://auth.example.com (got ${JSON.stringify(v)})`);
      }
      // RFC 8414 §2: https, no query or fragment.
      if (!['https:', 'http:'].includes(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '') {
        throw new ConfigError('OAUTHD_ISSUER: must be an http(s) URL without credentials, query or fragment');
      }
      return url.href.replace(/\/+$/, '');
    },
  },
  {
    env: 'OAUTHD_REDIS_URL', key: 'redisUrl', defaultText: '(none: counters in memory)',
    description: 'Redis for the brute-force counters, shared by every instance (`redis://host:6379/0`). Unset, each instance counts alone. If Redis becomes unreachable, counting falls back to memory rather than failing logins.',
    parse: (v) => {
      if (v === undefined || v.trim() === '') return null;
      if (!/^rediss?:\/\//.test(v.trim())) throw new ConfigError(`OAUTHD_REDIS_URL: expected redis://… or rediss://…, got ${JSON.stringify(redactUrl(v))}`);
      return v.trim();
    },
  },
  {
    env: 'OAUTHD_TRUST_PROXY', key: 'trustProxy', defaultText: '(none)',
    description: 'Comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed (e.g. `127.0.0.1,10.0.0.0/8`). The client IP used by the brute-force defence and the audit trail is the first address not in this list. Unset, it is the peer address: never trust a header a client can forge.',
    parse: (v) => {
      const list = (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const entry of list) {
        if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry)) throw new ConfigError(`OAUTHD_TRUST_PROXY: ${JSON.stringify(entry)} is not an IP address or CIDR range`);
      }
      return list;
    },
  },
  {
    env: 'OAUTHD_MAX_FAILURES_PER_USER_IP', key: 'maxFailuresPerUserIp', defaultText: '10',
    description: 'Consecutive failed logins of one username from one IP before that pair is locked out for OAUTHD_LOCKOUT_SECONDS. A success resets the count.',
    parse: (v) => integer('OAUTHD_MAX_FAILURES_PER_USER_IP', v ?? '10', 1, 1_000_000),
  },
  {
    env: 'OAUTHD_BACKOFF_AFTER', key: 'backoffAfter', defaultText: '3',
    description: 'From this many consecutive failures of one username from one IP on, each further attempt must wait 1, 2, 4… seconds (429 with Retry-After) until the lockout.',
    parse: (v) => integer('OAUTHD_BACKOFF_AFTER', v ?? '3', 1, 1_000_000),
  },
  {
    env: 'OAUTHD_MAX_FAILURES_PER_USER', key: 'maxFailuresPerUser', defaultText: '100',
    description: 'Failed logins of one username from all IPs within OAUTHD_FAILURE_WINDOW_SECONDS before the username is locked everywhere (a distributed attack). One IP adds at most OAUTHD_MAX_FAILURES_PER_USER_IP per window to this count, so it must be above that: one IP alone can never lock a user out.',
    parse: (v) => integer('OAUTHD_MAX_FAILURES_PER_USER', v ?? '100', 1, 1_000_000),
  },
  {
    env: 'OAUTHD_MAX_FAILURES_PER_IP', key: 'maxFailuresPerIp', defaultText: '100',
    description: 'Failed logins and client authentications from one IP within OAUTHD_FAILURE_WINDOW_SECONDS before that IP is locked out.',
    parse: (v) => integer('OAUTHD_MAX_FAILURES_PER_IP', v ?? '100', 1, 1_000_000),
  },
  {
    env: 'OAUTHD_MAX_FAILURES_PER_CLIENT_IP', key: 'maxFailuresPerClientIp', defaultText: '20',
    description: 'Failed client authentications of one client id from one IP within OAUTHD_FAILURE_WINDOW_SECONDS before that pair is locked out.',
    parse: (v) => integer('OAUTHD_MAX_FAILURES_PER_CLIENT_IP', v ?? '20', 1, 1_000_000),
  },
  {
    env: 'OAUTHD_LOCKOUT_SECONDS', key: 'lockoutSeconds', defaultText: '900',
    description: 'How long a lockout lasts, in seconds.',
    parse: (v) => integer('OAUTHD_LOCKOUT_SECONDS', v ?? '900', 1, 86_400 * 30),
  },
  {
    env: 'OAUTHD_FAILURE_WINDOW_SECONDS', key: 'failureWindowSeconds', defaultText: '3600',
    description: 'The window in which failures are counted, in seconds.',
    parse: (v) => integer('OAUTHD_FAILURE_WINDOW_SECONDS', v ?? '3600', 1, 86_400 * 30),
  },
  {
    env: 'OAUTHD_REQUEST_TIMEOUT_MS', key: 'requestTimeoutMs', defaultText: '10000',
    description: 'A whole request (headers and body) must arrive within this many milliseconds, else the connection is closed with 408: slow clients cannot hold connections open (slowloris).',
    parse: (v) => integer('OAUTHD_REQUEST_TIMEOUT_MS', v ?? '10000', 100, 600_000),
  },
  {
    env: 'OAUTHD_HEADERS_TIMEOUT_MS', key: 'headersTimeoutMs', defaultText: '5000',
    description: 'The request headers must arrive within this many milliseconds. At most OAUTHD_REQUEST_TIMEOUT_MS.',
    parse: (v) => integer('OAUTHD_HEADERS_TIMEOUT_MS', v ?? '5000', 100, 600_000),
  },
  {
    env: 'OAUTHD_KEEP_ALIVE_TIMEOUT_MS', key: 'keepAliveTimeoutMs', defaultText: '5000',
    description: 'An idle keep-alive connection is closed after this many milliseconds. Behind a load balancer, set it above the balancer\'s idle timeout.',
    parse: (v) => integer('OAUTHD_KEEP_ALIVE_TIMEOUT_MS', v ?? '5000', 100, 600_000),
  },
  {
    env: 'OAUTHD_MAX_HEADER_BYTES', key: 'maxHeaderBytes', defaultText: '8192',
    description: 'Largest total size of the request line and headers, in bytes; larger requests get 431.',
    parse: (v) => integer('OAUTHD_MAX_HEADER_BYTES', v ?? '8192', 1024, 65_536),
  },
  {
    env: 'OAUTHD_HASH_CONCURRENCY', key: 'hashConcurrency', defaultText: '2',
    description: 'Password hashes (argon2id) computed at once, on libuv\'s thread pool. Bounding it keeps a flood of password grants from starving refreshes and token validation, which never wait for it. Not above UV_THREADPOOL_SIZE (4 by default).',
    parse: (v) => integer('OAUTHD_HASH_CONCURRENCY', v ?? '2', 1, 128),
  },
  {
    env: 'OAUTHD_HASH_QUEUE_LIMIT', key: 'hashQueueLimit', defaultText: '256',
    description: 'Password verifications allowed to wait for a hashing slot; beyond it a password grant is answered 503 temporarily_unavailable with Retry-After at once, instead of queueing without bound.',
    parse: (v) => integer('OAUTHD_HASH_QUEUE_LIMIT', v ?? '256', 0, 1_000_000),
  },
  {
    env: 'OAUTHD_CLIENT_CACHE_MS', key: 'clientCacheMs', defaultText: '1000',
    description: 'How long, in milliseconds, a client read from the store is reused to authenticate later requests (token, introspection and revocation requests all authenticate their client). A client deleted, or a secret rotated, by the CLI or another instance can still authenticate for this long; a change made through the same process takes effect at once. 0: read the store on every request. At most 60000.',
    parse: (v) => integer('OAUTHD_CLIENT_CACHE_MS', v ?? '1000', 0, 60_000),
  },
  {
    env: 'OAUTHD_TOKEN_CACHE_ENTRIES', key: 'tokenCacheEntries', defaultText: '10000',
    description: 'SQLite: how many access tokens read by bearer validation or introspection are kept in memory for the next request that presents them. Never stale: a revocation, a disabled user or a deleted client takes effect on the next request, whether it was made through this process or by another one on the same file (the CLI, another worker), which SQLite signals. 0: read the store on every request. PostgreSQL always reads the store.',
    parse: (v) => integer('OAUTHD_TOKEN_CACHE_ENTRIES', v ?? '10000', 0, 1_000_000),
  },
  {
    env: 'OAUTHD_WORKERS', key: 'workers', defaultText: '1',
    description: 'Processes that serve the public port (node:cluster; the primary serves the admin listener and restarts a worker that dies). `auto`: one per core. Each worker holds its own caches and hashing slots (OAUTHD_HASH_CONCURRENCY each), so memory grows with the count; brute-force counters are shared through the primary (or Redis). `oauthd serve --workers N` overrides it.',
    parse: (v) => {
      const value = (v ?? '1').trim();
      return value === 'auto' ? 'auto' : integer('OAUTHD_WORKERS', value === '' ? '1' : value, 1, 256);
    },
  },
  {
    env: 'OAUTHD_MEMORY_PROFILE', key: 'memoryProfile', defaultText: 'small',
    description: '`small`: one process stays near 150 MiB peak RSS under load (V8 sized small from inside the process: the server runs in a worker thread with a 6 MiB young generation, and `--optimize-for-size`; docs/benchmarks.md, *Memory (RSS)*), for containers with a 256 MiB limit. `fast`: V8 left to size its heap, about 200–235 MiB under load for roughly a fifth more refreshes and introspections per second on the reference machine (docs/benchmarks.md). Launch flags of your own (`--max-semi-space-size`, `--optimize-for-size`) win either way.',
    parse: (v) => {
      const value = (v ?? 'small').trim();
      if (value !== 'small' && value !== 'fast') throw new ConfigError(`OAUTHD_MEMORY_PROFILE: must be small or fast (got ${JSON.stringify(v)})`);
      return value;
    },
  },
  {
    env: 'OAUTHD_CLEANUP_INTERVAL_SECONDS', key: 'cleanupIntervalSeconds', defaultText: '60',
    description: 'How often the server removes dead tokens by itself (in small batches, a bounded time per run, so the store stays at a bounded size under heavy churn). 0 turns it off; `oauthd cleanup` does the same on demand.',
    parse: (v) => integer('OAUTHD_CLEANUP_INTERVAL_SECONDS', v ?? '60', 0, 86_400),
  },
  {
    env: 'OAUTHD_TOKEN_RETENTION_SECONDS', key: 'tokenRetentionSeconds', defaultText: '604800 (7 days)',
    description: 'How long used, revoked and expired refresh tokens (and revoked grants) are kept before the cleanup removes them. While kept, presenting an old refresh token is recognised as reuse and revokes its family; afterwards it is merely unknown (invalid_grant). Expired access tokens go at once.',
    parse: (v) => integer('OAUTHD_TOKEN_RETENTION_SECONDS', v ?? '604800', 0, 315_360_000),
  },
  {
    env: 'OAUTHD_AUDIT_RETENTION_SECONDS', key: 'auditRetentionSeconds', defaultText: '7776000 (90 days)',
    description: 'How long audit events are kept in the database before the cleanup removes them (the JSON log keeps its own retention). Each refresh adds one event.',
    parse: (v) => integer('OAUTHD_AUDIT_RETENTION_SECONDS', v ?? '7776000', 3600, 315_360_000),
  },
  {
    env: 'OAUTHD_PASSWORD_MIN_LENGTH', key: 'passwordMinLength', defaultText: '8',
    description: 'The shortest password `oauthd user create` and `oauthd user set-password` accept, in characters (Unicode code points). Passwords imported as hashes (`oauthd import django`) are kept as they are: their length is unknown.',
    parse: (v) => integer('OAUTHD_PASSWORD_MIN_LENGTH', v ?? '8', 1, 1024),
  },
  {
    env: 'OAUTHD_PASSWORD_MAX_LENGTH', key: 'passwordMaxLength', defaultText: '1024',
    description: 'The longest password that may be set, in characters. argon2 accepts any length, but a password is hashed again at every login: the bound refuses multi-megabyte passwords when they are set. A login request is bounded by OAUTHD_MAX_BODY_BYTES anyway.',
    parse: (v) => integer('OAUTHD_PASSWORD_MAX_LENGTH', v ?? '1024', 1, 65_536),
  },
];

export const CONFIG_FILE_ENV = 'OAUTHD_CONFIG_FILE';

/**
 * Builds the configuration from, in rising priority: defaults, the JSON file named by OAUTHD_CONFIG_FILE
 * (an object whose keys are the variable names above), the environment, and `overrides` (CLI flags,
 * keyed by variable name). Throws ConfigError with one line naming the variable at the first bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Record<string, string | undefined> = {}): Config {
  const file = readConfigFile(env[CONFIG_FILE_ENV]);
  const values: Record<string, string | undefined> = { ...file };
  for (const option of OPTIONS) {
    const fromEnv = env[option.env];
    if (fromEnv !== undefined) values[option.env] = fromEnv;
    const fromFlag = overrides[option.env];
    if (fromFlag !== undefined) values[option.env] = fromFlag;
  }
  const config = {} as Record<keyof Config, unknown>;
  for (const option of OPTIONS) config[option.key] = option.parse(values[option.env]);
  const result = config as unknown as Config;
  if (result.adminPort !== 0 && result.adminPort === result.port && result.adminHost === result.host) {
    throw new ConfigError(`OAUTHD_ADMIN_PORT: must differ from OAUTHD_PORT (both ${result.port} on ${result.host})`);
  }
  if (result.passwordMinLength > result.passwordMaxLength) {
    throw new ConfigError(`OAUTHD_PASSWORD_MIN_LENGTH: must not exceed OAUTHD_PASSWORD_MAX_LENGTH (${result.passwordMaxLength})`);
  }
  if (result.headersTimeoutMs > result.requestTimeoutMs) {
    throw new ConfigError('OAUTHD_HEADERS_TIMEOUT_MS: must not exceed OAUTHD_REQUEST_TIMEOUT_MS');
  }
  const threadPool = Number(env.UV_THREADPOOL_SIZE ?? 4) || 4;
  if (result.hashConcurrency > threadPool) {
    // Hashes run on libuv's pool: more slots than threads would only queue there, blocking file and DNS work too.
    throw new ConfigError(
      `OAUTHD_HASH_CONCURRENCY: ${result.hashConcurrency} is above the thread pool size (${threadPool}, UV_THREADPOOL_SIZE); raise UV_THREADPOOL_SIZE or lower it`,
    );
  }
  if (result.maxFailuresPerUser <= result.maxFailuresPerUserIp) {
    // One IP adds at most OAUTHD_MAX_FAILURES_PER_USER_IP to the username's counter: at or below it, one IP
    // could lock the user out everywhere.
    throw new ConfigError('OAUTHD_MAX_FAILURES_PER_USER: must be above OAUTHD_MAX_FAILURES_PER_USER_IP, or one IP could lock a user out from every IP');
  }
  if (!isSubset(result.defaultScopes, result.scopes)) {
    throw new ConfigError(`OAUTHD_DEFAULT_SCOPES: every default scope must be in OAUTHD_SCOPES (${result.scopes.join(' ')})`);
  }
  return result;
}

function readConfigFile(path: string | undefined): Record<string, string> {
  if (path === undefined || path === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${CONFIG_FILE_ENV}: cannot read ${path} as JSON (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`${CONFIG_FILE_ENV}: ${path} must hold a JSON object keyed by variable names`);
  }
  const known = new Set(OPTIONS.map((o) => o.env));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!known.has(key)) throw new ConfigError(`${CONFIG_FILE_ENV}: unknown setting ${JSON.stringify(key)} in ${path}`);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError(`${key}: must be a string or a number in ${path}`);
    }
    out[key] = String(value);
  }
  return out;
}

/** docs/configuration.md, generated from OPTIONS. */
export function renderConfigDocs(): string {
  const rows = OPTIONS.map((o) => `| \`${o.env}\` | ${o.defaultText.startsWith('(') ? o.defaultText : `\`${o.defaultText}\``} | ${o.description} |`);
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/config.ts by `npm run docs:config`; edit the source, not this file. -->',
    '',
    'oauthd reads its settings from environment variables. Optionally, `OAUTHD_CONFIG_FILE` names a JSON file',
    'whose keys are the same variable names (e.g. `{"OAUTHD_PORT": 8000}`); the environment overrides the file,',
    'and `oauthd serve --host/--port/--admin-host/--admin-port/--database-url` override both. An invalid value',
    'stops start-up with one line naming the variable.',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

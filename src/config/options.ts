import type { Config } from './config.js';
import { option } from './option.js';
import { AUTHORIZATION_OPTIONS } from './options-authorization.js';
import {
  addressList,
  basePath,
  databaseUrl,
  hostName,
  integer,
  issuer,
  linkUrl,
  LOG_LEVELS,
  logLevel,
  memoryProfile,
  port,
  realm,
  redisUrl,
  scopeList,
  secondsOrNever,
  workerCount,
} from './parsers.js';

/**
 * Every setting, with its meaning, unit, default and security effect, in the order docs/configuration.md
 * lists them.
 */
export const OPTIONS = [
  option('store', 'databaseUrl', {
    env: 'OAUTHD_DATABASE_URL',
    default: 'sqlite:./data/oauthd.sqlite3',
    parse: databaseUrl,
    description:
      'Where tokens, clients and users are stored. `sqlite:<path>` is a SQLite file (created, with its ' +
      'directory, on first start), for one host. `postgres://user:password@host:5432/database` (or ' +
      '`postgresql://`) is a PostgreSQL database, which must exist (the schema is created on start), for ' +
      'several instances; `?max=N` sets the connections per process (default 10) and `?statement_timeout=MS` ' +
      'the longest a query may run (default 5000), other parameters go to node-postgres (e.g. `sslmode`). ' +
      'Either holds only hashes of tokens, secrets and passwords, but protect it like any credential store.',
  }),
  option('http', 'host', {
    env: 'OAUTHD_HOST',
    default: '127.0.0.1',
    parse: hostName,
    description:
      'Address of the public listener (the OAuth endpoints, metadata, `/healthz`, `/readyz`). The default ' +
      'accepts local connections only; put oauthd behind a TLS-terminating proxy, or use `0.0.0.0` only where ' +
      'the network is trusted: RFC 6749 §3.2 requires TLS for the token endpoint.',
  }),
  option('http', 'port', {
    env: 'OAUTHD_PORT',
    default: '8000',
    parse: port,
    description: 'TCP port of the public listener (0 picks a free one).',
  }),
  option('admin', 'host', {
    env: 'OAUTHD_ADMIN_HOST',
    default: '127.0.0.1',
    parse: hostName,
    description:
      'Address of the admin listener, which serves `/metrics` (Prometheus), `/healthz` and `/readyz` with ' +
      'detail, without authentication. The metrics count failed logins by reason, which would tell an outsider ' +
      'whether a username exists: keep it on a loopback or private address that only operators and the metrics ' +
      'scraper reach, and never route it through the public proxy.',
  }),
  option('admin', 'port', {
    env: 'OAUTHD_ADMIN_PORT',
    default: '8001',
    parse: port,
    description:
      'TCP port of the admin listener (0 picks a free one; the start-up line says which). Must differ from ' +
      'OAUTHD_PORT on the same host. With `--workers`, the primary process serves it once, with the whole ' +
      "cluster's metrics.",
  }),
  option('http', 'basePath', {
    env: 'OAUTHD_BASE_PATH',
    default: '',
    unsetMeans: 'empty',
    parse: basePath,
    description:
      'Path prefix of every endpoint, e.g. `/api/secure` serves the token endpoint at `/api/secure/o/token/`.',
  }),
  option('policy', 'accessTokenTtlSeconds', {
    env: 'OAUTHD_ACCESS_TOKEN_TTL',
    default: '3600',
    parse: integer(1, 315_360_000),
    description: 'Lifetime of access tokens, in seconds (`expires_in`). Shorter limits the damage of a leaked token.',
  }),
  option('policy', 'refreshTokenTtlSeconds', {
    env: 'OAUTHD_REFRESH_TOKEN_TTL',
    default: '0',
    note: 'never expire',
    parse: secondsOrNever,
    description:
      'Lifetime of refresh tokens, in seconds; 0: they never expire by time and live until used (each use ' +
      'returns a new one, the old one dies).',
  }),
  option('policy', 'refreshAbsoluteTtlSeconds', {
    env: 'OAUTHD_REFRESH_ABSOLUTE_TTL',
    default: '0',
    note: 'no bound',
    parse: secondsOrNever,
    description:
      'How long a grant may be refreshed at all, in seconds, counted from its first issue (the password): past ' +
      'it a refresh answers invalid_grant and the user signs in again, and no refresh token outlives it. 0: no ' +
      'bound beyond OAUTHD_REFRESH_TOKEN_TTL. A client can have its own (`oauthd client update --refresh-token-ttl`).',
  }),
  option('policy', 'refreshGraceSeconds', {
    env: 'OAUTHD_REFRESH_GRACE_SECONDS',
    default: '0',
    note: 'off',
    parse: integer(0, 60),
    description:
      'Idempotent rotation: for this many seconds after a refresh, presenting the same refresh token again ' +
      "returns the same new pair, byte for byte, as long as that pair's refresh token is unused (a client whose " +
      'response was lost retries safely). The pair is kept encrypted under a key derived from the old refresh ' +
      'token, never in plaintext. 0: every second use is reuse and revokes the grant family (RFC 9700 §4.14.2). ' +
      'At most 60.',
  }),
  option('policy', 'knownScopes', {
    env: 'OAUTHD_SCOPES',
    default: 'read write',
    parse: scopeList,
    description:
      'Every scope the server knows, space-separated (case-sensitive, RFC 6749 §3.3). A client may be granted ' +
      'only known scopes.',
  }),
  option('policy', 'defaultScopes', {
    env: 'OAUTHD_DEFAULT_SCOPES',
    default: 'read write',
    parse: scopeList,
    description:
      'Scopes granted when a request names none, limited to what the client may have. Must be known scopes; ' +
      'also the default `--scopes` of `oauthd client create`.',
  }),
  option('process', 'logLevel', {
    env: 'OAUTHD_LOG_LEVEL',
    default: 'info',
    parse: logLevel,
    description:
      `Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines on stdout; they never contain a token, ` +
      'secret or password.',
  }),
  option('http', 'maxBodyBytes', {
    env: 'OAUTHD_MAX_BODY_BYTES',
    default: '16384',
    parse: integer(1024, 1_048_576),
    description:
      'Largest request body accepted on the OAuth endpoints, in bytes; larger ones get 413. Token requests are ' +
      'a few hundred bytes.',
  }),
  option('http', 'realm', {
    env: 'OAUTHD_REALM',
    default: 'oauthd',
    parse: realm,
    description: 'The `realm` of `WWW-Authenticate` challenges (RFC 6750 §3, RFC 7617).',
  }),
  option('http', 'issuer', {
    env: 'OAUTHD_ISSUER',
    default: '',
    unsetMeans: 'derived from each request',
    parse: issuer,
    description:
      'The issuer identifier (RFC 8414 §2): the public https URL of this server, including OAUTHD_BASE_PATH, ' +
      'e.g. `https://auth.example.com/api/secure`. Metadata and endpoint URLs are built from it. Unset, they ' +
      'are derived from the Host header of each request, which is fine for development only.',
  }),
  option('redis', 'url', {
    env: 'OAUTHD_REDIS_URL',
    default: '',
    unsetMeans: 'none: counters in memory',
    parse: redisUrl,
    description:
      'Redis for the brute-force counters, shared by every instance (`redis://host:6379/0`). Unset, each ' +
      'instance counts alone. If Redis becomes unreachable, counting falls back to memory rather than failing ' +
      'logins.',
  }),
  option('http', 'trustProxy', {
    env: 'OAUTHD_TRUST_PROXY',
    default: '',
    unsetMeans: 'none',
    parse: addressList,
    description:
      'Comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed (e.g. ' +
      '`127.0.0.1,10.0.0.0/8`). The client IP used by the brute-force defence and the audit trail is the first ' +
      'address not in this list. Unset, it is the peer address: never trust a header a client can forge.',
  }),
  option('throttle', 'maxFailuresPerUserIp', {
    env: 'OAUTHD_MAX_FAILURES_PER_USER_IP',
    default: '10',
    parse: integer(1, 1_000_000),
    description:
      'Consecutive failed logins of one username from one IP before that pair is locked out for ' +
      'OAUTHD_LOCKOUT_SECONDS. A success resets the count.',
  }),
  option('throttle', 'backoffAfter', {
    env: 'OAUTHD_BACKOFF_AFTER',
    default: '3',
    parse: integer(1, 1_000_000),
    description:
      'From this many consecutive failures of one username from one IP on, each further attempt must wait 1, 2, ' +
      '4… seconds (429 with Retry-After) until the lockout.',
  }),
  option('throttle', 'maxFailuresPerUser', {
    env: 'OAUTHD_MAX_FAILURES_PER_USER',
    default: '100',
    parse: integer(1, 1_000_000),
    description:
      'Failed logins of one username from all IPs within OAUTHD_FAILURE_WINDOW_SECONDS before the username is ' +
      'locked everywhere (a distributed attack). One IP adds at most OAUTHD_MAX_FAILURES_PER_USER_IP per window ' +
      'to this count, so it must be above that: one IP alone can never lock a user out.',
  }),
  option('throttle', 'maxFailuresPerIp', {
    env: 'OAUTHD_MAX_FAILURES_PER_IP',
    default: '100',
    parse: integer(1, 1_000_000),
    description:
      'Failed logins and client authentications from one IP within OAUTHD_FAILURE_WINDOW_SECONDS before that IP ' +
      'is locked out.',
  }),
  option('throttle', 'maxFailuresPerClientIp', {
    env: 'OAUTHD_MAX_FAILURES_PER_CLIENT_IP',
    default: '20',
    parse: integer(1, 1_000_000),
    description:
      'Failed client authentications of one client id from one IP within OAUTHD_FAILURE_WINDOW_SECONDS before ' +
      'that pair is locked out.',
  }),
  option('throttle', 'lockoutSeconds', {
    env: 'OAUTHD_LOCKOUT_SECONDS',
    default: '900',
    parse: integer(1, 86_400 * 30),
    description: 'How long a lockout lasts, in seconds.',
  }),
  option('throttle', 'windowSeconds', {
    env: 'OAUTHD_FAILURE_WINDOW_SECONDS',
    default: '3600',
    parse: integer(1, 86_400 * 30),
    description: 'The window in which failures are counted, in seconds.',
  }),
  option('http', 'requestTimeoutMs', {
    env: 'OAUTHD_REQUEST_TIMEOUT_MS',
    default: '10000',
    parse: integer(100, 600_000),
    description:
      'A whole request (headers and body) must arrive within this many milliseconds, else the connection is ' +
      'closed with 408: slow clients cannot hold connections open (slowloris).',
  }),
  option('http', 'headersTimeoutMs', {
    env: 'OAUTHD_HEADERS_TIMEOUT_MS',
    default: '5000',
    parse: integer(100, 600_000),
    description: 'The request headers must arrive within this many milliseconds. At most OAUTHD_REQUEST_TIMEOUT_MS.',
  }),
  option('http', 'keepAliveTimeoutMs', {
    env: 'OAUTHD_KEEP_ALIVE_TIMEOUT_MS',
    default: '5000',
    parse: integer(100, 600_000),
    description:
      'An idle keep-alive connection is closed after this many milliseconds. Behind a load balancer, set it ' +
      "above the balancer's idle timeout.",
  }),
  option('http', 'maxHeaderBytes', {
    env: 'OAUTHD_MAX_HEADER_BYTES',
    default: '8192',
    parse: integer(1024, 65_536),
    description: 'Largest total size of the request line and headers, in bytes; larger requests get 431.',
  }),
  option('hashing', 'maxConcurrent', {
    env: 'OAUTHD_HASH_CONCURRENCY',
    default: '2',
    parse: integer(1, 128),
    description:
      "Password hashes (argon2id) computed at once, on libuv's thread pool. Bounding it keeps a flood of " +
      'password grants from starving refreshes and token validation, which never wait for it. Not above ' +
      'UV_THREADPOOL_SIZE (4 by default).',
  }),
  option('hashing', 'maxQueue', {
    env: 'OAUTHD_HASH_QUEUE_LIMIT',
    default: '256',
    parse: integer(0, 1_000_000),
    description:
      'Password verifications allowed to wait for a hashing slot; beyond it a password grant is answered 503 ' +
      'temporarily_unavailable with Retry-After at once, instead of queueing without bound.',
  }),
  option('store', 'clientCacheMs', {
    env: 'OAUTHD_CLIENT_CACHE_MS',
    default: '1000',
    parse: integer(0, 60_000),
    description:
      'How long, in milliseconds, a client read from the store is reused to authenticate later requests (token, ' +
      'introspection and revocation requests all authenticate their client). A client deleted, or a secret ' +
      'rotated, by the CLI or another instance can still authenticate for this long; a change made through the ' +
      'same process takes effect at once. 0: read the store on every request. At most 60000.',
  }),
  option('store', 'tokenCacheEntries', {
    env: 'OAUTHD_TOKEN_CACHE_ENTRIES',
    default: '10000',
    parse: integer(0, 1_000_000),
    description:
      'SQLite: how many access tokens read by bearer validation or introspection are kept in memory for the ' +
      'next request that presents them. Never stale: a revocation, a disabled user or a deleted client takes ' +
      'effect on the next request, whether it was made through this process or by another one on the same file ' +
      '(the CLI, another worker), which SQLite signals. 0: read the store on every request. PostgreSQL always ' +
      'reads the store.',
  }),
  option('process', 'workers', {
    env: 'OAUTHD_WORKERS',
    default: '1',
    parse: workerCount,
    description:
      'Processes that serve the public port (node:cluster; the primary serves the admin listener and restarts a ' +
      'worker that dies). `auto`: one per core. Each worker holds its own caches and hashing slots ' +
      '(OAUTHD_HASH_CONCURRENCY each), so memory grows with the count; brute-force counters are shared through ' +
      'the primary (or Redis). `oauthd serve --workers N` overrides it.',
  }),
  option('process', 'memoryProfile', {
    env: 'OAUTHD_MEMORY_PROFILE',
    default: 'small',
    parse: memoryProfile,
    description:
      '`small`: one process stays near 150 MiB peak RSS under load (V8 sized small from inside the process: the ' +
      'server runs in a worker thread with a 6 MiB young generation, and `--optimize-for-size`; ' +
      'docs/benchmarks.md, *Memory (RSS)*), for containers with a 256 MiB limit. `fast`: V8 left to size its ' +
      'heap, about 200–235 MiB under load for roughly a fifth more refreshes and introspections per second on ' +
      'the reference machine (docs/benchmarks.md). Launch flags of your own (`--max-semi-space-size`, ' +
      '`--optimize-for-size`) win either way.',
  }),
  option('cleanup', 'intervalSeconds', {
    env: 'OAUTHD_CLEANUP_INTERVAL_SECONDS',
    default: '60',
    parse: integer(0, 86_400),
    description:
      'How often the server removes dead tokens by itself (in small batches, a bounded time per run, so the ' +
      'store stays at a bounded size under heavy churn). 0 turns it off; `oauthd cleanup` does the same on ' +
      'demand.',
  }),
  option('cleanup', 'retentionSeconds', {
    env: 'OAUTHD_TOKEN_RETENTION_SECONDS',
    default: '604800',
    note: '7 days',
    parse: integer(0, 315_360_000),
    description:
      'How long used, revoked and expired refresh tokens (and revoked grants) are kept before the cleanup ' +
      'removes them. While kept, presenting an old refresh token is recognised as reuse and revokes its family; ' +
      'afterwards it is merely unknown (invalid_grant). Expired access tokens go at once.',
  }),
  option('cleanup', 'auditRetentionSeconds', {
    env: 'OAUTHD_AUDIT_RETENTION_SECONDS',
    default: '7776000',
    note: '90 days',
    parse: integer(3600, 315_360_000),
    description:
      'How long audit events are kept in the database before the cleanup removes them (the JSON log keeps its ' +
      'own retention). Each refresh adds one event.',
  }),
  option('usage', 'flushSeconds', {
    env: 'OAUTHD_USAGE_FLUSH_SECONDS',
    default: '10',
    parse: integer(1, 3600),
    description:
      'How often each server process adds the token requests it counted in memory (per client, grant type and ' +
      'UTC day) to the store, in seconds; also at shutdown. `oauthd client usage` and `oauthd report ' +
      'password-grant` read what was added: they lag by up to this long, and a crash loses at most this long of ' +
      'counts. No store write happens per request.',
  }),
  option('sunset', 'link', {
    env: 'OAUTHD_PASSWORD_GRANT_SUNSET_LINK',
    default: '',
    unsetMeans: 'no Link header',
    parse: linkUrl,
    description:
      'A page that tells integrators how to move off the password grant (an absolute http(s) URL). Set, every ' +
      'answer that carries a client\'s password-grant `Sunset` header also carries `Link: <URL>; rel="sunset"` ' +
      '(RFC 8594 §3.1). See docs/password-grant-sunset.md.',
  }),
  option('passwords', 'minLength', {
    env: 'OAUTHD_PASSWORD_MIN_LENGTH',
    default: '8',
    parse: integer(1, 1024),
    description:
      'The shortest password `oauthd user create` and `oauthd user set-password` accept, in characters (Unicode ' +
      'code points). Passwords imported as hashes (`oauthd import django`) are kept as they are: their length ' +
      'is unknown.',
  }),
  option('passwords', 'maxLength', {
    env: 'OAUTHD_PASSWORD_MAX_LENGTH',
    default: '1024',
    parse: integer(1, 65_536),
    description:
      'The longest password that may be set, in characters. argon2 accepts any length, but a password is hashed ' +
      'again at every login: the bound refuses multi-megabyte passwords when they are set. A login request is ' +
      'bounded by OAUTHD_MAX_BODY_BYTES anyway.',
  }),
  ...AUTHORIZATION_OPTIONS,
];

type ConfigPath = { [G in keyof Config]: `${G}.${keyof Config[G] & string}` }[keyof Config];
type FieldWithoutOption = Exclude<ConfigPath, (typeof OPTIONS)[number]['path']>;
/** Fails to compile, naming the field, while a Config field has no option: loadConfig relies on it. */
export const EVERY_FIELD_HAS_AN_OPTION: [FieldWithoutOption] extends [never] ? true : FieldWithoutOption = true;

import { readFileSync } from 'node:fs';
import { ADMIN_SCOPES, isAdminScope } from '../core/admin-scopes.js';
import { isSubset } from '../core/scope.js';
import type { PasswordPolicy } from '../core/admin/validation.js';
import type { ServerTokenPolicy } from '../core/policy.js';
import type { ConfigDraft } from './option.js';
import { OPTIONS } from './options.js';
import { ConfigError } from './parsers.js';

/**
 * The whole configuration, validated, in groups shaped like what each consumer takes, so services.ts and
 * server.ts hand a group on as it is. Only config/ reads the environment or config files; each field's
 * variable, default, parser and meaning are in options.ts.
 */
export interface Config {
  store: StoreConfig;
  /** The protocol settings the core takes as is. */
  policy: ServerTokenPolicy;
  /** The brute-force limits, shaped as createLoginThrottle's ThrottleSettings (config/ does not import throttle/). */
  throttle: ThrottleConfig;
  /** Where the brute-force counters are shared; null: each instance counts alone. */
  redis: { url: string | null };
  /** The public listener. */
  http: HttpConfig;
  /**
   * The admin listener (metrics, health with detail, the admin API and the console). `consoleUrl`: the origin
   * browsers reach the console at (its callback is built from it); null: the admin listener's own address.
   */
  admin: { host: string; port: number; consoleUrl: string | null };
  /** Password hashing, shaped as boundedHasher's options. */
  hashing: { maxConcurrent: number; maxQueue: number };
  /**
   * What an administrator may set as a password (`user create`, `user set-password`), in characters (Unicode
   * code points). Imported hashes are not checked: their passwords are unknown.
   */
  passwords: PasswordPolicy;
  /** The online cleanup of dead tokens and old audit events, shaped as scheduleCleanup's options. */
  cleanup: { intervalSeconds: number; retentionSeconds: number; auditRetentionSeconds: number };
  process: ProcessConfig;
  /** Per-client usage counting (metrics/client-usage.ts). */
  usage: { flushSeconds: number };
  /** Retiring the password grant (docs/password-grant-sunset.md). */
  sunset: { link: string | null };
  /** The authorization code and device flows (RFC 6749 §4.1, RFC 8628). */
  authorization: AuthorizationConfig;
  /** How the login, consent and device pages present the operator's product. */
  pages: PagesConfig;
}

export interface AuthorizationConfig {
  codeTtlSeconds: number;
  sessionTtlSeconds: number;
  deviceCodeTtlSeconds: number;
  devicePollIntervalSeconds: number;
  /** User codes one IP may try per minute on the device page. */
  userCodeAttemptsPerMinute: number;
}

export interface PagesConfig {
  productName: string;
  /** An image file shown on every page; null: none. */
  logoFile: string | null;
  /** The consent page's words for each scope. */
  scopeDescriptions: Readonly<Record<string, string>>;
}

export interface StoreConfig {
  databaseUrl: string;
  clientCacheMs: number;
  tokenCacheEntries: number;
}

export interface ThrottleConfig {
  maxFailuresPerIp: number;
  maxFailuresPerUser: number;
  maxFailuresPerUserIp: number;
  backoffAfter: number;
  maxFailuresPerClientIp: number;
  lockoutSeconds: number;
  windowSeconds: number;
}

export interface HttpConfig {
  host: string;
  port: number;
  basePath: string;
  issuer: string | null;
  realm: string;
  trustProxy: string[];
  maxBodyBytes: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export interface ProcessConfig {
  /** Processes serving the public port: a number, or `auto` for one per core. */
  workers: number | 'auto';
  /** Keep V8's heap small (memory) rather than let it grow (throughput). */
  memoryProfile: 'small' | 'fast';
  logLevel: string;
}

export const CONFIG_FILE_ENV = 'OAUTHD_CONFIG_FILE';

/**
 * Builds the configuration from, in rising priority: defaults, the JSON file named by OAUTHD_CONFIG_FILE
 * (an object whose keys are the variable names), the environment, and `overrides` (CLI flags, keyed by
 * variable name). Throws ConfigError with one line naming the variable at the first bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Record<string, string | undefined> = {}): Config {
  const values: Record<string, string | undefined> = readConfigFile(env[CONFIG_FILE_ENV]);
  for (const option of OPTIONS) {
    values[option.env] = overrides[option.env] ?? env[option.env] ?? values[option.env];
  }
  const draft: ConfigDraft = {
    store: {},
    policy: {},
    throttle: {},
    redis: {},
    http: {},
    admin: {},
    hashing: {},
    passwords: {},
    cleanup: {},
    process: {},
    usage: {},
    sunset: {},
    authorization: {},
    pages: {},
  };
  for (const option of OPTIONS) option.parseInto(draft, values[option.env]);
  // Every field is set: options.ts fails to compile while a Config field has no option.
  const config = draft as Config;
  checkTogether(config, Number(env.UV_THREADPOOL_SIZE ?? 4) || 4);
  // The admin API's scopes are known whatever OAUTHD_SCOPES says (listing them there is allowed).
  const { knownScopes } = config.policy;
  config.policy.knownScopes = [...knownScopes, ...ADMIN_SCOPES.filter((s) => !knownScopes.includes(s))];
  return config;
}

/** The rules that involve more than one setting. */
function checkTogether(config: Config, threadPool: number): void {
  const { http, admin, passwords, throttle, policy } = config;
  if (admin.port !== 0 && admin.port === http.port && admin.host === http.host) {
    throw new ConfigError(`OAUTHD_ADMIN_PORT: must differ from OAUTHD_PORT (both ${http.port} on ${http.host})`);
  }
  if (passwords.minLength > passwords.maxLength) {
    throw new ConfigError(
      `OAUTHD_PASSWORD_MIN_LENGTH: must not exceed OAUTHD_PASSWORD_MAX_LENGTH (${passwords.maxLength})`,
    );
  }
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new ConfigError('OAUTHD_HEADERS_TIMEOUT_MS: must not exceed OAUTHD_REQUEST_TIMEOUT_MS');
  }
  if (config.hashing.maxConcurrent > threadPool) {
    // Hashes run on libuv's pool: more slots than threads would only queue there, blocking file and DNS work too.
    throw new ConfigError(
      `OAUTHD_HASH_CONCURRENCY: ${config.hashing.maxConcurrent} is above the thread pool size (${threadPool}, ` +
        'UV_THREADPOOL_SIZE); raise UV_THREADPOOL_SIZE or lower it',
    );
  }
  if (throttle.maxFailuresPerUser <= throttle.maxFailuresPerUserIp) {
    // One IP adds at most OAUTHD_MAX_FAILURES_PER_USER_IP to the username's counter: at or below it, one IP
    // could lock the user out everywhere.
    throw new ConfigError(
      'OAUTHD_MAX_FAILURES_PER_USER: must be above OAUTHD_MAX_FAILURES_PER_USER_IP, or one IP could lock a user ' +
        'out from every IP',
    );
  }
  const adminDefault = policy.defaultScopes.filter(isAdminScope);
  if (adminDefault.length > 0) {
    throw new ConfigError(
      `OAUTHD_DEFAULT_SCOPES: ${adminDefault.join(' ')} cannot be a default scope: an admin scope is given only ` +
        'to a client that names it (`oauthd client create --scopes oauthd:admin`)',
    );
  }
  if (!isSubset(policy.defaultScopes, policy.knownScopes)) {
    throw new ConfigError(
      `OAUTHD_DEFAULT_SCOPES: every default scope must be in OAUTHD_SCOPES (${policy.knownScopes.join(' ')})`,
    );
  }
}

function readConfigFile(path: string | undefined): Record<string, string> {
  if (path === undefined || path === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new ConfigError(`${CONFIG_FILE_ENV}: cannot read ${path} as JSON (${reason})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`${CONFIG_FILE_ENV}: ${path} must hold a JSON object keyed by variable names`);
  }
  const known = new Set(OPTIONS.map((o) => o.env));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!known.has(key)) {
      throw new ConfigError(`${CONFIG_FILE_ENV}: unknown setting ${JSON.stringify(key)} in ${path}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError(`${key}: must be a string or a number in ${path}`);
    }
    out[key] = String(value);
  }
  return out;
}

/** docs/configuration.md, generated from OPTIONS (`npm run docs:config`); a test keeps the two equal. */
export function renderConfigDocs(): string {
  const rows = OPTIONS.map((o) => {
    const shown = o.unsetMeans !== undefined ? `(${o.unsetMeans})` : `\`${o.default}${o.note ? ` (${o.note})` : ''}\``;
    return `| \`${o.env}\` | ${shown} | ${o.description} |`;
  });
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

import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { createAdmin, type Admin } from './core/admin/index.js';
import { createBearerValidator, type BearerValidator } from './core/bearer.js';
import { systemClock } from './clock.js';
import type { Clock, EventSink, LoginThrottle, PasswordHasher, Store } from './core/ports.js';
import { createIntrospectionEndpoint, type IntrospectionEndpoint } from './core/introspection.js';
import { createRevocationEndpoint, type RevocationEndpoint } from './core/revocation.js';
import { createTokenEndpoint, type ClientRateLimiter, type TokenEndpoint } from './core/token-endpoint.js';
import type { AuthorizationFlow, DeviceFlow, SignIn } from './core/authorize/api.js';
import { createAuthorizationFlow } from './core/authorize/flow.js';
import { createDeviceFlow } from './core/device/flow.js';
import { createSignIn } from './core/sign-in.js';
import { createArgon2Hasher } from './crypto/argon2-hasher.js';
import { boundedHasher, cachedSecretVerifier } from './crypto/bounded-hasher.js';
import { createDjangoCompatibleHasher } from './crypto/django-hashers.js';
import { openStore } from './store/store.js';
import { clientCacheOverrides } from './store/client-cache.js';
import { decorateStore } from './store/decorate.js';
import { createMetrics, fanOut, type Metrics } from './metrics/metrics.js';
import { createClientUsageCounter } from './metrics/client-usage.js';
import { createAuditSink, type AuditSink } from './audit/audit-sink.js';
import { createLoginThrottle } from './throttle/login-throttle.js';
import { createClientRateLimiter } from './throttle/client-rate-limit.js';
import { connectRedis } from './throttle/redis.js';
import {
  type ConsoleServices,
  consoleServices,
  ensureConsoleClientRow,
  reachableUrl,
  withConsoleClient,
} from './console-origin.js';
import { throttleKeyOfIp } from './throttle/keys.js';
import { startLockoutSync } from './throttle/lockout-sync.js';

/** Everything the server and the CLI use, wired once. */
export interface Services {
  store: Store;
  clock: Clock;
  passwordHasher: PasswordHasher;
  tokenEndpoint: TokenEndpoint;
  bearer: BearerValidator;
  revocation: RevocationEndpoint;
  introspection: IntrospectionEndpoint;
  /** The admin actions as the actor given to createServices (the CLI: `cli:<os user>`). */
  admin: Admin;
  /**
   * The same actions attributed to another actor: `api:user:<username>`, `api:client:<client_id>`,
   * `console:user:<username>`.
   */
  adminAs(actor: string): Admin;
  /** The console's built-in client: its id, origin and redirect URI (core/console-client.ts). */
  console: ConsoleServices;
  /**
   * The public listener's base URL (the issuer): OAUTHD_ISSUER, else `http://host:port` + base path of the public
   * listener, never a request's Host header. What the console builds its authorize URL from.
   */
  publicBaseUrl(): string;
  /** Set by server.ts once the public listener is bound (its port is known then); ignored with OAUTHD_ISSUER. */
  setPublicBaseUrl(url: string): void;
  /** The authorization code flow's endpoint (RFC 6749 §4.1), the login page and the device flow (RFC 8628). */
  authorizationFlow: AuthorizationFlow;
  signIn: SignIn;
  deviceFlow: DeviceFlow;
  metrics: Metrics;
  audit: AuditSink;
  /** Where the brute-force counters are kept now: `degraded` while a configured Redis is unreachable. */
  throttleCounters(): 'local' | 'shared' | 'degraded';
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  passwordHasher?: PasswordHasher;
  events?: EventSink;
  throttle?: LoginThrottle;
  /** Key prefix of the Redis brute-force counters (tests isolate themselves with it). */
  throttleKeyPrefix?: string;
  /** A long-running server: store maintenance (SQLite checkpoints) runs in the background. */
  longRunning?: boolean;
  /** Where the store's start-up warnings go (loose SQLite file permissions); default: the logger, as `warn`. */
  onStoreWarning?: (message: string) => void;
  /** Who the admin actions are attributed to in the audit trail (`actor`), e.g. `cli:root`. */
  adminActor?: string;
}

/** Audit events as structured log lines (`event` is the noun.verb name); fields never hold secrets. */
export function logEventSink(logger: Logger): EventSink {
  return { emit: (event, fields) => logger.info({ event, ...fields }, event) };
}

/** The composition root: config → store → hashers → core services. Migrates the store. */
export async function createServices(
  config: Config,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const metrics = createMetrics();
  const stored = openDecoratedStore(config, logger, overrides, metrics);
  try {
    await stored.migrate();
    // A server signs the console in: its client needs a row for its codes and grants to reference.
    if (overrides.longRunning) await ensureConsoleClientRow(stored);
  } catch (error) {
    await stored.close();
    throw error;
  }
  const consoleSide = consoleServices(config);
  // Everyone reads clients through this: the console's client is built in, whatever its row says.
  const store = withConsoleClient(stored, consoleSide);
  const clock = overrides.clock ?? systemClock;
  // One argon2id implementation, bounded: at most hashConcurrency hashes at once (see bounded-hasher.ts).
  // It also verifies Django hashes brought by `oauthd import django`, upgrading them on login.
  const passwordHasher =
    overrides.passwordHasher ?? boundedHasher(createDjangoCompatibleHasher(createArgon2Hasher()), config.hashing);
  // Chosen client secrets are argon2id too; a verified one is remembered in memory so refreshes stay cheap.
  const clientSecretHasher = cachedSecretVerifier(passwordHasher);
  const audit = createAuditSink(store, clock, logger);
  // The log line first (it survives a crash), then the counters, then the audit table (batched).
  const events = fanOut(overrides.events ?? logEventSink(logger), metrics.events, audit);
  const throttling = createThrottling(config, logger, overrides, store);
  const { throttle } = throttling;
  const bearer = createBearerValidator({ store, clock });
  // Counted per request in memory, added to the store in batches (a CLI process counts nothing: no timer).
  const usage = createClientUsageCounter({
    store,
    registry: metrics.registry,
    flushSeconds: overrides.longRunning ? config.usage.flushSeconds : 0,
    onError: (error) => logger.warn({ err: error }, 'writing client usage failed; will retry'),
  });
  return {
    store,
    clock,
    passwordHasher,
    tokenEndpoint: createTokenEndpoint({
      store,
      clock,
      passwordHasher,
      clientSecretHasher,
      events,
      throttle,
      clientRateLimit: throttling.clientRateLimit,
      policy: config.policy,
      usage,
      passwordGrantSunsetLink: config.sunset.link,
    }),
    bearer,
    revocation: createRevocationEndpoint({ store, clock, clientSecretHasher, events, throttle }),
    introspection: createIntrospectionEndpoint({ store, clock, clientSecretHasher, events, throttle, bearer }),
    ...createAuthorizationServices(
      config,
      { store, clock, passwordHasher, clientSecretHasher, events, throttle },
      throttling,
    ),
    metrics,
    audit,
    throttleCounters: throttling.counters,
    ...adminServices(config, { store, passwordHasher, clock, events }, overrides.adminActor ?? 'unknown'),
    console: consoleSide,
    ...publicBaseUrl(config),
    async close() {
      await throttling.stopSync();
      await usage.close();
      await audit.close();
      await throttling.close();
      await store.close();
    },
  };
}

/** The admin actions, as the default actor and as any other (one implementation, every change audited). */
function adminServices(
  config: Config,
  shared: Pick<Services, 'store' | 'clock' | 'passwordHasher'> & { events: EventSink },
  defaultActor: string,
): Pick<Services, 'admin' | 'adminAs'> {
  const adminAs = (actor: string): Admin =>
    createAdmin({
      ...shared,
      knownScopes: config.policy.knownScopes,
      defaultScopes: config.policy.defaultScopes,
      actor,
      passwordPolicy: config.passwords,
    });
  return { admin: adminAs(defaultActor), adminAs };
}

/** The issuer as configured, else the public listener's address until server.ts knows the bound one. */
function publicBaseUrl(config: Config): Pick<Services, 'publicBaseUrl' | 'setPublicBaseUrl'> {
  const { issuer, host, port, basePath } = config.http;
  let url = issuer ?? `${reachableUrl(host, port)}${basePath}`;
  return {
    publicBaseUrl: () => url,
    setPublicBaseUrl(bound) {
      if (issuer === null) url = bound.replace(/\/+$/, '');
    },
  };
}

/** The authorization code flow, the login page and the device flow, on the same store, clock and throttle. */
function createAuthorizationServices(
  config: Config,
  shared: Pick<Services, 'store' | 'clock' | 'passwordHasher'> & {
    clientSecretHasher: PasswordHasher;
    events: EventSink;
    throttle: LoginThrottle;
  },
  counters: { userCodeGuesses: ClientRateLimiter },
): Pick<Services, 'authorizationFlow' | 'signIn' | 'deviceFlow'> {
  const { authorization } = config;
  return {
    authorizationFlow: createAuthorizationFlow({
      ...shared,
      policy: config.policy,
      codeTtlSeconds: authorization.codeTtlSeconds,
    }),
    signIn: createSignIn({ ...shared, sessionTtlSeconds: authorization.sessionTtlSeconds }),
    deviceFlow: createDeviceFlow({
      ...shared,
      policy: config.policy,
      deviceCodeTtlSeconds: authorization.deviceCodeTtlSeconds,
      pollIntervalSeconds: authorization.devicePollIntervalSeconds,
      userCodeGuesses: counters.userCodeGuesses,
      userCodeAttemptsPerMinute: authorization.userCodeAttemptsPerMinute,
      // An IPv6 address by its /64, as the brute-force counters key it.
      guessKeyOf: throttleKeyOfIp,
    }),
  };
}

/**
 * The backend, decorated inside out: the fault guard, innermost, is the backend's own (openStore); then
 * metrics, timing each call the backend answered; then the client cache, outermost, so a cache hit costs no
 * store call and is not counted as one, while a miss is timed like any other read.
 */
function openDecoratedStore(config: Config, logger: Logger, overrides: ServiceOverrides, metrics: Metrics): Store {
  const backend = openStore(config.store.databaseUrl, {
    sqlite: {
      accessTokenCacheEntries: config.store.tokenCacheEntries,
      onWarning: overrides.onStoreWarning ?? ((message: string) => logger.warn(message)),
      ...(overrides.longRunning
        ? {
            checkpoint: 'background',
            onCheckpointError: (message: string) => logger.error({ message }, 'sqlite checkpoint failed'),
          }
        : {}),
    },
  });
  return decorateStore(backend, metrics.storeAdvice, clientCacheOverrides({ ttlMs: config.store.clientCacheMs }));
}

/** The brute-force throttle, its counters' backend (memory, the cluster primary or Redis) and the clear sync. */
function createThrottling(config: Config, logger: Logger, overrides: ServiceOverrides, store: Store) {
  const redis = config.redis.url
    ? connectRedis(config.redis.url, (reachable, reason) => {
        if (reachable) logger.warn('redis reachable again: brute-force counters are shared by every instance again');
        else {
          logger.warn(
            { reason },
            'redis unreachable: brute-force counters fall back to per-instance counting until it returns',
          );
        }
      })
    : undefined;
  const ownThrottle = overrides.throttle
    ? undefined
    : createLoginThrottle(config.throttle, {
        ...(redis ? { redis } : {}),
        // N workers without Redis share the primary's counters: N workers must not mean N× the limit.
        cluster: cluster.isWorker,
        ...(overrides.throttleKeyPrefix ? { keyPrefix: overrides.throttleKeyPrefix } : {}),
      });
  const throttle = overrides.throttle ?? ownThrottle!;
  // `oauthd lockout clear` reaches a running server through the store (throttle/lockout-sync.ts).
  const clearer = throttle.clear?.bind(throttle);
  const lockoutSync =
    overrides.longRunning && clearer
      ? startLockoutSync(
          store,
          { clear: clearer },
          {
            onError: (error) => logger.warn({ err: error }, 'reading cleared lockouts failed; will retry'),
            onCleared: (l) =>
              logger.info(
                { kind: l.kind, username: l.username, client_id: l.clientId, ip: l.ipKey },
                'lockout cleared by an operator',
              ),
          },
        )
      : undefined;
  // Per-client rate limits count where the brute-force counters do, so every instance shares them; so do the
  // user-code guesses of the device page, per IP, under a key prefix of their own (RFC 8628 §5.1).
  const prefix = overrides.throttleKeyPrefix ?? 'oauthd';
  const counter = (keyPrefix: string, failClosed: boolean) =>
    createClientRateLimiter({ ...(redis ? { redis } : {}), cluster: cluster.isWorker, keyPrefix, failClosed });
  const clientRateLimit = counter(prefix, false);
  // A guessing defence: refused, not let through, when its counter cannot be reached.
  const userCodeGuesses = counter(`${prefix}:user_code`, true);
  return {
    throttle,
    clientRateLimit,
    userCodeGuesses,
    counters: (): 'local' | 'shared' | 'degraded' =>
      redis === undefined ? 'local' : redis.reachable() ? 'shared' : 'degraded',
    stopSync: async () => lockoutSync?.stop(),
    close: async () => ownThrottle?.close(),
  };
}

// What the CLI needs of the store before it opens one (cli/ reaches the store only through this root).
export { LATEST_SCHEMA_VERSION, probeSchema, type SchemaState } from './store/schema-probe.js';
export { redactUrl } from './store/store.js';
// The key the login throttle counts an IP under (an IPv6 address by its /64), for `oauthd lockout clear --ip`.
export { throttleKeyOfIp } from './throttle/keys.js';

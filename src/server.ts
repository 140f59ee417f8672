import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildAdminApp, type AdminAppOptions, type AdminReadiness } from './admin/app.js';
import type { Config } from './config/config.js';
import { LOGO_TYPES } from './config/options-authorization.js';
import type { Store } from './core/ports.js';
import { buildApp } from './http/app.js';
import { probeStore } from './http/routes/health.js';
import { scheduleCleanup } from './lifecycle/cleanup.js';
import { reachableUrl } from './console-origin.js';
import { createServices, type ServiceOverrides, type Services } from './services.js';

/** The process logger: JSON lines on stdout (or `destination`). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return destination ? pino({ level }, destination) : pino({ level });
}

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** The URL the server listens on, e.g. http://127.0.0.1:8000. */
  url: string;
  /** The admin listener (metrics, health with detail), e.g. http://127.0.0.1:8001; null when not started here. */
  adminUrl: string | null;
  close(): Promise<void>;
}

/** The port a Fastify app listens on (the one chosen for port 0). */
const boundPort = (app: FastifyInstance, configuredPort: number): number => {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : configuredPort;
};

/** `http://host:port` of a listening Fastify app (IPv6 hosts in brackets). */
export function listenUrl(app: FastifyInstance, host: string, configuredPort: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort(app, configuredPort)}`;
}

/** Where a browser reaches a listening app: as listenUrl, a wildcard host at the loopback. */
export const reachableListenUrl = (app: FastifyInstance, host: string, configuredPort: number): string =>
  reachableUrl(host, boundPort(app, configuredPort));

/**
 * Starts the admin listener on OAUTHD_ADMIN_HOST:OAUTHD_ADMIN_PORT: `metrics` is what /metrics renders
 * (the whole cluster's, in a cluster's primary), `store` what /readyz probes, `workers` (cluster) how many
 * workers listen. Throws a one-line error naming the setting when it cannot listen (EADDRINUSE…), having
 * closed what it opened.
 */
export async function startAdminListener(
  config: Config,
  options: {
    logger: Logger;
    metrics: AdminAppOptions['metrics'];
    store: Pick<Store, 'ping'>;
    workers?: () => { listening: number; configured: number };
    bruteForceCounters: () => AdminReadiness['bruteForceCounters'];
    /** The admin API and the console run on these services; absent: metrics and health only. */
    services?: Services;
  },
): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildAdminApp({
    logger: options.logger,
    ...(options.services ? { surface: { services: options.services, config } } : {}),
    metrics: options.metrics,
    readiness: async () => ({
      database: await probeStore(options.store),
      ...(options.workers ? { workers: options.workers() } : {}),
      bruteForceCounters: options.bruteForceCounters(),
    }),
  });
  try {
    await app.listen({ host: config.admin.host, port: config.admin.port });
  } catch (error) {
    await app.close();
    throw new Error(`admin listener (OAUTHD_ADMIN_HOST/OAUTHD_ADMIN_PORT): ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { app, url: listenUrl(app, config.admin.host, config.admin.port) };
}

/** The start-up lines: where the token endpoint is, and where the admin listener is (when here). */
export function announcement(url: string, basePath: string, adminUrl: string | null): string {
  const admin =
    adminUrl === null
      ? ''
      : `oauthd: admin listener (/metrics, /healthz, /readyz, /admin/v1/, /console/; keep it private) at ${adminUrl}\n`;
  return `oauthd: token endpoint at ${url}${basePath}/o/token/\n${admin}`;
}

/** The logo file read once (config checked its type and size), with the Content-Type it is served as. */
function logoOf(path: string | null): { bytes: Buffer; contentType: string } | null {
  if (path === null) return null;
  return { bytes: readFileSync(path), contentType: LOGO_TYPES[extname(path).toLowerCase()]! };
}

/**
 * Config → services → app → listen: the admin listener first (a taken admin port stops the server before it
 * serves anyone), then the public one. Used by `oauthd serve` and by the integration tests. `admin: false`
 * (a cluster's worker) starts no admin listener: the primary serves it for the whole cluster.
 */
export async function startServer(
  config: Config,
  options: { logger?: Logger; overrides?: ServiceOverrides; admin?: boolean } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.process.logLevel);
  const services = await createServices(config, logger, { longRunning: true, ...options.overrides });
  let app: FastifyInstance;
  let admin: { app: FastifyInstance; url: string } | undefined;
  try {
    if (options.admin !== false) {
      admin = await startAdminListener(config, {
        logger,
        metrics: { contentType: services.metrics.registry.contentType, render: () => services.metrics.render() },
        store: services.store,
        bruteForceCounters: services.throttleCounters,
        services,
      });
      // The console's callback, on the admin listener's address now that its port is known.
      services.console.setOrigin(reachableListenUrl(admin.app, config.admin.host, config.admin.port));
    }
    const { http } = config;
    app = await buildApp(services, {
      basePath: http.basePath,
      issuer: http.issuer,
      trustProxy: http.trustProxy,
      limits: {
        requestTimeoutMs: http.requestTimeoutMs,
        headersTimeoutMs: http.headersTimeoutMs,
        keepAliveTimeoutMs: http.keepAliveTimeoutMs,
        maxHeaderBytes: http.maxHeaderBytes,
      },
      scopes: config.policy.knownScopes,
      realm: http.realm,
      maxBodyBytes: http.maxBodyBytes,
      logger,
      pages: {
        productName: config.pages.productName,
        logo: logoOf(config.pages.logoFile),
        scopeDescriptions: config.pages.scopeDescriptions,
        sessionTtlSeconds: config.authorization.sessionTtlSeconds,
      },
    });
    await app.listen({ host: http.host, port: http.port });
    // The public URL the console sends browsers to, now that the port is known.
    services.setPublicBaseUrl(`${reachableListenUrl(app, http.host, http.port)}${http.basePath}`);
  } catch (error) {
    await admin?.app.close();
    await services.close();
    throw error;
  }
  // Online cleanup of dead tokens: no cron needed.
  const cleanup =
    config.cleanup.intervalSeconds > 0
      ? scheduleCleanup(services.store, services.clock, {
          ...config.cleanup,
          successorGraceSeconds: config.policy.refreshGraceSeconds,
          onRun: (deleted) => deleted > 0 && app.log.info({ deleted }, 'cleanup removed dead tokens'),
          onError: (error) => app.log.warn({ err: error }, 'cleanup failed; will retry'),
        })
      : undefined;
  return {
    app,
    services,
    url: listenUrl(app, config.http.host, config.http.port),
    adminUrl: admin?.url ?? null,
    async close() {
      // Fastify stops accepting, lets in-flight requests finish, then the store closes.
      await cleanup?.stop();
      await Promise.all([app.close(), admin?.app.close()]);
      await services.close();
    },
  };
}

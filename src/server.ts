import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { scheduleCleanup } from './lifecycle/cleanup.js';
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
  close(): Promise<void>;
}

/** Config → services → app → listen. Used by `oauthd serve` and by the integration tests. */
export async function startServer(config: Config, options: { logger?: Logger; overrides?: ServiceOverrides } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const services = await createServices(config, logger, { longRunning: true, ...options.overrides });
  let app: FastifyInstance;
  try {
    app = await buildApp(services, {
      basePath: config.basePath,
      issuer: config.issuer,
      trustProxy: config.trustProxy,
      limits: {
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        maxHeaderBytes: config.maxHeaderBytes,
      },
      scopes: config.scopes,
      realm: config.realm,
      maxBodyBytes: config.maxBodyBytes,
      logger,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await services.close();
    throw error;
  }
  // Online cleanup of dead tokens: no cron needed.
  const cleanup =
    config.cleanupIntervalSeconds > 0
      ? scheduleCleanup(services.store, services.clock, {
          intervalSeconds: config.cleanupIntervalSeconds,
          retentionSeconds: config.tokenRetentionSeconds,
          auditRetentionSeconds: config.auditRetentionSeconds,
          successorGraceSeconds: config.refreshGraceSeconds,
          onRun: (deleted) => deleted > 0 && app.log.info({ deleted }, 'cleanup removed dead tokens'),
          onError: (error) => app.log.warn({ err: error }, 'cleanup failed; will retry'),
        })
      : undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    services,
    url: `http://${host}:${port}`,
    async close() {
      // Fastify stops accepting, lets in-flight requests finish, then the store closes.
      await cleanup?.stop();
      await app.close();
      await services.close();
    },
  };
}

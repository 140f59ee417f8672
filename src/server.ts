import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { createServices, type ServiceOverrides, type Services } from './services.js';

/** The process logger: JSON lines; requests are logged by method and path only, never headers or bodies. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        // The query string is dropped: a client may put a token or a secret there by mistake.
        path: req.url?.split('?')[0],
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  });
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
  const services = await createServices(config, logger, options.overrides);
  let app: FastifyInstance;
  try {
    app = await buildApp(services, {
      basePath: config.basePath,
      realm: config.realm,
      maxBodyBytes: config.maxBodyBytes,
      logger,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await services.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    services,
    url: `http://${host}:${port}`,
    async close() {
      // Fastify stops accepting, lets in-flight requests finish, then the store closes.
      await app.close();
      await services.close();
    },
  };
}

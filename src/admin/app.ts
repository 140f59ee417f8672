import type { Server } from 'node:http';
import fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requestLogSerializers } from '../http/app.js';
import type { StoreProbe } from '../http/routes/health.js';
import { apiErrorHandler } from './api/errors.js';
import { type AdminSurfaceDeps, adminApi } from './api/index.js';
import { adminConsole } from './console/index.js';

/** What /readyz of the admin listener reports: the store probe, and in a cluster the workers. */
export interface AdminReadiness {
  database: StoreProbe;
  /** `--workers N`: how many worker processes listen on the public port now, of how many. */
  workers?: { listening: number; configured: number };
  /**
   * Where the brute-force counters are kept: `shared` (Redis), `local` (no Redis configured), or
   * `degraded` (Redis configured but unreachable: each instance counts alone until it returns).
   */
  bruteForceCounters: 'local' | 'shared' | 'degraded';
}

export interface AdminAppOptions {
  logger: Logger;
  /** Prometheus text of the whole server (of every worker, in a cluster). */
  metrics: { contentType: string; render(): Promise<string> };
  readiness(): Promise<AdminReadiness>;
  /** The admin API (/admin/v1/) and the console (/console/); absent: metrics and health only. */
  surface?: AdminSurfaceDeps;
}

/**
 * The admin listener: for operators and the metrics scraper, never for the public (OAUTHD_ADMIN_HOST /
 * OAUTHD_ADMIN_PORT, docs/deployment.md). Its own Fastify instance, so that nothing registered on the
 * public app (routes, hooks, body parsers) is reachable here, nor the reverse: `/metrics` names failure
 * reasons (a username that does not exist, a disabled user) and must not be on the public port.
 * `/metrics`, `/healthz` and `/readyz` are unauthenticated: they rely on being reachable only from where
 * operators are. The admin API and the console, each in its own encapsulated context (its own body parser and
 * error answers), authenticate every request with oauthd's own tokens. Never listens: server.ts (or
 * cli/serve.ts, in a cluster's primary) does.
 */
export function buildAdminApp(options: AdminAppOptions): FastifyInstance {
  const serverOptions: FastifyHttpOptions<Server> = {
    loggerInstance: options.logger.child({ listener: 'admin' }, { serializers: requestLogSerializers }),
    // A username (150 characters) or client id percent-encoded takes up to 1800 (the router's default is 100).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    requestIdHeader: false,
    // A path the router cannot decode (`%ff%fe`) or too long a parameter never reaches a route: answered in the
    // admin API's JSON error format (as the listener's own errors are), never the framework's default body.
    frameworkErrors: (error, request, reply) => apiErrorHandler(error, request, reply),
    // The admin API's and the console's bodies are small JSON documents and forms.
    bodyLimit: 64 * 1024,
    requestTimeout: 10_000,
  };
  const app = fastify(serverOptions);
  const json = (body: unknown) => JSON.stringify(body);
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metrics.contentType).send(await options.metrics.render()),
  );
  app.get('/healthz', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(json({ status: 'ok' })),
  );
  app.get('/readyz', async (_request, reply) => {
    const { database, workers, bruteForceCounters } = await options.readiness();
    // Ready as the public /readyz is (the database answers), and in a cluster only while a worker listens.
    const ready = database.up && (workers === undefined || workers.listening > 0);
    const body = {
      status: ready ? 'ready' : 'unavailable',
      database: {
        status: database.up ? 'up' : 'down',
        latency_ms: database.latencyMs,
        ...(database.error !== undefined ? { error: database.error } : {}),
      },
      ...(workers ? { workers } : {}),
      // Still ready when degraded: logins keep working, counted per instance (docs/deployment.md).
      brute_force_counters: {
        status: bruteForceCounters,
        ...(bruteForceCounters === 'degraded'
          ? { detail: 'Redis unreachable: limits are counted per instance until it returns' }
          : {}),
      },
    };
    if (!ready) reply.code(503).header('Retry-After', '1');
    return reply.type('application/json; charset=utf-8').send(json(body));
  });
  if (options.surface) {
    const surface = options.surface;
    app.register(async (api) => adminApi(api, surface));
    app.register(async (console) => adminConsole(console, surface));
  }
  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send(json({ error: 'not_found', error_description: 'No such endpoint.' })),
  );
  app.setErrorHandler((error, request, reply) => {
    request.log.error({ err: error }, 'admin request failed');
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    reply
      .code(status >= 400 && status < 500 ? status : 500)
      .type('application/json; charset=utf-8')
      .send(
        json({
          error: status >= 400 && status < 500 ? 'invalid_request' : 'server_error',
          error_description:
            status >= 400 && status < 500 ? 'The request is malformed.' : 'The server failed to answer.',
        }),
      );
  });
  return app;
}

import type { Server } from 'node:http';
import fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError, temporarilyUnavailable } from '../core/errors.js';
import type { Services } from '../services.js';
import { createErrorHandler, sendOAuthError } from './error-handler.js';
import { oauthRoutes } from './oauth-routes.js';
import type { PageContext } from './pages/context.js';
import { pageContextOf, pageRoutes, sendUnavailablePage } from './pages/plugin.js';
import { healthRoutes } from './routes/health.js';
import { metadataRoutes } from './routes/metadata.js';
import { openapiRoutes, registerOpenApi } from './routes/openapi.js';
import { documentOnly } from './routes/schemas.js';

export interface AppOptions {
  /** Slow-client and size limits of the HTTP server (see docs/configuration.md). */
  limits: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number; maxHeaderBytes: number };
  /** Addresses or CIDR ranges of proxies whose X-Forwarded-For is believed (Fastify trustProxy). */
  trustProxy: string[];
  basePath: string;
  issuer: string | null;
  scopes: readonly string[];
  realm: string;
  maxBodyBytes: number;
  logger: Logger;
  /** The login, consent and logout pages (config.pages, config.authorization.sessionTtlSeconds). */
  pages: {
    productName: string;
    /** The logo's bytes and Content-Type, read at start-up; null: none. */
    logo: { bytes: Buffer; contentType: string } | null;
    scopeDescriptions: Readonly<Record<string, string>>;
    sessionTtlSeconds: number;
  };
}

/**
 * Request logs carry method, path, client address and status, whatever logger the app is given:
 * Fastify's default serializer logs the whole URL, and a query string may hold a token or a secret
 * that a client put there by mistake. Headers and bodies are never logged.
 */
export const requestLogSerializers = {
  req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
    method: req.method,
    path: req.url?.split('?')[0],
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
};

/** Builds the HTTP application over the services. Never listens: server.ts (or a test) does. */
export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const app = fastify(serverOptionsOf(options));
  app.setErrorHandler(createErrorHandler(options.realm));
  // The pages share the `/o` prefix but not the JSON routes' parsers, hooks and error handler.
  const context = pageContextOf({
    ...options.pages,
    basePath: options.basePath,
    issuer: options.issuer,
    authorizationFlow: services.authorizationFlow,
    signIn: services.signIn,
    deviceFlow: services.deviceFlow,
    maxBodyBytes: options.maxBodyBytes,
  });
  answerWhileClosing(app, options.realm, context);
  observeResponses(app, services.metrics);
  // /metrics is not here: it is on the admin listener (src/admin/app.ts), and this app answers it 404.
  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ error: 'not_found', error_description: 'No such endpoint.' })),
  );

  // The OpenAPI document is generated from the schemas of the routes registered after this (onRoute).
  await registerOpenApi(app, { issuer: options.issuer });
  // Route schemas document the API; they never validate requests nor serialize responses.
  app.setValidatorCompiler(documentOnly.validatorCompiler);
  app.setSerializerCompiler(documentOnly.serializerCompiler);

  healthRoutes(app, services.store);
  metadataRoutes(app, { basePath: options.basePath, issuer: options.issuer, scopes: options.scopes });
  openapiRoutes(app, options.basePath);

  await app.register(oauthRoutes, {
    prefix: `${options.basePath}/o`,
    tokenEndpoint: services.tokenEndpoint,
    revocation: services.revocation,
    introspection: services.introspection,
    bearer: services.bearer,
    deviceFlow: services.deviceFlow,
    realm: options.realm,
    maxBodyBytes: options.maxBodyBytes,
    issuer: options.issuer,
    basePath: options.basePath,
  });
  await app.register(pageRoutes, { prefix: `${options.basePath}/o`, context });
  return app;
}

function serverOptionsOf(options: AppOptions): FastifyHttpOptions<Server> {
  return {
    loggerInstance: options.logger.child({}, { serializers: requestLogSerializers }),
    // `/o/token/` is django-oauth-toolkit's path; `/o/token` works too.
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: options.maxBodyBytes,
    // Slowloris and oversized headers: Node closes a request that is too slow (408) or too big (431).
    requestTimeout: options.limits.requestTimeoutMs,
    keepAliveTimeout: options.limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: options.limits.maxHeaderBytes,
      headersTimeout: options.limits.headersTimeoutMs,
      // Node checks those timeouts every 30 s by default, letting a slow client linger far past them.
      connectionsCheckingInterval: Math.min(1000, options.limits.headersTimeoutMs),
    },
    // The client IP (request.ip) honours X-Forwarded-For only from these proxies.
    trustProxy: options.trustProxy.length > 0 ? options.trustProxy : false,
    // While closing, requests still arriving on kept-alive connections get our RFC-shaped 503 (below),
    // not the framework's own body.
    return503OnClosing: false,
    // Request ids are ours (req-1, req-2…), never taken from a client header.
    requestIdHeader: false,
    // Requests Node's HTTP parser rejects (malformed framing, oversized headers, timeouts) never reach a
    // route: answer them RFC-shaped too, never with the framework's default JSON.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) => {
      sendOAuthError(reply, new OAuthError('invalid_request', 'The request is malformed.', error.code), {
        realm: options.realm,
        challenge: undefined,
      });
    },
  };
}

const answerClientError: NonNullable<FastifyHttpOptions<Server>['clientErrorHandler']> = (error, socket) => {
  if (!socket.writable) return socket.destroy();
  const code = (error as { code?: string }).code;
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason =
    status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  const body = JSON.stringify({
    error: 'invalid_request',
    error_description:
      status === 431
        ? 'The request headers are too large.'
        : status === 408
          ? 'The request took too long to arrive.'
          : 'The request is malformed.',
  });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
};

/**
 * Graceful shutdown: in-flight requests finish; a request that arrives after close began is answered
 * 503 temporarily_unavailable with `Connection: close`, so a load balancer retries it elsewhere.
 */
function answerWhileClosing(app: FastifyInstance, realm: string, pages: PageContext): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Responses finished after close began end their connection, so the drain does not wait for keep-alive.
  // Callback-style hooks (here and below): an async hook costs a promise and a microtask on every request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    reply.header('Connection', 'close');
    // Answered here: done() is not called, so the route never runs. Pages answer an HTML page.
    if (request.routeOptions.config?.page) return void sendUnavailablePage(pages, reply);
    const challenge = request.routeOptions.config?.challenge;
    sendOAuthError(reply, temporarilyUnavailable('shutting down'), { realm, challenge });
  });
}

/** Metrics: one observation per response, labelled by route pattern (bounded), grant type and error. */
function observeResponses(app: FastifyInstance, metrics: Services['metrics']): void {
  app.decorateRequest('metricsGrantType', '');
  app.decorateRequest('metricsError', '');
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: reply.statusCode,
        grantType: request.metricsGrantType,
        error: request.metricsError,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

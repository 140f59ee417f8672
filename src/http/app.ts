import fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError } from '../core/errors.js';
import type { Services } from '../services.js';
import { createErrorHandler, sendOAuthError } from './error-handler.js';
import { oauthRoutes } from './oauth-routes.js';

export interface AppOptions {
  basePath: string;
  realm: string;
  maxBodyBytes: number;
  logger: Logger;
}

/** Builds the HTTP application over the services. Never listens: server.ts (or a test) does. */
export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    // `/o/token/` is django-oauth-toolkit's path; `/o/token` works too.
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: options.maxBodyBytes,
    // The default request serializer logs the whole URL; a query string may hold a token or a secret
    // that a client put there by mistake, so only the path is logged.
    requestIdHeader: false,
    frameworkErrors: (error, _request, reply) => {
      sendOAuthError(reply, new OAuthError('invalid_request', 'The request is malformed.', error.code), {
        realm: options.realm,
        challenge: undefined,
      });
    },
  };
  const app = fastify(serverOptions);
  app.setErrorHandler(createErrorHandler(options.realm));
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).type('application/json; charset=utf-8').send(JSON.stringify({ error: 'not_found', error_description: 'No such endpoint.' })),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  await app.register(oauthRoutes, {
    prefix: `${options.basePath}/o`,
    tokenEndpoint: services.tokenEndpoint,
    bearer: services.bearer,
    realm: options.realm,
    maxBodyBytes: options.maxBodyBytes,
  });
  return app;
}

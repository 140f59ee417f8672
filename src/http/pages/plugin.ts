import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseFormBody, strictBodyParser } from '../body.js';
import { documentOnly } from '../routes/schemas.js';
import { authorizeRoutes } from './authorize-routes.js';
import { createPageContext, type PageContext, type PagesOptions } from './context.js';
import { deviceRoutes } from './device-routes.js';
import { createPageErrorHandler, errorViewOf } from './errors.js';
import { logoutRoutes } from './logout-routes.js';
import { setPageSecurityHeaders } from './security.js';
import { contentVersion, staticRoutes } from './static-routes.js';
import { STYLESHEET } from './stylesheet.js';
import { errorPage } from './views.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A page route: its early answers (shutdown) are HTML pages too. */
    page?: boolean;
  }
}

/** The 503 page a page route gets while the server shuts down (app.ts answers it before the route runs). */
export function sendUnavailablePage(context: PageContext, reply: FastifyReply): FastifyReply {
  reply.header('Retry-After', '1');
  return context.send(reply, 503, errorPage(context.branding, errorViewOf('temporarily_unavailable')));
}

/** Builds the pieces the page routes share (the device pages build on the same context). */
export function pageContextOf(options: PagesOptions): PageContext {
  return createPageContext(options, {
    stylesheet: contentVersion(STYLESHEET),
    logo: options.logo === null ? null : contentVersion(options.logo.bytes),
  });
}

/**
 * The pages under `{BASE_PATH}/o` (authorize, logout, device, static files), as an encapsulated plugin: form bodies
 * only, the security headers on every response, and every failure an HTML error page with its status, never
 * JSON. Register with `prefix: {BASE_PATH}/o` and `context`.
 */
export async function pageRoutes(app: FastifyInstance, options: { context: PageContext }): Promise<void> {
  const { context } = options;
  app.setValidatorCompiler(documentOnly.validatorCompiler);
  app.setSerializerCompiler(documentOnly.serializerCompiler);
  app.setErrorHandler(createPageErrorHandler(context));
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, page: true };
  });
  registerFormParser(app, context.options.maxBodyBytes);
  // Set before the route runs, so errors and early answers carry them too; the routes may widen the CSP.
  app.addHook('onRequest', (_request, reply, done) => {
    setPageSecurityHeaders(reply);
    done();
  });
  authorizeRoutes(app, context);
  logoutRoutes(app, context);
  deviceRoutes(app, context);
  staticRoutes(app, context);
}

/** Form bodies as [name, value] pairs, strictly decoded (see http/body.ts): bad bytes are a 400 page. */
export function registerFormParser(app: FastifyInstance, maxBodyBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    strictBodyParser(parseFormBody),
  );
}

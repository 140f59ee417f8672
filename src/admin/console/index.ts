import type { FastifyInstance } from 'fastify';
import { registerFormParser } from '../../http/pages/plugin.js';
import type { AdminSurfaceDeps } from '../api/index.js';
import { assetRoutes } from './assets.js';
import { auditRoutes } from './audit.js';
import { clientRoutes } from './clients.js';
import { CONSOLE_PREFIX, type ConsoleContext, createConsoleContext, originOf, setConsoleHeaders } from './context.js';
import { dashboardRoutes } from './dashboard.js';
import { createConsoleErrorHandler, notFound, sendError } from './errors.js';
import { currentSession } from './session.js';
import { signInRoutes } from './sign-in.js';
import { userRoutes } from './users.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A console asset: cached for a year (its URL carries its content hash). */
    asset?: boolean;
  }
}

/** The console's forms are small: a client's policy is the largest. */
const MAX_FORM_BYTES = 64 * 1024;

/**
 * The web console under /console/ (docs/console.md): server-rendered HTML pages on the admin listener, in their
 * own encapsulated context — form bodies only, the console's headers on every answer, and every failure an
 * HTML page (never JSON, never a stack).
 */
export async function adminConsole(app: FastifyInstance, deps: AdminSurfaceDeps): Promise<void> {
  const context = createConsoleContext(deps);
  await app.register(async (scope) => consoleRoutes(scope, context), { prefix: CONSOLE_PREFIX });
}

async function consoleRoutes(app: FastifyInstance, context: ConsoleContext): Promise<void> {
  app.setErrorHandler(createConsoleErrorHandler(context));
  app.setNotFoundHandler(async (request, reply) =>
    sendError(context, reply, await currentSession(context, request).catch(() => null), notFound()),
  );
  registerFormParser(app, MAX_FORM_BYTES);
  // Before the route runs, so early answers (a body refused by the parser) carry them too.
  app.addHook('onRequest', async (_request, reply) => {
    setConsoleHeaders(reply, originOf(context.publicBase()));
  });
  // The listener's onSend hook says no-store for everything; an asset whose URL carries its hash is immutable.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.config.asset === true && reply.statusCode < 400) {
      reply.header('Cache-Control', 'public, max-age=31536000, immutable');
    }
    return payload;
  });
  assetRoutes(app);
  signInRoutes(app, context);
  dashboardRoutes(app, context);
  clientRoutes(app, context);
  userRoutes(app, context);
  auditRoutes(app, context);
}

import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import type { Services } from '../../services.js';
import { ACTIVITY_ROUTES } from './activity.js';
import { CLIENT_ROUTES } from './clients.js';
import { ApiError, apiErrorHandler } from './errors.js';
import { GRANT_ROUTES } from './grants.js';
import { jsonBodyParser } from './input.js';
import { LOCKOUT_ROUTES } from './lockouts.js';
import { API_PREFIX, adminOpenApi } from './openapi.js';
import { type ApiRoute, registerRoute } from './route.js';
import { USER_ROUTES } from './users.js';

/** What the admin API and the console are given: the server's services and its configuration. */
export interface AdminSurfaceDeps {
  services: Services;
  config: Config;
}

/** Every operation of the admin API, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly ApiRoute[] = [
  ...CLIENT_ROUTES,
  ...USER_ROUTES,
  ...GRANT_ROUTES,
  ...LOCKOUT_ROUTES,
  ...ACTIVITY_ROUTES,
];

/**
 * The JSON admin API under /admin/v1/ (docs/admin-api.md), registered in its own encapsulated context: its own
 * strict JSON body parser (application/json, and application/merge-patch+json for PATCH, RFC 7396) and its own
 * error answers. Every operation authenticates its caller first (route.ts, auth.ts).
 */
export async function adminApi(app: FastifyInstance, deps: AdminSurfaceDeps): Promise<void> {
  await app.register(
    async (api) => {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser(
        ['application/json', 'application/merge-patch+json'],
        { parseAs: 'buffer' },
        jsonBodyParser(),
      );
      api.setErrorHandler(apiErrorHandler);
      for (const route of API_ROUTES) registerRoute(api, route, deps);
      refuseOtherMethods(api);
      // Unauthenticated: it describes the API's shape (public in the package anyway), holds no data, and tools
      // (Swagger UI, client generators) fetch it without a token. The listener is reachable by operators only.
      const document = JSON.stringify(adminOpenApi(API_ROUTES));
      api.get('/openapi.json', async (_request, reply) =>
        reply.code(200).type('application/json; charset=utf-8').send(document),
      );
    },
    { prefix: API_PREFIX },
  );
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** RFC 9110 §15.5.6: a method a path does not serve is 405 with `Allow`, not the 404 of a path that is not. */
function refuseOtherMethods(api: FastifyInstance): void {
  const served = new Map<string, string[]>();
  for (const route of API_ROUTES) served.set(route.path, [...(served.get(route.path) ?? []), route.method]);
  for (const [path, methods] of served) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    const others = METHODS.filter((m) => !methods.includes(m));
    if (others.length === 0) continue;
    api.route({
      method: others,
      url: path,
      handler: async () => {
        throw new ApiError(
          405,
          { error: 'invalid_request', error_description: `Use ${allow} for this resource.` },
          { Allow: allow },
        );
      },
    });
  }
}

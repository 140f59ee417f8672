import type { FastifyInstance } from 'fastify';
import type { BearerValidator } from '../../core/bearer.js';
import { guardResource } from '../../core/protected-resource.js';
import { parseScope } from '../../core/scope.js';
import { serverError } from '../../core/errors.js';
import { refusalFor } from '../../kit/challenge.js';
import { sendJson, sendRefusal } from '../replies.js';
import { sendOAuthError } from '../error-handler.js';

/** A header value: printable ASCII as is, anything else (and `%`) percent-encoded as UTF-8. */
const headerSafe = (value: string): string => value.replace(/[^\x20-\x24\x26-\x7E]/gu, (c) => encodeURIComponent(c));

/**
 * The auth gateway for reverse proxies (nginx `auth_request`, Traefik `forwardAuth`, Envoy `ext_authz`):
 * the proxy forwards the client's Authorization header here; 200 admits the request and carries who it
 * is in `X-Auth-*` headers for the proxy to pass upstream; 401/403 refuse it with the RFC 6750 challenge
 * for the proxy to return. Required scopes per route: `X-Auth-Required-Scope: a b` (set by the proxy per
 * location) or `?scope=a+b` on the gateway URL. Every method and sub-path is accepted, since ext_authz
 * forwards the original ones.
 */
export function gatewayRoutes(app: FastifyInstance, bearer: BearerValidator, realm: string): void {
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/auth/*',
    config: { challenge: 'bearer' },
    handler: async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const header = request.headers['x-auth-required-scope'];
      const wanted = typeof header === 'string' ? header : typeof query.scope === 'string' ? query.scope : undefined;
      const scopes = wanted === undefined || wanted.trim() === '' ? [] : parseScope(wanted);
      if (scopes === null) {
        // A proxy configuration error, not the client's: 500, which proxies turn into their own error.
        return sendOAuthError(reply, serverError('gateway: malformed required scope'), { realm, challenge: undefined });
      }
      // The token travels only in the Authorization header the proxy forwards.
      const decision = await guardResource({ authorization: request.headers.authorization, queryToken: undefined }, bearer, { scopes });
      if (decision.kind !== 'ok') return sendRefusal(reply, refusalFor(decision, realm));
      const { principal } = decision;
      reply.headers({
        'X-Auth-User': headerSafe(principal.username),
        'X-Auth-User-Id': String(principal.userId),
        'X-Auth-Client-Id': headerSafe(principal.clientId),
        'X-Auth-Scope': principal.scope.join(' '),
        'X-Auth-Expires': String(principal.expiresAt),
      });
      return sendJson(reply, 200, { active: true });
    },
  });
}

import type { FastifyInstance } from 'fastify';
import type { BearerValidator } from '../../core/bearer.js';
import { guardResource } from '../../core/protected-resource.js';
import { refusalFor } from '../../kit/challenge.js';
import { methodNotAllowed, sendJson, sendRefusal } from '../replies.js';

/** A protected resource (RFC 6750): who the bearer token speaks for. */
export function userinfoRoutes(app: FastifyInstance, bearer: BearerValidator, realm: string): void {
  app.get('/userinfo/', { config: { challenge: 'bearer' } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const decision = await guardResource(
      { authorization: request.headers.authorization, queryToken: typeof query.access_token === 'string' ? query.access_token : undefined },
      bearer,
    );
    if (decision.kind !== 'ok') return sendRefusal(reply, refusalFor(decision, realm));
    const { principal } = decision;
    return sendJson(reply, 200, {
      sub: String(principal.userId),
      username: principal.username,
      client_id: principal.clientId,
      scope: principal.scope.join(' '),
      iat: principal.issuedAt,
      exp: principal.expiresAt,
    });
  });
  app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url: '/userinfo/', config: { challenge: 'bearer' }, handler: methodNotAllowed('GET', realm) });
}

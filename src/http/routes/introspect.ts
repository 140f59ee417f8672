import type { FastifyInstance } from 'fastify';
import type { IntrospectionEndpoint } from '../../core/introspection.js';
import { bearerTokenOf } from '../../core/protected-resource.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed, sendJson } from '../replies.js';
import { bodyParams, rejectParamsInQuery } from './token.js';

/** RFC 7662 §2: token introspection, POST only. */
export function introspectRoutes(app: FastifyInstance, introspection: IntrospectionEndpoint, realm: string): void {
  app.post('/introspect/', { config: { challenge: 'basic' } }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    const result = await introspection.introspect({
      params: bodyParams(request.body),
      basic: parseBasicAuthorization(request.headers.authorization),
      bearer: bearerTokenOf(request.headers.authorization),
    });
    return sendJson(reply, 200, result);
  });
  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/introspect/', config: { challenge: 'basic' }, handler: methodNotAllowed('POST', realm) });
}

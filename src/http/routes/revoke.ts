import type { FastifyInstance } from 'fastify';
import type { RevocationEndpoint } from '../../core/revocation.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed } from '../replies.js';
import { bodyParams, rejectParamsInQuery } from './token.js';

/** RFC 7009 §2: token revocation, at django-oauth-toolkit's path. */
export function revokeRoutes(app: FastifyInstance, revocation: RevocationEndpoint, realm: string): void {
  app.post('/revoke_token/', { config: { challenge: 'basic' } }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    await revocation.revoke({ params: bodyParams(request.body), basic: parseBasicAuthorization(request.headers.authorization) });
    // RFC 7009 §2.2: 200, and the content of the body is ignored by the client.
    return reply.code(200).send();
  });
  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/revoke_token/', config: { challenge: 'basic' }, handler: methodNotAllowed('POST', realm) });
}

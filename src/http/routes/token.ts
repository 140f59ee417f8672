import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../core/errors.js';
import type { ParamPairs } from '../../core/params.js';
import type { TokenEndpoint } from '../../core/token-endpoint.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed, sendJson } from '../replies.js';

/** Parameters that carry credentials or tokens: never accepted in the URL (RFC 6749 §2.3.1, §3.2). */
const SECRET_PARAMS = ['grant_type', 'client_id', 'client_secret', 'username', 'password', 'refresh_token', 'scope', 'token'];

/** Refuses requests that put OAuth parameters in the query string, where they end up in logs. */
export function rejectParamsInQuery(query: unknown): void {
  if (SECRET_PARAMS.some((name) => name in (query as Record<string, unknown>))) {
    throw invalidRequest('Send the parameters in the request body, not in the URL.');
  }
}

export const bodyParams = (body: unknown): ParamPairs => (body as ParamPairs | undefined) ?? [];

/** RFC 6749 §3.2: the token endpoint, POST only. */
export function tokenRoutes(app: FastifyInstance, tokenEndpoint: TokenEndpoint, realm: string): void {
  app.post('/token/', { config: { challenge: 'basic' } }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    const response = await tokenEndpoint.handle({
      params: bodyParams(request.body),
      basic: parseBasicAuthorization(request.headers.authorization),
    });
    return sendJson(reply, 200, response);
  });
  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/token/', config: { challenge: 'basic' }, handler: methodNotAllowed('POST', realm) });
}

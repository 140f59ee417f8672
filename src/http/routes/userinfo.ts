import type { FastifyInstance } from 'fastify';
import type { BearerValidator } from '../../core/bearer.js';
import { guardResource, queryTokenOf } from '../../core/protected-resource.js';
import { refusalFor } from '../../core/bearer-challenge.js';
import { OAuthError } from '../../core/errors.js';
import { methodNotAllowed, sendJson, sendRefusal } from '../replies.js';
import { BEARER_SECURITY, RETRY_AFTER, WWW_AUTHENTICATE_BEARER, error, jsonResponse } from './schemas.js';

const NO_USER = 'The access token was issued to a client, not to a user: there is no user to describe.';

/** The userinfo resource as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const userinfoSchema = {
  tags: ['resource'],
  operationId: 'userinfo',
  summary: 'Who the bearer token speaks for (RFC 6750)',
  description:
    'A protected resource (RFC 6750): the user, client, scope and lifetime of the access token in ' +
    '`Authorization: Bearer` (§2.1). Every refusal carries the §3 `WWW-Authenticate: Bearer` challenge; a ' +
    'request without credentials gets it without an error code (§3.1). The token is never accepted in the URL ' +
    '(§2.3, RFC 9700 §2.5). HEAD answers like GET without a body.',
  security: BEARER_SECURITY,
  response: {
    200: jsonResponse('Principal', 'The principal of a valid access token.'),
    400: error(
      'invalid_request (RFC 6750 §3.1): `access_token` in the query string, or the token sent two ways.',
      WWW_AUTHENTICATE_BEARER,
    ),
    401: error(
      'invalid_token (RFC 6750 §3.1): no bearer credentials (bare challenge), or a malformed, unknown, expired ' +
        'or revoked token, or the token of a disabled user.',
      WWW_AUTHENTICATE_BEARER,
    ),
    403: error(
      'insufficient_scope (RFC 6750 §3.1): a token issued by the client_credentials grant (RFC 6749 §4.4) is ' +
        'valid but speaks for no user.',
      WWW_AUTHENTICATE_BEARER,
    ),
    405: error('Any method but GET and HEAD: invalid_request, with `Allow: GET`.', {
      Allow: { type: 'string', description: 'GET' },
    }),
    503: error('temporarily_unavailable: the store cannot serve now.', RETRY_AFTER),
  },
} as const;

/** A protected resource (RFC 6750): who the bearer token speaks for. */
export function userinfoRoutes(app: FastifyInstance, bearer: BearerValidator, realm: string): void {
  app.get('/userinfo/', { config: { challenge: 'bearer' }, schema: userinfoSchema }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const decision = await guardResource(
      { authorization: request.headers.authorization, queryToken: queryTokenOf(query.access_token) },
      bearer,
    );
    if (decision.kind !== 'ok') return sendRefusal(reply, refusalFor(decision, realm));
    const { principal } = decision;
    // A client_credentials token speaks for no user: it is valid, but not for this resource. RFC 6750 §3.1
    // insufficient_scope (403): "the request requires higher privileges than provided by the access token".
    if (principal.userId === null) {
      const error = new OAuthError('insufficient_scope', NO_USER, `token of client ${principal.clientId}, no user`);
      return sendRefusal(reply, refusalFor({ kind: 'error', error }, realm));
    }
    return sendJson(reply, 200, {
      sub: String(principal.userId),
      username: principal.username,
      client_id: principal.clientId,
      scope: principal.scope.join(' '),
      iat: principal.issuedAt,
      exp: principal.expiresAt,
    });
  });
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/userinfo/',
    config: { challenge: 'bearer' },
    schema: { hide: true },
    handler: methodNotAllowed('GET', realm),
  });
}

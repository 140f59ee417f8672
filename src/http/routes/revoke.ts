import type { FastifyInstance } from 'fastify';
import type { RevocationEndpoint } from '../../core/revocation.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed } from '../replies.js';
import {
  BODY_RULES,
  CLIENT_AUTH_SECURITY,
  CLIENT_CREDENTIAL_PARAMS,
  CONSUMES,
  NO_STORE_HEADERS,
  clientAuthenticatedErrors,
  error,
} from './schemas.js';
import { bodyParams, rejectParamsInQuery } from './token.js';

/** The revocation endpoint as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const revokeSchema = {
  tags: ['revocation'],
  operationId: 'revokeToken',
  summary: 'Revoke a token (RFC 7009 §2)',
  description:
    'RFC 7009 §2.1: the client authenticates as at the token endpoint and names a token it holds. Revoking a ' +
    'refresh token or an ' +
    'access token revokes its whole grant: the access and refresh tokens issued together die together. ' +
    '`token_type_hint` only orders ' +
    'the lookup (an unknown hint is ignored). §2.2: an unknown, expired, used or already revoked token also ' +
    'answers 200, so a client ' +
    'cannot probe for tokens. A token issued to another client: 400 unauthorized_client, nothing changes. ' +
    BODY_RULES,
  consumes: CONSUMES,
  security: CLIENT_AUTH_SECURITY,
  body: {
    type: 'object',
    properties: {
      token: { type: 'string', description: 'RFC 7009 §2.1: the access token or refresh token to revoke.' },
      token_type_hint: {
        type: 'string',
        description:
          'RFC 7009 §2.1: `access_token` or `refresh_token`; only orders the search, and any other value is ignored.',
      },
      ...CLIENT_CREDENTIAL_PARAMS,
    },
    required: ['token'],
  },
  response: {
    200: {
      description: 'RFC 7009 §2.2: revoked, or there was nothing to revoke. Empty body (Content-Length: 0).',
      headers: NO_STORE_HEADERS,
      type: 'null',
    },
    400: error(
      'invalid_request (missing or repeated token, parameters in the URL, malformed body) or ' +
        'unauthorized_client (RFC 7009 §2.1: the token was issued to another client).',
    ),
    ...clientAuthenticatedErrors('POST'),
  },
} as const;

/** RFC 7009 §2: token revocation, at django-oauth-toolkit's path. */
export function revokeRoutes(app: FastifyInstance, revocation: RevocationEndpoint, realm: string): void {
  app.post('/revoke_token/', { config: { challenge: 'basic' }, schema: revokeSchema }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    await revocation.revoke({
      params: bodyParams(request.body),
      basic: parseBasicAuthorization(request.headers.authorization),
      clientIp: request.ip,
    });
    // RFC 7009 §2.2: 200, and the content of the body is ignored by the client.
    return reply.code(200).send();
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/revoke_token/',
    config: { challenge: 'basic' },
    schema: { hide: true },
    handler: methodNotAllowed('POST', realm),
  });
}

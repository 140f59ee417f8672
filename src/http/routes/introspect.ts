import type { FastifyInstance } from 'fastify';
import type { IntrospectionEndpoint } from '../../core/introspection.js';
import { bearerTokenOf } from '../../core/protected-resource.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed, sendJson } from '../replies.js';
import {
  BODY_RULES,
  CLIENT_CREDENTIAL_PARAMS,
  CONSUMES,
  clientAuthenticatedErrors,
  error,
  oneOfResponse,
} from './schemas.js';
import { bodyParams, rejectParamsInQuery } from './token.js';

/** The introspection endpoint as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const introspectSchema = {
  tags: ['introspection'],
  operationId: 'introspect',
  summary: 'Introspect a token (RFC 7662 §2)',
  description:
    'RFC 7662 §2.1: the caller must be authorized, against token scanning. Either a client authenticated as at ' +
    'the token endpoint ' +
    '(Basic or body credentials): it sees the tokens issued to it, or every token if it is a confidential ' +
    'client created with ' +
    '`--introspect` or registered with the `introspection` scope (a resource server); or `Authorization: ' +
    'Bearer` with an access token ' +
    'carrying the `introspection` scope and issued to a confidential client created with `--introspect`: it ' +
    'sees every token. ' +
    '§2.2: a live, visible token answers `active: true` with its scope, client_id, username, token_use ' +
    '(`access_token` or ' +
    '`refresh_token`), sub, iat and, for access tokens, token_type and exp; everything else is exactly ' +
    '`{"active":false}`. ' +
    '`token_type_hint` only orders the search. ' +
    BODY_RULES,
  consumes: CONSUMES,
  security: [{ client_secret_basic: [] }, { bearer: [] }, {}],
  body: {
    type: 'object',
    properties: {
      token: { type: 'string', description: 'RFC 7662 §2.1: the access token or refresh token to inspect.' },
      token_type_hint: {
        type: 'string',
        description:
          'RFC 7662 §2.1: `access_token` or `refresh_token`; only orders the search, and any other value is ignored.',
      },
      ...CLIENT_CREDENTIAL_PARAMS,
    },
    required: ['token'],
  },
  response: {
    200: oneOfResponse(['IntrospectionActive', 'IntrospectionInactive'], "RFC 7662 §2.2: the token's state."),
    400: error(
      'invalid_request: missing or repeated token, parameters in the URL, malformed body, or Basic and body ' +
        'credentials that disagree.',
    ),
    ...clientAuthenticatedErrors('POST'),
    401: error(
      'invalid_client with `WWW-Authenticate: Basic realm="…"` when client authentication failed (the same ' +
        'body whatever the cause, RFC 6749 §5.2); invalid_token with the RFC 6750 §3 Bearer challenge when the ' +
        'bearer access token is unknown, expired, revoked or malformed, or may not introspect (RFC 7662 §2.3: ' +
        'its client is not a resource server created with `--introspect`, or it lacks the `introspection` scope).',
      {
        'WWW-Authenticate': {
          type: 'string',
          description: '`Basic realm="…"` or `Bearer realm="…", error="invalid_token", error_description="…"`.',
        },
      },
    ),
  },
} as const;

/** RFC 7662 §2: token introspection, POST only. */
export function introspectRoutes(app: FastifyInstance, introspection: IntrospectionEndpoint, realm: string): void {
  app.post('/introspect/', { config: { challenge: 'basic' }, schema: introspectSchema }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    const result = await introspection.introspect({
      params: bodyParams(request.body),
      basic: parseBasicAuthorization(request.headers.authorization),
      clientIp: request.ip,
      bearer: bearerTokenOf(request.headers.authorization),
    });
    return sendJson(reply, 200, result);
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/introspect/',
    config: { challenge: 'basic' },
    schema: { hide: true },
    handler: methodNotAllowed('POST', realm),
  });
}

import { GRANT_TYPES, isGrantType } from '../../core/types.js';
import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../core/errors.js';
import type { ParamPairs } from '../../core/params.js';
import type { TokenEndpoint } from '../../core/token-endpoint.js';
import { parseBasicAuthorization } from '../credentials.js';
import { methodNotAllowed, sendJson } from '../replies.js';
import { sunsetHeaders } from '../sunset-headers.js';
import {
  BODY_RULES,
  CLIENT_AUTH_SECURITY,
  CLIENT_CREDENTIAL_PARAMS,
  CONSUMES,
  clientAuthenticatedErrors,
  error,
  jsonResponse,
} from './schemas.js';

/** Parameters that carry credentials or tokens: never accepted in the URL (RFC 6749 §2.3.1, §3.2). */
const SECRET_PARAMS = [
  'grant_type',
  'client_id',
  'client_secret',
  'username',
  'password',
  'refresh_token',
  'scope',
  'token',
];

/** Refuses requests that put OAuth parameters in the query string, where they end up in logs. */
export function rejectParamsInQuery(query: unknown): void {
  if (SECRET_PARAMS.some((name) => name in (query as Record<string, unknown>))) {
    throw invalidRequest('Send the parameters in the request body, not in the URL.');
  }
}

export const bodyParams = (body: unknown): ParamPairs => (body as ParamPairs | undefined) ?? [];

/** The token endpoint as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const tokenSchema = {
  tags: ['token'],
  operationId: 'token',
  summary: 'Issue or refresh tokens (RFC 6749 §3.2)',
  description:
    "RFC 6749 §3.2, the token endpoint, at django-oauth-toolkit's path (also without the trailing slash). " +
    '`grant_type=password` (§4.3): username and password, optional scope. ' +
    '`grant_type=client_credentials` (§4.4): optional scope, confidential clients only (a public client: ' +
    'unauthorized_client); the answer has no refresh_token (§4.4.3) and the token no user. ' +
    '`grant_type=authorization_code` (§4.1.3): code, redirect_uri (when the client has several, or the code went ' +
    'to another loopback port), code_verifier (RFC 7636 §4.5); a code is single use, and presenting it again ' +
    'revokes the tokens it gave (§4.1.2). ' +
    '`grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4): device_code; until the person ' +
    'decides, authorization_pending, slow_down (400, the interval grows by 5 s), then access_denied, ' +
    'expired_token or the tokens. ' +
    '`grant_type=refresh_token` (§6): refresh_token, optional scope (it may only narrow the access token); ' +
    'every success rotates the ' +
    'refresh token, and presenting a used one revokes its whole token family (RFC 9700 §4.14.2). ' +
    'Client authentication (§2.3.1): HTTP Basic, or client_id and client_secret in the body, or both naming ' +
    'the same client and secret. ' +
    'Order of checks: body and repeats, grant_type, client authentication, grant allowed for the client, the ' +
    "grant's parameters and scope, " +
    'then credentials or refresh token. ' +
    'A client with a password-grant sunset gets `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and, when ' +
    'configured, `Link: <…>; rel="sunset"` on every password-grant answer and every refresh of a grant that ' +
    'began with a password; from the sunset on, its password grant answers unauthorized_client. ' +
    BODY_RULES,
  consumes: CONSUMES,
  security: CLIENT_AUTH_SECURITY,
  body: {
    type: 'object',
    description: 'Form-encoded (RFC 6749 Appendix B) or a flat JSON object of strings.',
    properties: {
      grant_type: {
        type: 'string',
        enum: [...GRANT_TYPES],
        description:
          'RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 8628 §3.4. Missing: invalid_request; any other value: ' +
          'unsupported_grant_type.',
      },
      code: { type: 'string', description: 'grant_type=authorization_code: the code the redirect carried.' },
      redirect_uri: {
        type: 'string',
        description: 'grant_type=authorization_code: the redirect_uri of the authorization request (RFC 6749 §4.1.3).',
      },
      code_verifier: {
        type: 'string',
        description: 'grant_type=authorization_code: the PKCE verifier, 43–128 characters (RFC 7636 §4.1, §4.5).',
      },
      device_code: {
        type: 'string',
        description: 'grant_type=urn:ietf:params:oauth:grant-type:device_code: the device_code (RFC 8628 §3.4).',
      },
      username: { type: 'string', description: "grant_type=password: the resource owner's username (case-sensitive)." },
      password: {
        type: 'string',
        description:
          "grant_type=password: the resource owner's password. In a form body, percent-encode `%`, `&`, `+`…",
      },
      refresh_token: {
        type: 'string',
        description: 'grant_type=refresh_token: the refresh token of the last response (single use).',
      },
      scope: {
        type: 'string',
        description:
          "RFC 6749 §3.3: space-separated scopes. Optional: without it, the client's default scopes. Unknown " +
          'or not allowed for the client: invalid_scope.',
      },
      ...CLIENT_CREDENTIAL_PARAMS,
    },
    required: ['grant_type'],
  },
  response: {
    200: jsonResponse(
      'TokenResponse',
      'RFC 6749 §5.1: the new access token and refresh token (for client_credentials, no refresh token: §4.4.3).',
    ),
    400: error(
      'RFC 6749 §5.2: invalid_request (missing, repeated or malformed parameter, parameters in the URL, ' +
        'unsupported content type, Basic and body credentials that disagree), unsupported_grant_type, ' +
        'unauthorized_client (grant not allowed for the client, or client_credentials for a public client), ' +
        'invalid_scope, authorization_pending / slow_down / access_denied / expired_token (device grant, RFC 8628 ' +
        '§3.5), or invalid_grant (`Invalid ' +
        'credentials given.` for the password grant; for the refresh_token grant an unknown, used, revoked or ' +
        'expired refresh token, or one issued to another client).',
    ),
    ...clientAuthenticatedErrors('POST'),
  },
} as const;

/** The grant_type of a request as a metric label: known values only, so the label set stays bounded. */
function grantTypeLabel(params: ParamPairs): string {
  const value = params.find(([name]) => name === 'grant_type')?.[1];
  return value === undefined ? 'none' : isGrantType(value) ? value : 'other';
}

/** RFC 6749 §3.2: the token endpoint, POST only. */
export function tokenRoutes(app: FastifyInstance, tokenEndpoint: TokenEndpoint, realm: string): void {
  app.post('/token/', { config: { challenge: 'basic' }, schema: tokenSchema }, async (request, reply) => {
    rejectParamsInQuery(request.query);
    request.metricsGrantType = grantTypeLabel(bodyParams(request.body));
    const response = await tokenEndpoint.handle({
      params: bodyParams(request.body),
      basic: parseBasicAuthorization(request.headers.authorization),
      clientIp: request.ip,
      advise: (advisory) => sunsetHeaders(reply, advisory),
    });
    return sendJson(reply, 200, response);
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/token/',
    config: { challenge: 'basic' },
    schema: { hide: true },
    handler: methodNotAllowed('POST', realm),
  });
}

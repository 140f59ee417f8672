import type { FastifyInstance } from 'fastify';
import type { DeviceFlow } from '../../core/authorize/api.js';
import { parseBasicAuthorization } from '../credentials.js';
import { issuerOf } from '../issuer.js';
import { methodNotAllowed, sendJson } from '../replies.js';
import {
  BODY_RULES,
  CLIENT_AUTH_SECURITY,
  CLIENT_CREDENTIAL_PARAMS,
  CONSUMES,
  clientAuthenticatedErrors,
  error,
  NO_STORE_HEADERS,
} from './schemas.js';
import { bodyParams, rejectParamsInQuery } from './token.js';

/** The device authorization endpoint as the OpenAPI document shows it (documentation only: routes/schemas.ts). */
const deviceAuthorizationSchema = {
  tags: ['device'],
  operationId: 'deviceAuthorization',
  summary: 'Start the device authorization grant (RFC 8628 §3.1)',
  description:
    "RFC 8628 §3.1–3.2, at django-oauth-toolkit's path (also without the trailing slash). A device that has " +
    'no browser (a TV, a CLI) asks for a device code and a user code; the person enters the user code at ' +
    '`verification_uri` (`{issuer}/o/device/`) and approves; meanwhile the device polls the token endpoint ' +
    'with `grant_type=urn:ietf:params:oauth:grant-type:device_code` (§3.4). Client authentication as at the ' +
    'token endpoint: HTTP Basic or the body for a confidential client, `client_id` alone for a public one. ' +
    'The client must be allowed the device grant (else unauthorized_client). ' +
    BODY_RULES,
  consumes: CONSUMES,
  security: CLIENT_AUTH_SECURITY,
  body: {
    type: 'object',
    description: 'Form-encoded (RFC 6749 Appendix B) or a flat JSON object of strings.',
    properties: {
      scope: {
        type: 'string',
        description:
          "RFC 8628 §3.1, RFC 6749 §3.3: space-separated scopes. Optional: without it, the client's default " +
          'scopes. Unknown or not allowed for the client: invalid_scope.',
      },
      ...CLIENT_CREDENTIAL_PARAMS,
    },
  },
  response: {
    200: {
      description: 'RFC 8628 §3.2: the device authorization response. The keys are sent in this order.',
      headers: NO_STORE_HEADERS,
      type: 'object',
      properties: {
        device_code: { type: 'string', description: 'The secret the device polls the token endpoint with.' },
        user_code: {
          type: 'string',
          description: 'RFC 8628 §6.1: 8 letters as `XXXX-XXXX`, no vowels; case and dash do not matter when typed.',
        },
        verification_uri: { type: 'string', format: 'uri', description: '`{issuer}/o/device/`, to show the person.' },
        verification_uri_complete: {
          type: 'string',
          format: 'uri',
          description: 'RFC 8628 §3.3.1: `verification_uri` with `?user_code=…`, for a QR code or a link.',
        },
        expires_in: { type: 'integer', description: 'Lifetime of both codes in seconds (OAUTHD_DEVICE_CODE_TTL).' },
        interval: { type: 'integer', description: 'Seconds between polls (OAUTHD_DEVICE_POLL_INTERVAL).' },
      },
      required: ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete', 'expires_in', 'interval'],
      additionalProperties: false,
    },
    400: error(
      'RFC 6749 §5.2: invalid_request (repeated or malformed parameter, parameters in the URL, unsupported ' +
        'content type, Basic and body credentials that disagree), unauthorized_client (the client may not use ' +
        'the device grant), invalid_scope.',
    ),
    ...clientAuthenticatedErrors('POST'),
  },
} as const;

/**
 * `POST {BASE_PATH}/o/device-authorization/` (RFC 8628 §3.1). The verification URI is derived from the issuer
 * exactly as the metadata's endpoints are (RFC 8414 §2), so the two always agree.
 */
export function deviceAuthorizationRoutes(
  app: FastifyInstance,
  deviceFlow: DeviceFlow,
  options: { realm: string; issuer: string | null; basePath: string },
): void {
  app.post(
    '/device-authorization/',
    { config: { challenge: 'basic' }, schema: deviceAuthorizationSchema },
    async (request, reply) => {
      // RFC 8628 §3.1 sends the request as a form body, like the token endpoint (RFC 6749 §2.3.1: no secrets in URLs).
      rejectParamsInQuery(request.query);
      const response = await deviceFlow.authorize(
        {
          params: bodyParams(request.body),
          basic: parseBasicAuthorization(request.headers.authorization),
          clientIp: request.ip,
        },
        `${issuerOf(request, options)}/o/device/`,
      );
      return sendJson(reply, 200, response);
    },
  );
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/device-authorization/',
    config: { challenge: 'basic' },
    schema: { hide: true },
    handler: methodNotAllowed('POST', options.realm),
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GRANT_TYPES } from '../../core/types.js';
import { issuerOf } from '../issuer.js';
import { sendJson } from '../replies.js';
import { isAdminScope } from '../../core/admin-scopes.js';

export interface MetadataOptions {
  basePath: string;
  /** OAUTHD_ISSUER; null derives it from each request (development). */
  issuer: string | null;
  scopes: readonly string[];
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

const strings = { type: 'array', items: { type: 'string' } } as const;
const url = (description: string) => ({ type: 'string', format: 'uri', description }) as const;

/** The metadata document as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const metadataSchema = {
  tags: ['metadata'],
  summary: 'Authorization server metadata (RFC 8414 §3)',
  description:
    'RFC 8414 §3: the well-known document of the issuer. For an issuer with a path ' +
    '(`https://host/api/secure`), §3.1 puts it at `/.well-known/oauth-authorization-server/api/secure`; it is ' +
    'also served at `{BASE_PATH}/.well-known/oauth-authorization-server`, where many clients look. The issuer ' +
    'is OAUTHD_ISSUER, or, when that is unset (development), derived from the request. Public: no ' +
    'authentication, `Cache-Control: public, max-age=300`.',
  response: {
    200: {
      description: 'RFC 8414 §2: the metadata. The keys are sent in this order.',
      headers: { 'Cache-Control': { type: 'string', enum: ['public, max-age=300'] } },
      type: 'object',
      properties: {
        issuer: url('RFC 8414 §2: the issuer identifier; every endpoint below is under it.'),
        authorization_endpoint: url('RFC 6749 §3.1: `{issuer}/o/authorize/`, the login and consent pages.'),
        token_endpoint: url('RFC 6749 §3.2.'),
        revocation_endpoint: url('RFC 7009.'),
        introspection_endpoint: url('RFC 7662.'),
        userinfo_endpoint: url('The bearer-protected userinfo resource.'),
        device_authorization_endpoint: url('RFC 8628 §4: `{issuer}/o/device-authorization/`.'),
        response_types_supported: { ...strings, description: '`code` (RFC 6749 §4.1) only.' },
        grant_types_supported: {
          ...strings,
          description:
            '`password`, `client_credentials`, `refresh_token`, `authorization_code` and ' +
            '`urn:ietf:params:oauth:grant-type:device_code`.',
        },
        token_endpoint_auth_methods_supported: strings,
        revocation_endpoint_auth_methods_supported: strings,
        introspection_endpoint_auth_methods_supported: {
          ...strings,
          description:
            'The client methods, and `bearer` (an access token with the `introspection` scope, issued to a ' +
            'client created with `--introspect`).',
        },
        scopes_supported: { ...strings, description: 'OAUTHD_SCOPES.' },
        service_documentation: url("This server's OpenAPI document, `{issuer}/o/openapi.json`."),
        code_challenge_methods_supported: {
          ...strings,
          description:
            'RFC 7636 §4.3, RFC 9700 §2.1.1: `S256`. `plain` is accepted only from a client an operator ' +
            'configured for it, so it is not advertised.',
        },
        authorization_response_iss_parameter_supported: {
          type: 'boolean',
          description: 'RFC 9207 §3: every authorization response (code or error) carries `iss`.',
        },
      },
      required: [
        'issuer',
        'token_endpoint',
        'revocation_endpoint',
        'introspection_endpoint',
        'userinfo_endpoint',
        'authorization_endpoint',
        'device_authorization_endpoint',
        'response_types_supported',
        'grant_types_supported',
        'token_endpoint_auth_methods_supported',
        'revocation_endpoint_auth_methods_supported',
        'introspection_endpoint_auth_methods_supported',
        'scopes_supported',
        'service_documentation',
        'code_challenge_methods_supported',
        'authorization_response_iss_parameter_supported',
      ],
      additionalProperties: false,
    },
  },
} as const;

/**
 * Authorization server metadata, RFC 8414. §3: for an issuer with a path (`https://host/api/secure`) the
 * document lives at `/.well-known/oauth-authorization-server/api/secure`; it is also served at
 * `{BASE_PATH}/.well-known/oauth-authorization-server`, where many clients look.
 */
export function metadataRoutes(app: FastifyInstance, options: MetadataOptions): void {
  const handler = async (request: FastifyRequest, reply: Parameters<typeof sendJson>[0]) => {
    const issuer = issuerOf(request, options);
    reply.header('Cache-Control', 'public, max-age=300');
    return sendJson(reply, 200, {
      issuer,
      authorization_endpoint: `${issuer}/o/authorize/`,
      token_endpoint: `${issuer}/o/token/`,
      revocation_endpoint: `${issuer}/o/revoke_token/`,
      introspection_endpoint: `${issuer}/o/introspect/`,
      userinfo_endpoint: `${issuer}/o/userinfo/`,
      device_authorization_endpoint: `${issuer}/o/device-authorization/`,
      // RFC 8414 §2: REQUIRED; the authorization endpoint answers the code flow only (RFC 9700 §2.1.2).
      response_types_supported: ['code'],
      grant_types_supported: [...GRANT_TYPES],
      token_endpoint_auth_methods_supported: AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: AUTH_METHODS,
      introspection_endpoint_auth_methods_supported: [...AUTH_METHODS.filter((m) => m !== 'none'), 'bearer'],
      // §2 lets a server leave scopes out: the built-in admin scopes are the operator's, not integrators'.
      scopes_supported: options.scopes.filter((s) => !isAdminScope(s)),
      service_documentation: `${issuer}/o/openapi.json`,
      // RFC 9700 §2.1.1: S256 only; `plain` is for clients an operator configured for it, never advertised.
      code_challenge_methods_supported: ['S256'],
      // RFC 9207 §3: the `iss` parameter is in every authorization response.
      authorization_response_iss_parameter_supported: true,
    });
  };
  const paths = new Set([
    `/.well-known/oauth-authorization-server${options.basePath}`,
    `${options.basePath}/.well-known/oauth-authorization-server`,
  ]);
  for (const path of paths) app.get(path, { schema: metadataSchema }, handler);
}

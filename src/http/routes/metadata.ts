import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GRANT_TYPES } from '../../core/types.js';
import { sendJson } from '../replies.js';

export interface MetadataOptions {
  basePath: string;
  /** OAUTHD_ISSUER; null derives it from each request (development). */
  issuer: string | null;
  scopes: readonly string[];
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

/**
 * Authorization server metadata, RFC 8414. §3: for an issuer with a path (`https://host/api/secure`) the
 * document lives at `/.well-known/oauth-authorization-server/api/secure`; it is also served at
 * `{BASE_PATH}/.well-known/oauth-authorization-server`, where many clients look.
 */
export function metadataRoutes(app: FastifyInstance, options: MetadataOptions): void {
  const issuerOf = (request: FastifyRequest) => options.issuer ?? `${request.protocol}://${request.host}${options.basePath}`;
  const handler = async (request: FastifyRequest, reply: Parameters<typeof sendJson>[0]) => {
    const issuer = issuerOf(request);
    reply.header('Cache-Control', 'public, max-age=300');
    return sendJson(reply, 200, {
      issuer,
      token_endpoint: `${issuer}/o/token/`,
      revocation_endpoint: `${issuer}/o/revoke_token/`,
      introspection_endpoint: `${issuer}/o/introspect/`,
      userinfo_endpoint: `${issuer}/o/userinfo/`,
      // RFC 8414 §2: REQUIRED; this server has no authorization endpoint, so no response type.
      response_types_supported: [],
      grant_types_supported: [...GRANT_TYPES],
      token_endpoint_auth_methods_supported: AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: AUTH_METHODS,
      introspection_endpoint_auth_methods_supported: [...AUTH_METHODS.filter((m) => m !== 'none'), 'bearer'],
      scopes_supported: options.scopes,
      service_documentation: `${issuer}/o/openapi.json`,
    });
  };
  const paths = new Set([`/.well-known/oauth-authorization-server${options.basePath}`, `${options.basePath}/.well-known/oauth-authorization-server`]);
  for (const url of paths) app.get(url, handler);
}

import type { FastifyRequest } from 'fastify';

/**
 * The issuer identifier (RFC 8414 §2): OAUTHD_ISSUER, or, when unset (development), derived from the request
 * (`request.protocol` honours X-Forwarded-Proto only from OAUTHD_TRUST_PROXY). The metadata document and
 * the RFC 9207 `iss` of the authorization responses use this one derivation.
 */
export const issuerOf = (request: FastifyRequest, options: { issuer: string | null; basePath: string }): string =>
  options.issuer ?? `${request.protocol}://${request.host}${options.basePath}`;

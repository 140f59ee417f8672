import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { BearerValidator } from '../../core/bearer.js';
import { guardResource } from '../../core/protected-resource.js';
import { parseScope } from '../../core/scope.js';
import { invalidRequest } from '../../core/errors.js';
import { refusalFor } from '../../core/bearer-challenge.js';
import { sendJson, sendRefusal } from '../replies.js';
import { sendOAuthError } from '../error-handler.js';
import { BEARER_SECURITY, NO_STORE_HEADERS, RETRY_AFTER, WWW_AUTHENTICATE_BEARER, error } from './schemas.js';

const scopeDescription =
  'Scopes the token must all carry, space-separated (RFC 6749 §3.3); none: any valid token is admitted.';

/** The gateway as the OpenAPI document shows it (documentation only: see routes/schemas.ts). */
const gatewaySchema = {
  tags: ['gateway'],
  summary: 'Auth subrequest of a reverse proxy (RFC 6750)',
  description:
    "For nginx `auth_request`, Traefik `forwardAuth` and Envoy `ext_authz`: the proxy forwards the client's " +
    '`Authorization: Bearer` ' +
    'header (RFC 6750 §2.1); 200 admits the request and names the principal in `X-Auth-*` headers for the ' +
    'proxy to pass upstream; ' +
    '401/403 refuse it with the RFC 6750 §3 challenge for the proxy to return. Every method and every sub-path ' +
    'is accepted (ext_authz ' +
    'forwards the original ones); the sub-path is not interpreted. See docs/gateway.md.',
  security: BEARER_SECURITY,
  querystring: {
    type: 'object',
    properties: {
      scope: {
        type: 'string',
        description:
          `${scopeDescription} Sent at most once; when X-Auth-Required-Scope is sent too, both must name the ` +
          `same scopes.`,
      },
    },
  },
  headers: {
    type: 'object',
    properties: {
      'X-Auth-Required-Scope': {
        type: 'string',
        description: `${scopeDescription} Set by the proxy per location; sent at most once, never empty.`,
      },
    },
  },
  response: {
    200: {
      description: 'The token is valid and carries every required scope.',
      headers: {
        'X-Auth-User': {
          type: 'string',
          description:
            'The username; characters outside printable ASCII, and `%`, percent-encoded as UTF-8. ' +
            'Empty for a token without a user (client_credentials).',
        },
        'X-Auth-User-Id': { type: 'string', description: 'The user id; empty for a token without a user.' },
        'X-Auth-Client-Id': {
          type: 'string',
          description: 'The client the token was issued to (percent-encoded like X-Auth-User).',
        },
        'X-Auth-Scope': { type: 'string', description: "The token's scopes, space-separated." },
        'X-Auth-Expires': { type: 'string', description: 'When the token expires, in seconds since the epoch.' },
        ...NO_STORE_HEADERS,
      },
      type: 'object',
      properties: { active: { type: 'boolean', enum: [true] } },
      required: ['active'],
      additionalProperties: false,
    },
    400: error(
      'invalid_request (RFC 6750 §3.1): the required scope is ambiguous — `scope` repeated, ' +
        'X-Auth-Required-Scope repeated, empty or malformed, or the two naming different scopes — or the token ' +
        'was sent more than one way.',
      WWW_AUTHENTICATE_BEARER,
    ),
    401: error(
      'invalid_token (RFC 6750 §3.1): no bearer credentials (bare challenge), or a malformed, unknown, expired ' +
        'or revoked token.',
      WWW_AUTHENTICATE_BEARER,
    ),
    403: error(
      'insufficient_scope (RFC 6750 §3.1): the token lacks a required scope; the challenge names them in `scope`.',
      WWW_AUTHENTICATE_BEARER,
    ),
    503: error('temporarily_unavailable: the store cannot serve now.', RETRY_AFTER),
  },
} as const;

/** The wildcard sub-path, shown as `{path}` rather than Fastify's `*`. */
const gatewayDocumentation = ({ schema, url }: { schema: object; url: string }) => ({
  url: url.replace(/\*$/u, '{path}'),
  schema: {
    ...schema,
    params: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Any sub-path; not interpreted.' } },
      required: ['path'],
    },
  },
});

/** A header value: printable ASCII as is, anything else (and `%`) percent-encoded as UTF-8. */
const headerSafe = (value: string): string => value.replace(/[^\x20-\x24\x26-\x7E]/gu, (c) => encodeURIComponent(c));

const REQUIRED_SCOPE_HEADER = 'x-auth-required-scope';

/**
 * The scopes the proxy requires, or the description of why the request is refused. Fails closed: anything
 * that could be read two ways — a repeated `scope` parameter or header, an empty or malformed one, a header
 * and a parameter that name different scopes — is refused, never read as "no scope required". Only a
 * request carrying neither requires no scope.
 */
function requiredScope(request: FastifyRequest): string[] | string {
  const fromQuery = (request.query as Record<string, unknown>).scope;
  // The query parser turns a repeated parameter into an array (RFC 6749 §3.1: parameters MUST NOT repeat).
  if (Array.isArray(fromQuery)) return 'The scope parameter must not be repeated.';
  // Node joins a repeated header into one value with ", ", which would read as other scope names.
  let headerCount = 0;
  const raw = request.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === REQUIRED_SCOPE_HEADER) headerCount += 1;
  if (headerCount > 1) return 'The X-Auth-Required-Scope header must not be repeated.';
  const fromHeader = request.headers[REQUIRED_SCOPE_HEADER];

  const parse = (value: string, name: string): string[] | string => {
    // An empty value is what an unset variable in a proxy's configuration produces: refuse it rather
    // than require nothing. A proxy that requires no scope sends neither.
    if (value.trim() === '') return `The ${name} is empty; omit it to require no scope.`;
    return parseScope(value) ?? `The ${name} is malformed.`;
  };
  const header = typeof fromHeader === 'string' ? parse(fromHeader, 'X-Auth-Required-Scope header') : undefined;
  const query = typeof fromQuery === 'string' ? parse(fromQuery, 'scope parameter') : undefined;
  if (typeof header === 'string') return header;
  if (typeof query === 'string') return query;
  if (header !== undefined && query !== undefined) {
    // Both sent: they must name the same set of scopes (RFC 6749 §3.3: a scope is a set, order aside).
    const same = header.length === query.length && header.every((s) => query.includes(s));
    return same ? header : 'The X-Auth-Required-Scope header and the scope parameter name different scopes.';
  }
  return header ?? query ?? [];
}

/**
 * The auth gateway for reverse proxies (nginx `auth_request`, Traefik `forwardAuth`, Envoy `ext_authz`):
 * the proxy forwards the client's Authorization header here; 200 admits the request and carries who it
 * is in `X-Auth-*` headers for the proxy to pass upstream; 401/403 refuse it with the RFC 6750 challenge
 * for the proxy to return. Required scopes per route: `X-Auth-Required-Scope: a b` (set by the proxy per
 * location) or `?scope=a+b` on the gateway URL; an ambiguous requirement is refused (requiredScope). Every
 * method and sub-path is accepted, since ext_authz forwards the original ones.
 */
export function gatewayRoutes(app: FastifyInstance, bearer: BearerValidator, realm: string): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const scopes = requiredScope(request);
    if (typeof scopes === 'string') {
      // The scope may come from the URL, which a client can reach (ext_authz appends the client's own
      // path and query), or from a header the client sent when the proxy did not clear it: bad input, so
      // 400 invalid_request, never a 5xx, and never a guess at what was meant.
      return sendOAuthError(reply, invalidRequest(scopes), { realm, challenge: 'bearer' });
    }
    // The token travels only in the Authorization header the proxy forwards.
    const decision = await guardResource(
      { authorization: request.headers.authorization, queryToken: undefined },
      bearer,
      { scopes },
    );
    if (decision.kind !== 'ok') return sendRefusal(reply, refusalFor(decision, realm));
    const { principal } = decision;
    reply.headers({
      // A client_credentials token has no user: the user headers are sent empty, never left out, so a proxy
      // that copies only the headers oauthd sends (Envoy's ext_authz) still replaces a client's own.
      'X-Auth-User': principal.userId === null ? '' : headerSafe(principal.username ?? ''),
      'X-Auth-User-Id': principal.userId === null ? '' : String(principal.userId),
      'X-Auth-Client-Id': headerSafe(principal.clientId),
      'X-Auth-Scope': principal.scope.join(' '),
      'X-Auth-Expires': String(principal.expiresAt),
    });
    return sendJson(reply, 200, { active: true });
  };
  const methods: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  // `/o/auth/` itself (the URL proxies are configured with) and every path below it (ext_authz appends
  // the original path). With ignoreTrailingSlash, `/o/auth/` is routed as `/o/auth`, so both are needed.
  app.route({
    method: methods,
    url: '/auth/*',
    config: { challenge: 'bearer', swaggerTransform: gatewayDocumentation },
    schema: gatewaySchema,
    handler,
  });
  app.route({ method: methods, url: '/auth', config: { challenge: 'bearer' }, schema: { hide: true }, handler });
}

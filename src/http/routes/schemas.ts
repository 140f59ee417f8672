/**
 * The JSON Schemas the OpenAPI document (routes/openapi.ts) is generated from.
 *
 * They DOCUMENT the wire format; they never validate or serialize it. The core checks requests itself
 * (RFC 6749 §3.2: a repeated parameter is an error, an empty value counts as omitted, and the body
 * parser hands it [name, value] pairs, not an object), and every route sends a JSON string it built
 * itself, so the key order of a response is the route's, not a serializer's. See `documentOnly` below.
 */

/** Compilers that accept every request and leave every response alone: the schemas are documentation. */
export const documentOnly = {
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
} as const;

/** Shared schemas, registered with `app.addSchema` and named by `$id` in `components.schemas`. */
export const SHARED_SCHEMAS = [
  {
    $id: 'OAuthError',
    type: 'object',
    description:
      'RFC 6749 §5.2 (and RFC 6750 §3.1, RFC 7009 §2.2.1): every failure. The description never says which ' +
      'part of a credential was wrong.',
    properties: {
      error: {
        type: 'string',
        description: 'The RFC error code.',
        enum: [
          'invalid_request',
          'invalid_client',
          'invalid_grant',
          'unauthorized_client',
          'unsupported_grant_type',
          'invalid_scope',
          'invalid_token',
          'insufficient_scope',
          'server_error',
          'temporarily_unavailable',
        ],
      },
      error_description: { type: 'string', description: 'Human-readable text, safe to show.' },
    },
    required: ['error', 'error_description'],
    additionalProperties: false,
    example: { error: 'invalid_grant', error_description: 'Invalid credentials given.' },
  },
  {
    $id: 'TokenResponse',
    type: 'object',
    description: 'RFC 6749 §5.1: a successful token response. The keys are sent in this order.',
    properties: {
      access_token: { type: 'string', description: 'Opaque bearer token (44 URL-safe characters).' },
      expires_in: {
        type: 'integer',
        description: 'Lifetime of the access token in seconds (OAUTHD_ACCESS_TOKEN_TTL, default 3600). A JSON number.',
      },
      refresh_token: {
        type: 'string',
        description:
          'Single-use refresh token: every refresh returns a new one (RFC 9700 §4.14.2). Absent from the answer to ' +
          'grant_type=client_credentials (RFC 6749 §4.4.3).',
      },
      scope: { type: 'string', description: 'The granted scopes, space-separated (RFC 6749 §3.3).' },
      token_type: { type: 'string', enum: ['Bearer'], description: 'RFC 6750.' },
    },
    required: ['access_token', 'expires_in', 'scope', 'token_type'],
    additionalProperties: false,
    example: {
      access_token: 'Df0Z0r74hxZmO47mo9QnRrncVJIGU6',
      expires_in: 3600,
      refresh_token: 'Y23rwVNSRtLjhy2nIwslJdo3FbAS6d',
      scope: 'read write',
      token_type: 'Bearer',
    },
  },
  {
    $id: 'IntrospectionActive',
    type: 'object',
    description: 'RFC 7662 §2.2: a live token the caller may see.',
    properties: {
      active: { type: 'boolean', enum: [true] },
      scope: { type: 'string' },
      client_id: { type: 'string' },
      username: { type: 'string' },
      token_type: {
        type: 'string',
        enum: ['Bearer'],
        description: 'Access tokens only (a refresh token has no RFC 6749 §7.1 type).',
      },
      token_use: {
        type: 'string',
        enum: ['access_token', 'refresh_token'],
        description:
          'Which kind of token this is (as Ory Hydra answers). A resource server must accept only ' +
          '`access_token`: a refresh token is no bearer credential.',
      },
      exp: {
        type: 'integer',
        description: 'Seconds since the epoch. Absent for a refresh token that does not expire.',
      },
      iat: { type: 'integer', description: 'Seconds since the epoch.' },
      sub: { type: 'string', description: 'The user id, as a string.' },
    },
    required: ['active', 'scope', 'client_id', 'username', 'token_use', 'iat', 'sub'],
    additionalProperties: false,
  },
  {
    $id: 'IntrospectionInactive',
    type: 'object',
    description:
      'RFC 7662 §2.2: unknown, expired, revoked or used tokens, tokens of a disabled user, and tokens the ' +
      'caller may not see: exactly `{"active":false}`.',
    properties: { active: { type: 'boolean', enum: [false] } },
    required: ['active'],
    additionalProperties: false,
  },
  {
    $id: 'Principal',
    type: 'object',
    description: 'Who a valid bearer token speaks for.',
    properties: {
      sub: { type: 'string', description: 'The user id, as a string.' },
      username: { type: 'string' },
      client_id: { type: 'string' },
      scope: { type: 'string', description: 'Space-separated.' },
      iat: { type: 'integer', description: 'Issued at, seconds since the epoch.' },
      exp: { type: 'integer', description: 'Expires at, seconds since the epoch.' },
    },
    required: ['sub', 'username', 'client_id', 'scope', 'iat', 'exp'],
    additionalProperties: false,
  },
] as const;

const ref = (id: (typeof SHARED_SCHEMAS)[number]['$id']) => ({ $ref: `${id}#` });

/** `Cache-Control: no-store` and `Pragma: no-cache`, on every response under `/o/` (RFC 6749 §5.1). */
export const NO_STORE_HEADERS = {
  'Cache-Control': { type: 'string', enum: ['no-store'], description: 'RFC 6749 §5.1.' },
  Pragma: { type: 'string', enum: ['no-cache'], description: 'RFC 6749 §5.1.' },
} as const;

/** A response whose body is the shared schema `id`, with the no-store headers and any others. */
export const jsonResponse = (
  id: (typeof SHARED_SCHEMAS)[number]['$id'],
  description: string,
  headers: Record<string, { type: 'string'; description: string }> = {},
) => ({ description, headers: { ...NO_STORE_HEADERS, ...headers }, ...ref(id) });

/** A response whose body is one of several shared schemas. */
export const oneOfResponse = (ids: (typeof SHARED_SCHEMAS)[number]['$id'][], description: string) => ({
  description,
  headers: NO_STORE_HEADERS,
  oneOf: ids.map(ref),
});

export const error = (description: string, headers: Record<string, { type: 'string'; description: string }> = {}) =>
  jsonResponse('OAuthError', description, headers);

const header = (description: string) => ({ type: 'string', description }) as const;

export const WWW_AUTHENTICATE_BASIC = {
  'WWW-Authenticate': header('`Basic realm="{OAUTHD_REALM}"` (RFC 6749 §5.2, RFC 7235 §3.1).'),
};
export const WWW_AUTHENTICATE_BEARER = {
  'WWW-Authenticate': header(
    'RFC 6750 §3: `Bearer realm="…"`, with `error`, `error_description` (and `scope` for insufficient_scope) ' +
      'unless no credentials were sent at all (§3.1).',
  ),
};
export const RETRY_AFTER = { 'Retry-After': header('Seconds: `1`.') };

/** The failures every client-authenticated endpoint under `/o/` shares. */
export const clientAuthenticatedErrors = (methodAllowed: string) => ({
  401: error(
    'invalid_client: client authentication failed (unknown client, wrong or missing secret, malformed ' +
      'Authorization header), the same body whatever the cause (RFC 6749 §5.2).',
    WWW_AUTHENTICATE_BASIC,
  ),
  405: error(`Any method but ${methodAllowed}: invalid_request, with \`Allow: ${methodAllowed}\`.`, {
    Allow: header(methodAllowed),
  }),
  413: error('invalid_request: the body is larger than OAUTHD_MAX_BODY_BYTES (16 KiB by default).'),
  429: error(
    'slow_down (RFC 8628 §3.5): too many failed logins or client authentications from this IP (brute-force ' +
      'defence, RFC 6749 §4.3.2); the same answer whatever the credentials. Retry after `Retry-After` seconds.',
    { 'Retry-After': header('Seconds until the lockout or backoff ends.') },
  ),
  500: error('server_error: an unexpected failure (never a stack trace).'),
  503: error(
    'temporarily_unavailable: the store cannot serve now (database unreachable, locked, disk full), or too ' +
      'many password hashes are queued (OAUTHD_HASH_QUEUE_LIMIT); nothing was written.',
    RETRY_AFTER,
  ),
});

/** The body parameters of client authentication (RFC 6749 §2.3.1), for endpoints that accept them. */
export const CLIENT_CREDENTIAL_PARAMS = {
  client_id: {
    type: 'string',
    description:
      'RFC 6749 §2.3.1: the client id, when the client does not use HTTP Basic (or, for a public client, ' +
      'always). With Basic too, it must name the same client.',
  },
  client_secret: {
    type: 'string',
    description:
      'RFC 6749 §2.3.1: the client secret, with client_id in the body. With Basic too, it must be the same secret.',
  },
} as const;

/** The request bodies oauthd reads: form-encoded (RFC 6749 Appendix B) or a flat JSON object of strings. */
export const CONSUMES = ['application/x-www-form-urlencoded', 'application/json'] as const;

/** The note every body schema carries about the rules the core enforces (not the schema). */
export const BODY_RULES =
  'Each parameter at most once (a repeat is invalid_request, RFC 6749 §3.2); an empty value counts as omitted; ' +
  'unknown parameters are ignored; a JSON body must be a flat object of strings. Parameters in the URL query ' +
  'are refused with invalid_request (RFC 6749 §2.3.1).';

/** Security requirements (components.securitySchemes in routes/openapi.ts). */
export const CLIENT_AUTH_SECURITY = [{ client_secret_basic: [] }, {}] as const;
export const BEARER_SECURITY = [{ bearer: [] }] as const;

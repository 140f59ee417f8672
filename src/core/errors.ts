/**
 * The one error type of the protocol core.
 *
 * `code` is an RFC error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1), `description` is safe to
 * show to the client (it never says which part of a credential was wrong), and `detail` is for logs and
 * audit events only. Mapping codes to HTTP status codes is the HTTP adapter's job (http/error-handler.ts).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  /** RFC 8628 §3.5 (registered for the token endpoint): too many failed attempts; retry later. */
  | 'slow_down'
  /** RFC 6749 §4.1.2.1: the resource owner denied the request; RFC 8628 §3.5: the user denied the device. */
  | 'access_denied'
  /** RFC 6749 §4.1.2.1: the authorization endpoint does not support this response_type. */
  | 'unsupported_response_type'
  /** RFC 8628 §3.5: the user has not approved or denied the device yet. */
  | 'authorization_pending'
  /** RFC 8628 §3.5: the device code expired. */
  | 'expired_token';

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  /** Private: goes to logs only, never into a response body. Must not contain secrets. */
  readonly detail: string | undefined;
  /** For slow_down and temporarily_unavailable: when the client may try again (Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  /**
   * The HTTP status when it is not the code's usual one: RFC 8628 §3.5's polling slow_down is a 400, while the
   * brute-force slow_down is a 429. Undefined: the adapter's mapping of the code.
   */
  readonly status: number | undefined;

  constructor(code: OAuthErrorCode, description: string, detail?: string, retryAfterSeconds?: number, status?: number) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
    this.status = status;
  }
}

/** Brute-force defence: the subject is backing off or locked out. The same answer whatever the password. */
export const slowDown = (retryAfterSeconds: number, detail: string): OAuthError =>
  new OAuthError(
    'slow_down',
    `Too many failed attempts. Try again in ${retryAfterSeconds} ${retryAfterSeconds === 1 ? 'second' : 'seconds'}.`,
    detail,
    retryAfterSeconds,
  );

export const invalidRequest = (description: string, detail?: string): OAuthError =>
  new OAuthError('invalid_request', description, detail);

/** RFC 6749 §5.2: client authentication failed. One public text for every cause (no oracle). */
export const invalidClient = (detail: string): OAuthError =>
  new OAuthError('invalid_client', 'Client authentication failed.', detail);

export const invalidGrant = (description: string, detail?: string): OAuthError =>
  new OAuthError('invalid_grant', description, detail);

/** The spec's own failure body for the password grant, the same for every cause. */
export const invalidCredentials = (detail: string): OAuthError => invalidGrant('Invalid credentials given.', detail);

export const unauthorizedClient = (detail: string): OAuthError =>
  new OAuthError('unauthorized_client', 'The client is not authorized to use this grant type.', detail);

export const unsupportedGrantType = (detail: string): OAuthError =>
  new OAuthError('unsupported_grant_type', 'The authorization grant type is not supported.', detail);

export const invalidScope = (description: string, detail?: string): OAuthError =>
  new OAuthError('invalid_scope', description, detail);

export const invalidToken = (description: string, detail?: string): OAuthError =>
  new OAuthError('invalid_token', description, detail);

export const serverError = (detail: string): OAuthError =>
  new OAuthError('server_error', 'The server encountered an unexpected condition.', detail);

export const temporarilyUnavailable = (detail: string): OAuthError =>
  new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable. Try again shortly.', detail);

import type { BearerValidator } from './bearer.js';
import { OAuthError, invalidRequest } from './errors.js';
import type { Principal } from './types.js';

/** What a protected resource saw of the request, in plain values. */
export interface ResourceRequest {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The URL query's `access_token` parameter, if any: a string, or several when it was repeated. */
  queryToken: string | readonly string[] | undefined;
}

export interface ResourceOptions {
  /** Every one of these scopes is required (RFC 6750 §3.1 insufficient_scope otherwise). */
  scopes?: readonly string[];
  /**
   * Accept `?access_token=` (RFC 6750 §2.3). Off by default: RFC 9700 §2.5 says tokens in URLs leak
   * through logs, history and Referer headers.
   */
  allowQueryToken?: boolean;
}

/**
 * The outcome of guarding a protected resource (RFC 6750 §3):
 * - `ok`: the principal of a valid token holding every required scope;
 * - `missing`: no bearer credentials at all (a bare challenge, no error code, §3.1);
 * - `error`: invalid_request, invalid_token or insufficient_scope (with the scope required).
 */
export type ResourceDecision =
  | { kind: 'ok'; principal: Principal }
  | { kind: 'missing' }
  | { kind: 'error'; error: OAuthError; requiredScope?: string };

/** A parsed query's `access_token` (string, array when repeated, anything else) as a ResourceRequest wants it. */
export function queryTokenOf(value: unknown): string | string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  return String(value);
}

/** RFC 6750 §2.1: `Bearer <b64token>`; the scheme is case-insensitive (RFC 7235 §2.1). */
export function bearerTokenOf(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^bearer(?: +(.*))?$/i.exec(authorization.trim());
  return match ? (match[1] ?? '').trim() : null;
}

/** Decides one request to a protected resource: which token, is it valid, does it carry the scopes. */
export async function guardResource(
  request: ResourceRequest,
  verifier: BearerValidator,
  options: ResourceOptions = {},
): Promise<ResourceDecision> {
  const headerToken = bearerTokenOf(request.authorization);
  if (typeof request.queryToken === 'object') {
    // RFC 6750 §3.1 invalid_request: the request repeats the same parameter.
    return { kind: 'error', error: invalidRequest('Send the access token once.') };
  }
  const queryToken = request.queryToken;
  if (queryToken !== undefined) {
    // RFC 6750 §3.1 invalid_request: more than one method; RFC 9700 §2.5: no tokens in URLs.
    if (headerToken !== null) return { kind: 'error', error: invalidRequest('Send the access token one way only.') };
    if (!options.allowQueryToken) {
      return {
        kind: 'error',
        error: invalidRequest('Send the access token in the Authorization header, not in the URL.'),
      };
    }
  }
  const token = headerToken ?? queryToken ?? null;
  if (token === null) return { kind: 'missing' };
  let principal: Principal;
  try {
    principal = await verifier.validate(token);
  } catch (error) {
    if (error instanceof OAuthError) return { kind: 'error', error };
    throw error;
  }
  const required = options.scopes ?? [];
  const missing = required.filter((s) => !principal.scope.includes(s));
  if (missing.length > 0) {
    return {
      kind: 'error',
      error: new OAuthError('insufficient_scope', 'The access token does not carry the scope this resource requires.'),
      // RFC 6750 §3: the scope attribute lists the scope necessary to access the resource.
      requiredScope: required.join(' '),
    };
  }
  return { kind: 'ok', principal };
}

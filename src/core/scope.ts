import { invalidScope } from './errors.js';

/**
 * Scopes, RFC 6749 §3.3: a space-delimited list of case-sensitive strings, each made of
 * NQCHAR (%x21 / %x23-5B / %x5D-7E). A scope is a set; we keep a canonical order (the order of the
 * server's configured scopes) so responses are stable.
 */
export type Scope = readonly string[];

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/**
 * Parses a scope parameter. Returns null when it is not well formed (a token with characters outside
 * NQCHAR, or an empty list). Repeated scope tokens are folded: a scope is a set.
 */
export function parseScope(value: string): string[] | null {
  const parts = value.split(' ').filter((part) => part !== '');
  if (parts.length === 0 || !parts.every(isScopeToken)) return null;
  return [...new Set(parts)];
}

export function formatScope(scope: Scope): string {
  return scope.join(' ');
}

export function isSubset(inner: Scope, outer: Scope): boolean {
  const set = new Set(outer);
  return inner.every((s) => set.has(s));
}

/**
 * `wanted` ∩ `allowed` ∩ `known`, in the order of `known` (the server's configured scopes), so that
 * responses are stable and a scope the server no longer knows is never granted.
 */
export function intersect(wanted: Scope, allowed: Scope, known: Scope): string[] {
  const a = new Set(wanted);
  const b = new Set(allowed);
  return known.filter((s) => a.has(s) && b.has(s));
}

const INVALID_SCOPE = 'The requested scope is invalid, unknown, or malformed.';

/**
 * RFC 6749 §5.2 invalid_scope for a grant bound to a user when every scope asked for is an admin scope that user
 * may not hold (core/admin-scopes.ts scopeForUser).
 */
export const NO_SCOPE_FOR_USER = 'The requested scope is not available to this user.';

/**
 * The scope to grant for a new authorization (RFC 6749 §3.3). Every requested scope must be known to the
 * server and allowed for the client, else invalid_scope. No scope requested: the server's default scopes
 * that the client may have; when that leaves nothing, the request fails with invalid_scope as §3.3 allows.
 */
export function grantableScope(
  requested: string | undefined,
  clientScopes: Scope,
  knownScopes: Scope,
  defaultScopes: Scope,
): string[] {
  if (requested === undefined) {
    const scope = intersect(defaultScopes, clientScopes, knownScopes);
    if (scope.length === 0) throw invalidScope('No scope was requested and the client has no default scope.');
    return scope;
  }
  const wanted = parseScope(requested);
  if (wanted === null) throw invalidScope(INVALID_SCOPE, 'malformed scope');
  if (!isSubset(wanted, knownScopes) || !isSubset(wanted, clientScopes)) {
    throw invalidScope(INVALID_SCOPE, 'unknown scope or scope not allowed for client');
  }
  return intersect(wanted, clientScopes, knownScopes);
}

/**
 * The scope of an access token issued by a refresh (RFC 6749 §6): the requested scope MUST NOT include
 * any scope not originally granted; omitted, it is the original scope. Scopes the client has since lost,
 * or that the server no longer knows, are no longer granted.
 */
export function refreshedScope(
  requested: string | undefined,
  originalScope: Scope,
  clientScopes: Scope,
  knownScopes: Scope,
): string[] {
  let wanted: string[] = [...originalScope];
  if (requested !== undefined) {
    const parsed = parseScope(requested);
    if (parsed === null) throw invalidScope(INVALID_SCOPE, 'malformed scope');
    if (!isSubset(parsed, originalScope)) throw invalidScope(INVALID_SCOPE, 'refresh asked to widen the scope');
    wanted = parsed;
  }
  const scope = intersect(wanted, clientScopes, knownScopes);
  if (scope.length === 0) throw invalidScope(INVALID_SCOPE, 'no grantable scope left');
  return scope;
}

/**
 * The built-in scopes of the admin API (`/admin/v1/` on the admin listener). Known whatever OAUTHD_SCOPES says
 * (config/ adds them to the known scopes), never a default scope. A client gets them only when they are among
 * its own scopes (`oauthd client create --scopes oauthd:admin`); a token bound to a user carries them only
 * while that user is an admin (RFC 6749 §3.3 lets the server grant less than was asked).
 */
export const ADMIN_SCOPE = 'oauthd:admin';
/** Read-only: every GET of the admin API, nothing that changes anything. */
export const ADMIN_READ_SCOPE = 'oauthd:admin:read';
export const ADMIN_SCOPES: readonly string[] = [ADMIN_SCOPE, ADMIN_READ_SCOPE];

export const isAdminScope = (scope: string): boolean => ADMIN_SCOPES.includes(scope);

/**
 * The scope a grant bound to a user may carry: the admin scopes only for an admin user, the rest unchanged.
 * Callers answer invalid_scope when nothing is left (RFC 6749 §5.2).
 */
export function scopeForUser(scope: readonly string[], user: { isAdmin: boolean }): string[] {
  return user.isAdmin ? [...scope] : scope.filter((s) => !isAdminScope(s));
}

/**
 * The admin scopes a token holds now: those its client still holds (taking oauthd:admin from a client ends the
 * admin access of every token issued to it at once, not when they expire). The API and the console both ask.
 */
export function heldAdminScope(tokenScope: readonly string[], client: { scopes: readonly string[] } | null): string[] {
  return tokenScope.filter((s) => isAdminScope(s) && client?.scopes.includes(s) === true);
}

/** What a principal may do on the admin API: write (oauthd:admin), read (either scope), or nothing. */
export function adminAccess(scope: readonly string[]): 'write' | 'read' | null {
  if (scope.includes(ADMIN_SCOPE)) return 'write';
  if (scope.includes(ADMIN_READ_SCOPE)) return 'read';
  return null;
}

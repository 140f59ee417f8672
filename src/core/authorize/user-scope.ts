import { isAdminScope, scopeForUser } from '../admin-scopes.js';
import type { UserStore } from '../ports.js';
import type { SignedInUser } from './api.js';

/**
 * A scope as this signed-in user may grant it: the admin scopes only for an admin user (RFC 6749 §3.3: the
 * server may grant less than asked). The user is looked up only when an admin scope is asked for. The session
 * named the user a moment ago; a user renamed, replaced or disabled since is no admin of this request.
 */
export async function scopeOfUser(
  store: Pick<UserStore, 'findUserByUsername'>,
  scope: string[],
  user: SignedInUser,
): Promise<string[]> {
  if (!scope.some(isAdminScope)) return scope;
  const found = await store.findUserByUsername(user.username);
  const isAdmin = found !== null && found.id === user.userId && found.isActive && found.isAdmin;
  return scopeForUser(scope, { isAdmin });
}

import type {
  ClientPlan,
  GrantPlan,
  GrantState,
  GrantWrite,
  ImportGrant,
  ImportPlanner,
  ImportUser,
  RevocationPlan,
  StoredGrant,
  StoredGrantUse,
  StoredUser,
  UserPlan,
} from '../store/import-types.js';

/**
 * The import policy, written once for both backends. The rule for rows that already exist (a re-import,
 * e.g. the delta after the cut-over): a row oauthd has not touched since it was imported follows the
 * source; a row oauthd has touched is oauthd's. Concretely:
 * - a user's password hash is replaced only while it is not oauthd's own (`mayReplaceHash`); a user is
 *   disabled when the source disabled them, never re-enabled;
 * - a grant is updated or revoked only while none of its refresh tokens was rotated on oauthd and it was
 *   not revoked here; updates only revoke or swap the access token, they never bring a revoked token back;
 * - clients are never changed;
 * - a grant without a user (a client_credentials token, RFC 6749 §4.4) follows the same rules; it is never
 *   the same family as a grant with one.
 */
export const importPlanner: ImportPlanner = { planUser, planClient, planGrant, planRevocation };

export function planUser(user: ImportUser, current: StoredUser | null): UserPlan {
  if (current === null) {
    const result: UserPlan['result'] = { outcome: 'created', changes: [], staysDisabled: false };
    return { create: true, replaceHash: false, disable: false, result };
  }
  const replaceHash = current.passwordHash !== user.passwordHash && user.mayReplaceHash(current.passwordHash);
  const disable = !user.isActive && current.isActive;
  const changes: UserPlan['result']['changes'] = [];
  if (replaceHash) changes.push('password_hash');
  if (disable) changes.push('disabled');
  return {
    create: false,
    replaceHash,
    disable,
    result: {
      outcome: changes.length > 0 ? 'updated' : 'present',
      changes,
      staysDisabled: user.isActive && !current.isActive,
    },
  };
}

export function planClient(present: boolean): ClientPlan {
  return present ? { create: false, result: 'present' } : { create: true, result: 'created' };
}

export function planGrant(grant: ImportGrant, state: GrantState): GrantPlan {
  return state.existing === null ? planNewGrant(grant, state) : planStoredGrant(grant, state, state.existing);
}

/** Revoke a grant the source revoked or no longer has, unless oauthd used or revoked it since. */
export function planRevocation(grant: StoredGrantUse | null): RevocationPlan {
  return grant === null || touchedHere(grant) ? 'keep' : 'revoke';
}

const skipped = (reason: 'no_user' | 'no_client' | 'conflict'): GrantPlan => ({
  action: 'none',
  result: { outcome: 'skipped', reason },
});
const present: GrantPlan = { action: 'none', result: { outcome: 'present' } };

function planNewGrant(grant: ImportGrant, state: GrantState): GrantPlan {
  if (state.user === null) return skipped('no_user');
  // A grant to the client itself has no refresh token (RFC 6749 §4.4.3); one with a refresh token needs a user.
  if (grant.username === null && grant.refresh !== null) return skipped('no_user');
  if (!state.clientKnown) return skipped('no_client');
  // A token already in oauthd under another id: another database's family, never merged.
  if ((grant.access && state.access) || (grant.refresh && state.refresh)) return skipped('conflict');
  return { action: 'create', result: { outcome: 'created' } };
}

function planStoredGrant(grant: ImportGrant, state: GrantState, stored: StoredGrant): GrantPlan {
  // The id exists: it must be the same family (a re-import), not another database's token with that id.
  // Undefined (never equal to a stored id or to a user-less grant's null) while the user is not there.
  const userId = state.user === null || state.user === 'pending' ? undefined : state.user.id;
  if (stored.userId !== userId || stored.clientId !== grant.clientId) return skipped('conflict');
  if (!grant.refresh) return grant.access && state.access?.grantId === grant.id ? present : skipped('conflict');
  if (state.refresh?.grantId !== grant.id) return skipped('conflict');
  if (touchedHere(stored)) return present;

  // The source's access token for this refresh token changed (revoked alone, or reissued in place):
  // revoke the old one here, add the new one.
  const desired = grant.access;
  if (desired && state.access && state.access.grantId !== grant.id) return skipped('conflict');
  const stale = stored.liveAccessTokens.filter((hash) => !desired || !hash.equals(desired.hash));
  const add = desired !== null && state.access === null;
  const relink = desired !== null && !(state.refresh.accessTokenHash?.equals(desired.hash) ?? false);
  if (stale.length === 0 && !add && !relink) return present;

  // The refresh token first, then the access tokens: the store's lock order (a rotation locks its refresh
  // token, then revokes the access token), so PostgreSQL never deadlocks an import against a rotation.
  const writes: GrantWrite[] = [];
  if (relink) writes.push({ kind: 'relink_refresh', refreshHash: grant.refresh.hash, accessHash: desired.hash });
  if (stale.length > 0) writes.push({ kind: 'revoke_access', hashes: stale });
  if (add) writes.push({ kind: 'add_access', token: desired });
  const result = { outcome: 'updated', accessRevoked: stale.length > 0, accessAdded: add } as const;
  return { action: 'update', writes, result };
}

/** Refreshed or revoked on oauthd since the import: oauthd's state wins. */
function touchedHere(grant: StoredGrantUse): boolean {
  return grant.revoked || grant.rotatedHere;
}

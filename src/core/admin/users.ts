import type { ListQuery, UserChanges } from '../ports.js';
import type { User } from '../types.js';
import type { AdminContext } from './context.js';
import { type IfVersion, type Page, pageOf } from './paging.js';
import { AdminError, noUser, versionMismatch } from './validation.js';

/** What `updateUser` may change (`oauthd user rename|disable|enable|update`, the admin API's PATCH). */
export type UpdateUserInput = UserChanges;

/** A change read-then-written may meet another one in between: tried again this many times before giving up. */
const UPDATE_TRIES = 3;

export function userActions(context: AdminContext) {
  const { store, deps, audit, userId, requireUser, checkPassword, now } = context;
  return {
    /** `isAdmin`: the user may hold the admin scopes and sign in to the console. */
    createUser: (username: string, password: string, options: { isAdmin?: boolean } = {}): Promise<User> =>
      createUser(context, username, password, options.isAdmin === true),

    async setPassword(username: string, password: string, options: { revokeTokens: boolean }): Promise<void> {
      checkPassword(password);
      const hash = await deps.passwordHasher.hash(password);
      const done = await store.setUserPassword(username, hash, { revokeGrants: options.revokeTokens, now: now() });
      if (!done) throw noUser(username);
      audit('user.password_changed', {
        user_id: await userId(username),
        username,
        tokens_revoked: options.revokeTokens,
        sign_in_sessions_ended: options.revokeTokens,
      });
    },

    /**
     * Renames, enables or disables, and grants or takes the admin flag, in one transaction; each field that
     * changes is its own audit event (user.renamed, user.disabled or user.enabled, user.admin_granted or
     * user.admin_revoked), the same whichever surface asked. Disabling refuses further logins, revokes every
     * token the user holds and ends its sign-in sessions; a renamed user's tokens keep working (they name the
     * user by id). Taking the admin flag revokes the user's grants that carry an admin scope (a refresh would
     * otherwise keep the scope, RFC 6749 §6), each a `grant.revoked` event `via: admin_revoked`.
     */
    updateUser: (username: string, input: UpdateUserInput, options: IfVersion = {}) =>
      updateUser(context, username, input, options),

    /** Disabling refuses further logins, revokes every token the user holds and ends its sign-in sessions. */
    async setUserActive(username: string, isActive: boolean): Promise<void> {
      await updateUser(context, username, { isActive }, {});
    },

    listUsers: () => store.listUsers(),

    /** One page by username (at most `limit`, after the `after` cursor, matching `search`); `next` when more. */
    listUsersPage: (query: ListQuery): Promise<Page<User>> =>
      pageOf(
        query,
        (q) => store.listUsers(q),
        (u) => u.username,
      ),

    /** A user and how many live grants (sessions) it holds. */
    async showUser(username: string): Promise<{ user: User; liveSessions: number }> {
      const user = await requireUser(username);
      return { user, liveSessions: (await store.listUserGrants(user.id, now())).length };
    },

    /** Deletes the user with every grant and token; their tokens stop working at once. */
    async deleteUser(username: string, options: IfVersion = {}): Promise<{ user: User; liveGrants: number }> {
      await refuseLastAdmin(context, await context.requireUser(username), 'deleted');
      const only = options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {};
      const deleted = await store.deleteUser(username, now(), only);
      if (deleted === 'version_mismatch') throw versionMismatch('user');
      if (!deleted) throw noUser(username);
      audit('user.deleted', { user_id: deleted.user.id, username, grants_deleted: deleted.liveGrants });
      return deleted;
    },

    /** Renames a user; its tokens keep working (they name the user by id; introspection then shows the new name). */
    renameUser: (username: string, newUsername: string): Promise<User> =>
      updateUser(context, username, { username: newUsername }, {}),
  };
}

async function createUser(context: AdminContext, username: string, password: string, isAdmin: boolean) {
  const { store, now } = context;
  context.checkUsername(username);
  context.checkPassword(password);
  const passwordHash = await context.deps.passwordHasher.hash(password);
  const created = await store.createUser({ username, passwordHash, isActive: true, isAdmin, createdAt: now() });
  if (created === 'exists') {
    throw new AdminError(`a user named ${JSON.stringify(username)} already exists`, {
      code: 'exists',
      field: 'username',
    });
  }
  const user = await store.findUserByUsername(username);
  if (!user) throw new AdminError('the user vanished right after it was created');
  context.audit('user.created', { user_id: user.id, username: user.username, is_admin: user.isAdmin });
  return user;
}

/** The fields of `input` that differ from the user as it is. */
function changesOf(user: User, input: UpdateUserInput): UserChanges {
  const changes: UserChanges = {};
  if (input.username !== undefined && input.username !== user.username) changes.username = input.username;
  if (input.isActive !== undefined && input.isActive !== user.isActive) changes.isActive = input.isActive;
  if (input.isAdmin !== undefined && input.isAdmin !== user.isAdmin) changes.isAdmin = input.isAdmin;
  return changes;
}

async function updateUser(
  context: AdminContext,
  username: string,
  input: UpdateUserInput,
  options: IfVersion,
): Promise<User> {
  if (input.username === undefined && input.isActive === undefined && input.isAdmin === undefined) {
    throw new AdminError('nothing to change: give a new username, an active state or the admin flag');
  }
  if (input.username !== undefined) context.checkUsername(input.username);
  for (let attempt = 1; ; attempt++) {
    const current = await context.requireUser(username);
    if (options.ifVersion !== undefined && options.ifVersion !== current.version) throw versionMismatch('user');
    const changes = changesOf(current, input);
    // Already as asked: nothing is written, nothing audited.
    if (Object.keys(changes).length === 0) return current;
    if (changes.isActive === false) await refuseLastAdmin(context, current, 'disabled');
    if (changes.isAdmin === false) await refuseLastAdmin(context, current, 'made an ordinary user');
    // Written only over the version just read, so the events below describe exactly what changed.
    const result = await context.store.updateUser(username, changes, {
      now: context.now(),
      ifVersion: current.version,
    });
    if (result.status === 'updated') {
      auditUserChanges(context, current, result.user, changes);
      for (const grantId of result.revokedGrants ?? []) {
        const who = { user_id: result.user.id, username: result.user.username };
        context.audit('grant.revoked', { ...who, grant_id: grantId, via: 'admin_revoked' });
      }
      return result.user;
    }
    if (result.status === 'exists') {
      throw new AdminError(`a user named ${JSON.stringify(input.username)} already exists`, {
        code: 'exists',
        field: 'username',
      });
    }
    if (result.status === 'not_found') throw noUser(username);
    // Another change came in between: the caller's version is stale, or (without one) read again.
    if (options.ifVersion !== undefined || attempt >= UPDATE_TRIES) throw versionMismatch('user');
  }
}

/**
 * The last active admin user cannot be disabled, demoted or deleted: nobody could sign in to the console any more,
 * and the way back (`oauthd admin bootstrap --promote`, `oauthd user enable`) would need a shell on the database
 * host. Another admin is made first. (Two admins removing each other at the same instant could both pass: a rare
 * race with the same way back.)
 */
async function refuseLastAdmin(context: AdminContext, user: User, what: string): Promise<void> {
  if (!user.isAdmin || !user.isActive) return;
  const others = (await context.store.listUsers()).filter((u) => u.isAdmin && u.isActive && u.id !== user.id);
  if (others.length > 0) return;
  throw new AdminError(
    `${JSON.stringify(user.username)} is the last active admin and cannot be ${what}: make another admin first ` +
      '(`oauthd user update <username> --admin`)',
    { code: 'forbidden' },
  );
}

function auditUserChanges(context: AdminContext, before: User, after: User, changes: UserChanges): void {
  const who = { user_id: after.id, username: after.username };
  if (changes.username !== undefined) context.audit('user.renamed', { ...who, previous_username: before.username });
  if (changes.isActive === false) {
    // The store revoked every token of the user and ended its sign-in sessions in the same transaction.
    context.audit('user.disabled', { ...who, tokens_revoked: true, sign_in_sessions_ended: true });
  }
  if (changes.isActive === true) context.audit('user.enabled', who);
  if (changes.isAdmin !== undefined) context.audit(changes.isAdmin ? 'user.admin_granted' : 'user.admin_revoked', who);
}

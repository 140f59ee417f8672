import type { User } from '../types.js';
import type { AdminContext } from './context.js';
import { AdminError } from './validation.js';

export function userActions(context: AdminContext) {
  const { store, deps, audit, userId, requireUser, checkUsername, checkPassword, now } = context;
  return {
    async createUser(username: string, password: string): Promise<User> {
      checkUsername(username);
      checkPassword(password);
      const passwordHash = await deps.passwordHasher.hash(password);
      if ((await store.createUser({ username, passwordHash, isActive: true, createdAt: now() })) === 'exists') {
        throw new AdminError(`a user named ${JSON.stringify(username)} already exists`);
      }
      const user = await store.findUserByUsername(username);
      if (!user) throw new AdminError('the user vanished right after it was created');
      audit('user.created', { user_id: user.id, username: user.username });
      return user;
    },

    async setPassword(username: string, password: string, options: { revokeTokens: boolean }): Promise<void> {
      checkPassword(password);
      const hash = await deps.passwordHasher.hash(password);
      const done = await store.setUserPassword(username, hash, { revokeGrants: options.revokeTokens, now: now() });
      if (!done) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      audit('user.password_changed', {
        user_id: await userId(username),
        username,
        tokens_revoked: options.revokeTokens,
        sign_in_sessions_ended: options.revokeTokens,
      });
    },

    /** Disabling refuses further logins, revokes every token the user holds and ends its sign-in sessions. */
    async setUserActive(username: string, isActive: boolean): Promise<void> {
      if (!(await store.setUserActive(username, isActive, now()))) {
        throw new AdminError(`no user named ${JSON.stringify(username)}`);
      }
      // Disabling revokes every token of the user and ends its sign-in sessions (the store, in one transaction).
      audit(isActive ? 'user.enabled' : 'user.disabled', {
        user_id: await userId(username),
        username,
        ...(isActive ? {} : { tokens_revoked: true, sign_in_sessions_ended: true }),
      });
    },

    listUsers: () => store.listUsers(),

    /** A user and how many live grants (sessions) it holds. */
    async showUser(username: string): Promise<{ user: User; liveSessions: number }> {
      const user = await requireUser(username);
      return { user, liveSessions: (await store.listUserGrants(user.id, now())).length };
    },

    /** Deletes the user with every grant and token; their tokens stop working at once. */
    async deleteUser(username: string): Promise<{ user: User; liveGrants: number }> {
      const deleted = await store.deleteUser(username, now());
      if (!deleted) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      audit('user.deleted', { user_id: deleted.user.id, username, grants_deleted: deleted.liveGrants });
      return deleted;
    },

    /** Renames a user; its tokens keep working (they name the user by id; introspection then shows the new name). */
    async renameUser(username: string, newUsername: string): Promise<User> {
      checkUsername(newUsername);
      const result = await store.renameUser(username, newUsername, now());
      if (result === 'not_found') throw new AdminError(`no user named ${JSON.stringify(username)}`);
      if (result === 'exists') throw new AdminError(`a user named ${JSON.stringify(newUsername)} already exists`);
      const user = await requireUser(newUsername);
      audit('user.renamed', { user_id: user.id, username: newUsername, previous_username: username });
      return user;
    },
  };
}

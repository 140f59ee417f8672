import type { User, UserGrant } from '../types.js';
import type { AdminContext } from './context.js';

/** A user's sessions: its live grants. */
export function sessionActions(context: AdminContext) {
  const { store, audit, requireUser, requireClient, now } = context;
  return {
    /** The user's live grants, oldest first. */
    async userSessions(username: string): Promise<{ user: User; grants: UserGrant[] }> {
      const user = await requireUser(username);
      return { user, grants: await store.listUserGrants(user.id, now()) };
    },

    /** Revokes the user's live grants (of one client when given); each is a `grant.revoked` event. */
    async revokeUserSessions(username: string, options: { clientId?: string | undefined } = {}): Promise<string[]> {
      const user = await requireUser(username);
      if (options.clientId !== undefined) await requireClient(options.clientId);
      const at = now();
      const grants = new Map((await store.listUserGrants(user.id, at)).map((g) => [g.grantId, g.clientId]));
      const only = options.clientId !== undefined ? { clientId: options.clientId } : {};
      const revoked = await store.revokeUserGrants(user.id, { now: at, ...only });
      for (const grantId of revoked) {
        audit('grant.revoked', {
          client_id: grants.get(grantId) ?? options.clientId ?? null,
          user_id: user.id,
          username: user.username,
          grant_id: grantId,
          via: 'admin',
        });
      }
      return revoked;
    },
  };
}

import type { Consent, ListedBrowserSession } from '../authorization-ports.js';
import type { User, UserGrant } from '../types.js';
import type { AdminContext } from './context.js';
import { AdminError } from './validation.js';

/** Everything a user holds: live grants (one per login), sign-in sessions and remembered consents. */
export interface UserSessions {
  user: User;
  grants: UserGrant[];
  browserSessions: ListedBrowserSession[];
  consents: Consent[];
}

/** What `revokeUserSessions` ended. */
export interface RevokedSessions {
  /** Ids of the grants revoked. */
  grants: string[];
  /** The clients whose remembered consent was forgotten. */
  consents: string[];
  /** Sign-in sessions ended (only when every client's were revoked). */
  browserSessions: number;
}

/** A user's sessions: live grants, sign-in sessions of the login page and remembered consents. */
export function sessionActions(context: AdminContext) {
  const { store, audit, requireUser, requireClient, now } = context;
  return {
    /** The user's live grants, oldest first, with its live sign-in sessions and its consents. */
    async userSessions(username: string): Promise<UserSessions> {
      const user = await requireUser(username);
      const at = now();
      const [grants, browserSessions, consents] = await Promise.all([
        store.listUserGrants(user.id, at),
        store.listUserBrowserSessions(user.id, at),
        store.listUserConsents(user.id),
      ]);
      return { user, grants, browserSessions, consents };
    },

    /**
     * Revokes one live grant of the user (its refresh and access tokens stop working at once); a grant that is
     * not the user's, or no longer live, is not found. A `grant.revoked` event, as `revokeUserSessions` writes.
     */
    async revokeUserGrant(username: string, grantId: string): Promise<UserGrant> {
      const user = await requireUser(username);
      const at = now();
      const grant = (await store.listUserGrants(user.id, at)).find((g) => g.grantId === grantId);
      if (!grant) {
        throw new AdminError(`${JSON.stringify(username)} holds no live grant with id ${JSON.stringify(grantId)}`, {
          code: 'not_found',
        });
      }
      await store.revokeGrant(grantId, at);
      audit('grant.revoked', {
        client_id: grant.clientId,
        user_id: user.id,
        username: user.username,
        grant_id: grantId,
        via: 'admin',
      });
      return grant;
    },

    /**
     * Revokes the user's live grants and forgets its consents (of one client when given); without a client,
     * also ends its sign-in sessions, so the next authorization request asks for the password and for consent
     * again. Each grant is a `grant.revoked` event, each client's consent a `consent.revoked` event.
     */
    async revokeUserSessions(
      username: string,
      options: { clientId?: string | undefined } = {},
    ): Promise<RevokedSessions> {
      const user = await requireUser(username);
      if (options.clientId !== undefined) await requireClient(options.clientId);
      const at = now();
      const who = { user_id: user.id, username: user.username };
      const grants = new Map((await store.listUserGrants(user.id, at)).map((g) => [g.grantId, g.clientId]));
      const only = options.clientId !== undefined ? { clientId: options.clientId } : {};
      const revoked = await store.revokeUserGrants(user.id, { now: at, ...only });
      for (const grantId of revoked) {
        const clientId = grants.get(grantId) ?? options.clientId ?? null;
        audit('grant.revoked', { client_id: clientId, ...who, grant_id: grantId, via: 'admin' });
      }
      const consents = await store.revokeUserConsents(user.id, only);
      for (const clientId of consents) audit('consent.revoked', { client_id: clientId, ...who, via: 'admin' });
      // A sign-in session is not bound to a client: only revoking everything ends them.
      const browserSessions = options.clientId === undefined ? await store.endUserBrowserSessions(user.id, at) : 0;
      if (browserSessions > 0) audit('session.ended', { ...who, sessions: browserSessions, via: 'admin' });
      return { grants: revoked, consents, browserSessions };
    },
  };
}

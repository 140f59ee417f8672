import { invalidGrant } from '../errors.js';
import { required } from '../params.js';
import { refreshedScope } from '../scope.js';
import { hashToken } from '../tokens.js';
import type { GrantDeps, GrantHandler } from './grant.js';
import { mintPair } from './issue.js';

const INVALID_REFRESH = 'The refresh token is invalid, expired, revoked or was already used.';

/**
 * The refresh token grant, RFC 6749 §6, with rotation: every success returns a new refresh token, the
 * presented one becomes used, and the access token issued with it is revoked.
 *
 * Reuse (RFC 9700 §4.14.2): presenting a refresh token that was already exchanged means that either the
 * client or an attacker holds a stale copy; the server cannot tell which, so the whole grant family is
 * revoked and both must authenticate again.
 *
 * Race: N concurrent requests with one live refresh token reach `rotateRefreshToken`, a single
 * conditional update. Exactly one wins and gets the new pair. Every loser finds the token used, which
 * is reuse: it revokes the family (the winner's new pair included) and gets invalid_grant.
 */
export function createRefreshTokenGrant(deps: GrantDeps): GrantHandler {
  const { store, clock, events, policy } = deps;
  return {
    grantType: 'refresh_token',
    async handle({ client, params }) {
      const presented = required(params, 'refresh_token');
      const presentedHash = hashToken(presented);
      const record = await store.findRefreshToken(presentedHash);
      const now = clock.now();

      if (!record) throw invalidGrant(INVALID_REFRESH, 'unknown refresh token');
      // RFC 6749 §6 and §10.4: a refresh token is bound to the client it was issued to.
      if (record.clientId !== client.clientId) throw invalidGrant(INVALID_REFRESH, 'refresh token of another client');
      if (record.revokedAt !== null) throw invalidGrant(INVALID_REFRESH, 'revoked refresh token');
      if (record.usedAt !== null) return reuse(record.grantId);
      if (record.expiresAt !== null && record.expiresAt <= now) throw invalidGrant(INVALID_REFRESH, 'expired refresh token');
      if (!record.userIsActive) throw invalidGrant(INVALID_REFRESH, 'user disabled');

      const accessScope = refreshedScope(params.get('scope'), record.scope, client.scopes, policy.knownScopes);
      // RFC 6749 §6: the new refresh token's scope MUST be identical to the presented one's.
      const pair = mintPair(policy, now, accessScope, record.scope);
      const result = await store.rotateRefreshToken({
        presentedHash,
        grantId: record.grantId,
        access: pair.access,
        refresh: pair.refresh,
        now,
      });
      switch (result) {
        case 'rotated':
          events.emit('refresh_token.rotated', { client_id: client.clientId, user_id: record.userId, grant_id: record.grantId });
          return pair.response;
        case 'already_used':
          // Lost the race to a concurrent exchange of the same token: reuse, see above.
          return reuse(record.grantId);
        case 'revoked':
        case 'not_found':
          throw invalidGrant(INVALID_REFRESH, `refresh token ${result} during rotation`);
      }

      async function reuse(grantId: string): Promise<never> {
        await store.revokeGrant(grantId, now);
        events.emit('refresh_token.reused', { client_id: client.clientId, grant_id: grantId });
        throw invalidGrant(INVALID_REFRESH, 'refresh token reuse: grant revoked');
      }
    },
  };
}

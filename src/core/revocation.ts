import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from './client-auth.js';
import { OAuthError } from './errors.js';
import type { TokenStore } from './ports.js';
import { required, singleValued, type ParamPairs } from './params.js';
import { tokenKey } from './tokens.js';

export interface RevocationRequest {
  params: ParamPairs;
  basic: PresentedCredentials['basic'];
  clientIp: string;
}

export interface RevocationEndpoint {
  /** Resolves when the token is revoked or there was nothing to revoke; rejects with an OAuthError. */
  revoke(request: RevocationRequest): Promise<void>;
}

/** Client authentication, the two token lookups, and revoking a grant. */
export type RevocationDeps = ClientAuthDeps & {
  store: Pick<TokenStore, 'findAccessToken' | 'findRefreshToken' | 'revokeGrant'>;
};

/**
 * Token revocation, RFC 7009.
 *
 * - §2.1: the client authenticates as at the token endpoint; `token` is required, `token_type_hint`
 *   only orders the lookup (an unknown hint is ignored, and the other type is searched too).
 * - Revoking a refresh token revokes its grant (RFC 7009 §2.1: "SHOULD also invalidate all access tokens
 *   based on the same authorization grant"); revoking an access token revokes its grant too, so the refresh
 *   token issued with it dies with it (§2.1 "MAY").
 * - §2.1: a token issued to another client is refused (400 unauthorized_client); nothing changes.
 * - §2.2: an unknown, expired-and-dead, used or already revoked token answers 200 and changes nothing.
 */
export function createRevocationEndpoint(deps: RevocationDeps): RevocationEndpoint {
  const { store, clock, events } = deps;
  return {
    async revoke({ params: pairs, basic, clientIp }) {
      const params = singleValued(pairs);
      const client = await authenticateClient(
        { basic, bodyClientId: params.get('client_id'), bodyClientSecret: params.get('client_secret') },
        deps,
        clientIp,
      );
      const token = required(params, 'token', 'Missing token parameter.'); // oauthlib's wording
      const hash = tokenKey(token);
      const refreshFirst = params.get('token_type_hint') === 'refresh_token';

      const findAccess = async () => {
        const record = await store.findAccessToken(hash);
        return (
          record && {
            grantId: record.grantId,
            clientId: record.clientId,
            userId: record.userId,
            username: record.username,
            dead: record.revokedAt !== null,
            kind: 'access_token',
          }
        );
      };
      const findRefresh = async () => {
        const record = await store.findRefreshToken(hash);
        return (
          record && {
            grantId: record.grantId,
            clientId: record.clientId,
            userId: record.userId,
            username: record.username,
            dead: record.revokedAt !== null || record.usedAt !== null,
            kind: 'refresh_token',
          }
        );
      };
      const found = refreshFirst
        ? ((await findRefresh()) ?? (await findAccess()))
        : ((await findAccess()) ?? (await findRefresh()));

      if (!found) return;
      if (found.clientId !== client.clientId) {
        throw new OAuthError(
          'unauthorized_client',
          'The token was not issued to this client.',
          "revocation of another client's token",
        );
      }
      if (found.dead) return;
      await store.revokeGrant(found.grantId, clock.now());
      events.emit('grant.revoked', {
        client_id: client.clientId,
        user_id: found.userId,
        username: found.username,
        grant_id: found.grantId,
        via: found.kind,
        ip: clientIp,
      });
    },
  };
}

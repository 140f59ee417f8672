import { newGrantId } from '../ids.js';
import { epochSeconds } from '../ports.js';
import type { Clock, EventSink, TokenStore } from '../ports.js';
import { effectivePolicy, type ServerTokenPolicy } from '../policy.js';
import { invalidClient, unauthorizedClient } from '../errors.js';
import { grantableScope } from '../scope.js';
import type { GrantHandler } from './grant.js';
import { mintAccessToken } from './mint-pair.js';

/** What the client credentials grant writes. */
export type ClientCredentialsGrantStore = Pick<TokenStore, 'issueTokens'>;

export interface ClientCredentialsGrantDeps {
  store: ClientCredentialsGrantStore;
  clock: Clock;
  events: EventSink;
  policy: ServerTokenPolicy;
}

/**
 * The client credentials grant, RFC 6749 §4.4: the client asks for a token for itself, on the strength of its
 * own authentication alone (done by the token endpoint, with the client-secret brute-force limits of
 * core/client-auth.ts). The grant has no user, and the answer no refresh token (§4.4.3).
 */
export function createClientCredentialsGrant(deps: ClientCredentialsGrantDeps): GrantHandler {
  const { store, clock, events, policy } = deps;
  return {
    grantType: 'client_credentials',
    async handle({ client, params, clientIp }) {
      // RFC 6749 §4.4: "MUST only be used by confidential clients"; a public client proved nothing but its id.
      // §5.2 unauthorized_client: the authenticated client is not authorized to use this grant type.
      if (client.isPublic) throw unauthorizedClient('public client asked for client_credentials');
      // RFC 6749 §4.4.2: scope OPTIONAL; §3.3 as for the password grant: requested ⊆ allowed, else the
      // client's default scopes (or the server's) ∩ its allowed scopes.
      const scope = grantableScope(
        params.get('scope'),
        client.scopes,
        policy.knownScopes,
        client.defaultScopes ?? policy.defaultScopes,
      );
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);
      // The client's own access-token lifetime when it has one (`oauthd client update --access-token-ttl`).
      const minted = mintAccessToken(effectivePolicy(client, policy), nowMs, scope);
      const grantId = newGrantId(nowMs);
      const issued = await store.issueTokens({
        grant: {
          id: grantId,
          clientId: client.clientId,
          userId: null,
          grantType: 'client_credentials',
          scope,
          createdAt: now,
        },
        access: minted.access,
        refresh: null,
      });
      // RFC 6749 §5.2: the client no longer exists, so it is not authenticated (not a server error).
      if (issued === 'client_gone') throw invalidClient('client deleted while the request was served');
      events.emit('token.issued', {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        grant_id: grantId,
        ip: clientIp,
        scope: scope.join(' '),
      });
      return minted.response;
    },
  };
}

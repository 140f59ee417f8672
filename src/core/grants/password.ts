import { newGrantId } from '../ids.js';
import { epochSeconds } from '../ports.js';
import type { TokenStore } from '../ports.js';
import { effectivePolicy, refreshExpiry, type ServerTokenPolicy } from '../policy.js';
import { scopeForUser } from '../admin-scopes.js';
import { invalidClient, invalidCredentials, invalidScope, slowDown } from '../errors.js';
import { required } from '../params.js';
import { checkPassword, type PasswordCheckDeps, type PasswordCheckStore } from '../password-check.js';
import { grantableScope, NO_SCOPE_FOR_USER } from '../scope.js';
import type { GrantHandler } from './grant.js';
import { mintPair } from './mint-pair.js';

/** What the password grant reads and writes. */
export type PasswordGrantStore = PasswordCheckStore & Pick<TokenStore, 'issueTokens'>;

export interface PasswordGrantDeps extends PasswordCheckDeps {
  store: PasswordGrantStore;
  policy: ServerTokenPolicy;
}

/**
 * The resource owner password credentials grant, RFC 6749 §4.3.
 *
 * A wrong password, an unknown user, a user without a usable password and a disabled user all get the
 * same invalid_grant body, and each costs one full password verification (the hasher verifies a dummy
 * hash when there is no real one), so neither the body nor the timing tells them apart.
 */
export function createPasswordGrant(deps: PasswordGrantDeps): GrantHandler {
  const { store, clock, events, policy } = deps;
  return {
    grantType: 'password',
    async handle({ client, params, clientIp }) {
      // RFC 6749 §4.3.2: username and password are REQUIRED, scope OPTIONAL.
      const username = required(params, 'username');
      const password = required(params, 'password');
      // RFC 6749 §3.3: no scope requested → the client's own default scopes when it has some (`oauthd client
      // update --default-scopes`), else the server's (OAUTHD_DEFAULT_SCOPES); either way ∩ the client's scopes.
      const asked = grantableScope(
        params.get('scope'),
        client.scopes,
        policy.knownScopes,
        client.defaultScopes ?? policy.defaultScopes,
      );

      // RFC 6749 §4.3.2: MUST protect against brute force (core/password-check.ts, shared with the login page).
      const checked = await checkPassword(deps, { username, password, ip: clientIp }, { client_id: client.clientId });
      if (!checked.ok) {
        if (checked.reason === 'throttled') throw slowDown(checked.retryAfterSeconds, 'login throttled');
        throw invalidCredentials(checked.detail);
      }
      const { user } = checked;
      // The admin scopes only for an admin user (RFC 6749 §3.3: the server may grant less than asked, and says
      // so in `scope`); nothing left is invalid_scope (§5.2). Judged once the password is right: no oracle.
      const scope = scopeForUser(asked, user);
      if (scope.length === 0) throw invalidScope(NO_SCOPE_FOR_USER, 'admin scope asked for a user not an admin');
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);

      // The client's own lifetimes (`oauthd client update --access-token-ttl …`), the server's otherwise.
      const effective = effectivePolicy(client, policy);
      const pair = mintPair(effective, nowMs, scope, scope, refreshExpiry(effective, now, now));
      const grantId = newGrantId(nowMs);
      const issued = await store.issueTokens({
        grant: { id: grantId, clientId: client.clientId, userId: user.id, scope, createdAt: now },
        access: pair.access,
        refresh: pair.refresh,
      });
      // RFC 6749 §5.2: the client no longer exists, so it is not authenticated (not a server error).
      if (issued === 'client_gone') throw invalidClient('client deleted while the request was served');
      events.emit('token.issued', {
        grant_type: 'password',
        client_id: client.clientId,
        user_id: user.id,
        username: user.username,
        grant_id: grantId,
        ip: clientIp,
        scope: scope.join(' '),
      });
      return pair.response;
    },
  };
}

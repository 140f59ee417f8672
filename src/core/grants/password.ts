import { newGrantId } from '../ids.js';
import { epochSeconds } from '../ports.js';
import type { Clock, EventSink, LoginThrottle, PasswordHasher, TokenStore, UserStore } from '../ports.js';
import { effectivePolicy, refreshExpiry, type ServerTokenPolicy } from '../policy.js';
import { invalidClient, invalidCredentials, slowDown } from '../errors.js';
import { required } from '../params.js';
import { recordLockouts, type LockoutRecorder } from '../lockouts.js';
import { grantableScope } from '../scope.js';
import type { User } from '../types.js';
import type { GrantHandler } from './grant.js';
import { mintPair } from './mint-pair.js';

/** What the password grant reads and writes. */
export type PasswordGrantStore = Pick<UserStore, 'findUserByUsername' | 'replacePasswordHash'> &
  Pick<TokenStore, 'issueTokens'> &
  LockoutRecorder;

export interface PasswordGrantDeps {
  store: PasswordGrantStore;
  clock: Clock;
  passwordHasher: PasswordHasher;
  events: EventSink;
  throttle: LoginThrottle;
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
  const { store, clock, passwordHasher, events, throttle, policy } = deps;
  return {
    grantType: 'password',
    async handle({ client, params, clientIp }) {
      // RFC 6749 §4.3.2: username and password are REQUIRED, scope OPTIONAL.
      const username = required(params, 'username');
      const password = required(params, 'password');
      // RFC 6749 §3.3: no scope requested → the client's own default scopes when it has some (`oauthd client
      // update --default-scopes`), else the server's (OAUTHD_DEFAULT_SCOPES); either way ∩ the client's scopes.
      const scope = grantableScope(
        params.get('scope'),
        client.scopes,
        policy.knownScopes,
        client.defaultScopes ?? policy.defaultScopes,
      );

      // RFC 6749 §4.3.2: MUST protect against brute force. The attempt is counted before the password is
      // checked (a burst cannot pass the check before its first failure is counted), and a locked subject
      // is refused before the password is checked, so even the right password gets the same 429 (no oracle).
      const decision = await throttle.reserve({ ip: clientIp, username });
      if (!decision.allowed) throw slowDown(decision.retryAfterSeconds, 'login throttled');

      let user: User | null;
      let verified: { ok: boolean; needsRehash: boolean };
      try {
        user = await store.findUserByUsername(username);
        verified = await passwordHasher.verify(user?.passwordHash ?? null, password);
      } catch (error) {
        await decision.reservation.succeeded(); // an outage is not a guess
        throw error;
      }
      const { ok, needsRehash } = verified;
      if (!user || !ok || !user.isActive) {
        const why = !user ? 'unknown user' : !ok ? 'wrong password' : 'user disabled';
        events.emit('login.failed', { client_id: client.clientId, username, ip: clientIp, reason: why });
        const { lockedOut, locked } = await decision.reservation.failed();
        if (lockedOut)
          events.emit('lockout.started', { client_id: client.clientId, username, ip: clientIp, subject: 'user' });
        await recordLockouts(store, clock, locked);
        throw invalidCredentials(why);
      }
      await decision.reservation.succeeded();

      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);
      if (needsRehash && user.passwordHash !== null) {
        // Upgrade the stored hash to the current algorithm and parameters while we hold the password.
        const newHash = await passwordHasher.hash(password);
        await store.replacePasswordHash(user.id, user.passwordHash, newHash, now);
      }

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

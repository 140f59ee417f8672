import type { AuthorizationCodeStore, ConsentStore } from '../authorization-ports.js';
import { isSubset, NO_SCOPE_FOR_USER } from '../scope.js';
import { epochSeconds, type Clock, type EventSink, type UserStore } from '../ports.js';
import { mintToken, tokenKey } from '../tokens.js';
import type { AuthorizationFlow, SignedInUser, ValidAuthorizationRequest } from './api.js';
import { checkAuthorizationRequest, type AuthorizationCheckDeps } from './check.js';
import { needsFreshSignIn } from './fresh-sign-in.js';
import { redirectTo } from './redirect-uri.js';
import { scopeOfUser } from './user-scope.js';

/** What the authorization endpoint reads and writes. */
export type AuthorizationFlowStore = AuthorizationCheckDeps['store'] &
  Pick<ConsentStore, 'findConsent' | 'recordConsent'> &
  Pick<AuthorizationCodeStore, 'createAuthorizationCode'> &
  Pick<UserStore, 'findUserByUsername'>;

export interface AuthorizationFlowDeps extends AuthorizationCheckDeps {
  store: AuthorizationFlowStore;
  clock: Clock;
  events: EventSink;
  /** Lifetime of an authorization code (OAUTHD_AUTHORIZATION_CODE_TTL). */
  codeTtlSeconds: number;
}

const who = (request: ValidAuthorizationRequest, user: SignedInUser, ip: string) => ({
  client_id: request.client.clientId,
  user_id: user.userId,
  username: user.username,
  ip,
  scope: request.scope.join(' '),
});

/** RFC 6749 §4.1.2.1 invalid_scope, sent back to the client with state and iss (RFC 9207). */
const noScope = (request: ValidAuthorizationRequest, issuer: string): string =>
  redirectTo(request.redirectUri, [
    ['error', 'invalid_scope'],
    ['error_description', NO_SCOPE_FOR_USER],
    ['state', request.state],
    ['iss', issuer],
  ]);

/** The authorization endpoint of the code flow (RFC 6749 §4.1, RFC 7636, RFC 9207), for the pages. */
export function createAuthorizationFlow(deps: AuthorizationFlowDeps): AuthorizationFlow {
  const { store, clock, events } = deps;
  const scopeOf = (request: ValidAuthorizationRequest, user: SignedInUser) => scopeOfUser(store, request.scope, user);
  return {
    check: (query, issuer) => checkAuthorizationRequest(deps, query, issuer),

    async forUser(request, user, issuer) {
      const scope = await scopeOf(request, user);
      if (scope.length === 0) return { ok: false, redirect: noScope(request, issuer) };
      return { ok: true, request: scope === request.scope ? request : { ...request, scope } };
    },

    needsFreshSignIn: (request, session) => needsFreshSignIn(request.client, session, clock.now()),

    async needsConsent(request, user) {
      // The console's own client (core/console-client.ts): the operator's application, asking only for the
      // admin scopes, which only an admin holds; its exact redirect URI is on the admin listener.
      if (request.client.builtIn === true) return false;
      // RFC 8252 §8.6: a public client's identity cannot be proven (any app can claim its client_id and a loopback
      // or private-use redirect URI), so its requests are never approved without the person, remembered or not.
      if (request.client.isPublic) return true;
      if (request.client.policy.skipConsent === true) return false;
      const remembered = await store.findConsent(user.userId, request.client.clientId);
      return remembered === null || !isSubset(request.scope, remembered);
    },

    async approve(asked, user, { issuer, ip, consented }) {
      const scope = await scopeOf(asked, user);
      if (scope.length === 0) return noScope(asked, issuer);
      const request = { ...asked, scope };
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);
      if (consented) {
        await store.recordConsent(user.userId, request.client.clientId, request.scope, now);
        events.emit('consent.given', who(request, user, ip));
      }
      // RFC 6749 §10.10: 216 random bits (core/tokens.ts); only its key is stored (RFC 6819 §5.1.4.1.3).
      const code = mintToken(nowMs);
      await store.createAuthorizationCode({
        hash: tokenKey(code),
        clientId: request.client.clientId,
        userId: user.userId,
        redirectUri: request.redirectUri,
        scope: request.scope,
        codeChallenge: request.codeChallenge,
        codeChallengeMethod: request.codeChallengeMethod,
        issuedAt: now,
        // RFC 6749 §4.1.2: short-lived, 10 minutes at most recommended (the setting allows 5 s to 600 s).
        expiresAt: now + deps.codeTtlSeconds,
      });
      events.emit('authorization_code.issued', who(request, user, ip));
      // RFC 6749 §4.1.2 code and state; RFC 9207 §2 iss, so the client can tell which server answered.
      return redirectTo(request.redirectUri, [
        ['code', code],
        ['state', request.state],
        ['iss', issuer],
      ]);
    },

    deny(request, user, { issuer, ip }) {
      events.emit('authorization.denied', who(request, user, ip));
      // RFC 6749 §4.1.2.1: access_denied, the resource owner refused.
      return redirectTo(request.redirectUri, [
        ['error', 'access_denied'],
        ['error_description', 'The resource owner denied the request.'],
        ['state', request.state],
        ['iss', issuer],
      ]);
    },
  };
}

import type { AuthorizationCodeRecord, AuthorizationCodeStore } from '../authorization-ports.js';
import { verifierMatches } from '../authorize/pkce.js';
import { invalidClient, invalidGrant } from '../errors.js';
import { newGrantId } from '../ids.js';
import { required } from '../params.js';
import { epochSeconds, type Clock, type EventSink, type TokenStore } from '../ports.js';
import { effectivePolicy, refreshExpiry, type ServerTokenPolicy } from '../policy.js';
import { tokenKey } from '../tokens.js';
import type { Client } from '../types.js';
import type { GrantHandler } from './grant.js';
import { mintFlowTokens } from './issue.js';

/** One public text per cause class (RFC 6749 §5.2 invalid_grant); the cause itself goes to the logs only. */
const INVALID_CODE = 'The authorization code is invalid, expired, or was already used.';
const REDIRECT_MISMATCH = 'The redirect_uri does not match the one of the authorization request.';
const PKCE_MISMATCH = 'The code_verifier does not match the code_challenge.';

/** What the authorization code grant reads and writes. */
export type AuthorizationCodeGrantStore = Pick<
  AuthorizationCodeStore,
  'findAuthorizationCode' | 'redeemAuthorizationCode'
> &
  Pick<TokenStore, 'revokeGrant'>;

export interface AuthorizationCodeGrantDeps {
  store: AuthorizationCodeGrantStore;
  clock: Clock;
  events: EventSink;
  policy: ServerTokenPolicy;
}

/**
 * RFC 6749 §4.1.3: the redirect_uri MUST be present and identical when the authorization request included it.
 * The code keeps the URI it was sent to, not whether the parameter was sent, so: a URI given is compared with
 * it; and it is required when it could have been another, that is when the client has several registered URIs
 * or the code went to a loopback port other than the registered one (RFC 8252 §7.3). A client with one URI that
 * left it out of both requests (RFC 6749 §3.1.2.3) need not send it.
 */
function redirectUriHolds(client: Client, record: AuthorizationCodeRecord, given: string | undefined): boolean {
  if (given !== undefined) return given === record.redirectUri;
  const registered = client.policy.redirectUris ?? [];
  return registered.length === 1 && registered[0] === record.redirectUri;
}

/** RFC 7636 §4.6: a code with a challenge needs its verifier; a code without one takes none. */
function pkceHolds(record: AuthorizationCodeRecord, verifier: string | undefined): boolean {
  if (record.codeChallenge === null || record.codeChallengeMethod === null) return verifier === undefined;
  if (verifier === undefined) return false;
  return verifierMatches(verifier, record.codeChallenge, record.codeChallengeMethod);
}

/**
 * The authorization code grant, RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5–4.6). A code is single use: a second
 * exchange revokes what the first one gave (RFC 6749 §4.1.2, RFC 9700 §4.2.4), as refresh-token reuse does.
 */
export function createAuthorizationCodeGrant(deps: AuthorizationCodeGrantDeps): GrantHandler {
  const { store, clock, policy } = deps;
  return {
    grantType: 'authorization_code',
    async handle({ client, params, clientIp }) {
      const code = required(params, 'code');
      const codeHash = tokenKey(code);
      const record = await store.findAuthorizationCode(codeHash);
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);
      if (!record) throw invalidGrant(INVALID_CODE, 'unknown authorization code');
      // RFC 6749 §4.1.3: the code was issued to the authenticated client.
      if (record.clientId !== client.clientId) throw invalidGrant(INVALID_CODE, 'authorization code of another client');
      if (record.usedAt !== null) {
        if (record.grantId !== null) await store.revokeGrant(record.grantId, now);
        return reused(deps, record, record.grantId, clientIp);
      }
      if (record.expiresAt <= now) throw invalidGrant(INVALID_CODE, 'expired authorization code');
      if (!redirectUriHolds(client, record, params.get('redirect_uri'))) {
        throw invalidGrant(REDIRECT_MISMATCH, 'redirect_uri differs from the authorization request');
      }
      if (!pkceHolds(record, params.get('code_verifier')))
        throw invalidGrant(PKCE_MISMATCH, 'PKCE verification failed');
      if (!record.userIsActive) throw invalidGrant(INVALID_CODE, 'user disabled');

      const effective = effectivePolicy(client, policy);
      const tokens = mintFlowTokens(client, effective, nowMs, record.scope, refreshExpiry(effective, now, now));
      const grantId = newGrantId(nowMs);
      const result = await store.redeemAuthorizationCode({
        codeHash,
        grant: {
          id: grantId,
          clientId: client.clientId,
          userId: record.userId,
          grantType: 'authorization_code',
          scope: record.scope,
          createdAt: now,
        },
        access: tokens.access,
        refresh: tokens.refresh,
        now,
      });
      switch (result.outcome) {
        case 'redeemed':
          return issued(deps, record, grantId, clientIp, tokens.response);
        // Lost a race to a concurrent exchange: the store revoked the winner's grant in the same step.
        case 'reused':
          return reused(deps, record, result.grantId, clientIp);
        case 'expired':
        case 'not_found':
          throw invalidGrant(INVALID_CODE, `authorization code ${result.outcome} at redemption`);
        // RFC 6749 §5.2: the client no longer exists, so it is not authenticated (not a server error).
        case 'client_gone':
          throw invalidClient('client deleted while the request was served');
      }
    },
  };
}

function issued<T>(
  deps: AuthorizationCodeGrantDeps,
  record: AuthorizationCodeRecord,
  grantId: string,
  ip: string,
  response: T,
): T {
  const fields = {
    client_id: record.clientId,
    user_id: record.userId,
    username: record.username,
    grant_id: grantId,
    ip,
  };
  deps.events.emit('authorization_code.redeemed', fields);
  deps.events.emit('token.issued', { grant_type: 'authorization_code', ...fields, scope: record.scope.join(' ') });
  return response;
}

/** RFC 6749 §4.1.2: a code used twice; the grant of its first exchange is revoked (already, by the caller). */
function reused(
  deps: AuthorizationCodeGrantDeps,
  record: AuthorizationCodeRecord,
  grantId: string | null,
  ip: string,
): never {
  deps.events.emit('authorization_code.reused', {
    client_id: record.clientId,
    user_id: record.userId,
    username: record.username,
    grant_id: grantId,
    ip,
  });
  throw invalidGrant(INVALID_CODE, 'authorization code reuse: grant revoked');
}

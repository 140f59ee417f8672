import { invalidGrant } from '../errors.js';
import { checkRefreshSunset, type PasswordSunsetDeps } from '../password-sunset.js';
import { epochSeconds, type Clock, type EventSink, type TokenStore } from '../ports.js';
import { effectivePolicy, refreshExpiry, type EffectivePolicy, type ServerTokenPolicy } from '../policy.js';
import { required } from '../params.js';
import { refreshedScope } from '../scope.js';
import { openSuccessor, sealSuccessor } from '../successor.js';
import { tokenKey } from '../tokens.js';
import type { EpochSeconds, RefreshTokenRecord } from '../types.js';
import type { GrantHandler } from './grant.js';
import { mintPair } from './mint-pair.js';

const INVALID_REFRESH = 'The refresh token is invalid, expired, revoked or was already used.';

/** What the refresh grant reads and writes. */
export type RefreshGrantStore = Pick<TokenStore, 'findRefreshToken' | 'rotateRefreshToken' | 'revokeGrant'>;

export interface RefreshGrantDeps {
  store: RefreshGrantStore;
  clock: Clock;
  events: EventSink;
  policy: ServerTokenPolicy;
  /** The password-grant sunset link (OAUTHD_PASSWORD_GRANT_SUNSET_LINK). */
  passwordGrantSunsetLink?: PasswordSunsetDeps['passwordGrantSunsetLink'];
}

/**
 * The refresh token grant, RFC 6749 §6, with rotation: every success returns a new refresh token, the
 * presented one becomes used, and the access token issued with it is revoked.
 *
 * Reuse (RFC 9700 §4.14.2): presenting a refresh token that was already exchanged means that either the
 * client or an attacker holds a stale copy; the server cannot tell which, so the whole grant family is
 * revoked and both must authenticate again.
 *
 * Grace window (OAUTHD_REFRESH_GRACE_SECONDS, off by default): a client whose refresh response was lost
 * retries with the same token; within the window, and while the pair it was exchanged for is untouched
 * (its refresh token unused, the grant live), it gets that same pair again, byte for byte (see
 * successor.ts for how it is kept without plaintext). Outside the window, or once the successor was used,
 * a second use is reuse.
 *
 * Race: N concurrent requests with one live refresh token reach `rotateRefreshToken`, a single
 * conditional update. Exactly one wins and gets the new pair. Each loser then finds the token used:
 * - window off: reuse; the family is revoked (the winner's new pair included), invalid_grant;
 * - window on: the winner's pair, sealed in the same transaction that marked the token used, so every
 *   loser returns the same pair: N requests, N identical 200 responses.
 */
export function createRefreshTokenGrant(deps: RefreshGrantDeps): GrantHandler {
  const { store, clock, events, policy } = deps;
  return {
    grantType: 'refresh_token',
    async handle({ client, params, clientIp, advise }) {
      // oauthlib's wording, as django-oauth-toolkit answers it.
      const presented = required(params, 'refresh_token', 'Missing refresh token parameter.');
      const presentedHash = tokenKey(presented);
      const record = await store.findRefreshToken(presentedHash);
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);

      if (!record) throw invalidGrant(INVALID_REFRESH, 'unknown refresh token');
      // The client's own lifetimes and grace window, the server's otherwise (core/policy.ts).
      const effective = effectivePolicy(client, policy);
      const exchange: Exchange = { deps, effective, clientId: client.clientId, clientIp, presented, record, now };
      // RFC 6749 §6 and §10.4: a refresh token is bound to the client it was issued to.
      if (record.clientId !== client.clientId) throw invalidGrant(INVALID_REFRESH, 'refresh token of another client');
      // Refreshes of grants that began with a password carry the client's sunset, and may end with it.
      await checkRefreshSunset(deps, client, record, { clientIp, advise });
      if (record.revokedAt !== null) throw invalidGrant(INVALID_REFRESH, 'revoked refresh token');
      if (record.usedAt !== null) return replayOrReuse(exchange, record);
      if (record.expiresAt !== null && record.expiresAt <= now)
        throw invalidGrant(INVALID_REFRESH, 'expired refresh token');
      if (!record.userIsActive) throw invalidGrant(INVALID_REFRESH, 'user disabled');
      // RFC 6749 §5.2 invalid_grant: the grant's absolute lifetime, counted from its first issue, is over.
      const { refreshAbsoluteTtlSeconds: absolute } = effective;
      if (absolute !== null && record.grantCreatedAt + absolute <= now) {
        throw invalidGrant(INVALID_REFRESH, 'grant past its absolute lifetime');
      }

      const accessScope = refreshedScope(params.get('scope'), record.scope, client.scopes, policy.knownScopes);
      // RFC 6749 §6: the new refresh token's scope MUST be identical to the presented one's.
      const pair = mintPair(
        effective,
        nowMs,
        accessScope,
        record.scope,
        refreshExpiry(effective, now, record.grantCreatedAt),
      );
      const result = await store.rotateRefreshToken({
        presentedHash,
        grantId: record.grantId,
        access: pair.access,
        refresh: pair.refresh,
        now,
        successorResponse:
          effective.refreshGraceSeconds > 0 ? sealSuccessor(presented, record.grantId, pair.response) : null,
      });
      switch (result) {
        case 'rotated':
          events.emit('refresh_token.rotated', {
            client_id: client.clientId,
            user_id: record.userId,
            username: record.username,
            grant_id: record.grantId,
            ip: clientIp,
          });
          return pair.response;
        case 'already_used': {
          // Lost the race to a concurrent exchange of the same token (committed before we got here).
          const after = await store.findRefreshToken(presentedHash);
          return after ? replayOrReuse(exchange, after) : reuse(exchange, record.grantId);
        }
        case 'revoked':
        case 'not_found':
          throw invalidGrant(INVALID_REFRESH, `refresh token ${result} during rotation`);
      }
    },
  };
}

/** One exchange of a presented refresh token: what the replay and reuse answers need. */
interface Exchange {
  deps: RefreshGrantDeps;
  /** The client's effective policy (its grace window). */
  effective: EffectivePolicy;
  clientId: string;
  clientIp: string;
  presented: string;
  /** The presented token as first found. */
  record: RefreshTokenRecord;
  now: EpochSeconds;
}

/** A used token: the same pair again within the grace window, else reuse. */
async function replayOrReuse(exchange: Exchange, used: RefreshTokenRecord) {
  const { deps, now, presented, effective: policy } = exchange;
  const { events } = deps;
  const withinWindow = used.usedAt !== null && now - used.usedAt <= policy.refreshGraceSeconds;
  if (policy.refreshGraceSeconds > 0 && withinWindow && used.successor?.live && used.revokedAt === null) {
    const response = openSuccessor(presented, used.grantId, used.successor.response);
    if (response) {
      events.emit('refresh_token.replayed', {
        client_id: exchange.clientId,
        user_id: used.userId,
        username: used.username,
        grant_id: used.grantId,
        ip: exchange.clientIp,
      });
      return response;
    }
  }
  return reuse(exchange, used.grantId);
}

/** Reuse of a rotated token: the whole grant family is revoked (RFC 9700 §4.14.2). */
async function reuse(exchange: Exchange, grantId: string): Promise<never> {
  const { deps, record } = exchange;
  await deps.store.revokeGrant(grantId, exchange.now);
  deps.events.emit('refresh_token.reused', {
    client_id: exchange.clientId,
    user_id: record.userId,
    username: record.username,
    grant_id: grantId,
    ip: exchange.clientIp,
  });
  throw invalidGrant(INVALID_REFRESH, 'refresh token reuse: grant revoked');
}

import type { ClientPolicy, EpochSeconds } from './types.js';

/** The protocol settings the core needs, validated by config/ before they get here. */
export interface TokenPolicy {
  /** Lifetime of access tokens in seconds (`expires_in`, RFC 6749 §5.1). */
  accessTokenTtlSeconds: number;
  /** Lifetime of refresh tokens in seconds; null: they do not expire by time (the spec: "last forever"). */
  refreshTokenTtlSeconds: number | null;
  /** Every scope the server knows, in canonical order. */
  knownScopes: readonly string[];
  /**
   * Seconds after a refresh during which presenting the same refresh token again returns the same new
   * pair (a client whose response was lost retries), as long as that pair's refresh token is unused.
   * 0: off, every second use is reuse.
   */
  refreshGraceSeconds: number;
  /** Granted when a request names no scope (RFC 6749 §3.3), within what the client may have. */
  defaultScopes: readonly string[];
}

/** The server's settings a client's own policy may replace (TokenPolicy, with the absolute refresh lifetime). */
export interface ServerTokenPolicy extends TokenPolicy {
  /**
   * How long a grant may be refreshed at all, counted from its first issue (OAUTHD_REFRESH_ABSOLUTE_TTL); null
   * or absent: no bound beyond each refresh token's own lifetime.
   */
  refreshAbsoluteTtlSeconds?: number | null;
}

/** The settings one client's requests are served with: what it sets itself, the server's for the rest. */
export interface EffectivePolicy extends TokenPolicy {
  refreshAbsoluteTtlSeconds: number | null;
}

/** The longest refresh grace window a client may have of its own (OAUTHD_REFRESH_GRACE_SECONDS stops here too). */
export const MAX_REFRESH_GRACE_SECONDS = 60;

const effectiveOfServer = new WeakMap<ServerTokenPolicy, EffectivePolicy>();

/**
 * One client's effective token policy: each field of `client.policy` that is set replaces the server's
 * setting (a null field follows the server). Every grant calls this, so a change to the client (seen within
 * the client cache's bound) applies to its next request. Pure; a client following the server in everything
 * costs no allocation.
 */
export function effectivePolicy(
  client: { policy: Pick<ClientPolicy, TokenPolicyField> },
  server: ServerTokenPolicy,
): EffectivePolicy {
  const own = client.policy;
  let base = effectiveOfServer.get(server);
  if (!base) {
    base = { ...server, refreshAbsoluteTtlSeconds: server.refreshAbsoluteTtlSeconds ?? null };
    effectiveOfServer.set(server, base);
  }
  if (
    own.accessTokenTtlSeconds === null &&
    own.refreshIdleTtlSeconds === null &&
    own.refreshAbsoluteTtlSeconds === null &&
    own.refreshGraceSeconds === null
  ) {
    return base;
  }
  return {
    ...base,
    accessTokenTtlSeconds: own.accessTokenTtlSeconds ?? base.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: own.refreshIdleTtlSeconds ?? base.refreshTokenTtlSeconds,
    refreshAbsoluteTtlSeconds: own.refreshAbsoluteTtlSeconds ?? base.refreshAbsoluteTtlSeconds,
    refreshGraceSeconds: own.refreshGraceSeconds ?? base.refreshGraceSeconds,
  };
}

type TokenPolicyField =
  | 'accessTokenTtlSeconds'
  | 'refreshIdleTtlSeconds'
  | 'refreshAbsoluteTtlSeconds'
  | 'refreshGraceSeconds';

/**
 * When a refresh token minted at `now` for a grant that began at `grantCreatedAt` expires: its own lifetime,
 * capped by the grant's absolute lifetime (no refresh token outlives its grant's bound); null: never by time.
 */
export function refreshExpiry(policy: EffectivePolicy, now: EpochSeconds, grantCreatedAt: EpochSeconds): number | null {
  const idle = policy.refreshTokenTtlSeconds === null ? null : now + policy.refreshTokenTtlSeconds;
  const absolute = policy.refreshAbsoluteTtlSeconds === null ? null : grantCreatedAt + policy.refreshAbsoluteTtlSeconds;
  if (idle === null) return absolute;
  return absolute === null ? idle : Math.min(idle, absolute);
}

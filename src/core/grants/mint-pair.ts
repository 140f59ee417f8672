import { epochSeconds } from '../ports.js';
import { mintToken, tokenKey } from '../tokens.js';
import { formatScope } from '../scope.js';
import type { TokenPolicy } from '../policy.js';
import type { AccessTokenResponse, EpochSeconds, NewAccessToken, NewToken, TokenResponse } from '../types.js';

/** A freshly minted access/refresh pair: plaintext for the response, hashes for the store. */
export interface MintedPair {
  access: NewAccessToken;
  refresh: NewToken;
  response: TokenResponse;
}

/**
 * Mints a new pair at `nowMs`, read from the injected clock: the tokens' key prefix and their `issuedAt` are
 * that one time. The access token carries `accessScope`; the refresh token carries `refreshScope` (RFC 6749
 * §6: a new refresh token keeps the scope of the one it replaces, even when the access token was narrowed).
 * `refreshExpiresAt`, when given, replaces the refresh token's expiry from `policy` (core/policy.ts refreshExpiry).
 */
export function mintPair(
  policy: TokenPolicy,
  nowMs: number,
  accessScope: string[],
  refreshScope: string[],
  refreshExpiresAt?: EpochSeconds | null,
): MintedPair {
  const now = epochSeconds(nowMs);
  const accessToken = mintToken(nowMs);
  const refreshToken = mintToken(nowMs);
  return {
    access: {
      hash: tokenKey(accessToken),
      scope: accessScope,
      issuedAt: now,
      expiresAt: now + policy.accessTokenTtlSeconds,
    },
    refresh: {
      hash: tokenKey(refreshToken),
      scope: refreshScope,
      issuedAt: now,
      expiresAt:
        refreshExpiresAt !== undefined
          ? refreshExpiresAt
          : policy.refreshTokenTtlSeconds === null
            ? null
            : now + policy.refreshTokenTtlSeconds,
    },
    // RFC 6749 §5.1, in the spec's key order; expires_in is a JSON number.
    response: {
      access_token: accessToken,
      expires_in: policy.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: formatScope(accessScope),
      token_type: 'Bearer',
    },
  };
}

/** A freshly minted access token alone (client_credentials): plaintext for the response, hash for the store. */
export interface MintedAccessToken {
  access: NewAccessToken;
  response: AccessTokenResponse;
}

/**
 * Mints an access token without a refresh token at `nowMs`, read from the injected clock. RFC 6749 §4.4.3:
 * a refresh token SHOULD NOT be included in the answer to the client credentials grant.
 */
export function mintAccessToken(policy: TokenPolicy, nowMs: number, scope: string[]): MintedAccessToken {
  const now = epochSeconds(nowMs);
  const accessToken = mintToken(nowMs);
  return {
    access: {
      hash: tokenKey(accessToken),
      scope,
      issuedAt: now,
      expiresAt: now + policy.accessTokenTtlSeconds,
    },
    // RFC 6749 §5.1 in the spec's key order, without refresh_token.
    response: {
      access_token: accessToken,
      expires_in: policy.accessTokenTtlSeconds,
      scope: formatScope(scope),
      token_type: 'Bearer',
    },
  };
}

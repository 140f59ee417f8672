import type { TokenPolicy } from '../policy.js';
import type { AccessTokenResponse, Client, EpochSeconds, NewAccessToken, NewToken, TokenResponse } from '../types.js';
import { mintAccessToken, mintPair } from './mint-pair.js';

/** Tokens for a grant that ends a browser flow (authorization code, device code), before they are written. */
export interface FlowTokens {
  access: NewAccessToken;
  refresh: NewToken | null;
  response: TokenResponse | AccessTokenResponse;
}

/**
 * An access token, and a refresh token only when the client may use the refresh grant (RFC 6749 §1.5: a refresh
 * token is for getting new access tokens with it; a client without that grant would hold one it cannot use).
 * `refreshExpiresAt` as core/policy.ts refreshExpiry gives it.
 */
export function mintFlowTokens(
  client: Pick<Client, 'grantTypes'>,
  policy: TokenPolicy,
  nowMs: number,
  scope: string[],
  refreshExpiresAt: EpochSeconds | null,
): FlowTokens {
  if (client.grantTypes.includes('refresh_token')) return mintPair(policy, nowMs, scope, scope, refreshExpiresAt);
  return { ...mintAccessToken(policy, nowMs, scope), refresh: null };
}

import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from './client-auth.js';
import { OAuthError, invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.js';
import type { GrantHandler } from './grants/grant.js';
import { createAuthorizationCodeGrant, type AuthorizationCodeGrantDeps } from './grants/authorization-code.js';
import { createClientCredentialsGrant } from './grants/client-credentials.js';
import { createDeviceCodeGrant, type DeviceCodeGrantDeps } from './grants/device-code.js';
import { checkPasswordSunset, type AdviseSink, type PasswordSunsetDeps } from './password-sunset.js';
import { createPasswordGrant, type PasswordGrantDeps } from './grants/password.js';
import { createRefreshTokenGrant, type RefreshGrantDeps } from './grants/refresh-token.js';
import { singleValued, type ParamPairs } from './params.js';
import { epochSeconds } from './ports.js';
import type { AccessTokenResponse, Client, EpochSeconds, GrantType, TokenResponse } from './types.js';

/**
 * A client's own request budget at the token endpoint (`oauthd client update --rate-limit`), counted in the
 * same backend as the brute-force counters (memory, the cluster primary or Redis: throttle/client-rate-limit.ts),
 * so every instance and worker shares it.
 */
export interface ClientRateLimiter {
  /** Counts one request; refused once the client made more than `perMinute` in the current minute. */
  take(clientId: string, perMinute: number): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}

/** A token request as the HTTP adapter hands it over: plain values, no HTTP objects. */
export interface TokenRequest {
  /** Body parameters, repeats included (RFC 6749 §3.2). */
  params: ParamPairs;
  basic: PresentedCredentials['basic'];
  clientIp: string;
  /** Gets the advisories for this answer (password-grant sunset), success or error, before it is sent. */
  advise?: AdviseSink;
}

/** Counts token requests per client and grant type in memory (metrics/client-usage.ts); never awaits. */
export interface UsageRecorder {
  count(clientId: string, grantType: GrantType, at: EpochSeconds): void;
}

export interface TokenEndpoint {
  /** Resolves with the token response (without refresh_token for client_credentials) or rejects with an OAuthError. */
  handle(request: TokenRequest): Promise<TokenResponse | AccessTokenResponse>;
}

/** The client authentication and every grant's dependencies (their store parts joined). */
export type TokenEndpointDeps = ClientAuthDeps &
  PasswordGrantDeps &
  RefreshGrantDeps &
  AuthorizationCodeGrantDeps &
  DeviceCodeGrantDeps &
  PasswordSunsetDeps & {
    usage?: UsageRecorder;
    /** Per-client rate limits (`oauthd client update --rate-limit`); none enforced when left out. */
    clientRateLimit?: ClientRateLimiter;
  };

/**
 * The token endpoint, RFC 6749 §3.2: validate the request shape, pick the grant, authenticate the client,
 * check the client may use the grant, then let the grant do its work.
 */
export function createTokenEndpoint(deps: TokenEndpointDeps): TokenEndpoint {
  // Keyed by the wire value of grant_type: DEVICE_CODE_GRANT is the URN of RFC 8628 §3.4.
  const handlers = new Map<string, GrantHandler>(
    [
      createPasswordGrant(deps),
      createClientCredentialsGrant(deps),
      createRefreshTokenGrant(deps),
      createAuthorizationCodeGrant(deps),
      createDeviceCodeGrant(deps),
    ].map((h) => [h.grantType, h]),
  );
  return {
    async handle({ params: pairs, basic, clientIp, advise }) {
      const params = singleValued(pairs);
      const grantType = params.get('grant_type');
      if (grantType === undefined) throw invalidRequest('Request is missing grant_type parameter.');
      const handler = handlers.get(grantType);
      // Which grant types exist is public (server metadata), so this may precede client authentication.
      if (!handler) throw unsupportedGrantType(`grant_type not supported`);

      const client = await authenticateClient(
        { basic, bodyClientId: params.get('client_id'), bodyClientSecret: params.get('client_secret') },
        deps,
        clientIp,
      );
      // Usage counts every answered request of an authenticated client, whatever its outcome.
      deps.usage?.count(client.clientId, handler.grantType, epochSeconds(deps.clock.nowMs()));
      // Before the rate limit, so a throttled password request still carries the sunset headers.
      checkPasswordSunset(deps, client, handler.grantType, { clientIp, advise });
      await takeFromBudget(deps, client);
      // RFC 6749 §5.2 unauthorized_client: authenticated, but not allowed this grant type.
      if (!client.grantTypes.includes(handler.grantType)) throw unauthorizedClient(`client may not use ${grantType}`);

      return handler.handle({ client, params, clientIp, advise });
    },
  };
}

/**
 * The client's own rate limit, counted once it authenticated (bad secrets cannot spend its budget): beyond
 * it, 429 with Retry-After (RFC 6585 §4), as `slow_down` (RFC 8628 §3.5, registered for the token endpoint).
 */
async function takeFromBudget(deps: TokenEndpointDeps, client: Client): Promise<void> {
  const perMinute = client.policy.rateLimitPerMinute;
  if (perMinute === null || !deps.clientRateLimit) return;
  const taken = await deps.clientRateLimit.take(client.clientId, perMinute);
  if (taken.allowed) return;
  const wait = taken.retryAfterSeconds;
  throw new OAuthError(
    'slow_down',
    `Too many requests from this client. Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`,
    `client rate limit of ${perMinute} per minute reached`,
    wait,
  );
}

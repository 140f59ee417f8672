import { fromAllowedNetwork } from './networks.js';
import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from './client-auth.js';
import type { BearerValidator } from './bearer.js';
import { invalidToken } from './errors.js';
import type { TokenStore } from './ports.js';
import { required, singleValued, type ParamPairs } from './params.js';
import { tokenKey } from './tokens.js';
import type { AccessTokenRecord, Client, EpochSeconds, RefreshTokenRecord } from './types.js';

/**
 * The scope a bearer token needs to introspect (on top of its client's privilege), and that marks a client
 * authenticating with its own credentials as a resource server, as django-oauth-toolkit's deployments do.
 */
export const INTROSPECTION_SCOPE = 'introspection';

/** A client that sees every client's tokens: marked `--introspect`, or registered with the scope; never public. */
export const introspectsEveryToken = (client: Client): boolean =>
  !client.isPublic && (client.canIntrospect || client.scopes.includes(INTROSPECTION_SCOPE));

export interface IntrospectionRequest {
  params: ParamPairs;
  basic: PresentedCredentials['basic'];
  /** The token of `Authorization: Bearer`, when the caller authenticates that way. */
  bearer: string | null;
  clientIp: string;
}

/** Client authentication, the two token lookups, and the bearer validator for callers that send a token. */
export type IntrospectionDeps = ClientAuthDeps & {
  store: Pick<TokenStore, 'findAccessToken' | 'findRefreshToken'>;
  bearer: BearerValidator;
};

/** RFC 7662 §2.2. Inactive tokens are exactly `{ active: false }`. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      /** Absent, with `sub`, for a token issued to the client itself (client_credentials): no user. */
      username?: string;
      token_type?: 'Bearer';
      /** Which kind of token this is (as Ory Hydra says it): a resource server accepts only access tokens. */
      token_use: 'access_token' | 'refresh_token';
      exp?: number;
      iat: number;
      sub?: string;
    };

export interface IntrospectionEndpoint {
  introspect(request: IntrospectionRequest): Promise<IntrospectionResponse>;
}

const INACTIVE = { active: false } as const;

/**
 * Token introspection, RFC 7662.
 *
 * Who may ask (§2.1 requires authorization, against token scanning): a client authenticated as at the
 * token endpoint, or a caller presenting a bearer access token that carries the `introspection` scope and
 * was issued to a confidential client marked as a resource server (`canIntrospect`). Introspecting others'
 * tokens is the client's privilege, given by an operator: a user's token obtained through an ordinary
 * client never has it, whatever scope it carries.
 * What it may see: a client sees the tokens issued to it; a confidential client marked `canIntrospect` or
 * registered with the `introspection` scope, and a bearer caller allowed as above, see every token.
 * Everything else, and every token that is not live (unknown, expired, revoked, used, of a disabled user),
 * is `{"active": false}` and nothing more (§2.2).
 */
export function createIntrospectionEndpoint(deps: IntrospectionDeps): IntrospectionEndpoint {
  const { store, clock } = deps;
  return {
    async introspect(request) {
      const params = singleValued(request.params);
      const callerClientId = await callerScopeOf(deps, request, params);
      const token = required(params, 'token', 'Missing token parameter.'); // as revocation (oauthlib)
      const hash = tokenKey(token);
      const now = clock.now();
      const visible = (clientId: string) => callerClientId === null || callerClientId === clientId;

      const tryAccess = async (): Promise<IntrospectionResponse | null> => {
        const record = await store.findAccessToken(hash);
        return record && describeAccessToken(record, visible(record.clientId), now);
      };
      const tryRefresh = async (): Promise<IntrospectionResponse | null> => {
        const record = await store.findRefreshToken(hash);
        return record && describeRefreshToken(record, visible(record.clientId), now);
      };
      // §2.1: token_type_hint only orders the search.
      const refreshFirst = params.get('token_type_hint') === 'refresh_token';
      const result = refreshFirst
        ? ((await tryRefresh()) ?? (await tryAccess()))
        : ((await tryAccess()) ?? (await tryRefresh()));
      return result ?? INACTIVE;
    },
  };
}

/** Authenticates the caller; answers the client id whose tokens it may see, or null: every token. */
async function callerScopeOf(
  deps: IntrospectionDeps,
  { basic, bearer: bearerToken, clientIp }: IntrospectionRequest,
  params: ReadonlyMap<string, string>,
): Promise<string | null> {
  if (bearerToken !== null && basic === null && !params.has('client_id')) {
    const caller = await deps.bearer.validate(bearerToken);
    const client = await deps.store.findClient(caller.clientId);
    // RFC 7662 §2.3: a bearer token without sufficient privileges is answered 401 (RFC 6750 §3), the
    // same answer whichever condition failed.
    if (!client || client.isPublic || !client.canIntrospect || !caller.scope.includes(INTROSPECTION_SCOPE)) {
      throw invalidToken(
        'The access token may not introspect tokens.',
        !client
          ? 'introspection by a token of a deleted client'
          : !client.isPublic && client.canIntrospect
            ? 'introspection by a token without the introspection scope'
            : 'introspection by a token of a client that is not a resource server',
      );
    }
    // A resource server pinned to its networks (`--allowed-networks`) is held to them with a bearer token too.
    if (!fromAllowedNetwork(client.policy.allowedNetworks, clientIp)) {
      deps.events.emit('client.network_refused', { client_id: client.clientId, ip: clientIp });
      throw invalidToken('The access token may not introspect tokens.', 'introspection from outside the networks');
    }
    return null; // may see every token
  }
  const client = await authenticateClient(
    { basic, bodyClientId: params.get('client_id'), bodyClientSecret: params.get('client_secret') },
    deps,
    clientIp,
  );
  return introspectsEveryToken(client) ? null : client.clientId;
}

function describeAccessToken(record: AccessTokenRecord, visible: boolean, now: EpochSeconds): IntrospectionResponse {
  if (!visible || record.revokedAt !== null || record.expiresAt <= now || !record.userIsActive) return INACTIVE;
  return {
    active: true,
    scope: record.scope.join(' '),
    client_id: record.clientId,
    // A token issued to the client itself (client_credentials) has no user: no username, no sub.
    ...(record.userId !== null ? { username: record.username ?? '' } : {}),
    token_type: 'Bearer',
    token_use: 'access_token',
    exp: record.expiresAt,
    iat: record.issuedAt,
    ...(record.userId !== null ? { sub: String(record.userId) } : {}),
  };
}

function describeRefreshToken(record: RefreshTokenRecord, visible: boolean, now: EpochSeconds): IntrospectionResponse {
  const expired = record.expiresAt !== null && record.expiresAt <= now;
  if (!visible || record.revokedAt !== null || record.usedAt !== null || expired || !record.userIsActive) {
    return INACTIVE;
  }
  // A refresh token has no RFC 6749 §7.1 token type and, by default, no expiry.
  return {
    active: true,
    scope: record.scope.join(' '),
    client_id: record.clientId,
    // A token issued to the client itself (client_credentials) has no user: no username, no sub.
    ...(record.userId !== null ? { username: record.username ?? '' } : {}),
    token_use: 'refresh_token',
    ...(record.expiresAt !== null ? { exp: record.expiresAt } : {}),
    iat: record.issuedAt,
    ...(record.userId !== null ? { sub: String(record.userId) } : {}),
  };
}

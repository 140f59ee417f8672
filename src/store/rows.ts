import {
  isGrantType,
  type AccessTokenRecord,
  type Client,
  type ClientPolicy,
  SERVER_POLICY,
  type GrantType,
  type Lockout,
  type RefreshTokenRecord,
  type User,
  type UserGrant,
} from '../core/types.js';

/** Days of client usage kept (`oauthd client usage` shows 30; the cleanup removes older days). */
export const USAGE_RETENTION_DAYS = 90;

/** The UTC day (days since the epoch) of an instant. */
export const dayOf = (at: number): number => Math.floor(at / 86_400);

/** Lists (scopes, grant types) are stored space-separated, as they travel on the wire (RFC 6749 §3.3). */
export const joinList = (list: readonly string[]): string => list.join(' ');

/**
 * An `ifVersion` as the version columns (integer; int4 on PostgreSQL) can compare it. One no column holds (NaN,
 * a fraction, negative, beyond 2^31-1) becomes -1, a version no row has: it matches nothing, where it would
 * fail the statement on PostgreSQL (22003) or bind as NULL on SQLite (NaN), which reads as "no condition".
 */
export const comparableVersion = (version: number | null): number | null =>
  version === null || (Number.isInteger(version) && version >= 0 && version <= 2 ** 31 - 1) ? version : -1;

export const splitList = (value: string): string[] => value.split(' ').filter((s) => s !== '');

/** Grant types this version does not know (written by a newer one) are dropped, never trusted. */
export const splitGrantTypes = (value: string): GrantType[] => splitList(value).filter(isGrantType);

/** A client row as both backends return it (SQLite booleans are 0/1, PostgreSQL's true/false). */
export interface ClientRow {
  client_id: string;
  name: string;
  secret_hash: string | null;
  is_public: number | boolean;
  grant_types: string;
  scopes: string;
  can_introspect: number | boolean;
  default_scopes: string | null;
  /** JSON text on SQLite, already parsed on PostgreSQL (jsonb); null: the server's policy. */
  policy: string | Record<string, unknown> | null;
  created_at: number;
  version: number;
}

export interface UserRow {
  id: number;
  username: string;
  password_hash: string | null;
  is_active: number | boolean;
  is_admin: number | boolean;
  version: number;
  created_at: number;
  updated_at: number;
}

const bool = (value: number | boolean): boolean => value === true || value === 1;

export const toClient = (r: ClientRow): Client => ({
  clientId: r.client_id,
  name: r.name,
  secretHash: r.secret_hash,
  isPublic: bool(r.is_public),
  grantTypes: splitGrantTypes(r.grant_types),
  scopes: splitList(r.scopes),
  canIntrospect: bool(r.can_introspect),
  ...(r.default_scopes !== null ? { defaultScopes: splitList(r.default_scopes) } : {}),
  policy: toClientPolicy(r.policy),
  createdAt: r.created_at,
  version: r.version,
});

/**
 * The stored form of a client's policy: a flat JSON object with snake_case keys, a key missing or null meaning
 * the server's setting. Flat, so a JSON merge (SQLite json_patch, PostgreSQL ||) changes one field at a time.
 */
const POLICY_KEYS = {
  accessTokenTtlSeconds: 'access_token_ttl',
  refreshIdleTtlSeconds: 'refresh_idle_ttl',
  refreshAbsoluteTtlSeconds: 'refresh_absolute_ttl',
  refreshGraceSeconds: 'refresh_grace',
  rateLimitPerMinute: 'rate_limit_per_minute',
} as const satisfies Partial<Record<keyof ClientPolicy, string>>;

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export function toClientPolicy(stored: string | Record<string, unknown> | null): ClientPolicy {
  if (stored === null) return SERVER_POLICY;
  const j = typeof stored === 'string' ? (JSON.parse(stored) as Record<string, unknown>) : stored;
  const sunsetAt = numberOrNull(j.password_grant_sunset);
  return {
    accessTokenTtlSeconds: numberOrNull(j[POLICY_KEYS.accessTokenTtlSeconds]),
    refreshIdleTtlSeconds: numberOrNull(j[POLICY_KEYS.refreshIdleTtlSeconds]),
    refreshAbsoluteTtlSeconds: numberOrNull(j[POLICY_KEYS.refreshAbsoluteTtlSeconds]),
    refreshGraceSeconds: numberOrNull(j[POLICY_KEYS.refreshGraceSeconds]),
    rateLimitPerMinute: numberOrNull(j[POLICY_KEYS.rateLimitPerMinute]),
    allowedNetworks: typeof j.allowed_networks === 'string' ? splitList(j.allowed_networks) : null,
    // A JSON array: a redirect URI may not contain a space, but it is kept exactly as registered anyway.
    redirectUris: Array.isArray(j.redirect_uris) ? j.redirect_uris.filter((u) => typeof u === 'string') : null,
    skipConsent: typeof j.skip_consent === 'boolean' ? j.skip_consent : null,
    pkce: j.pkce === 'S256' || j.pkce === 'S256 plain' || j.pkce === 'optional' ? j.pkce : null,
    passwordGrantSunset:
      sunsetAt === null
        ? null
        : {
            at: sunsetAt,
            announcedAt: numberOrNull(j.password_grant_sunset_announced) ?? sunsetAt,
            revokeGrants: j.password_grant_sunset_revokes === true,
          },
  };
}

/**
 * A policy change as the JSON merge patch both backends apply (RFC 7396: a null member removes the key, so the
 * field goes back to the server's setting); null when nothing is to change.
 */
export function policyPatch(policy: Partial<ClientPolicy> | undefined): string | null {
  if (!policy) return null;
  const patch: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(POLICY_KEYS) as [keyof typeof POLICY_KEYS, string][]) {
    if (policy[field] !== undefined) patch[key] = policy[field];
  }
  if (policy.allowedNetworks !== undefined) {
    patch.allowed_networks = policy.allowedNetworks === null ? null : joinList(policy.allowedNetworks);
  }
  if (policy.redirectUris !== undefined) patch.redirect_uris = policy.redirectUris;
  if (policy.skipConsent !== undefined) patch.skip_consent = policy.skipConsent;
  if (policy.pkce !== undefined) patch.pkce = policy.pkce;
  if (policy.passwordGrantSunset !== undefined) {
    const sunset = policy.passwordGrantSunset;
    patch.password_grant_sunset = sunset?.at ?? null;
    patch.password_grant_sunset_announced = sunset?.announcedAt ?? null;
    patch.password_grant_sunset_revokes = sunset ? sunset.revokeGrants : null;
  }
  return Object.keys(patch).length === 0 ? null : JSON.stringify(patch);
}

/** A new client's policy as stored: its non-null fields only; null when it follows the server in everything. */
export function storedPolicy(policy: Partial<ClientPolicy> | undefined): string | null {
  const patch = policyPatch(policy);
  if (patch === null) return null;
  const fields = Object.entries(JSON.parse(patch) as Record<string, unknown>).filter(([, v]) => v !== null);
  return fields.length === 0 ? null : JSON.stringify(Object.fromEntries(fields));
}

/** A lockout row as both backends return it. */
export interface LockoutRow {
  id: number;
  kind: Lockout['kind'];
  username: string | null;
  client_id: string | null;
  ip_key: string | null;
  started_at: number;
  locked_until: number;
  cleared_at: number | null;
}

export const toLockout = (r: LockoutRow): Lockout => ({
  id: r.id,
  kind: r.kind,
  username: r.username,
  clientId: r.client_id,
  ipKey: r.ip_key,
  startedAt: r.started_at,
  until: r.locked_until,
  clearedAt: r.cleared_at,
});

export const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  isActive: bool(r.is_active),
  isAdmin: bool(r.is_admin),
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** An access token joined with its grant and user, as both backends select it (scope as stored). */
export type AccessTokenRow = Omit<AccessTokenRecord, 'scope' | 'userIsActive' | 'userIsAdmin'> & {
  scope: string;
  userIsActive: number | boolean;
  userIsAdmin: number | boolean;
};

export const toAccessTokenRecord = (r: AccessTokenRow): AccessTokenRecord => ({
  ...r,
  scope: splitList(r.scope),
  userIsActive: bool(r.userIsActive),
  userIsAdmin: bool(r.userIsAdmin),
});

/** A refresh token joined with its grant, user and successor, as both backends select it. */
export type RefreshTokenRow = Omit<RefreshTokenRecord, 'scope' | 'userIsActive' | 'successor'> & {
  scope: string;
  userIsActive: number | boolean;
  successorResponse: Buffer | null;
  successorLive: number | boolean | null;
};

export const toRefreshTokenRecord = (r: RefreshTokenRow): RefreshTokenRecord => {
  const { successorResponse, successorLive, ...rest } = r;
  return {
    ...rest,
    scope: splitList(r.scope),
    userIsActive: bool(r.userIsActive),
    successor: successorResponse
      ? { response: successorResponse, live: successorLive !== null && bool(successorLive) }
      : null,
  };
};

/** A live grant of a user, as both backends select it (scope as stored). */
export type UserGrantRow = Omit<UserGrant, 'scope'> & { scope: string };

export const toUserGrant = (r: UserGrantRow): UserGrant => ({ ...r, scope: splitList(r.scope) });

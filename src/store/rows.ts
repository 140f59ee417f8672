import {
  isGrantType,
  type AccessTokenRecord,
  type Client,
  type GrantType,
  type Lockout,
  type RefreshTokenRecord,
  type User,
  type UserGrant,
} from '../core/types.js';

/** Lists (scopes, grant types) are stored space-separated, as they travel on the wire (RFC 6749 §3.3). */
export const joinList = (list: readonly string[]): string => list.join(' ');

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
  created_at: number;
}

export interface UserRow {
  id: number;
  username: string;
  password_hash: string | null;
  is_active: number | boolean;
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
  createdAt: r.created_at,
});

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
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** An access token joined with its grant and user, as both backends select it (scope as stored). */
export type AccessTokenRow = Omit<AccessTokenRecord, 'scope' | 'userIsActive'> & {
  scope: string;
  userIsActive: number | boolean;
};

export const toAccessTokenRecord = (r: AccessTokenRow): AccessTokenRecord => ({
  ...r,
  scope: splitList(r.scope),
  userIsActive: bool(r.userIsActive),
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

/** Seconds since the Unix epoch. Every timestamp in the core and the store uses this unit. */
export type EpochSeconds = number;

/** RFC 8628 §3.4: the device authorization grant's grant_type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The grant types this server implements (RFC 6749 §4.1, §4.3, §4.4 and §6; RFC 8628 §3.4). */
export const GRANT_TYPES = [
  'password',
  'client_credentials',
  'refresh_token',
  'authorization_code',
  DEVICE_CODE_GRANT,
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

/** A registered client (RFC 6749 §2). */
export interface Client {
  /** The public client identifier (RFC 6749 §2.2). */
  clientId: string;
  name: string;
  /** Null for public clients (RFC 6749 §2.1), which have no secret. See core/secrets.ts for the format. */
  secretHash: string | null;
  isPublic: boolean;
  grantTypes: GrantType[];
  /** The scopes this client may be granted. */
  scopes: string[];
  /**
   * The scopes a request without a `scope` parameter is granted (RFC 6749 §3.3), a subset of `scopes`;
   * null or absent: the server's default scopes (OAUTHD_DEFAULT_SCOPES) ∩ `scopes`.
   */
  defaultScopes?: string[] | null;
  /**
   * A resource server: it may introspect every client's tokens, also with a bearer token issued to it
   * (`oauthd client create --introspect`). Never true for a public client.
   */
  canIntrospect: boolean;
  /** What this client's tokens may do and for how long; each field null: the server's setting. */
  policy: ClientPolicy;
  createdAt: EpochSeconds;
  /**
   * Bumped by every change of the client (update, secret rotation): the admin API's ETag, so an update made
   * from a stale copy is refused (RFC 9110 §13.1.1 If-Match). Absent only on the built-in console client.
   */
  version?: number;
  /** The console's own client (core/console-client.ts): not stored, never listed, changed or deleted. */
  builtIn?: boolean;
}

/**
 * A client's own policy, stored with it and changed without a restart (the client cache bounds how soon every
 * instance sees a change). A null field follows the server's configuration.
 */
export interface ClientPolicy {
  /** `expires_in` of its access tokens (RFC 6749 §5.1). */
  accessTokenTtlSeconds: number | null;
  /** Each refresh token's own lifetime: how long a grant may go unused (OAUTHD_REFRESH_TOKEN_TTL). */
  refreshIdleTtlSeconds: number | null;
  /** How long a grant may be refreshed at all, counted from its first issue (OAUTHD_REFRESH_ABSOLUTE_TTL). */
  refreshAbsoluteTtlSeconds: number | null;
  /** The refresh grace window (OAUTHD_REFRESH_GRACE_SECONDS). */
  refreshGraceSeconds: number | null;
  /** The networks (CIDR, IPv4 and IPv6) its requests may come from; null: anywhere. */
  allowedNetworks: string[] | null;
  /** Token-endpoint requests per minute it may make; null: no limit of its own. */
  rateLimitPerMinute: number | null;
  /** When its password grant ends (RFC 8594 Sunset), and when that was announced (RFC 9745 Deprecation). */
  passwordGrantSunset: PasswordGrantSunset | null;
  /**
   * Where its authorization codes may be sent (RFC 6749 §3.1.2), compared exactly (RFC 9700 §4.1.3), except
   * the port of a loopback http URI (RFC 8252 §7.3); null: none registered, no authorization code flow.
   */
  redirectUris: string[] | null;
  /** A first-party client: its users are not asked to consent (`--skip-consent`); null: asked. */
  skipConsent: boolean | null;
  /**
   * RFC 7636 for its authorization requests: `S256` (null, the default) requires a code_challenge with S256;
   * `S256 plain` also accepts the plain method; `optional` lets a confidential client leave PKCE out.
   */
  pkce: 'S256' | 'S256 plain' | 'optional' | null;
}

export interface PasswordGrantSunset {
  /** 00:00 UTC of the sunset day: from then on the password grant is refused. */
  at: EpochSeconds;
  /** When the operator set it: the `Deprecation` header's date. */
  announcedAt: EpochSeconds;
  /** From `at` on, refresh tokens of grants that began with a password stop working too. */
  revokeGrants: boolean;
}

/** A policy that follows the server's configuration in everything. */
export const SERVER_POLICY: ClientPolicy = Object.freeze({
  accessTokenTtlSeconds: null,
  refreshIdleTtlSeconds: null,
  refreshAbsoluteTtlSeconds: null,
  refreshGraceSeconds: null,
  allowedNetworks: null,
  rateLimitPerMinute: null,
  passwordGrantSunset: null,
  redirectUris: null,
  skipConsent: null,
  pkce: null,
});

/** How a grant began: the grant type of its first token request. Null for grants imported without one. */
export type GrantOrigin = 'password' | 'client_credentials' | 'authorization_code' | typeof DEVICE_CODE_GRANT;

/** A resource owner who can use the password grant. */
export interface User {
  id: number;
  username: string;
  /** Null when the user has no usable password: it never matches (PasswordHasher.verify, core/ports.ts). */
  passwordHash: string | null;
  isActive: boolean;
  /**
   * May hold the built-in admin scopes (core/admin-scopes.ts) in a token bound to it, and sign in to the console
   * (`oauthd user create --admin`, `oauthd admin bootstrap`).
   */
  isAdmin: boolean;
  /** Bumped by every administrative change of the user (not by a login's hash upgrade): the admin API's ETag. */
  version: number;
  createdAt: EpochSeconds;
  updatedAt: EpochSeconds;
}

/**
 * A grant: the family of every access and refresh token descending from one password grant.
 * Reuse detection and revocation act on the whole family (RFC 9700 §4.14.2).
 */
export interface Grant {
  id: string;
  clientId: string;
  /** Null for a grant to the client itself (client_credentials, RFC 6749 §4.4): no resource owner. */
  userId: number | null;
  /** How the grant began; the store takes `password` when left out. */
  grantType?: GrantOrigin;
  scope: string[];
  createdAt: EpochSeconds;
}

/** A token to be written: its key (core/tokens.ts tokenKey, never the plaintext) and its lifetime. */
export interface NewToken {
  hash: Buffer;
  scope: string[];
  issuedAt: EpochSeconds;
  /** Null: does not expire by time. */
  expiresAt: EpochSeconds | null;
}

export interface NewAccessToken extends NewToken {
  expiresAt: EpochSeconds;
}

/** An access token as bearer validation sees it, joined with its grant and user. */
export interface AccessTokenRecord {
  grantId: string;
  clientId: string;
  /** Null (and username null) for a token issued to the client itself (client_credentials). */
  userId: number | null;
  username: string | null;
  /** True when there is no user. */
  userIsActive: boolean;
  /** False when there is no user. Read with the token, so the admin API judges the user as it is now. */
  userIsAdmin: boolean;
  scope: string[];
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds;
  /** Set when the token itself or its whole grant was revoked. */
  revokedAt: EpochSeconds | null;
}

/** A refresh token as the refresh grant sees it, joined with its grant and user. */
export interface RefreshTokenRecord {
  grantId: string;
  clientId: string;
  userId: number | null;
  username: string | null;
  userIsActive: boolean;
  /** How the grant began (null: imported, unknown) and when: the absolute refresh lifetime counts from it. */
  grantType: GrantOrigin | null;
  grantCreatedAt: EpochSeconds;
  scope: string[];
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds | null;
  /** Set once the token has been exchanged (rotated). A second use is reuse. */
  usedAt: EpochSeconds | null;
  /** Set when the token itself or its whole grant was revoked. */
  revokedAt: EpochSeconds | null;
  /**
   * For a used token exchanged while a grace window was on: the response it was exchanged for, encrypted
   * under a key derived from this token, and whether that successor refresh token is still unused and live.
   */
  successor: { response: Buffer; live: boolean } | null;
}

/** What the token endpoint returns on success (RFC 6749 §5.1). Plaintext tokens: returned once. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
  token_type: 'Bearer';
}

/** The answer to client_credentials: no refresh token (RFC 6749 §4.4.3: it SHOULD NOT be included). */
export type AccessTokenResponse = Omit<TokenResponse, 'refresh_token'>;

/** What bearer validation yields for a valid access token (RFC 6750). */
export interface Principal {
  clientId: string;
  /** Null for a token issued to the client itself (client_credentials): no user. */
  userId: number | null;
  username: string | null;
  /** The user is an admin now (false without a user); set by the core's validator, absent in the kit's. */
  userIsAdmin?: boolean;
  scope: string[];
  grantId: string;
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds;
}

/** A live grant of a user, as `oauthd user sessions` lists it. */
export interface UserGrant {
  grantId: string;
  clientId: string;
  scope: string[];
  createdAt: EpochSeconds;
  /** When the latest token of the grant was issued (its latest refresh). */
  lastUsedAt: EpochSeconds;
}

/** What a brute-force lockout is keyed on: a username (any IP), a username from one IP, an IP, a client from one IP. */
export type LockoutKind = 'user' | 'user_ip' | 'ip' | 'client_ip';

/** One subject locked out by the login throttle. `ipKey` is the throttle's IP key (an IPv6 address's /64). */
export interface LockoutSubject {
  kind: LockoutKind;
  username: string | null;
  clientId: string | null;
  ipKey: string | null;
}

/** A lockout as the store records it when it starts; cleared early by `oauthd lockout clear`. */
export interface Lockout extends LockoutSubject {
  id: number;
  startedAt: EpochSeconds;
  until: EpochSeconds;
  clearedAt: EpochSeconds | null;
}

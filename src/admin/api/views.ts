import type { Consent, ListedBrowserSession } from '../../core/authorization-ports.js';
import type { AuditEvent } from '../../core/ports.js';
import type { Client, EpochSeconds, Lockout, User, UserGrant } from '../../core/types.js';
import type { Schema } from './input.js';

/**
 * What the admin API answers, snake_case at the wire. A client's policy is flat, in the same names its
 * create and PATCH bodies take, so a GET can be edited and sent back as a PATCH (read-only fields apart).
 */
export const iso = (epochSeconds: EpochSeconds): string => new Date(epochSeconds * 1000).toISOString();

const day = (epochSeconds: EpochSeconds): string => iso(epochSeconds).slice(0, 10);

/** A client: never its secret hash. Null policy fields follow the server's settings. */
export function clientView(client: Client) {
  const { policy } = client;
  const sunset = policy.passwordGrantSunset;
  return {
    client_id: client.clientId,
    name: client.name,
    client_type: client.isPublic ? 'public' : 'confidential',
    grant_types: client.grantTypes,
    scopes: client.scopes,
    default_scopes: client.defaultScopes ?? null,
    can_introspect: client.canIntrospect,
    access_token_ttl: policy.accessTokenTtlSeconds,
    refresh_token_ttl: policy.refreshAbsoluteTtlSeconds,
    refresh_idle_ttl: policy.refreshIdleTtlSeconds,
    refresh_grace: policy.refreshGraceSeconds,
    allowed_networks: policy.allowedNetworks,
    rate_limit: policy.rateLimitPerMinute,
    password_grant_sunset: sunset === null ? null : day(sunset.at),
    password_grant_sunset_announced_at: sunset === null ? null : iso(sunset.announcedAt),
    revoke_password_grants: sunset?.revokeGrants ?? false,
    redirect_uris: policy.redirectUris ?? [],
    skip_consent: policy.skipConsent === true,
    pkce: policy.pkce ?? 'S256',
    created_at: iso(client.createdAt),
    version: client.version ?? 0,
  };
}

/** A user: never its password hash. */
export const userView = (user: User) => ({
  id: user.id,
  username: user.username,
  is_active: user.isActive,
  is_admin: user.isAdmin,
  has_usable_password: user.passwordHash !== null,
  created_at: iso(user.createdAt),
  updated_at: iso(user.updatedAt),
  version: user.version,
});

export const grantView = (g: UserGrant) => ({
  grant_id: g.grantId,
  client_id: g.clientId,
  scope: g.scope.join(' '),
  created_at: iso(g.createdAt),
  last_used_at: iso(g.lastUsedAt),
});

export const signInView = (s: ListedBrowserSession) => ({
  id: s.id,
  created_at: iso(s.createdAt),
  expires_at: iso(s.expiresAt),
});

export const consentView = (c: Consent) => ({
  client_id: c.clientId,
  scope: c.scope.join(' '),
  created_at: iso(c.createdAt),
  updated_at: iso(c.updatedAt),
});

export const lockoutView = (l: Lockout) => ({
  id: l.id,
  subject: l.kind,
  username: l.username,
  client_id: l.clientId,
  ip: l.ipKey,
  started_at: iso(l.startedAt),
  until: iso(l.until),
});

/** An audit event: its columns, and every other field (`actor` of admin actions among them) in `detail`. */
export const auditEventView = (e: AuditEvent) => ({
  id: e.id ?? null,
  at: iso(e.at),
  event: e.event,
  client_id: e.clientId,
  user_id: e.userId,
  username: e.username,
  grant_id: e.grantId,
  ip: e.ip,
  detail: JSON.parse(e.detail) as Record<string, unknown>,
});

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const strings = (description: string): Schema => ({ type: 'array', items: { type: 'string' }, description });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });

/** The response schemas (components.schemas of the OpenAPI document). */
export const VIEW_SCHEMAS: Record<string, Schema> = {
  Client: {
    type: 'object',
    properties: {
      client_id: str('The client identifier (RFC 6749 §2.2).'),
      name: str('A name for people.'),
      client_type: str('RFC 6749 §2.1.', { enum: ['confidential', 'public'] }),
      grant_types: strings('The grant types it may use.'),
      scopes: strings('The scopes it may be granted.'),
      default_scopes: { type: ['array', 'null'], items: { type: 'string' }, description: "null: the server's." },
      can_introspect: { type: 'boolean', description: "A resource server: may introspect every client's tokens." },
      access_token_ttl: { type: ['integer', 'null'], description: 'Seconds; null: OAUTHD_ACCESS_TOKEN_TTL.' },
      refresh_token_ttl: { type: ['integer', 'null'], description: 'Seconds from first issue; null: the server.' },
      refresh_idle_ttl: { type: ['integer', 'null'], description: "Each refresh token's lifetime; null: the server." },
      refresh_grace: { type: ['integer', 'null'], description: 'The refresh grace window; null: the server.' },
      allowed_networks: { type: ['array', 'null'], items: { type: 'string' }, description: 'CIDRs; null: any.' },
      rate_limit: { type: ['integer', 'null'], description: 'Token requests per minute; null: no limit of its own.' },
      password_grant_sunset: { type: ['string', 'null'], format: 'date', description: 'YYYY-MM-DD or null.' },
      password_grant_sunset_announced_at: { type: ['string', 'null'], format: 'date-time', readOnly: true },
      revoke_password_grants: { type: 'boolean', description: 'From the sunset on, its password grants end too.' },
      redirect_uris: strings('Where its authorization codes may go (RFC 6749 §3.1.2), compared exactly.'),
      skip_consent: { type: 'boolean', description: 'First-party: its users are not asked to consent.' },
      pkce: str('RFC 7636 for its authorization requests.', { enum: ['S256', 'S256 plain', 'optional'] }),
      created_at: time('When it was registered.'),
      version: { type: 'integer', readOnly: true, description: 'Bumped by every change; the ETag is `"<version>"`.' },
    },
  },
  User: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      username: str('Unique.'),
      is_active: { type: 'boolean', description: 'false: disabled (no login, every token revoked).' },
      is_admin: { type: 'boolean', description: 'May hold the admin scopes and sign in to the console.' },
      has_usable_password: { type: 'boolean' },
      created_at: time('When it was created.'),
      updated_at: time('Its last administrative change.'),
      version: { type: 'integer', readOnly: true, description: 'Bumped by every change; the ETag is `"<version>"`.' },
      live_grants: { type: 'integer', description: 'Shown by GET /users/{username} only: its live grants.' },
    },
  },
  Grant: {
    type: 'object',
    properties: {
      grant_id: str('The grant (one login and every token refreshed from it).'),
      client_id: str('The client it was issued to.'),
      scope: str('Space-separated.'),
      created_at: time('When the login happened.'),
      last_used_at: time('Its latest refresh.'),
    },
  },
  Lockout: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      subject: str('What is locked out.', { enum: ['user', 'user_ip', 'ip', 'client_ip'] }),
      username: { type: ['string', 'null'] },
      client_id: { type: ['string', 'null'] },
      ip: { type: ['string', 'null'], description: 'An IPv4 address, or an IPv6 /64.' },
      started_at: time('When it started.'),
      until: time('When it ends by itself.'),
    },
  },
  AuditEvent: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      at: time('When it happened.'),
      event: str('`noun.verb`, e.g. client.updated (docs/security.md, "The audit trail").'),
      client_id: { type: ['string', 'null'] },
      user_id: { type: ['integer', 'null'] },
      username: { type: ['string', 'null'] },
      grant_id: { type: ['string', 'null'] },
      ip: { type: ['string', 'null'] },
      detail: { type: 'object', description: 'Every other field; `actor` for administrative acts. Never a secret.' },
    },
  },
};

import type { ClientPolicyInput } from '../../core/admin/client-policy.js';
import type { CreateClientInput, UpdateClientInput } from '../../core/admin/clients.js';
import type { Schema } from './input.js';

const seconds = (description: string, least: number, most: number): Schema => ({
  type: ['integer', 'null'],
  minimum: least,
  maximum: most,
  description: `${description} Seconds, ${least}-${most}; null: the server's setting.`,
});

/** The fields a client's create and PATCH bodies share: its scopes, grants and policy (docs/clients.md). */
export const CLIENT_FIELDS: Record<string, Schema> = {
  name: { type: 'string', minLength: 1, maxLength: 200, description: 'A name for people.' },
  grant_types: {
    type: 'array',
    maxItems: 10,
    items: { type: 'string' },
    description:
      'password, client_credentials (confidential clients only), refresh_token, authorization_code (needs ' +
      'redirect_uris), urn:ietf:params:oauth:grant-type:device_code (or device_code).',
  },
  scopes: { type: 'array', maxItems: 100, items: { type: 'string' }, description: 'The scopes it may be granted.' },
  default_scopes: {
    type: ['array', 'null'],
    maxItems: 100,
    items: { type: 'string' },
    description: "What a request without `scope` gets, among its scopes; null: the server's default scopes.",
  },
  access_token_ttl: seconds("Its access tokens' lifetime.", 1, 86_400),
  refresh_token_ttl: seconds('How long a grant may be refreshed at all, from its first issue.', 1, 315_360_000),
  refresh_idle_ttl: seconds("Each refresh token's own lifetime.", 1, 315_360_000),
  refresh_grace: seconds('The refresh grace window.', 0, 60),
  allowed_networks: {
    type: ['array', 'null'],
    maxItems: 100,
    items: { type: 'string' },
    description: 'IPv4/IPv6 addresses or CIDR blocks its token requests may come from; null: anywhere.',
  },
  rate_limit: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: 1_000_000,
    description: 'Token-endpoint requests per minute; null: no limit of its own.',
  },
  password_grant_sunset: {
    type: ['string', 'null'],
    format: 'date',
    description: 'YYYY-MM-DD: from 00:00 UTC that day its password grant is refused; null: no sunset.',
  },
  revoke_password_grants: {
    type: 'boolean',
    description: 'From the sunset on, its grants that began with a password end too (needs a sunset).',
  },
  redirect_uris: {
    type: 'array',
    maxItems: 50,
    items: { type: 'string' },
    description: 'Where its authorization codes may go, compared exactly; replaces the list ([]: none).',
  },
  skip_consent: { type: 'boolean', description: 'A first-party client: its users are not asked to consent.' },
  pkce: {
    type: ['string', 'null'],
    enum: ['S256', 'S256 plain', 'optional', null],
    description: 'RFC 7636: S256 (null: the default), "S256 plain", or optional (confidential clients only).',
  },
};

/** POST /clients: the shared fields and what is chosen only at creation. */
export const CREATE_FIELDS: Record<string, Schema> = {
  ...CLIENT_FIELDS,
  client_id: {
    type: 'string',
    minLength: 1,
    maxLength: 100,
    description: 'Keep an existing client id (default: generated).',
  },
  client_secret: {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    description: 'Keep an existing secret (stored with argon2id, never shown again); default: generated, shown once.',
  },
  client_type: { type: 'string', enum: ['confidential', 'public'], description: 'Default: confidential.' },
  can_introspect: {
    type: 'boolean',
    description: "A resource server: may introspect every client's tokens (confidential clients only).",
  },
};

type Body = Record<string, unknown>;

const text = (value: unknown, none: string): string | undefined =>
  value === undefined ? undefined : value === null ? none : String(value);

const list = (value: unknown): string[] | undefined => (value === undefined ? undefined : (value as string[]));

/**
 * The policy fields in the core's terms (the CLI's strings): null goes back to the server's setting
 * (`default`, `any`, `none`), an empty redirect list clears it (`none`).
 */
function policyOf(body: Body): ClientPolicyInput {
  const uris = list(body.redirect_uris);
  const networks = body.allowed_networks;
  return {
    accessTokenTtl: text(body.access_token_ttl, 'default'),
    refreshTokenTtl: text(body.refresh_token_ttl, 'default'),
    refreshIdleTtl: text(body.refresh_idle_ttl, 'default'),
    refreshGrace: text(body.refresh_grace, 'default'),
    // An empty list would be refused by the core as no network at all: say "anywhere" with null.
    allowedNetworks: networks === undefined ? undefined : networks === null ? 'any' : (networks as string[]).join(','),
    rateLimit: text(body.rate_limit, 'default'),
    passwordGrantSunset: text(body.password_grant_sunset, 'none'),
    revokePasswordGrants: body.revoke_password_grants as boolean | undefined,
    redirectUris: uris === undefined ? undefined : uris.length === 0 ? ['none'] : uris,
    skipConsent: body.skip_consent as boolean | undefined,
    pkce: text(body.pkce, 'default'),
  };
}

const scopeText = (value: unknown): string | undefined =>
  value === undefined ? undefined : (value as string[]).join(' ');

export function updateInputOf(body: Body): UpdateClientInput {
  return {
    name: body.name as string | undefined,
    scopes: scopeText(body.scopes),
    // '' goes back to the server's default scopes (core/admin/clients.ts).
    defaultScopes: body.default_scopes === null ? '' : scopeText(body.default_scopes),
    grantTypes: list(body.grant_types),
    policy: policyOf(body),
  };
}

export function createInputOf(body: Body): CreateClientInput {
  return {
    name: (body.name as string | undefined) ?? '',
    clientId: body.client_id as string | undefined,
    clientSecret: body.client_secret as string | undefined,
    grantTypes: list(body.grant_types),
    scopes: scopeText(body.scopes),
    isPublic: body.client_type === 'public',
    canIntrospect: body.can_introspect as boolean | undefined,
    defaultScopes: body.default_scopes === null ? undefined : scopeText(body.default_scopes),
    policy: policyOf(body),
  };
}

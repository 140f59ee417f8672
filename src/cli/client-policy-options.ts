import type { Command } from 'commander';
import type { ClientPolicyInput } from '../core/admin/client-policy.js';
import type { Client, ClientPolicy } from '../core/types.js';

/** The per-client policy options of `client create` and `client update` (docs/clients.md, "Per-client policy"). */
export interface PolicyOptions {
  accessTokenTtl?: string;
  refreshTokenTtl?: string;
  refreshIdleTtl?: string;
  refreshGrace?: string;
  allowedNetworks?: string;
  rateLimit?: string;
  passwordGrantSunset?: string;
  revokePasswordGrants?: boolean;
  redirectUri?: string[];
  skipConsent?: boolean;
  pkce?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds the policy options to a command; each lifetime accepts `default` (back to the server's setting). */
export function withPolicyOptions(command: Command): Command {
  return command
    .option(
      '--access-token-ttl <seconds>',
      'its access tokens\' lifetime, 1-86400 ("default": OAUTHD_ACCESS_TOKEN_TTL)',
    )
    .option(
      '--refresh-token-ttl <seconds>',
      'how long a grant may be refreshed at all, from its first issue ("default": OAUTHD_REFRESH_ABSOLUTE_TTL)',
    )
    .option('--refresh-idle-ttl <seconds>', 'each refresh token\'s own lifetime ("default": OAUTHD_REFRESH_TOKEN_TTL)')
    .option('--refresh-grace <seconds>', 'refresh grace window, 0-60 ("default": OAUTHD_REFRESH_GRACE_SECONDS)')
    .option(
      '--allowed-networks <cidrs>',
      'comma-separated IPv4/IPv6 addresses or CIDR blocks its requests may come from ("any": anywhere)',
    )
    .option('--rate-limit <per-minute>', 'token-endpoint requests per minute ("default": no limit of its own)')
    .option(
      '--password-grant-sunset <date>',
      'YYYY-MM-DD: from 00:00 UTC that day its password grant is refused; until then answers announce it ("none" ' +
        'clears it)',
    )
    .option(
      '--revoke-password-grants',
      'from the sunset on, also end its grants that began with a password (at once when the date is past)',
    )
    .option(
      '--redirect-uri <uri>',
      'where its authorization codes may be sent, compared exactly; repeat for several (update: replaces the ' +
        'list; "none" clears it): https, http on 127.0.0.1/[::1]/localhost, or a reverse-domain scheme ' +
        '(com.example.app:/cb)',
      collect,
    )
    .option('--skip-consent', 'a first-party client: its users are not asked to consent')
    .option('--no-skip-consent', 'its users are asked to consent (the default)')
    .option(
      '--pkce <methods>',
      'PKCE for its authorization requests: S256 (the default), "S256,plain", or optional (confidential clients ' +
        'only); "default": S256',
    );
}

export const policyInput = (o: PolicyOptions): ClientPolicyInput => ({
  accessTokenTtl: o.accessTokenTtl,
  refreshTokenTtl: o.refreshTokenTtl,
  refreshIdleTtl: o.refreshIdleTtl,
  refreshGrace: o.refreshGrace,
  allowedNetworks: o.allowedNetworks,
  rateLimit: o.rateLimit,
  passwordGrantSunset: o.passwordGrantSunset,
  revokePasswordGrants: o.revokePasswordGrants,
  redirectUris: o.redirectUri,
  skipConsent: o.skipConsent,
  pkce: o.pkce,
});

const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** The policy as `client show --json` prints it; null: the server's setting. */
export function policyView(policy: ClientPolicy) {
  const sunset = policy.passwordGrantSunset;
  return {
    access_token_ttl: policy.accessTokenTtlSeconds,
    refresh_token_ttl: policy.refreshAbsoluteTtlSeconds,
    refresh_idle_ttl: policy.refreshIdleTtlSeconds,
    refresh_grace: policy.refreshGraceSeconds,
    allowed_networks: policy.allowedNetworks,
    rate_limit_per_minute: policy.rateLimitPerMinute,
    password_grant_sunset:
      sunset === null
        ? null
        : {
            date: day(sunset.at),
            announced_at: new Date(sunset.announcedAt * 1000).toISOString(),
            revoke_grants: sunset.revokeGrants,
          },
    redirect_uris: policy.redirectUris ?? [],
    skip_consent: policy.skipConsent === true,
    pkce: policy.pkce ?? 'S256',
  };
}

const PKCE_TEXT = {
  S256: 'required, S256',
  'S256 plain': 'required, S256 or plain',
  optional: 'optional (a confidential client may leave it out)',
} as const;

const or = (value: number | null, unit: string, server: string) =>
  value === null ? `(server: ${server})` : `${value} ${unit}`;

/** The policy as `client show` prints it, one line each. */
export function describePolicy({ policy }: Client): string[] {
  const sunset = policy.passwordGrantSunset;
  return [
    `access-token ttl:  ${or(policy.accessTokenTtlSeconds, 's', 'OAUTHD_ACCESS_TOKEN_TTL')}`,
    `refresh idle ttl:  ${or(policy.refreshIdleTtlSeconds, 's', 'OAUTHD_REFRESH_TOKEN_TTL')}`,
    `refresh token ttl: ${or(policy.refreshAbsoluteTtlSeconds, 's from first issue', 'OAUTHD_REFRESH_ABSOLUTE_TTL')}`,
    `refresh grace:     ${or(policy.refreshGraceSeconds, 's', 'OAUTHD_REFRESH_GRACE_SECONDS')}`,
    `allowed networks:  ${policy.allowedNetworks === null ? 'any' : policy.allowedNetworks.join(', ')}`,
    `rate limit:        ${policy.rateLimitPerMinute === null ? 'none' : `${policy.rateLimitPerMinute} per minute`}`,
    `password sunset:   ${
      sunset === null
        ? 'none'
        : `${day(sunset.at)} (announced ${day(sunset.announcedAt)}` +
          `${sunset.revokeGrants ? '; its password grants are revoked then' : ''})`
    }`,
    `redirect URIs:     ${policy.redirectUris?.length ? policy.redirectUris.join(' ') : 'none'}`,
    `skip consent:      ${policy.skipConsent === true ? 'yes (first-party: users are not asked)' : 'no'}`,
    `PKCE:              ${PKCE_TEXT[policy.pkce ?? 'S256']}`,
  ];
}

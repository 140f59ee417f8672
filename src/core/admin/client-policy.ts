import { MAX_REFRESH_GRACE_SECONDS } from '../policy.js';
import { parseNetworkList } from '../networks.js';
import type { ClientPolicy, EpochSeconds } from '../types.js';
import { MAX_REDIRECT_URIS, quoteUri, redirectUriProblem } from './redirect-uris.js';
import { AdminError } from './validation.js';

/**
 * A client's policy as the operator gives it (`oauthd client create|update`): strings as typed, each left out
 * when not given. `default` (a lifetime, the grace window, the rate limit), `any` (networks) and `none` (the
 * sunset) go back to the server's setting.
 */
export interface ClientPolicyInput {
  /** Seconds, 1-86400: `expires_in` of its access tokens. */
  accessTokenTtl?: string | undefined;
  /** Seconds: how long a grant may be refreshed at all, from its first issue (OAUTHD_REFRESH_ABSOLUTE_TTL). */
  refreshTokenTtl?: string | undefined;
  /** Seconds: each refresh token's own lifetime (OAUTHD_REFRESH_TOKEN_TTL). */
  refreshIdleTtl?: string | undefined;
  /** Seconds, 0-60: the refresh grace window (OAUTHD_REFRESH_GRACE_SECONDS). */
  refreshGrace?: string | undefined;
  /** Comma-separated CIDR blocks, IPv4 and IPv6. */
  allowedNetworks?: string | undefined;
  /** Token-endpoint requests per minute, 1-1000000. */
  rateLimit?: string | undefined;
  /** YYYY-MM-DD: from 00:00 UTC that day the password grant is refused. */
  passwordGrantSunset?: string | undefined;
  /** From the sunset on, refresh tokens of grants that began with a password stop working too. */
  revokePasswordGrants?: boolean | undefined;
  /** Where its authorization codes may go: replaces the list; `['none']` clears it. */
  redirectUris?: string[] | undefined;
  /** True: its users are not asked to consent (a first-party client); false: they are. */
  skipConsent?: boolean | undefined;
  /** `S256`, `S256,plain`, `optional` or `default`. */
  pkce?: string | undefined;
}

const MAX_LIFETIME = 315_360_000; // ten years, the bound of the server's own lifetime settings

/** What each lifetime-like field accepts: [field, flag, least, most]. */
const NUMBERS = [
  ['accessTokenTtlSeconds', 'accessTokenTtl', '--access-token-ttl', 1, 86_400],
  ['refreshAbsoluteTtlSeconds', 'refreshTokenTtl', '--refresh-token-ttl', 1, MAX_LIFETIME],
  ['refreshIdleTtlSeconds', 'refreshIdleTtl', '--refresh-idle-ttl', 1, MAX_LIFETIME],
  ['refreshGraceSeconds', 'refreshGrace', '--refresh-grace', 0, MAX_REFRESH_GRACE_SECONDS],
  ['rateLimitPerMinute', 'rateLimit', '--rate-limit', 1, 1_000_000],
] as const;

/** The admin API's name of the field a flag sets: `--access-token-ttl` → `access_token_ttl`. */
const fieldOf = (flag: string): string => flag.replace(/^--/, '').replaceAll('-', '_');

/** Whether any policy field was given. */
export const givesPolicy = (input: ClientPolicyInput): boolean =>
  Object.values(input).some((value) => value !== undefined);

function wholeNumber(value: string, flag: string, least: number, most: number): number | null {
  const text = value.trim();
  if (text === 'default') return null;
  if (!/^\d{1,10}$/.test(text) || Number(text) < least || Number(text) > most) {
    const unit = flag === '--rate-limit' ? 'requests per minute' : 'seconds';
    throw new AdminError(
      `${flag} must be a whole number of ${unit} from ${least} to ${most}, or "default"; got ${JSON.stringify(value)}`,
      { field: fieldOf(flag) },
    );
  }
  return Number(text);
}

/** 00:00 UTC of a YYYY-MM-DD day, in epoch seconds; an AdminError for anything else (2027-02-30 included). */
export function sunsetDay(value: string): EpochSeconds {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  // The month's length: from its first day to the next month's (Date.UTC rolls month 12 over to January).
  const length = month >= 1 && month <= 12 ? (Date.UTC(year, month, 1) - Date.UTC(year, month - 1, 1)) / 86_400_000 : 0;
  if (!match || year < 1970 || day < 1 || day > length) {
    throw new AdminError(`--password-grant-sunset must be a date YYYY-MM-DD or "none"; got ${JSON.stringify(value)}`, {
      field: 'password_grant_sunset',
    });
  }
  return Date.UTC(year, month - 1, day) / 1000;
}

/**
 * The policy changes the input asks for, every field checked first (a bad one throws an AdminError and
 * nothing is changed). `current` is the client's policy (none at creation); `now` dates an announced sunset.
 */
export function checkPolicyInput(
  input: ClientPolicyInput,
  current: ClientPolicy | null,
  now: EpochSeconds,
): Partial<ClientPolicy> {
  const changes: Partial<ClientPolicy> = {};
  for (const [field, key, flag, least, most] of NUMBERS) {
    const value = input[key];
    if (value !== undefined) changes[field] = wholeNumber(value, flag, least, most);
  }
  if (input.allowedNetworks !== undefined) {
    if (input.allowedNetworks.trim() === 'any') changes.allowedNetworks = null;
    else {
      const parsed = parseNetworkList(input.allowedNetworks);
      if ('invalid' in parsed) {
        throw new AdminError(
          `--allowed-networks: ${JSON.stringify(parsed.invalid)} is not an IPv4 or IPv6 address or CIDR block ` +
            '(e.g. 192.0.2.0/24, 2001:db8::/32), nor "any"',
          { field: 'allowed_networks' },
        );
      }
      changes.allowedNetworks = parsed.networks;
    }
  }
  const sunset = checkSunset(input, current?.passwordGrantSunset ?? null, now);
  if (sunset !== undefined) changes.passwordGrantSunset = sunset;
  if (input.redirectUris !== undefined) changes.redirectUris = checkRedirectUris(input.redirectUris);
  // Null, not false, for "asked": one stored form for the default, so a re-import sees no change.
  if (input.skipConsent !== undefined) changes.skipConsent = input.skipConsent ? true : null;
  if (input.pkce !== undefined) changes.pkce = checkPkce(input.pkce);
  return changes;
}

const URIS = { field: 'redirect_uris' };

/** The redirect URIs to register: each one checked (redirect-uris.ts), duplicates dropped; `none`: null. */
export function checkRedirectUris(given: string[]): string[] | null {
  const uris = [...new Set(given.map((u) => u.trim()))];
  if (uris.length === 1 && uris[0] === 'none') return null;
  if (uris.includes('none')) throw new AdminError('--redirect-uri none clears the list: give it alone', URIS);
  if (uris.length > MAX_REDIRECT_URIS) {
    throw new AdminError(`at most ${MAX_REDIRECT_URIS} redirect URIs per client; got ${uris.length}`, URIS);
  }
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem !== null) throw new AdminError(`--redirect-uri ${quoteUri(uri)} is refused: ${problem}`, URIS);
  }
  return uris;
}

/**
 * RFC 7636 for the client's authorization requests. S256 is always accepted (§4.2: mandatory to implement);
 * `plain` only alongside it, for clients that cannot hash (§4.2, "MUST NOT" otherwise: RFC 9700 §2.1.1).
 */
function checkPkce(value: string): ClientPolicy['pkce'] {
  const methods = [...new Set(value.split(/[,\s]+/).filter((m) => m !== ''))].sort();
  const joined = methods.join(',');
  if (joined === 'default') return null;
  if (joined === 'S256') return 'S256';
  if (joined === 'S256,plain') return 'S256 plain';
  if (joined === 'optional') return 'optional';
  throw new AdminError(`--pkce must be S256, "S256,plain", optional or default; got ${JSON.stringify(value)}`, {
    field: 'pkce',
  });
}

const REVOKE = { field: 'revoke_password_grants' };

function checkSunset(
  input: ClientPolicyInput,
  current: ClientPolicy['passwordGrantSunset'],
  now: EpochSeconds,
): ClientPolicy['passwordGrantSunset'] | undefined {
  const { passwordGrantSunset: day, revokePasswordGrants: revoke } = input;
  if (day !== undefined && day.trim() === 'none') {
    if (revoke)
      throw new AdminError('--revoke-password-grants needs a --password-grant-sunset date, not "none"', REVOKE);
    return null;
  }
  if (day === undefined) {
    if (!revoke) return undefined;
    if (current === null) throw new AdminError('--revoke-password-grants needs a --password-grant-sunset date', REVOKE);
    return { ...current, revokeGrants: true };
  }
  const at = sunsetDay(day);
  // Setting the same day again keeps when it was announced (the Deprecation date, RFC 9745) and its revocation.
  if (current !== null && current.at === at) return { ...current, revokeGrants: revoke || current.revokeGrants };
  // A new date is a new announcement; whether grants end with it stays as chosen (`none` resets everything).
  return { at, announcedAt: now, revokeGrants: revoke || (current?.revokeGrants ?? false) };
}

/** The audit fields of policy changes: the names changed and each new value (null: the server's setting). */
export function policyAuditFields(changes: Partial<ClientPolicy>): Record<string, string | number | boolean | null> {
  const fields: Record<string, string | number | boolean | null> = {};
  const names = Object.keys(changes);
  if (names.length === 0) return fields;
  fields.policy_changed = names.join(' ');
  for (const [name, value] of Object.entries(changes)) {
    if (name === 'passwordGrantSunset') {
      const sunset = value as ClientPolicy['passwordGrantSunset'];
      fields.password_grant_sunset_at = sunset === null ? null : sunset.at;
      fields.revoke_password_grants = sunset?.revokeGrants ?? false;
    } else if (name === 'allowedNetworks') {
      fields.allowed_networks = value === null ? null : (value as string[]).join(',');
    } else if (name === 'redirectUris') {
      fields.redirect_uris = value === null ? null : (value as string[]).join(' ');
    } else {
      fields[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value as number | null;
    }
  }
  return fields;
}

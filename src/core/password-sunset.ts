import { invalidGrant, OAuthError } from './errors.js';
import { epochSeconds, type Clock, type EventSink, type TokenStore } from './ports.js';
import type { Client, EpochSeconds, GrantType, RefreshTokenRecord } from './types.js';

/**
 * What a token answer tells its client about the end of its password grant; the HTTP adapter turns it into
 * `Deprecation` (RFC 9745 §2), `Sunset` (RFC 8594 §3) and, with a link, `Link: <…>; rel="sunset"` (RFC 8594
 * §3.1). Plain data: the core knows no header.
 */
export interface SunsetAdvisory {
  /** When the sunset was announced (the Deprecation date). */
  deprecatedAt: EpochSeconds;
  /** When the password grant ends (the Sunset date). */
  sunsetAt: EpochSeconds;
  /** The operator's migration page (OAUTHD_PASSWORD_GRANT_SUNSET_LINK), or null. */
  link: string | null;
}

/** Receives the advisories of one token request, before its answer (success or error) is sent. */
export type AdviseSink = (advisory: SunsetAdvisory) => void;

export interface PasswordSunsetDeps {
  clock: Clock;
  events: EventSink;
  store: Pick<TokenStore, 'revokeGrant'>;
  /** OAUTHD_PASSWORD_GRANT_SUNSET_LINK; absent or null: no Link header. */
  passwordGrantSunsetLink?: string | null;
}

const INSTEAD =
  'The password grant has ended for this client. Use grant_type=client_credentials for a service, or the ' +
  'authorization code flow for people.';

/**
 * The password grant of a client whose sunset is set: the advisory on every answer once the client is
 * authenticated, and from the sunset on, RFC 6749 §5.2 unauthorized_client ("not authorized to use this
 * authorization grant type"), its description naming what to use instead.
 */
export function checkPasswordSunset(
  deps: PasswordSunsetDeps,
  client: Client,
  grantType: GrantType,
  context: { clientIp: string; advise: AdviseSink | undefined },
): void {
  const sunset = client.policy.passwordGrantSunset;
  if (grantType !== 'password' || !sunset) return;
  context.advise?.(advisoryOf(deps, sunset));
  const now = epochSeconds(deps.clock.nowMs());
  if (now < sunset.at) return;
  deps.events.emit('client.password_grant_refused', {
    client_id: client.clientId,
    grant_type: 'password',
    ip: context.clientIp,
    reason: 'password grant sunset',
  });
  throw new OAuthError('unauthorized_client', INSTEAD, 'password grant after its sunset');
}

/**
 * A refresh of a grant that began with a password, for a client whose sunset is set: the advisory, and from
 * the sunset on with `revokeGrants`, the grant revoked and RFC 6749 §5.2 invalid_grant (the refresh token is
 * no longer valid). Without `revokeGrants`, refresh tokens already issued keep working until their own
 * lifetime ends them.
 */
export async function checkRefreshSunset(
  deps: PasswordSunsetDeps,
  client: Client,
  record: RefreshTokenRecord,
  context: { clientIp: string; advise: AdviseSink | undefined },
): Promise<void> {
  const sunset = client.policy.passwordGrantSunset;
  if (record.grantType !== 'password' || !sunset) return;
  context.advise?.(advisoryOf(deps, sunset));
  const now = epochSeconds(deps.clock.nowMs());
  if (!sunset.revokeGrants || now < sunset.at || record.revokedAt !== null) return;
  await deps.store.revokeGrant(record.grantId, now);
  const who = { client_id: client.clientId, user_id: record.userId, username: record.username };
  deps.events.emit('grant.revoked', {
    ...who,
    grant_id: record.grantId,
    via: 'password_grant_sunset',
    ip: context.clientIp,
  });
  deps.events.emit('client.password_grant_refused', {
    client_id: client.clientId,
    grant_type: 'refresh_token',
    user_id: record.userId,
    username: record.username,
    grant_id: record.grantId,
    ip: context.clientIp,
    reason: 'password grant sunset: grant revoked',
  });
  throw invalidGrant(
    'The refresh token is no longer valid: the password grant has ended for this client.',
    'refresh of a password grant after its sunset: grant revoked',
  );
}

function advisoryOf(deps: PasswordSunsetDeps, sunset: NonNullable<Client['policy']['passwordGrantSunset']>) {
  return { deprecatedAt: sunset.announcedAt, sunsetAt: sunset.at, link: deps.passwordGrantSunsetLink ?? null };
}

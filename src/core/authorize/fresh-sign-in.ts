import type { BrowserSession } from '../authorization-ports.js';
import type { Client, EpochSeconds } from '../types.js';

/**
 * How old a sign-in may be when the console's built-in client asks for a code. The console skips consent and is
 * a public client, and its callback is an address a local program can take (the SSH tunnel's port while the
 * tunnel is down): were the login page's long session (OAUTHD_SESSION_TTL) enough, such a program could open the
 * browser at its own authorize URL and get an admin code with no page shown. So the password is asked for each
 * console sign-in, as OpenID Connect's `max_age=0` would (OIDC Core §3.1.2.1); the window only covers the login
 * form's 303 to the authorize GET that follows it at once.
 */
export const FRESH_SIGN_IN_SECONDS = 15;

/**
 * True when this sign-in session is too old to issue a code to `client`: the login page must be shown again, as
 * if no one were signed in. Only built-in clients ask it; every other client keeps the session's single sign-on.
 */
export function needsFreshSignIn(
  client: Pick<Client, 'builtIn'>,
  session: Pick<BrowserSession, 'createdAt'>,
  now: EpochSeconds,
): boolean {
  return client.builtIn === true && now - session.createdAt > FRESH_SIGN_IN_SECONDS;
}

import { ADMIN_SCOPES } from './admin-scopes.js';
import { type Client, SERVER_POLICY } from './types.js';

/** The console's client id: reserved, no stored client may take it. */
export const CONSOLE_CLIENT_ID = 'oauthd-console';
/** Where the console receives its authorization code, on the admin listener. */
export const CONSOLE_CALLBACK_PATH = '/console/callback';

/**
 * The console's built-in client (RFC 6749 §2.1 public client, RFC 7636 S256 required): it signs admins in to
 * the console through the authorization code flow. Not stored, so not listed, changed or deleted by anyone; its
 * one redirect URI is the console's callback at `consoleOrigin` (OAUTHD_CONSOLE_URL, else the admin listener's
 * address), compared exactly — no loopback port freedom (RFC 8252 §7.3 does not apply: a program on another
 * local port must not receive its codes). It skips the consent page: it is the operator's own application
 * and asks only for the admin scopes, which only an admin user can hold. In exchange each of its sign-ins needs
 * the password typed on the login page for it (core/authorize/fresh-sign-in.ts): its callback may be a port on
 * the operator's laptop that another program can take. No refresh token: a console session lasts as long as
 * its access token, then the console signs in again.
 */
export function consoleClient(consoleOrigin: string): Client {
  return {
    clientId: CONSOLE_CLIENT_ID,
    name: 'oauthd console',
    secretHash: null,
    isPublic: true,
    grantTypes: ['authorization_code'],
    scopes: [...ADMIN_SCOPES],
    defaultScopes: [...ADMIN_SCOPES],
    canIntrospect: false,
    policy: {
      ...SERVER_POLICY,
      redirectUris: [`${consoleOrigin.replace(/\/+$/, '')}${CONSOLE_CALLBACK_PATH}`],
      skipConsent: true,
      pkce: 'S256',
    },
    createdAt: 0,
    builtIn: true,
  };
}

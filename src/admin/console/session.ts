import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminAccess, heldAdminScope } from '../../core/admin-scopes.js';
import { OAuthError } from '../../core/errors.js';
import type { Principal } from '../../core/types.js';
import { readCookie } from '../../http/pages/cookies.js';
import type { ConsoleContext, ConsoleSession } from './context.js';

/*
 * The console's cookies. The session cookie holds the access token of the console's own authorization code
 * flow: HttpOnly (no script reads it), SameSite=Strict (no other site's link or form carries it), Path=/console;
 * over https `__Host-` with Secure and Path=/ (bound to this origin: RFC 6265bis §4.1.3.2). The login cookie
 * holds the state and PKCE verifier of one sign-in between the redirect to the authorize endpoint and the
 * callback: SameSite=Lax, or it would not come back with the top-level redirect from the public listener.
 */

const SESSION = 'oauthd_console';
const LOGIN = 'oauthd_console_login';

export const sessionCookieName = (secure: boolean): string => (secure ? `__Host-${SESSION}` : SESSION);

export function sessionCookie(context: ConsoleContext, value: string, maxAgeSeconds: number): string {
  const secure = context.secure();
  const path = secure ? '/' : '/console';
  const parts = [`${sessionCookieName(secure)}=${value}`, `Path=${path}`, `Max-Age=${maxAgeSeconds}`];
  parts.push('HttpOnly', 'SameSite=Strict');
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

export function loginCookie(context: ConsoleContext, value: string, maxAgeSeconds: number): string {
  const parts = [`${LOGIN}=${value}`, 'Path=/console', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (context.secure()) parts.push('Secure');
  return parts.join('; ');
}

export const readLoginCookie = (request: FastifyRequest): string | null => readCookie(request.headers.cookie, LOGIN);

/** Fastify keeps several Set-Cookie headers of one reply as an array. */
export function addCookie(reply: FastifyReply, cookie: string): void {
  reply.header('Set-Cookie', cookie);
}

/**
 * The administrator a token speaks for: a valid access token bound to a user who is an admin now, carrying an
 * admin scope. A client's own token (client_credentials) has no user to name in the audit trail: not a console
 * session (it belongs on the admin API).
 */
export function sessionOf(token: string, principal: Principal, scope = principal.scope): ConsoleSession | null {
  const access = adminAccess(scope);
  if (access === null || principal.username === null || principal.userIsAdmin !== true) return null;
  return {
    token,
    username: principal.username,
    access,
    grantId: principal.grantId,
    clientId: principal.clientId,
  };
}

/** The session of a request: the cookie's token validated now (revoked, expired, disabled, demoted: none). */
export async function currentSession(context: ConsoleContext, request: FastifyRequest): Promise<ConsoleSession | null> {
  const token = readCookie(request.headers.cookie, sessionCookieName(context.secure()));
  if (token === null) return null;
  try {
    const principal = await context.deps.services.bearer.validate(token);
    // As the admin API does: the admin scopes count only while the token's client still holds them.
    const client = await context.deps.services.store.findClient(principal.clientId);
    return sessionOf(token, principal, heldAdminScope(principal.scope, client));
  } catch (error) {
    if (error instanceof OAuthError) return null;
    throw error;
  }
}

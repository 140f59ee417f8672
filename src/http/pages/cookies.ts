/*
 * The pages' cookies: the session and the pre-sign-in CSRF cookie. Both are HttpOnly (no script reads them;
 * the pages have no script), SameSite=Lax (a cross-site POST carries neither: RFC 6265bis §8.8), Path=/.
 * Over https they are `Secure` with the `__Host-` prefix (bound to this host, never set by a subdomain or over
 * http: RFC 6265bis §4.1.3.2); over plain http (development on 127.0.0.1) a browser would drop such cookies,
 * so neither is used there.
 */

export type CookieKind = 'session' | 'csrf';

const BASE_NAMES: Readonly<Record<CookieKind, string>> = { session: 'oauthd_session', csrf: 'oauthd_csrf' };

export const cookieName = (kind: CookieKind, secure: boolean): string =>
  secure ? `__Host-${BASE_NAMES[kind]}` : BASE_NAMES[kind];

/** `Set-Cookie` value; `maxAgeSeconds` 0 deletes the cookie. Values are base64url (no escaping needed). */
export function serializeCookie(kind: CookieKind, value: string, options: { secure: boolean; maxAgeSeconds: number }) {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new Error('cookie values are base64url');
  const parts = [`${cookieName(kind, options.secure)}=${value}`, 'Path=/', `Max-Age=${options.maxAgeSeconds}`];
  parts.push('HttpOnly', 'SameSite=Lax');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * The value of one cookie in a `Cookie` header (RFC 6265 §5.4: `name=value` pairs separated by `; `), or null.
 * A name sent twice (a cookie planted for a parent path or domain beside ours) is ambiguous: null, so the
 * request goes on as if it had none.
 */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  let found: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    if (found !== null) return null;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    found = value;
  }
  return found !== null && /^[A-Za-z0-9_-]{16,256}$/.test(found) ? found : null;
}

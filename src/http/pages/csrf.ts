import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * CSRF defence of every form, in three layers:
 * - SameSite=Lax cookies: a cross-site POST arrives without the session or CSRF cookie;
 * - the form carries HMAC-SHA256(cookie value, a fixed label), which a page of another origin cannot read
 *   (the pages have no script and refuse to be framed) nor compute (the cookie is HttpOnly);
 * - the token is derived, not stored: before sign-in from a random CSRF cookie, after sign-in from the session
 *   token, so signing in (a new session) invalidates the forms issued before it (no login CSRF fixation).
 * Verified in constant time on every POST.
 */

const LABEL = 'oauthd form token v1';

/** A fresh random value for the CSRF cookie (256 bits, base64url). */
export const newCsrfSecret = (): string => randomBytes(32).toString('base64url');

/** The hidden `csrf_token` field bound to a cookie value (the CSRF cookie or the session token). */
export const csrfToken = (cookieValue: string): string =>
  createHmac('sha256', cookieValue).update(LABEL).digest('base64url');

/** True when `submitted` is the token of `cookieValue`; false when either is missing. */
export function verifyCsrf(cookieValue: string | null, submitted: string | null): boolean {
  if (cookieValue === null || submitted === null) return false;
  const expected = Buffer.from(csrfToken(cookieValue));
  const actual = Buffer.from(submitted);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

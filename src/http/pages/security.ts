import type { FastifyReply } from 'fastify';

/**
 * The `form-action` source that lets a form's POST end in a redirect to `redirectUri` (CSP 3 applies
 * form-action to the redirects that follow a submission). http(s): its origin, port included (a loopback
 * redirect URI carries the port the native app listens on: RFC 8252 §7.3). A private-use scheme
 * (`com.example.app:/cb`, RFC 8252 §7.1): the scheme. An IPv6 literal host has no CSP host-source form, so
 * its scheme is used (only the page of that one request is widened). Null when the URI does not parse.
 */
export function formActionSource(redirectUri: string): string | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return null;
  }
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return null;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return url.protocol;
  if (url.hostname.startsWith('[')) return url.protocol;
  return url.origin;
}

/** The pages' policy: nothing but our stylesheet and logo; forms post only to us (and the client's redirect). */
export function contentSecurityPolicy(redirectUri?: string): string {
  const extra = redirectUri === undefined ? null : formActionSource(redirectUri);
  const formAction = extra === null ? "'self'" : `'self' ${extra}`;
  return (
    `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; ` +
    "frame-ancestors 'none'; base-uri 'none'"
  );
}

/** Every page response: no sniffing, no referrer (the URL holds the authorization request), no framing. */
export function setPageSecurityHeaders(reply: FastifyReply, redirectUri?: string): void {
  reply.header('Content-Security-Policy', contentSecurityPolicy(redirectUri));
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Cache-Control', 'no-store');
}

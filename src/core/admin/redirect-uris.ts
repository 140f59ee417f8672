/**
 * Which redirect URIs a client may register (`--redirect-uri`, and the importer's DOT `redirect_uris`).
 * The authorization endpoint compares a request's redirect_uri exactly with these (RFC 9700 §4.1.3), so what is
 * accepted here is what codes can ever be sent to.
 */

/** At most this many per client, each at most MAX_REDIRECT_URI_LENGTH characters. */
export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;

/** RFC 8252 §7.3 / §8.3: the loopback hosts a native app may listen on over plain http. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why the URI cannot be registered; null when it can. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  // RFC 3986 URIs are printable ASCII; a space could not even be listed in DOT's space-separated column.
  if (!/^[\x21-\x7E]+$/.test(uri)) return 'it contains spaces, control or non-ASCII characters';
  // RFC 9700 §4.1.3: exact matching only, so no pattern of any kind.
  if (uri.includes('*')) return 'wildcards are not allowed (RFC 9700 §4.1.3: exact matching)';
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
  if (uri.includes('#')) return 'it has a fragment (RFC 6749 §3.1.2)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'not an absolute URI (RFC 6749 §3.1.2)';
  }
  // RFC 9700 §4.1 (and RFC 3986 §3.2.1): credentials in a URI are deprecated and confuse host checks.
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) {
    return 'it has user information (user@host)';
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'https') return url.hostname === '' ? 'an https URI needs a host' : null;
  if (scheme === 'http') {
    // RFC 8252 §7.3/§8.3: plain http only to the device itself, never over a network.
    return LOOPBACK_HOSTS.has(url.hostname.toLowerCase())
      ? null
      : 'http is only allowed for a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3), else use https';
  }
  // RFC 8252 §7.1: a private-use scheme must be a reverse domain name (com.example.app), so it names its owner.
  if (scheme.includes('.')) return null;
  return (
    `scheme ${JSON.stringify(scheme)} is not allowed: use https, http on a loopback host, or a private-use ` +
    'scheme in reverse-domain form such as com.example.app (RFC 8252 §7.1)'
  );
}

/** The URI as an error message quotes it: cut short, so a 2000-character mistake stays a one-line message. */
export const quoteUri = (uri: string): string => JSON.stringify(uri.length > 80 ? `${uri.slice(0, 77)}...` : uri);

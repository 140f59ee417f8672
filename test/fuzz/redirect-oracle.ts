/**
 * Where the authorization endpoint may send a browser (RFC 6749 §3.1.2, §4.1.2, §4.1.2.1; RFC 9700 §4.1.3, exact
 * matching; RFC 8252 §7.3, any port for a loopback IP literal): to a registered redirect URI, exactly as
 * registered (its own query kept, RFC 6749 §3.1.2), followed only by the response parameters; or back to the
 * server's own pages (after a sign-in, POST then GET). Never anywhere else, and never with a fragment.
 */

/** What the server may append to a redirect URI (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 §2). */
const RESPONSE_PARAMETERS = new Set(['code', 'state', 'iss', 'error', 'error_description', 'error_uri']);

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]):(\d+)(\/.*)?$/;

/** Why `location` is not a redirect to `registered` with only response parameters appended; null if it is. */
function refusalFor(location: string, registered: string): string | null {
  let base = registered;
  let rest: string;
  const loopback = LOOPBACK.exec(registered);
  if (location.startsWith(registered)) {
    rest = location.slice(registered.length);
  } else if (loopback) {
    // RFC 8252 §7.3: the same loopback literal, any port, the rest exactly as registered.
    const prefix = `http://${loopback[1]}:`;
    const port = /^(\d{1,5})/.exec(location.slice(prefix.length))?.[1];
    if (!location.startsWith(prefix) || port === undefined || Number(port) > 65535) return 'not a registered URI';
    base = `${prefix}${port}${loopback[3] ?? ''}`;
    if (!location.startsWith(base)) return 'not a registered URI';
    rest = location.slice(base.length);
  } else {
    return 'not a registered URI';
  }
  if (location.includes('#')) return 'carries a fragment';
  // The appended part starts a query (or continues the registered one), nothing else: `cb` is not `cb.evil`.
  const separator = base.includes('?') ? '&' : '?';
  if (rest === '') return null;
  if (!rest.startsWith(separator)) return `continues the registered URI with ${JSON.stringify(rest.slice(0, 20))}`;
  for (const pair of rest.slice(1).split('&')) {
    const name = pair.split('=')[0]!;
    if (!RESPONSE_PARAMETERS.has(name)) return `appends the parameter ${JSON.stringify(name)}`;
  }
  return null;
}

/**
 * Null when a 3xx Location is allowed: a registered URI (or its loopback variant) plus response parameters, or
 * a page of this server under `{basePath}/o/`. Otherwise why not.
 */
export function locationRefusal(
  location: string,
  allowed: { registered: readonly string[]; serverOrigin: string; basePath: string },
): string | null {
  const own = `${allowed.basePath}/o/`;
  if (location.startsWith(own) && !location.startsWith('//')) return null;
  if (location.startsWith(`${allowed.serverOrigin}${own}`)) return null;
  const refusals = allowed.registered.map((uri) => refusalFor(location, uri));
  if (refusals.includes(null)) return null;
  return `${JSON.stringify(location.slice(0, 200))}: ${refusals.join('; ')}`;
}

/** The values of a response parameter in a Location (repeats kept), decoded as a browser would. */
export function responseParameter(location: string, name: string): string[] {
  const query = location.includes('?') ? location.slice(location.indexOf('?') + 1) : '';
  return new URLSearchParams(query).getAll(name);
}

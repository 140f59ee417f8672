/*
 * Redirect URIs (RFC 6749 §3.1.2): where an authorization response may be sent. A presented URI must equal a
 * registered one character for character (RFC 9700 §4.1.3: exact string matching, no normalisation, no
 * prefixes), with one exception: a native app's loopback redirect (RFC 8252 §7.3) may name any port, the rest
 * exact. Only the IP literals 127.0.0.1 and [::1] get that freedom; `localhost` does not (RFC 8252 §8.3: it may
 * resolve elsewhere), so a `localhost` URI is matched exactly like any other.
 */

/** `http://127.0.0.1` or `http://[::1]`, an optional port, then nothing or a path or a query (never userinfo). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(?=[/?]|$)(.*)$/s;

/** The URI with its loopback port taken out, or null when it is no loopback http URI with a valid port. */
function withoutLoopbackPort(uri: string): string | null {
  const match = LOOPBACK.exec(uri);
  if (!match) return null;
  const [, host, port, rest] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  return `http://${host}${rest}`;
}

/** True when `presented` is `registered`, or differs from it only in a loopback port (RFC 8252 §7.3). */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  const a = withoutLoopbackPort(registered);
  return a !== null && a === withoutLoopbackPort(presented);
}

export type RedirectUriChoice = { ok: true; redirectUri: string } | { ok: false; description: string };

/**
 * The redirect URI of an authorization request. RFC 6749 §3.1.2.3: a client with a single registered URI may
 * leave the parameter out; with several, it MUST include it. A URI that is not absolute, carries a fragment
 * (§3.1.2) or matches none of the registered ones is refused; the caller shows the error and never redirects
 * (§4.1.2.1). `exact`: no loopback port freedom either (the console's built-in client).
 */
export function chooseRedirectUri(
  registered: readonly string[] | null,
  presented: string | undefined,
  options: { exact?: boolean } = {},
): RedirectUriChoice {
  if (!registered || registered.length === 0) {
    return { ok: false, description: 'The client has no registered redirect URI.' };
  }
  if (presented === undefined) {
    if (registered.length === 1) return { ok: true, redirectUri: registered[0] as string };
    return { ok: false, description: 'The redirect_uri parameter is required for this client.' };
  }
  if (presented.includes('#') || !URL.canParse(presented)) {
    return { ok: false, description: 'The redirect_uri is not a valid absolute URI without a fragment.' };
  }
  const matches =
    options.exact === true ? (uri: string) => uri === presented : (uri: string) => redirectUriMatches(uri, presented);
  if (!registered.some(matches)) {
    return { ok: false, description: 'The redirect_uri is not registered for this client.' };
  }
  return { ok: true, redirectUri: presented };
}

/**
 * The redirect of an authorization response or error (RFC 6749 §4.1.2, §4.1.2.1): the parameters are added to
 * the URI's own query, which is kept as it was (§3.1.2: it MUST be retained), and no fragment is ever sent.
 */
export function redirectTo(redirectUri: string, params: ReadonlyArray<readonly [string, string | null]>): string {
  const url = new URL(redirectUri);
  url.hash = '';
  const added = new URLSearchParams();
  for (const [name, value] of params) if (value !== null) added.append(name, value);
  const own = url.search.replace(/^\?/, '');
  url.search = own === '' ? added.toString() : `${own}&${added.toString()}`;
  return url.href;
}

/**
 * A tiny browser for the page tests: a cookie jar (name → value, Max-Age=0 deletes) over fetch with
 * `redirect: 'manual'`, so each test sees every 302/303 and its Location, and helpers to read the forms of a page.
 */

export interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The Location header, resolved against the request URL; null when none. */
  location: string | null;
  /** The raw Set-Cookie headers of this response. */
  setCookies: string[];
}

export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly extraHeaders: Record<string, string> = {}) {}

  get(url: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.send(url, { method: 'GET', headers });
  }

  /** Posts a form (application/x-www-form-urlencoded). */
  post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  async send(url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...this.extraHeaders, ...(cookie ? { cookie } : {}), ...init.headers },
    });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const deleted = attributes.some((a) => a.trim().toLowerCase() === 'max-age=0');
      if (deleted) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: location === null ? null : new URL(location, url).toString(),
      setCookies,
    };
  }
}

export interface PageForm {
  /** The action, HTML entities decoded. */
  action: string;
  /** The hidden fields by name. */
  hidden: Record<string, string>;
}

const decodeEntities = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The forms of a page, in order. */
export function formsOf(page: string): PageForm[] {
  return [...page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, attributes, inner]) => ({
    action: decodeEntities(/action="([^"]*)"/.exec(attributes!)?.[1] ?? ''),
    hidden: Object.fromEntries(
      [...inner!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        decodeEntities(m[2]!),
      ]),
    ),
  }));
}

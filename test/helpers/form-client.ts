/**
 * A person's browser, as far as oauthd's pages need one: plain HTTP with a cookie jar (test/helpers/browser.ts),
 * and the forms of a page read from its HTML (inputs, prefilled values, submit buttons) and submitted as a
 * browser would. No script runs: the pages have none.
 */
import { Browser, type PageResponse as BrowserPage } from './browser.js';

export interface PageResponse extends BrowserPage {
  /** The URL that was requested: a form without an action posts back to it. */
  url: string;
}

export interface HtmlForm {
  /** Absolute: the action resolved against the page's URL (the page's own URL when there is none). */
  action: string;
  method: string;
  /** Every named input with its value (text fields as prefilled, hidden fields as given). */
  fields: [string, string][];
  /** Submit buttons: name, value and their label. */
  buttons: { name: string; value: string; label: string }[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of an HTML attribute value or text node: character references decoded. */
export function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return String.fromCodePoint(code);
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!out.has(name)) out.set(name, decodeHtml(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** The forms of a page, in document order. */
export function pageForms(html: string, pageUrl: string): HtmlForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const attrs = attributes(m[1]!);
    const body = m[2]!;
    const fields: [string, string][] = [];
    for (const input of body.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]!);
      const name = a.get('name');
      if (name !== undefined && a.get('type') !== 'submit') fields.push([name, a.get('value') ?? '']);
    }
    const buttons = [...body.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((b) => {
      const a = attributes(b[1]!);
      return { name: a.get('name') ?? '', value: a.get('value') ?? '', label: decodeHtml(b[2]!.trim()) };
    });
    const action = attrs.get('action');
    return {
      action: new URL(action === undefined || action === '' ? pageUrl : action, pageUrl).toString(),
      method: (attrs.get('method') ?? 'get').toLowerCase(),
      fields,
      buttons,
    };
  });
}

/** A browser (test/helpers/browser.ts: its cookie jar, redirects not followed) that fills and submits forms. */
export class FormClient {
  readonly browser = new Browser();

  /** The cookies it holds, by name. */
  cookie(name: string): string | undefined {
    return this.browser.cookies.get(name);
  }

  async get(url: string): Promise<PageResponse> {
    return { ...(await this.browser.get(url)), url };
  }

  /** Posts form fields in order (a name may repeat). */
  async post(url: string, fields: [string, string][]): Promise<PageResponse> {
    const page = await this.browser.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { ...page, url };
  }

  /**
   * Fills a form of `page` (the fields in `values` replace its own) and submits it, with the submit button whose
   * value is `button` when given. The form: the `index`-th, else the first that has every field of `values` and
   * the button.
   */
  submit(
    page: PageResponse,
    values: Record<string, string> = {},
    options: { index?: number; button?: string } = {},
  ): Promise<PageResponse> {
    const forms = pageForms(page.body, page.url);
    const fits = (f: HtmlForm) =>
      Object.keys(values).every((name) => f.fields.some(([field]) => field === name)) &&
      (options.button === undefined || f.buttons.some((b) => b.value === options.button));
    const form = options.index !== undefined ? forms[options.index] : forms.find(fits);
    if (!form) throw new Error(`no such form on the page (${page.status}):\n${page.body}`);
    const fields = form.fields.filter(([name]) => !(name in values));
    fields.push(...Object.entries(values));
    if (options.button !== undefined) {
      const button = form.buttons.find((b) => b.value === options.button);
      if (!button) throw new Error(`no "${options.button}" button in the form:\n${page.body}`);
      fields.push([button.name, button.value]);
    }
    return this.post(form.action, fields);
  }

  /** Follows 3xx answers with GET (as a browser does after a 302 or 303) while they stay on `origin`. */
  async follow(page: PageResponse, origin: string): Promise<PageResponse> {
    let current = page;
    for (let hops = 0; current.location?.startsWith(`${origin}/`); hops++) {
      if (hops === 10) throw new Error(`too many redirects from ${page.url}`);
      current = await this.get(current.location!);
    }
    return current;
  }
}

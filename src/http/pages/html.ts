/*
 * Pages are built with the `html` tag: every interpolated value is escaped, unless it is already Html (a piece
 * built by this tag, or raw text vouched for with `trusted`). Arrays are joined, null/undefined/false render
 * nothing. Escaping covers text and quoted attribute values (the pages always quote attributes).
 */

const HTML_BRAND = Symbol('html');

export interface Html {
  readonly [HTML_BRAND]: true;
  readonly text: string;
}

type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export const escapeHtml = (text: string): string => text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);

/** Markup written by this code base (never from a request): inserted as it is. */
export const trusted = (text: string): Html => ({ [HTML_BRAND]: true, text });

const isHtml = (value: unknown): value is Html =>
  typeof value === 'object' && value !== null && (value as Partial<Html>)[HTML_BRAND] === true;

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (isHtml(value)) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return trusted(out);
}

import { invalidRequest } from '../core/errors.js';
import type { ParamPairs } from '../core/params.js';

/**
 * Decodes an `application/x-www-form-urlencoded` body (RFC 6749 Appendix B, WHATWG URL §5) into pairs,
 * keeping repeats so the core can reject them (RFC 6749 §3.2).
 *
 * Stricter than URLSearchParams on purpose: a broken percent-escape or bytes that are not UTF-8 make the
 * request invalid_request instead of being passed on as a silently altered value (a password with a stray
 * `%` would otherwise fail as a wrong password, or worse, match another string).
 */
export function parseFormBody(body: string): ParamPairs {
  const pairs: [string, string][] = [];
  if (body === '') return pairs;
  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeFormComponent(eq === -1 ? part : part.slice(0, eq));
    const value = decodeFormComponent(eq === -1 ? '' : part.slice(eq + 1));
    pairs.push([name, value]);
  }
  return pairs;
}

/** `+` is a space, `%XX` a UTF-8 byte. Throws invalid_request when the escapes are broken. */
export function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('The request body is not valid application/x-www-form-urlencoded (bad percent-encoding).');
  }
}

/** A string literal in JSON text; group 1 is its raw content. */
const JSON_STRING = /"((?:[^"\\]|\\.)*)"/g;

/**
 * Decodes an `application/json` body: a flat object whose values are all strings (the spec's table says
 * JSON; RFC 6749's parameters are strings). Anything else (arrays, nesting, numbers, null) is
 * invalid_request. Repeated keys, which JSON.parse would silently collapse, are kept as repeats.
 */
export function parseJsonBody(body: string): ParamPairs {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('The JSON request body must be an object of string parameters.');
  }
  if (!Object.values(value).every((v) => typeof v === 'string')) {
    throw invalidRequest('Every parameter in the JSON request body must be a string.');
  }
  // The object is flat with string values only, so its string literals alternate key, value, key, value:
  // the literals at even positions are the keys as written, repeats included.
  const literals = [...body.matchAll(JSON_STRING)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < literals.length; i += 2) pairs.push([literals[i]!, literals[i + 1]!]);
  return pairs;
}

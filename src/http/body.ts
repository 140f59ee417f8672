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
  // Most values (tokens, client ids, grant types) have nothing to decode.
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('The request body is not valid application/x-www-form-urlencoded (bad percent-encoding).');
  }
}

/**
 * Decodes an `application/json` body: a flat object whose values are all strings (the spec's table says
 * JSON; RFC 6749's parameters are strings). Anything else (arrays, nesting, numbers, null) is
 * invalid_request. Repeated keys, which JSON.parse would silently collapse, are kept as repeats, so the
 * core rejects them like repeated form parameters (RFC 6749 §3.2).
 *
 * JSON.parse first decides whether the text is JSON at all; a scanner of the top-level object then reads
 * the pairs as written: `{` (string `:` string) separated by `,` `}`. Any other value, anywhere, is refused.
 */
export function parseJsonBody(body: string): ParamPairs {
  try {
    JSON.parse(body);
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
  const notAnObject = () => invalidRequest('The JSON request body must be an object of string parameters.');
  const notAString = () => invalidRequest('Every parameter in the JSON request body must be a string.');
  let at = 0;
  const skipSpace = () => {
    while (at < body.length && ' \t\n\r'.includes(body[at]!)) at++;
  };
  const readString = (): string | null => {
    if (body[at] !== '"') return null;
    let end = at + 1;
    while (end < body.length && body[end] !== '"') end += body[end] === '\\' ? 2 : 1;
    const literal = body.slice(at, end + 1);
    at = end + 1;
    return JSON.parse(literal) as string; // valid: the whole text already parsed
  };

  const pairs: [string, string][] = [];
  skipSpace();
  if (body[at] !== '{') throw notAnObject();
  at++;
  skipSpace();
  if (body[at] === '}') {
    at++;
  } else {
    for (;;) {
      skipSpace();
      const name = readString();
      if (name === null) throw notAnObject();
      skipSpace();
      at++; // ':' (the text is valid JSON)
      skipSpace();
      const value = readString();
      if (value === null) throw notAString();
      pairs.push([name, value]);
      skipSpace();
      if (body[at++] === '}') break;
    }
  }
  skipSpace();
  if (at !== body.length) throw notAnObject();
  return pairs;
}

/**
 * A Fastify content-type parser (parseAs: 'buffer') decoding the body strictly before `parse`: bytes that are not
 * UTF-8 are invalid_request, never replaced by U+FFFD (a password with a stray Latin-1 byte would otherwise be
 * compared altered); a BOM is kept (and is not valid JSON). Used by the JSON endpoints and the pages alike.
 */
export function strictBodyParser(parse: (body: string) => ParamPairs) {
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return (_request: unknown, body: Buffer, done: (err: Error | null, body?: ParamPairs) => void): void => {
    try {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        throw invalidRequest('The request body is not valid UTF-8.');
      }
      done(null, parse(text));
    } catch (error) {
      done(error as Error);
    }
  };
}

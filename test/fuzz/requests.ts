/**
 * Raw HTTP/1.1 requests for the fuzz tests, written byte by byte (framing, encodings) so that malformed ones
 * reach the server as sent.
 */
import { serialise, type RawRequest } from '../helpers/raw-http.js';

/** OAUTHD_MAX_BODY_BYTES, default. */
export const LIMIT = 16_384;

export const BODY_ENDPOINTS = ['/o/token/', '/o/revoke_token/', '/o/introspect/'] as const;
export const ENDPOINTS = [...BODY_ENDPOINTS, '/o/userinfo/', '/o/auth/x'] as const;
export const isBodyEndpoint = (target: string) => /^\/o\/(token|revoke_token|introspect)\/?(\?|$)/.test(target);

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';
/** Content types Fastify certainly hands to our form or JSON parser. */
export const FORM_TYPES = [FORM, `${FORM}; charset=utf-8`, `${FORM};charset=UTF-8`];
export const JSON_TYPES = [JSON_TYPE, `${JSON_TYPE}; charset=utf-8`];
export const BASE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Host', '127.0.0.1'],
  ['Connection', 'close'],
];

export type Framing = 'length' | 'chunked' | 'none';

/** A well-framed request: Host, Connection: close, the given headers, then Content-Length or chunks. */
export function request(
  method: string,
  target: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body?: Buffer | string,
  framing: Framing = 'length',
): RawRequest {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const all: [string, string][] = [...BASE_HEADERS, ...headers].map(([n, v]) => [n, v]);
  if (bytes === undefined || framing === 'none')
    return { method, target, headers: all, ...(bytes ? { body: bytes } : {}) };
  if (framing === 'length')
    return { method, target, headers: [...all, ['Content-Length', String(bytes.length)]], body: bytes };
  const half = Math.floor(bytes.length / 2);
  const chunks = [bytes.subarray(0, half), bytes.subarray(half)].filter((b) => b.length > 0);
  const encoded = Buffer.concat([
    ...chunks.flatMap((chunk) => [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    Buffer.from('0\r\n\r\n'),
  ]);
  return { method, target, headers: [...all, ['Transfer-Encoding', 'chunked']], body: encoded };
}

/** application/x-www-form-urlencoded encoding of the UTF-8 bytes (a lone surrogate becomes U+FFFD first). */
export function pct(text: string, plusForSpace = true): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      '-._~'.includes(String.fromCharCode(byte))
    ) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20 && plusForSpace) {
      out += '+';
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
export const form = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.map(([n, v]) => `${pct(n)}=${pct(v)}`).join('&');
/** A JSON object written pair by pair, so repeated keys stay repeated (JSON.stringify escapes lone surrogates). */
export const jsonObject = (pairs: ReadonlyArray<readonly [string, string]>) =>
  `{${pairs.map(([n, v]) => `${JSON.stringify(n)}:${JSON.stringify(v)}`).join(',')}}`;
export function isFlatObjectOfStrings(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value).every((v) => typeof v === 'string')
    );
  } catch {
    return false;
  }
}
export const b64 = (text: string | Buffer) =>
  (Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')).toString('base64');

/** The request as text: printable ASCII as is, other bytes as \xHH, cut after 400 bytes. */
export const describeRequest = (request: RawRequest) => {
  const bytes = serialise(request);
  const text = (b: Buffer) =>
    [...b]
      .map((x) =>
        x === 0x0d
          ? '\\r'
          : x === 0x0a
            ? '\\n'
            : x >= 0x20 && x < 0x7f && x !== 0x5c
              ? String.fromCharCode(x)
              : `\\x${x.toString(16).padStart(2, '0')}`,
      )
      .join('');
  return bytes.length > 400 ? `"${text(bytes.subarray(0, 400))}"… (${bytes.length} bytes)` : `"${text(bytes)}"`;
};

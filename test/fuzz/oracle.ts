/**
 * The oracle of the fuzz tests: what every answer of the server must satisfy, whatever was sent.
 *
 * Never a 5xx (except 503 temporarily_unavailable), a JSON body that is a valid success or an RFC-shaped
 * error with nothing else, no framework error body, no stack trace, a challenge on every 401 (RFC 6749 §5.2,
 * RFC 6750 §3, RFC 7009 §2.2.1, RFC 7662 §2, RFC 7235 §3.1). A case may also promise a precise answer
 * (its Expectation).
 */
import { serialise, type RawExchange, type RawRequest, type RawResponse } from '../helpers/raw-http.js';
import { RFC_ERROR_CODES } from '../helpers/oauth-http.js';
import { SEED } from '../helpers/server.js';

/** The RFC error codes, and RFC 7009 §2.2.1's: the fuzzer reaches the revocation endpoint too. */
const ERROR_CODES = new Set([...RFC_ERROR_CODES, 'unsupported_token_type']);

/** What a status may carry as `error` (docs/token-endpoint.md, http/error-handler.ts, kit/challenge.ts). */
function codeFitsStatus(status: number, code: string): boolean {
  switch (status) {
    case 400:
      return ![
        'invalid_client',
        'invalid_token',
        'insufficient_scope',
        'server_error',
        'temporarily_unavailable',
      ].includes(code);
    case 401:
      return code === 'invalid_client' || code === 'invalid_token';
    case 403:
      return code === 'insufficient_scope';
    case 404:
      // The app's 404 handler (design-notes: "the 404 handler answers JSON as well"). No RFC code fits a
      // path that does not exist, so `not_found` is accepted there and nowhere else.
      return code === 'not_found';
    case 405:
    case 408:
    case 413:
    case 431:
      return code === 'invalid_request';
    case 429:
      return code === 'slow_down';
    case 503:
      return code === 'temporarily_unavailable';
    default:
      return false;
  }
}

/** Text that only a framework error, a stack trace or an exception message would put in a body. */
const FORBIDDEN = ['stack', 'FST_', 'statusCode', 'Error:'];
/** The one place a request's text is echoed (core/params.ts): a plain parameter name. */
const DUPLICATE_ECHO = /^Duplicate [a-z_]{1,40} parameter\.$/;

export interface FuzzCase {
  label: string;
  request: RawRequest;
  /** The fuzz client's valid credentials travel in the request (so {"active":false} or a revoke 200 is legitimate). */
  authAsFuzz: boolean;
  /** A precise answer this case must get, beyond the oracle. */
  expect?: Expectation;
  /** The body is shorter than its framing promises: half-close after writing so the server sees the end. */
  incomplete?: boolean;
}

export interface Expectation {
  rule: string;
  /** Human text of what is expected. */
  what: string;
  holds(response: RawResponse, json: Record<string, unknown> | null): boolean;
}

export interface Violation {
  rule: string;
  text: string;
  response: RawResponse | null;
}

export const bodyText = (r: RawResponse) => r.body.toString('utf8');
export function jsonOf(r: RawResponse): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bodyText(r));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
const keysAre = (json: Record<string, unknown>, keys: string[]) =>
  Object.keys(json).length === keys.length && keys.every((k) => Object.hasOwn(json, k));

/** GET {BASE_PATH}/o/openapi.json: the API's own description, public (HEAD: the same without a body). */
const PUBLIC_DOCUMENT = /^\/o\/openapi\.json\/*([?#]|$)/;

function successShape(
  json: Record<string, unknown>,
  target: string,
): 'token' | 'active' | 'inactive' | 'userinfo' | 'openapi' | null {
  if (PUBLIC_DOCUMENT.test(target) && typeof json.openapi === 'string') return 'openapi';
  if (
    keysAre(json, ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']) &&
    typeof json.access_token === 'string' &&
    typeof json.refresh_token === 'string' &&
    typeof json.expires_in === 'number' &&
    typeof json.scope === 'string' &&
    json.token_type === 'Bearer'
  ) {
    return 'token';
  }
  if (keysAre(json, ['active']) && json.active === false) return 'inactive';
  if (json.active === true) return 'active';
  if (keysAre(json, ['sub', 'username', 'client_id', 'scope', 'iat', 'exp']) && json.username === SEED.username)
    return 'userinfo';
  return null;
}

/**
 * Every way an exchange breaks the promises above. `liveAccess` is the one access token a request may
 * legitimately carry (the pre-fuzz pair's): only with it may userinfo or introspection answer active.
 */
export function violationsOf(c: FuzzCase, exchange: RawExchange, liveAccess: string): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, text: string, response: RawResponse | null) => found.push({ rule, text, response });
  const requestText = serialise(c.request).toString('latin1');
  const carriesLiveAccess = requestText.includes(liveAccess);

  if (exchange.parseError) add('malformed-response', exchange.parseError, null);
  // `Expect: 100-continue` gets an interim 100 before the answer; only final responses are judged.
  const finals = exchange.responses.filter((r) => r.status >= 200);
  if (finals.length === 0 && c.request.method !== 'CONNECT') {
    // CONNECT: Node has no 'connect' listener and closes the socket, which is an answer of its own.
    add('no-response', `connection closed without a final response (${exchange.socketError ?? 'clean close'})`, null);
  }
  for (const r of finals) {
    const json = jsonOf(r);
    const text = bodyText(r);
    if (r.status >= 500 && !(r.status === 503 && json?.error === 'temporarily_unavailable'))
      add('5xx', `status ${r.status}`, r);
    if (r.status === 401 && !r.headers.has('www-authenticate')) add('401-without-challenge', 'no WWW-Authenticate', r);
    if (r.status > 200 && r.status < 400) add('odd-status', `status ${r.status}`, r);

    if (r.body.length > 0) {
      const scrubbed =
        typeof json?.error_description === 'string' && DUPLICATE_ECHO.test(json.error_description)
          ? text.replace(json.error_description, '')
          : text;
      // (The OpenAPI document is prose about errors, "never a stack trace" included: not an answer to judge.)
      const isOpenApi = r.status === 200 && json !== null && successShape(json, c.request.target) === 'openapi';
      if (!isOpenApi)
        for (const word of FORBIDDEN)
          if (scrubbed.includes(word)) add('leak', `body contains ${JSON.stringify(word)}`, r);
      if (json === null) {
        add('not-json', 'body is not a JSON object', r);
      } else if (r.status === 200) {
        const shape = successShape(json, c.request.target);
        if (shape === null) add('bad-success', 'a 200 body that is no known success', r);
        else if (shape === 'token') add('unexpected-success', 'tokens issued to fuzzed input', r);
        else if ((shape === 'active' || shape === 'userinfo') && !carriesLiveAccess)
          add('unexpected-success', `${shape} without the live token`, r);
        else if (shape === 'inactive' && !c.authAsFuzz)
          add('unexpected-success', 'introspection without valid client credentials', r);
      } else {
        if (
          !keysAre(json, ['error', 'error_description']) ||
          typeof json.error !== 'string' ||
          typeof json.error_description !== 'string'
        ) {
          add('bad-error-shape', 'not exactly {error, error_description} strings', r);
        } else if (!ERROR_CODES.has(json.error) && !(r.status === 404 && json.error === 'not_found')) {
          add('bad-error-code', `error ${JSON.stringify(json.error)}`, r);
        } else if (!codeFitsStatus(r.status, json.error)) {
          add('status-code-mismatch', `${r.status} with ${json.error}`, r);
        }
      }
    } else if (
      r.status === 200 &&
      !c.authAsFuzz &&
      !(c.request.method === 'HEAD' && (carriesLiveAccess || PUBLIC_DOCUMENT.test(c.request.target)))
    ) {
      add('unexpected-success', 'empty 200 without valid credentials', r);
    }
  }
  const first = finals[0];
  // A parameter holding NUL is refused as malformed before anything else (core/params.ts): that answer
  // stands in for any other expectation.
  // Likewise a request Node's HTTP parser refuses before any route (oversized headers: 431; broken framing:
  // 400), answered RFC-shaped by the app's clientErrorHandler.
  const description = first === undefined ? undefined : jsonOf(first)?.error_description;
  const refusedEarly =
    first !== undefined &&
    ((first.status === 400 && description === 'A parameter contains a NUL character.' && carriesNul(c.request)) ||
      (first.status === 431 && description === 'The request headers are too large.') ||
      (first.status === 400 &&
        description === 'The request is malformed.' &&
        first.headers.get('connection')?.[0] === 'close'));
  if (c.expect && first && !refusedEarly && !c.expect.holds(first, jsonOf(first)))
    add(c.expect.rule, `expected ${c.expect.what}`, first);
  return found;
}

/** Does the request carry a NUL anywhere: raw, percent-encoded, JSON-escaped, or inside Basic credentials? */
function carriesNul(request: RawRequest): boolean {
  const text = serialise(request).toString('latin1');
  if (text.includes('\u0000') || text.includes('%00') || text.includes('\\u0000')) return true;
  return request.headers.some(([name, value]) => {
    const basicCredentials = /^\s*basic\s+(\S+)/i.exec(value);
    return (
      name.toLowerCase() === 'authorization' &&
      basicCredentials !== null &&
      Buffer.from(basicCredentials[1]!, 'base64').includes(0)
    );
  });
}

export const describeResponse = (r: RawResponse | null) =>
  r ? `${r.status} ${JSON.stringify(r.body.toString('utf8').slice(0, 300))}` : '(no response)';

/** The expectation of a refusal with this status and `error` code. */
export const refusedAs = (status: number, code: string): Expectation => ({
  rule: `expect:${status}-${code}`,
  what: `${status} ${code}`,
  holds: (r, json) => r.status === status && json?.error === code,
});

/**
 * The OAuth endpoints of a server known only by its URL (a child process, one of several instances),
 * over real HTTP with fetch. Every call has a deadline, so a server that hangs fails the test with a
 * clear message instead of the test's timeout; each result carries how long the answer took.
 */
import { createHash } from 'node:crypto';
import { SEED, basic } from './server.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or null when the body is not JSON. */
  json: Record<string, unknown> | null;
  text: string;
  /** Milliseconds from sending the request to reading the whole body. */
  ms: number;
  /** performance.now() when the request was sent and when its body was read. */
  sentAt: number;
  answeredAt: number;
}

/** Client credentials to authenticate with (the spec's sample client by default). */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

const SEED_CLIENT: ClientCredentials = { clientId: SEED.clientId, clientSecret: SEED.clientSecret };
/** Longer than any timeout of the server (connection 5 s, query statement_timeout + 5 s). */
export const HANG_DEADLINE_MS = 20_000;

export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const sentAt = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(HANG_DEADLINE_MS) });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError')
      throw new Error(`${init.method ?? 'GET'} ${url}: no answer within ${HANG_DEADLINE_MS} ms (a hang)`);
    throw error;
  }
  const text = await response.text();
  const answeredAt = performance.now();
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }
  return {
    status: response.status,
    headers: response.headers,
    json,
    text,
    ms: answeredAt - sentAt,
    sentAt,
    answeredAt,
  };
}

const form = (
  base: string,
  path: string,
  fields: Record<string, string>,
  client: ClientCredentials,
  headers: Record<string, string> = {},
) =>
  request(`${base}/o/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.clientId, client.clientSecret),
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });

export const passwordGrantAt = (
  base: string,
  user: { username: string; password: string } = SEED,
  client = SEED_CLIENT,
) => form(base, 'token/', { grant_type: 'password', username: user.username, password: user.password }, client);

export const refreshAt = (base: string, refreshToken: string, client = SEED_CLIENT) =>
  form(base, 'token/', { grant_type: 'refresh_token', refresh_token: refreshToken }, client);

export const revokeAt = (base: string, token: string, client = SEED_CLIENT) =>
  form(base, 'revoke_token/', { token }, client);

export const introspectAt = (base: string, token: string, client = SEED_CLIENT) =>
  form(base, 'introspect/', { token }, client);

export const userinfoAt = (base: string, accessToken: string) =>
  request(`${base}/o/userinfo/`, { headers: { authorization: `Bearer ${accessToken}` } });

export const readyz = (base: string) => request(`${base}/readyz`);
export const healthz = (base: string) => request(`${base}/healthz`);

/** The key oauthd stores for a token, for queries on the database. */
export const tokenDigest = (token: string): Buffer => {
  // How oauthd keys a token at rest (core/tokens.ts tokenKey), written out again here: a 44-character token
  // (the length oauthd mints) is keyed by its first 6 decoded bytes (its mint time), then its SHA-256 digest;
  // any other token by its SHA-256 digest alone.
  const digest = createHash('sha256').update(token).digest();
  return token.length === 44 ? Buffer.concat([Buffer.from(token.slice(0, 8), 'base64url'), digest]) : digest;
};

/** A 200 token response with every field RFC 6749 §5.1 requires (and the spec's refresh_token and scope). */
export function isTokenResponse(r: HttpResult): boolean {
  const j = r.json;
  return (
    r.status === 200 &&
    j !== null &&
    typeof j.access_token === 'string' &&
    j.access_token.length >= 44 &&
    typeof j.refresh_token === 'string' &&
    j.refresh_token.length >= 44 &&
    j.token_type === 'Bearer' &&
    typeof j.expires_in === 'number' &&
    typeof j.scope === 'string'
  );
}

/**
 * RFC 6749 §5.2 and RFC 6750 §3.1 error codes, with RFC 6749's server_error / temporarily_unavailable and
 * RFC 8628's slow_down (the brute-force defence's 429).
 */
export const RFC_ERROR_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'insufficient_scope',
  'server_error',
  'temporarily_unavailable',
  'slow_down',
]);

/** An RFC 6749 §5.2 / RFC 6750 §3 error: a known `error` code and a string `error_description`, nothing else. */
export function isRfcError(r: HttpResult): boolean {
  const j = r.json;
  return (
    r.status >= 400 &&
    j !== null &&
    typeof j.error === 'string' &&
    RFC_ERROR_CODES.has(j.error) &&
    typeof j.error_description === 'string' &&
    Object.keys(j).every((k) => k === 'error' || k === 'error_description')
  );
}

/** Polls `check` every `everyMs` until it holds; throws after `withinMs`. Returns how long it took. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  withinMs: number,
  everyMs = 100,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

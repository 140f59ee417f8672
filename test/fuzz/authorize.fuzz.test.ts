/**
 * The authorization endpoint, fuzzed over raw HTTP/1.1 (fast-check, one real server): arbitrary query strings
 * (authorize-cases.ts) by GET and POST, signed in or not. Whatever is sent:
 * - the server answers, and never with a 5xx;
 * - a 3xx is a 302 or 303 (RFC 9700 §4.12: never 307 after a POST) whose Location is a registered redirect URI
 *   (or its loopback variant, RFC 8252 §7.3) followed only by response parameters, or a page of this server
 *   (redirect-oracle.ts): never anything else (RFC 6749 §4.1.2.1: an unverified redirect URI is not
 *   redirected to; RFC 9700 §4.1.3: exact matching);
 * - a redirect to a client carries `iss`, the issuer, once (RFC 9207 §2).
 * Afterwards the server still serves and its log holds no failed request.
 *
 * Runs: a tenth of OAUTHD_FUZZ_RUNS (test/fuzz/target.ts), at least 150; OAUTHD_FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_POLICY } from '../../src/core/types.js';
import { hashGeneratedSecret } from '../../src/core/secrets.js';
import { FormClient } from '../helpers/form-client.js';
import { rawExchange, serialise } from '../helpers/raw-http.js';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';
import {
  NORIGHTS_URI,
  ONE_URI,
  REGISTERED,
  URIS_OF,
  WEB_URIS,
  arbAuthorizeInput,
  authorizeRequest,
  validQuery,
  type AuthorizeCase,
  type SignedIn,
} from './authorize-cases.js';
import { locationRefusal, responseParameter } from './redirect-oracle.js';
import { BASE_HEADERS, describeRequest } from './requests.js';
import { PROPERTY_TIMEOUT_MS, TOTAL_RUNS } from './target.js';

const RUNS = Math.max(150, Math.round(TOTAL_RUNS / 10));
const FUZZ_SEED = process.env.OAUTHD_FUZZ_SEED === undefined ? undefined : Number(process.env.OAUTHD_FUZZ_SEED);
const BASE_PATH = '/auth';
/** The origin the raw requests name in their Host header: the issuer (and so `iss`) is derived from it. */
const ORIGIN = `http://${BASE_HEADERS.find(([name]) => name === 'Host')![1]}`;

let server: TestServer;
let port: number;
const signedIn: SignedIn = { cookie: '', csrf: '' };
let cases = 0;
const seen = new Map<number, number>();

beforeAll(async () => {
  server = await startTestServer({
    OAUTHD_BASE_PATH: BASE_PATH,
    OAUTHD_SCOPES: 'read write',
    OAUTHD_DEFAULT_SCOPES: 'read',
    OAUTHD_LOG_LEVEL: 'info',
  });
  port = Number(new URL(server.url).port);
  await seedSpecSample(server);
  const now = Math.floor(Date.now() / 1000);
  const client = (clientId: string, redirectUris: string[], extra: Record<string, unknown>) =>
    server.services.store.createClient({
      clientId,
      name: clientId,
      secretHash: hashGeneratedSecret(`${clientId}-secret`),
      isPublic: false,
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['read', 'write'],
      canIntrospect: false,
      policy: { ...SERVER_POLICY, redirectUris },
      createdAt: now,
      ...extra,
    });
  await client('fuzz-web', [...WEB_URIS], {});
  // Public, one URI (redirect_uri may be left out, RFC 6749 §3.1.2.3), no consent asked: a valid request of a
  // signed-in person goes straight back to it with a code.
  await client('fuzz-one', [ONE_URI], {
    secretHash: null,
    isPublic: true,
    policy: { ...SERVER_POLICY, redirectUris: [ONE_URI], skipConsent: true },
  });
  await client('fuzz-norights', [NORIGHTS_URI], { grantTypes: ['client_credentials'] });

  // The session the signed-in cases carry, and the CSRF token its forms hold.
  const browser = new FormClient();
  const login = await browser.get(`${server.url}${BASE_PATH}/o/authorize/?${validQuery('fuzz-web', WEB_URIS[0])}`);
  const consent = await browser.follow(
    await browser.submit(login, { username: SEED.username, password: SEED.password }),
    server.url,
  );
  expect(consent.status, consent.body).toBe(200);
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(consent.body)?.[1];
  expect(csrf).toBeTruthy();
  signedIn.csrf = csrf!;
  signedIn.cookie = ['oauthd_session', 'oauthd_csrf']
    .filter((name) => browser.cookie(name) !== undefined)
    .map((name) => `${name}=${browser.cookie(name)}`)
    .join('; ');
  expect(signedIn.cookie).toContain('oauthd_session=');
});

afterAll(async () => {
  const statuses = [...seen].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
  console.log(`authorize fuzz: ${cases} cases (${statuses.join(', ')})`);
  await server?.stop();
});

/** Every violation of the endpoint's promises in one answer. */
function violations(c: AuthorizeCase, status: number, location: string | undefined): string[] {
  const found: string[] = [];
  if (status >= 500) found.push(`answered ${status}`);
  if (status >= 300 && status < 400) {
    if (status !== 302 && status !== 303) found.push(`redirected with ${status}`);
    if (location === undefined) return [...found, `${status} without a Location`];
    // The client the request names, when it names one plainly: its own URIs only, not another client's.
    const ids = new URLSearchParams(c.query).getAll('client_id');
    const registered = (ids.length === 1 ? URIS_OF[ids[0]!] : undefined) ?? REGISTERED;
    const refusal = locationRefusal(location, { registered, serverOrigin: ORIGIN, basePath: BASE_PATH });
    if (refusal) found.push(`redirected to ${refusal}`);
    const toClient = !location.startsWith(`${BASE_PATH}/o/`) && !location.startsWith(`${ORIGIN}${BASE_PATH}/o/`);
    const iss = responseParameter(location, 'iss');
    if (toClient && (iss.length !== 1 || iss[0] !== `${ORIGIN}${BASE_PATH}`)) {
      found.push(`redirected to the client with iss ${JSON.stringify(iss)}`);
    }
  }
  if (c.request.method === 'POST' && status === 307) found.push('307 after a POST');
  return found;
}

async function runCase(c: AuthorizeCase): Promise<void> {
  cases++;
  const exchange = await rawExchange(port, serialise(c.request), {
    head: c.request.method === 'HEAD',
    timeoutMs: 10_000,
  });
  const response = exchange.responses.find((r) => r.status >= 200);
  if (!response) {
    throw new Error(
      `${c.label}: no answer (${exchange.socketError ?? exchange.parseError})\n  ${describeRequest(c.request)}`,
    );
  }
  seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
  const found = violations(c, response.status, response.headers.get('location')?.[0]);
  if (found.length > 0) throw new Error(`${c.label}: ${found.join('; ')}\n  request: ${describeRequest(c.request)}`);
}

const named = (c: AuthorizeCase): AuthorizeCase =>
  Object.assign(c, { [fc.toStringMethod]: () => `${c.label}: ${describeRequest(c.request)}` });

const arbCase = arbAuthorizeInput.map((input) => named(authorizeRequest(BASE_PATH, input, signedIn)));

/** Cases every run sends: the flows that end in a redirect to the client, and the lookalikes next to them. */
function examples(): AuthorizeCase[] {
  const base = { body: 'consent', decision: 'allow', csrf: 'valid', slash: true } as const;
  const of = (query: string, method: string, cookie: 'session' | 'none') =>
    named(authorizeRequest(BASE_PATH, { ...base, pairs: [], query, method, cookie }, signedIn));
  return [
    of(validQuery('fuzz-one', ONE_URI), 'GET', 'session'),
    of(validQuery('fuzz-web', WEB_URIS[1]), 'POST', 'session'),
    of(validQuery('fuzz-web', 'http://127.0.0.1:1/callback'), 'POST', 'session'),
    of(validQuery('fuzz-web', `${WEB_URIS[0]}/`), 'POST', 'session'),
    of(validQuery('fuzz-web', 'http://localhost:8765/callback'), 'GET', 'none'),
    of(validQuery('fuzz-one', `${ONE_URI}#x`), 'GET', 'session'),
    of(`${validQuery('fuzz-one', ONE_URI)}&scope=write`, 'GET', 'session'),
    of(validQuery('fuzz-norights', NORIGHTS_URI), 'GET', 'session'),
    of(validQuery('fuzz-web', WEB_URIS[0]).replace('response_type=code', 'response_type=token'), 'GET', 'none'),
  ];
}

describe('the authorization endpoint, fuzzed', () => {
  it(`never answers 5xx and redirects only to registered redirect URIs (${RUNS} cases)`, {
    timeout: PROPERTY_TIMEOUT_MS,
  }, async () => {
    await fc.assert(fc.asyncProperty(arbCase, runCase), {
      numRuns: RUNS,
      examples: examples().map((c) => [c] as [AuthorizeCase]),
      ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}),
    });
    // The fuzz reached the redirects it judges: to clients, and with errors.
    expect(seen.get(302) ?? 0).toBeGreaterThan(0);
    expect(seen.get(303) ?? 0).toBeGreaterThan(0);
  });

  it('is still up afterwards, and its log holds no failed request (no 5xx)', async () => {
    const page = await fetch(`${server.url}${BASE_PATH}/o/authorize/?${validQuery('fuzz-web', WEB_URIS[0])}`);
    expect(page.status).toBe(200);
    const failures = server
      .logs()
      .split('\n')
      .filter((line) => line.includes('"request failed"'));
    expect(failures).toEqual([]);
  });
});

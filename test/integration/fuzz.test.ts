/**
 * Bad input, fuzzed: property-based requests (fast-check) over raw HTTP/1.1 sockets against ONE real server,
 * on every endpoint under /o/ (token, revoke_token, introspect, userinfo, auth/*).
 *
 * RFC 6749 §2.3.1 (client authentication, Basic decoding), §3.2 (POST, parameters at most once),
 * §5.2 (error response: `error` + `error_description`); RFC 6750 §3 (Bearer challenge); RFC 7009 §2.2.1;
 * RFC 7662 §2; RFC 7235 §3.1 (every 401 carries a challenge); docs/token-endpoint.md (16 KiB body limit,
 * strict encoding).
 *
 * Every response, whatever was sent, must satisfy one oracle (`violationsOf`): never a 5xx (except 503
 * temporarily_unavailable), a JSON body that is a valid success or an RFC-shaped error with nothing else,
 * no framework error body, no stack trace, a challenge on every 401. Some properties also promise a precise
 * answer (413 over the limit, invalid_request for a broken escape or a repeated parameter…). Afterwards the
 * server must still serve, and the database must be exactly as it was: nothing sent by the fuzzer carries
 * valid credentials (the seed client's secret and the seed user's password are never generated; the fuzz
 * client's valid credentials appear only with tokens it cannot act on).
 *
 * Bugs in src/ found by this file are named in KnownBugId (matched by knownBugOf): the properties count and report their hits
 * instead of failing on them (OAUTHD_FUZZ_STRICT=1 makes them fail), and each has an `it.fails` test with its
 * minimal input that asserts the correct behaviour: when a bug is fixed, its `it.fails` turns red; then
 * make it an `it` and delete its knownBugOf entry.
 *
 * Runs: 10,400 cases with CI set, 1,500 otherwise (OAUTHD_FUZZ_RUNS overrides); OAUTHD_FUZZ_SEED replays a
 * run (fast-check prints the seed and path of any counterexample).
 */
import { isUtf8 } from 'node:buffer';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../helpers/postgres.js';
import { rawExchange, serialise, type RawExchange, type RawRequest, type RawResponse } from '../helpers/raw-http.js';
import { SEED, TEST_STORE, basic, passwordGrant, seedSpecSample, startTestServer, userinfo, type TestServer } from '../helpers/server.js';

const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const TOTAL_RUNS = Number(process.env.OAUTHD_FUZZ_RUNS ?? (CI ? 10_400 : 1_500));
const FUZZ_SEED = process.env.OAUTHD_FUZZ_SEED === undefined ? undefined : Number(process.env.OAUTHD_FUZZ_SEED);
// Every bug it found is fixed: every violation fails the run (OAUTHD_FUZZ_STRICT=0 counts known ones instead).
const STRICT = process.env.OAUTHD_FUZZ_STRICT !== '0';
/** OAUTHD_FUZZ_STATS=1 prints how often each property got each answer (to see how deep the cases reach). */
const STATS = process.env.OAUTHD_FUZZ_STATS === '1';
const stats = new Map<string, number>();
/** OAUTHD_MAX_BODY_BYTES, default. */
const LIMIT = 16_384;

/** Share of TOTAL_RUNS per property. Properties whose cases may reach argon2id get small shares. */
const SHARES = {
  randomBytes: 0.17,
  percent: 0.12,
  basic: 0.09,
  json: 0.11,
  repeated: 0.09,
  unicode: 0.12,
  headers: 0.12,
  methodsPaths: 0.11,
  bearer: 0.07,
} as const;
/** Generous per property, so that shrinking a counterexample can finish; the whole file normally takes far less. */
const PROPERTY_TIMEOUT_MS = 120_000;
const runsOf = (name: keyof typeof SHARES) => Math.max(25, Math.round(TOTAL_RUNS * SHARES[name]));

// ---------------------------------------------------------------------------------------------------------
// The server and what must not change
// ---------------------------------------------------------------------------------------------------------

let server: TestServer;
let port: number;
/** A client with a generated secret (cheap to verify), so deep cases do not all pay for argon2id. */
const fuzzClient = { clientId: '', clientSecret: '' };
/** The pair obtained before fuzzing; it must come out untouched. */
const live = { access: '', refresh: '' };
let before: DatabaseSnapshot;
let storeBefore: { counts: unknown; users: number; clients: number };
let casesRun = 0;
/** Exchanges where the server stayed silent until the client half-closed (see raw-http.ts). */
let idleEnds = 0;
const knownHits = new Map<KnownBugId, { count: number; example: string }>();

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_LOG_LEVEL: 'info' });
  port = Number(new URL(server.url).port);
  await seedSpecSample(server);
  const created = await server.services.admin.createClient({ name: 'fuzz' });
  fuzzClient.clientId = created.client.clientId;
  fuzzClient.clientSecret = created.clientSecret!;
  const pair = await passwordGrant(server);
  expect(pair.status).toBe(200);
  live.access = pair.json.access_token as string;
  live.refresh = pair.json.refresh_token as string;
  before = await snapshot();
  storeBefore = await storeView();
});

/** The same question through the Store interface the server uses. */
async function storeView() {
  const { store } = server.services;
  return { counts: await store.counts(), users: (await store.listUsers()).length, clients: (await store.listClients()).length };
}

afterAll(async () => {
  if (STATS) console.log([...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${String(n).padStart(6)}  ${k}`).join('\n'));
  if (knownHits.size > 0) {
    const lines = [...knownHits].map(([id, { count, example }]) => `  ${id}: ${count} case(s), e.g. ${example}`);
    console.log(`fuzz: ${casesRun} cases (${idleEnds} answered only after a half-close); known bugs hit:\n${lines.join('\n')}`);
  } else {
    console.log(`fuzz: ${casesRun} cases (${idleEnds} answered only after a half-close); no known bug hit`);
  }
  await server?.stop();
});

interface DatabaseSnapshot {
  counts: Record<string, number>;
  /** Every row of every table, in primary-key order, BLOBs as hex. */
  rows: Record<string, unknown[][]>;
}

const SNAPSHOT_TABLES = { clients: 'client_id', users: 'id', grants: 'id', access_tokens: 'token_hash', refresh_tokens: 'token_hash' };
const hexBlobs = (rows: unknown[][]) => rows.map((row) => row.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));

/**
 * Every row of the store's tables, read behind the server's back: the SQLite file through a second,
 * read-only connection (WAL lets it read while the server runs), or the PostgreSQL database.
 */
async function snapshot(): Promise<DatabaseSnapshot> {
  const counts: Record<string, number> = {};
  const rows: Record<string, unknown[][]> = {};
  if (TEST_STORE === 'postgres') {
    await withClient(server.config.store.databaseUrl, async (client) => {
      for (const [table, key] of Object.entries(SNAPSHOT_TABLES)) {
        counts[table] = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
        rows[table] = hexBlobs((await client.query({ text: `SELECT * FROM ${table} ORDER BY ${key}`, rowMode: 'array' })).rows as unknown[][]);
      }
    });
    return { counts, rows };
  }
  const db = new Database(server.databasePath, { readonly: true, fileMustExist: true });
  try {
    for (const [table, key] of Object.entries(SNAPSHOT_TABLES)) {
      counts[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      rows[table] = hexBlobs(db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).raw().all() as unknown[][]);
    }
    return { counts, rows };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------

/** RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, and RFC 6749's server_error / temporarily_unavailable. */
const RFC_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'server_error',
  'temporarily_unavailable',
  // RFC 8628 §3.5, registered for the token endpoint: the brute-force defence's 429 (lifted in tests, but
  // a legitimate answer if it ever comes).
  'slow_down',
]);

/** What a status may carry as `error` (docs/token-endpoint.md, http/error-handler.ts, kit/challenge.ts). */
function codeFitsStatus(status: number, code: string): boolean {
  switch (status) {
    case 400:
      return !['invalid_client', 'invalid_token', 'insufficient_scope', 'server_error', 'temporarily_unavailable'].includes(code);
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

interface FuzzCase {
  label: string;
  request: RawRequest;
  /** The fuzz client's valid credentials travel in the request (so {"active":false} or a revoke 200 is legitimate). */
  authAsFuzz: boolean;
  /** A precise answer this case must get, beyond the oracle. */
  expect?: Expectation;
  /** The body is shorter than its framing promises: half-close after writing so the server sees the end. */
  incomplete?: boolean;
}

interface Expectation {
  rule: string;
  /** Human text of what is expected. */
  what: string;
  holds(response: RawResponse, json: Record<string, unknown> | null): boolean;
}

interface Violation {
  rule: string;
  text: string;
  response: RawResponse | null;
}

const bodyText = (r: RawResponse) => r.body.toString('utf8');
function jsonOf(r: RawResponse): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bodyText(r));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
const keysAre = (json: Record<string, unknown>, keys: string[]) =>
  Object.keys(json).length === keys.length && keys.every((k) => Object.hasOwn(json, k));

/** GET {BASE_PATH}/o/openapi.json: the API's own description, public (HEAD: the same without a body). */
const PUBLIC_DOCUMENT = /^\/o\/openapi\.json\/*([?#]|$)/;

function successShape(json: Record<string, unknown>, target: string): 'token' | 'active' | 'inactive' | 'userinfo' | 'openapi' | null {
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
  if (keysAre(json, ['sub', 'username', 'client_id', 'scope', 'iat', 'exp']) && json.username === SEED.username) return 'userinfo';
  return null;
}

/** Every way an exchange breaks the promises above. */
function violationsOf(c: FuzzCase, exchange: RawExchange): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, text: string, response: RawResponse | null) => found.push({ rule, text, response });
  const requestText = serialise(c.request).toString('latin1');
  const carriesLiveAccess = requestText.includes(live.access);

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
    if (r.status >= 500 && !(r.status === 503 && json?.error === 'temporarily_unavailable')) add('5xx', `status ${r.status}`, r);
    if (r.status === 401 && !r.headers.has('www-authenticate')) add('401-without-challenge', 'no WWW-Authenticate', r);
    if (r.status > 200 && r.status < 400) add('odd-status', `status ${r.status}`, r);

    if (r.body.length > 0) {
      const scrubbed = typeof json?.error_description === 'string' && DUPLICATE_ECHO.test(json.error_description)
        ? text.replace(json.error_description, '')
        : text;
      // (The OpenAPI document is prose about errors, "never a stack trace" included: not an answer to judge.)
      const isOpenApi = r.status === 200 && json !== null && successShape(json, c.request.target) === 'openapi';
      if (!isOpenApi) for (const word of FORBIDDEN) if (scrubbed.includes(word)) add('leak', `body contains ${JSON.stringify(word)}`, r);
      if (json === null) {
        add('not-json', 'body is not a JSON object', r);
      } else if (r.status === 200) {
        const shape = successShape(json, c.request.target);
        if (shape === null) add('bad-success', 'a 200 body that is no known success', r);
        else if (shape === 'token') add('unexpected-success', 'tokens issued to fuzzed input', r);
        else if ((shape === 'active' || shape === 'userinfo') && !carriesLiveAccess) add('unexpected-success', `${shape} without the live token`, r);
        else if (shape === 'inactive' && !c.authAsFuzz) add('unexpected-success', 'introspection without valid client credentials', r);
      } else {
        if (!keysAre(json, ['error', 'error_description']) || typeof json.error !== 'string' || typeof json.error_description !== 'string') {
          add('bad-error-shape', 'not exactly {error, error_description} strings', r);
        } else if (!RFC_ERROR_CODES.has(json.error) && !(r.status === 404 && json.error === 'not_found')) {
          add('bad-error-code', `error ${JSON.stringify(json.error)}`, r);
        } else if (!codeFitsStatus(r.status, json.error)) {
          add('status-code-mismatch', `${r.status} with ${json.error}`, r);
        }
      }
    } else if (r.status === 200 && !c.authAsFuzz && !(c.request.method === 'HEAD' && (carriesLiveAccess || PUBLIC_DOCUMENT.test(c.request.target)))) {
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
      (first.status === 400 && description === 'The request is malformed.' && first.headers.get('connection')?.[0] === 'close'));
  if (c.expect && first && !refusedEarly && !c.expect.holds(first, jsonOf(first))) add(c.expect.rule, `expected ${c.expect.what}`, first);
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Bugs in src/ that this file found (see the it.fails tests at the end)
// ---------------------------------------------------------------------------------------------------------

type KnownBugId =
  | 'fastify-client-error-body'
  | 'gateway-500-on-malformed-scope'
  | 'non-utf8-body-accepted'
  | 'userinfo-repeated-query-token'
  | 'postgres-500-on-nul';

/** Does the request carry a NUL anywhere: raw, percent-encoded, JSON-escaped, or inside Basic credentials? */
function carriesNul(request: RawRequest): boolean {
  const text = serialise(request).toString('latin1');
  if (text.includes('\u0000') || text.includes('%00') || text.includes('\\u0000')) return true;
  return request.headers.some(([name, value]) => {
    const basicCredentials = /^\s*basic\s+(\S+)/i.exec(value);
    return name.toLowerCase() === 'authorization' && basicCredentials !== null && Buffer.from(basicCredentials[1]!, 'base64').includes(0);
  });
}

/** Fastify's defaultClientErrorHandler writes this for requests Node's HTTP parser rejects. */
const FASTIFY_CLIENT_ERROR = /^\{"error":"[A-Za-z ]+","message":"[^"]*","statusCode":\d{3}\}$/;

function knownBugOf(c: FuzzCase, v: Violation): KnownBugId | null {
  const r = v.response;
  if (r && FASTIFY_CLIENT_ERROR.test(bodyText(r))) return 'fastify-client-error-body';
  // (A HEAD request gets the same 500 without its body.)
  if (r && r.status === 500 && /^\/o\/auth(\/|\?|$)/.test(c.request.target) && (jsonOf(r)?.error === 'server_error' || (c.request.method === 'HEAD' && r.body.length === 0))) {
    const scopeHeader = c.request.headers.some(([name]) => name.toLowerCase() === 'x-auth-required-scope');
    if (scopeHeader || /[?&]scope=/.test(c.request.target)) return 'gateway-500-on-malformed-scope';
  }
  if (r && r.status === 500 && TEST_STORE === 'postgres' && jsonOf(r)?.error === 'server_error' && carriesNul(c.request)) return 'postgres-500-on-nul';
  if (v.rule === 'expect:non-utf8-refused') return 'non-utf8-body-accepted';
  if (v.rule === 'expect:userinfo-query-token' && (c.request.target.match(/[?&]access_token=/g) ?? []).length > 1) {
    return 'userinfo-repeated-query-token';
  }
  return null;
}

/** The request as text: printable ASCII as is, other bytes as \xHH, cut after 400 bytes. */
const describeRequest = (request: RawRequest) => {
  const bytes = serialise(request);
  const text = (b: Buffer) =>
    [...b].map((x) => (x === 0x0d ? '\\r' : x === 0x0a ? '\\n' : x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`)).join('');
  return bytes.length > 400 ? `"${text(bytes.subarray(0, 400))}"… (${bytes.length} bytes)` : `"${text(bytes)}"`;
};
const describeResponse = (r: RawResponse | null) =>
  r ? `${r.status} ${JSON.stringify(r.body.toString('utf8').slice(0, 300))}` : '(no response)';

/** Sends one case and throws (failing the property) on any violation that is not a known bug. */
async function runCase(c: FuzzCase): Promise<void> {
  casesRun++;
  const exchange = await rawExchange(port, serialise(c.request), { head: c.request.method === 'HEAD', incomplete: c.incomplete ?? false, timeoutMs: 10_000 });
  if (exchange.endedAfterIdle) idleEnds++;
  if (STATS) {
    const r = exchange.responses.find((x) => x.status >= 200);
    const key = `${c.label.replace(/ \(.*/, '')} → ${r ? `${r.status} ${String(jsonOf(r)?.error ?? (r.body.length ? 'other body' : 'empty'))}` : 'none'}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
  }
  const unknown: Violation[] = [];
  for (const v of violationsOf(c, exchange)) {
    const bug = knownBugOf(c, v);
    if (bug && !STRICT) {
      const hit = knownHits.get(bug);
      const example = `${describeRequest(c.request)} → ${describeResponse(v.response)}`;
      if (!hit) knownHits.set(bug, { count: 1, example });
      else {
        hit.count++;
        if (example.length < hit.example.length) hit.example = example;
      }
    } else {
      unknown.push(v);
    }
  }
  if (unknown.length > 0) {
    throw new Error(
      `${c.label}: ${unknown.map((v) => `[${v.rule}] ${v.text}: ${describeResponse(v.response)}`).join('; ')}\n  request: ${describeRequest(c.request)}`,
    );
  }
}

/** Runs `runs` generated cases, after `examples` (edge cases every run must include). */
const property = (arb: fc.Arbitrary<FuzzCase>, runs: number, examples: FuzzCase[] = []) =>
  fc.assert(fc.asyncProperty(arb, runCase), {
    numRuns: runs,
    examples: examples.map((c) => [named(c)] as [FuzzCase]),
    ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}),
  });

// ---------------------------------------------------------------------------------------------------------
// Building requests
// ---------------------------------------------------------------------------------------------------------

const BODY_ENDPOINTS = ['/o/token/', '/o/revoke_token/', '/o/introspect/'] as const;
const ENDPOINTS = [...BODY_ENDPOINTS, '/o/userinfo/', '/o/auth/x'] as const;
/** With and without the trailing slash (both are served), and a deeper gateway path. */
const arbEndpoint = fc.constantFrom(...ENDPOINTS, '/o/token', '/o/revoke_token', '/o/introspect', '/o/userinfo', '/o/auth/api/orders/7');
const arbBodyEndpoint = fc.constantFrom(...BODY_ENDPOINTS, '/o/token', '/o/revoke_token', '/o/introspect');
const isBodyEndpoint = (target: string) => /^\/o\/(token|revoke_token|introspect)\/?(\?|$)/.test(target);

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
/** Content types Fastify certainly hands to our form or JSON parser. */
const FORM_TYPES = [FORM, `${FORM}; charset=utf-8`, `${FORM};charset=UTF-8`];
const JSON_TYPES = [JSON_TYPE, `${JSON_TYPE}; charset=utf-8`];
const arbOtherType = fc.oneof(
  fc.constantFrom(
    'APPLICATION/JSON',
    'Application/X-WWW-Form-Urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
    ' ',
    'application/json, text/plain',
    '*/*',
    'application/jsonp',
    'application/json;;;',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json; charset=utf-16',
    'application/vnd.api+json',
    'application',
    '/',
    ';',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n\0]/g, '')),
);

const BASE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Host', '127.0.0.1'],
  ['Connection', 'close'],
];

type Framing = 'length' | 'chunked' | 'none';

/** A well-framed request: Host, Connection: close, the given headers, then Content-Length or chunks. */
function request(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>, body?: Buffer | string, framing: Framing = 'length'): RawRequest {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const all: [string, string][] = [...BASE_HEADERS, ...headers].map(([n, v]) => [n, v]);
  if (bytes === undefined || framing === 'none') return { method, target, headers: all, ...(bytes ? { body: bytes } : {}) };
  if (framing === 'length') return { method, target, headers: [...all, ['Content-Length', String(bytes.length)]], body: bytes };
  const half = Math.floor(bytes.length / 2);
  const chunks = [bytes.subarray(0, half), bytes.subarray(half)].filter((b) => b.length > 0);
  const encoded = Buffer.concat([
    ...chunks.flatMap((chunk) => [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    Buffer.from('0\r\n\r\n'),
  ]);
  return { method, target, headers: [...all, ['Transfer-Encoding', 'chunked']], body: encoded };
}

/** application/x-www-form-urlencoded encoding of the UTF-8 bytes (a lone surrogate becomes U+FFFD first). */
function pct(text: string, plusForSpace = true): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || '-._~'.includes(String.fromCharCode(byte))) {
      out += String.fromCharCode(byte);
    } else if (byte === 0x20 && plusForSpace) {
      out += '+';
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}
const form = (pairs: ReadonlyArray<readonly [string, string]>) => pairs.map(([n, v]) => `${pct(n)}=${pct(v)}`).join('&');
/** A JSON object written pair by pair, so repeated keys stay repeated (JSON.stringify escapes lone surrogates). */
const jsonObject = (pairs: ReadonlyArray<readonly [string, string]>) => `{${pairs.map(([n, v]) => `${JSON.stringify(n)}:${JSON.stringify(v)}`).join(',')}}`;
function isFlatObjectOfStrings(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}
const b64 = (text: string | Buffer) => (Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8')).toString('base64');

// ---------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------

/** NUL, bidi overrides, combining marks, lone surrogates, noncharacters, separators, emoji, confusables. */
const ODD_PIECES = [
  '\u0000', '\u0001', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u00a0', '\u00ad',
  '\u202e', '\u202d', '\u200f', '\u2066', '\u061c',
  '\u0301', '\u0336', '\u20dd', 'e\u0301\u0301\u0301\u0301', 'Z\u0351\u0352\u0353\u0354\u0355\u0356',
  '\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b',
  '\ufeff', '\ufffe', '\uffff', '\ufffd', '\u2028', '\u2029', '\u200b', '\u180e', '\u3000',
  '😀', '👩‍👩‍👧', '\u{10ffff}', '\u{e0041}', 'İ', 'ı', 'ß', 'ﬁ', 'Å', 'Å', 'ｐａｓｓ', 'Ω',
  '\r', '\n', '\r\n', '\t', ' ', '%', '+', '&', '=', '"', "'", '\\', ':', '/', ';', ',', '?', '#', '<', '>', '{', '}', '[', ']',
  '%00', '%ED%A0%80', '%C0%AF', '__proto__', 'constructor', 'toString', 'null', 'undefined', 'NaN', '-1', '1e309',
  '${jndi:ldap://x}', "' OR 1=1 --", '../../etc/passwd', 'Error: boom', 'statusCode',
];
const arbOdd: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(fc.constantFrom(...ODD_PIECES), fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 6 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.nat(0xffff).map((n) => String.fromCharCode(n)), maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constantFrom('A'.repeat(600), '\u0301'.repeat(300), '😀'.repeat(200), '\u0000'.repeat(100)) },
);

/** A live token, changed so that it is no longer valid (or, rarely, only wrapped in trimmed whitespace). */
const arbMutatedLive = fc
  .tuple(fc.constantFrom<'access' | 'refresh'>('access', 'refresh'), fc.nat(42), fc.constantFrom(...ODD_PIECES.slice(0, 40)), fc.nat(8))
  .map(([kind, at, piece, how]) => {
    const t = live[kind];
    const flip = (ch: string) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase());
    switch (how) {
      case 0: return t + piece;
      case 1: return piece + t;
      case 2: return t.slice(0, at) + t.slice(at + 1);
      case 3: return t.slice(0, at) + flip(t[at]!) + t.slice(at + 1);
      case 4: return t.slice(0, at) + piece + t.slice(at);
      case 5: return t + t;
      case 6: return t.toLowerCase() === t ? t.toUpperCase() : t.toLowerCase();
      case 7: return `"${t}"`;
      default: return t.slice(0, at);
    }
  });

/**
 * A token value: junk, something token-shaped, or the live pair itself. The live pair is only ever sent with
 * no client, a wrong one, or the fuzz client, none of which may use, revoke or see it (RFC 6749 §6 binds a
 * refresh token to its client; RFC 7009 §2.1, RFC 7662 §2.2 likewise).
 */
const arbToken = fc.oneof(
  { weight: 3, arbitrary: arbOdd },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{44}$/) },
  { weight: 1, arbitrary: fc.constantFrom<'access' | 'refresh'>('access', 'refresh').map((k) => live[k]) },
  { weight: 2, arbitrary: arbMutatedLive },
);

const PARAM_NAMES = ['grant_type', 'username', 'password', 'client_id', 'client_secret', 'scope', 'refresh_token', 'token', 'token_type_hint', 'access_token'];
const arbParamName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: arbOdd });
const arbGrantType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('password', 'refresh_token') },
  { weight: 1, arbitrary: fc.constantFrom('PASSWORD', 'password ', ' password', 'pass\u0000word', 'refresh_token\u202e', 'client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer') },
  { weight: 1, arbitrary: arbOdd },
);
const arbScope = fc.oneof(fc.constantFrom('read', 'write', 'read write', 'introspection', 'read read', ' read', 'read\twrite', 'READ'), arbOdd);
/** Never the seed password: random input never carries valid user credentials. */
const arbUsername = fc.oneof(fc.constant(SEED.username), arbOdd, fc.constantFrom(`${SEED.username}\u0301`, `\u202e${SEED.username}`, SEED.username.toUpperCase(), `${SEED.username}\u0000`));
const arbPassword = fc.oneof(arbOdd, fc.constantFrom(`${SEED.password} `, SEED.password.slice(1), SEED.password.normalize('NFKC').toLowerCase())).filter((p) => p !== SEED.password);

/** How a case presents client credentials. `fuzz` is the only valid one; `seed-wrong` pays for argon2id. */
type CredKind = 'none' | 'fuzz-basic' | 'fuzz-body' | 'fuzz-wrong' | 'seed-wrong' | 'unknown' | 'odd';
const arbCredKind = (weights: Partial<Record<CredKind, number>>) =>
  fc.oneof(...(Object.entries(weights) as [CredKind, number][]).map(([kind, weight]) => ({ weight: Math.round(weight * 20), arbitrary: fc.constant(kind) })));

interface Creds {
  headers: [string, string][];
  params: [string, string][];
  authAsFuzz: boolean;
}
const arbCreds = (weights: Partial<Record<CredKind, number>>): fc.Arbitrary<Creds> =>
  fc.tuple(arbCredKind(weights), arbOdd, arbOdd, fc.boolean()).map(([kind, a, b, inBody]) => {
    const cred = (id: string, secret: string): Creds =>
      inBody
        ? { headers: [], params: [['client_id', id], ['client_secret', secret]], authAsFuzz: false }
        : { headers: [['Authorization', basic(id, secret)]], params: [], authAsFuzz: false };
    switch (kind) {
      case 'none':
        return { headers: [], params: [], authAsFuzz: false };
      case 'fuzz-basic':
        return { headers: [['Authorization', basic(fuzzClient.clientId, fuzzClient.clientSecret)]], params: [], authAsFuzz: true };
      case 'fuzz-body':
        return { headers: [], params: [['client_id', fuzzClient.clientId], ['client_secret', fuzzClient.clientSecret]], authAsFuzz: true };
      case 'fuzz-wrong':
        return cred(fuzzClient.clientId, a === fuzzClient.clientSecret ? `${a}x` : a);
      case 'seed-wrong':
        return cred(SEED.clientId, a === SEED.clientSecret ? `${a}x` : a);
      case 'unknown':
        return cred(`${a}`.replace(/:/g, ''), b);
      default:
        return { headers: [], params: [['client_id', a], ['client_secret', b]], authAsFuzz: false };
    }
  });

/** Parameters for an endpoint: a plausible set, some of them odd. */
const arbParamsFor = (target: string): fc.Arbitrary<[string, string][]> => {
  if (/^\/o\/token/.test(target)) {
    return fc
      .record({ grant_type: arbGrantType, username: arbUsername, password: arbPassword, scope: fc.option(arbScope), refresh_token: arbToken })
      .map(({ grant_type, username, password, scope, refresh_token }) => {
        const pairs: [string, string][] = [['grant_type', grant_type]];
        if (grant_type.startsWith('refresh')) pairs.push(['refresh_token', refresh_token]);
        else pairs.push(['username', username], ['password', password]);
        if (scope !== null) pairs.push(['scope', scope]);
        return pairs;
      });
  }
  return fc
    .record({ token: arbToken, hint: fc.option(fc.oneof(fc.constantFrom('access_token', 'refresh_token'), arbOdd)) })
    .map(({ token, hint }) => {
      const pairs: [string, string][] = [['token', token]];
      if (hint !== null) pairs.push(['token_type_hint', hint]);
      return pairs;
    });
};

/** `arb` in about `percent` of the cases, null otherwise. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary: arb });

const refusedAs = (status: number, code: string): Expectation => ({
  rule: `expect:${status}-${code}`,
  what: `${status} ${code}`,
  holds: (r, json) => r.status === status && json?.error === code,
});

/** Attaches a short text form, so a counterexample prints readably (fast-check uses it). */
function named(c: FuzzCase): FuzzCase {
  return Object.assign(c, { [fc.toStringMethod]: () => `${c.label}: ${describeRequest(c.request)}` });
}

// ---------------------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------------------

describe('fuzzed input over raw HTTP never breaks the server, its answers or its store', () => {
  it('answers random byte bodies, under form, JSON and odd content types, with RFC-shaped errors; non-UTF-8 bytes are invalid_request', async () => {
    const arb = fc
      .record({
        target: arbEndpoint,
        method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'OPTIONS'),
        contentType: fc.oneof<[fc.WeightedArbitrary<string | null>, fc.WeightedArbitrary<string | null>]>(
          { weight: 3, arbitrary: fc.constantFrom(...FORM_TYPES, ...JSON_TYPES) },
          { weight: 1, arbitrary: fc.option(arbOtherType) },
        ),
        body: fc.oneof(
          fc.uint8Array({ maxLength: 1024 }).map((a) => Buffer.from(a)),
          fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s, 'utf8')),
          fc.tuple(fc.string({ maxLength: 40 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 40 }))
            .map(([a, bytes, b]) => Buffer.concat([Buffer.from(a), Buffer.from(bytes), Buffer.from(b)])),
        ),
        creds: arbCreds({ none: 6, 'fuzz-basic': 2, 'fuzz-wrong': 1, odd: 1 }),
        framing: fc.constantFrom<Framing>('length', 'length', 'length', 'chunked'),
      })
      .map(({ target, method, contentType, body, creds, framing }) => {
        const headers: [string, string][] = [...creds.headers];
        if (contentType !== null) headers.push(['Content-Type', contentType]);
        const c: FuzzCase = { label: 'random bytes', request: request(method, target, headers, body, framing), authAsFuzz: creds.authAsFuzz };
        // docs/token-endpoint.md: "bytes that are not UTF-8 are invalid_request, never silently altered".
        if (method === 'POST' && isBodyEndpoint(target) && contentType !== null && [...FORM_TYPES, ...JSON_TYPES].includes(contentType) && !isUtf8(body)) {
          c.expect = { ...refusedAs(400, 'invalid_request'), rule: 'expect:non-utf8-refused' };
        }
        return named(c);
      });
    await property(arb, runsOf('randomBytes'));
  }, PROPERTY_TIMEOUT_MS);

  it('refuses a form body with a broken percent-escape (lone surrogate, overlong UTF-8, bad hex) with 400 invalid_request on every endpoint', async () => {
    const BROKEN = ['%', '%%', '%Z1', '%1', '%G0', '%ED%A0%80', '%ED%BF%BF', '%C0%AF', '%C0%80', '%E0%80%AF', '%F8%88%80%80%80', '%FF', '%FE', '%80', '%E2%82', '%F4%90%80%80', '%C3', '%%41', '%u0041', '%2'];
    const arb = fc
      .record({
        target: arbEndpoint,
        pairs: fc.array(fc.tuple(arbParamName, arbOdd), { maxLength: 6 }),
        broken: fc.constantFrom(...BROKEN),
        at: fc.nat(),
        inName: fc.boolean(),
        contentType: fc.constantFrom(...FORM_TYPES),
        creds: arbCreds({ none: 3, 'fuzz-basic': 2, 'seed-wrong': 0.2, unknown: 1 }),
        framing: fc.constantFrom<Framing>('length', 'length', 'chunked'),
      })
      .map(({ target, pairs, broken, at, inName, contentType, creds, framing }) => {
        // The broken escape goes between two whole characters and is followed by `!`, so that it can never
        // join its neighbours into a valid sequence (`%E2%82` + `%AC` would be a valid €).
        const all: [string, string][] = [...pairs, ...creds.params];
        if (all.length === 0) all.push(['password', '']);
        const slot = at % all.length;
        const encoded = all.map(([n, v], i) => {
          if (i !== slot) return `${pct(n)}=${pct(v)}`;
          if (inName) return `${pct(n)}${broken}!=${pct(v)}`;
          const chars = [...v];
          const cut = at % (chars.length + 1);
          return `${pct(n)}=${pct(chars.slice(0, cut).join(''))}${broken}!${pct(chars.slice(cut).join(''))}`;
        });
        const body = encoded.join('&');
        return named({
          label: 'broken percent-encoding',
          request: request('POST', target, [...creds.headers, ['Content-Type', contentType]], body, framing),
          authAsFuzz: creds.authAsFuzz,
          expect: refusedAs(400, 'invalid_request'),
        });
      });
    await property(arb, runsOf('percent'));
  }, PROPERTY_TIMEOUT_MS);

  it('answers broken, odd and foreign Authorization: Basic headers with 401 and a challenge, never a success', async () => {
    const arbSecretPart = fc.oneof(arbOdd, fc.constantFrom('%', '%ZZ', '%3A', 'a%2Bb', '+', '%ED%A0%80', ''));
    const arbDecoded: fc.Arbitrary<Buffer> = fc.oneof(
      { weight: 30, arbitrary: fc.tuple(arbOdd, arbSecretPart).map(([id, secret]) => Buffer.from(`${id.replace(/:/g, '')}:${secret}`)) },
      { weight: 20, arbitrary: arbSecretPart.map((secret) => Buffer.from(`${fuzzClient.clientId}:${secret === fuzzClient.clientSecret ? 'x' : secret}`)) },
      // The seed client with a wrong secret: argon2id verifications (one or two candidates), so kept rare.
      { weight: 3, arbitrary: arbSecretPart.map((secret) => Buffer.from(`${SEED.clientId}:${secret === SEED.clientSecret ? 'x' : secret}`)) },
      { weight: 10, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
      { weight: 10, arbitrary: arbOdd.map((s) => Buffer.from(s.replace(/:/g, ''))) },
      { weight: 10, arbitrary: fc.constantFrom(Buffer.from(':'), Buffer.from('::'), Buffer.from(`${fuzzClient.clientId}:`), Buffer.from([0xff, 0x3a, 0xfe]), Buffer.from('a'.repeat(6000) + ':b')) },
    );
    const arbB64 = fc.tuple(arbDecoded, fc.nat(9), fc.nat(), fc.constantFrom(...ODD_PIECES.slice(0, 30))).map(([decoded, how, at, piece]) => {
      const text = b64(decoded);
      switch (how) {
        case 0: return text.replace(/=+$/, '');
        case 1: return `${text}===`;
        case 2: return text.replace(/\+/g, '-').replace(/\//g, '_');
        case 3: return text.slice(0, at % (text.length + 1)) + piece + text.slice(at % (text.length + 1));
        case 4: return text.slice(0, -1);
        case 5: return `${text} ${text}`;
        case 6: return `=${text}`;
        default: return text;
      }
    });
    const arb = fc
      .record({
        target: arbEndpoint,
        scheme: fc.constantFrom('Basic', 'basic', 'BASIC', 'bAsIc', 'Basic ', 'Basic\t', 'Basic\t\t', '\tBasic', 'Basicx', 'Basic,', 'Bearer', 'Digest', 'Negotiate', ''),
        credentials: fc.oneof({ weight: 4, arbitrary: arbB64 }, { weight: 1, arbitrary: arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')) }),
        trailing: fc.constantFrom('', '', ' ', '\t', ' x', ', Basic abc'),
      })
      .chain(({ target, scheme, credentials, trailing }) =>
        arbParamsFor(target).map((params) => {
          const value = `${scheme}${scheme.endsWith(' ') || scheme.endsWith('\t') ? '' : ' '}${credentials}${trailing}`;
          // Header values with control characters are the HTTP parser's business (the header-abuse property).
          const clean = !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value) && ![...value].some((ch) => ch.charCodeAt(0) > 0xff);
          const body = form(params);
          const c: FuzzCase = {
            label: 'Basic header',
            request: request(isBodyEndpoint(target) ? 'POST' : 'GET', target, [['Authorization', clean ? value : value.replace(/[^\t\x20-\x7e]/g, '?')], ['Content-Type', FORM]], isBodyEndpoint(target) ? body : undefined),
            authAsFuzz: false,
          };
          // What the server decodes (a lone surrogate travels as U+FFFD).
          const grantType = Buffer.from(params[0]![1], 'utf8').toString('utf8');
          if (/^\/o\/token/.test(target) && grantType === '') {
            c.expect = refusedAs(400, 'invalid_request'); // an empty value counts as omitted (§3.2)
          } else if (/^\/o\/token/.test(target) && grantType !== 'password' && grantType !== 'refresh_token') {
            // docs/token-endpoint.md, order of checks: unsupported_grant_type comes before client authentication.
            c.expect = refusedAs(400, 'unsupported_grant_type');
          } else if (/^\/o\/(token|revoke_token)/.test(target)) {
            // No valid client credentials anywhere: RFC 6749 §5.2 invalid_client, 401 with the Basic challenge.
            c.expect = {
              rule: 'expect:invalid_client',
              what: '401 invalid_client with WWW-Authenticate: Basic',
              // A body parameter holding NUL is refused as malformed before any authentication (core/params.ts).
              holds: (r, json) =>
                (r.status === 401 && json?.error === 'invalid_client' && /^Basic /.test(r.headers.get('www-authenticate')?.[0] ?? '')) ||
                (r.status === 400 && json?.error_description === 'A parameter contains a NUL character.'),
            };
          } else if (/^\/o\/introspect/.test(target)) {
            // RFC 7662 §2.1: a client (invalid_client) or, with a Bearer scheme, a bearer caller (invalid_token).
            c.expect = {
              rule: 'expect:introspect-401',
              what: '401 invalid_client or invalid_token',
              holds: (r, json) => r.status === 401 && (json?.error === 'invalid_client' || json?.error === 'invalid_token'),
            };
          } else {
            // RFC 6750 §3: no usable bearer token.
            c.expect = { rule: 'expect:bearer-401', what: '401 with a Bearer challenge', holds: (r) => r.status === 401 && /^Bearer /.test(r.headers.get('www-authenticate')?.[0] ?? '') };
          }
          return named(c);
        }),
      );
    await property(arb, runsOf('basic'));
  }, PROPERTY_TIMEOUT_MS);

  it('answers deeply nested and malformed JSON with 400 invalid_request, and any form or JSON body over 16 KiB (up to 1 MB) with 413', async () => {
    const arbNested = fc
      .record({ depth: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(8_000, 8_191, 8_192, 8_193, 10_000)), style: fc.nat(4), balanced: fc.boolean() })
      .map(({ depth, style, balanced }) => {
        const [open, close, inner] = [
          ['[', ']', '"x"'],
          ['{"a":', '}', '"x"'],
          ['[{"a":', '}]', '1'],
          ['{"grant_type":', '}', '"password"'],
          ['[', ']', ''],
        ][style]! as [string, string, string];
        return `${open.repeat(depth)}${inner}${balanced ? close.repeat(depth) : ''}`;
      });
    const arbHugeString = fc
      .record({ size: fc.oneof(fc.integer({ min: 16_000, max: 17_000 }), fc.constantFrom(100_000, 1_048_576), fc.integer({ min: 0, max: 1_048_576 })), key: fc.constantFrom(...PARAM_NAMES), piece: fc.constantFrom('a', '\\u0000', 'é', '😀', '\\"') })
      .map(({ size, key, piece }) => `{"grant_type":"password",${JSON.stringify(key)}:"${piece.repeat(Math.ceil(size / piece.length))}"}`);
    const arbMalformed = fc.oneof(
      fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
      fc.constantFrom('{', '}', '{"a":}', '{"a":"b",}', "{'a':'b'}", '{"a":"b"} x', '\ufeff{}', '{"a":NaN}', '{"a":"\\x41"}', '{"a":"\\ud800"', '/* */{}', '{"a":"b"}{"c":"d"}', 'null', '"string"', '[]', '1', 'true', '{"a" "b"}', '{"a":"b\u0000"}', '{"a":"line\nbreak"}'),
      arbOdd.map((s) => `{"grant_type":"${s}"}`),
    );
    const arbNotFlat = fc.json({ maxDepth: 4 }).filter((text) => {
      const value: unknown = JSON.parse(text);
      return !(value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'));
    });
    const arbHugeForm = fc
      .record({ size: fc.oneof(fc.integer({ min: 16_000, max: 17_000 }), fc.constantFrom(100_000, 1_048_576), fc.integer({ min: 0, max: 1_048_576 })), key: fc.constantFrom(...PARAM_NAMES), piece: fc.constantFrom('a', '%00', '%C3%A9', '+') })
      .map(({ size, key, piece }) => `grant_type=password&${key}=${piece.repeat(Math.ceil(size / piece.length))}`);
    const tagged = (kind: string, arb: fc.Arbitrary<string>, weight: number) => ({ weight, arbitrary: arb.map((text) => ({ kind, text })) });
    const arb = fc
      .record({
        target: arbEndpoint,
        body: fc.oneof(
          tagged('nested', arbNested, 2),
          tagged('huge', arbHugeString, 1),
          tagged('huge form', arbHugeForm, 1),
          tagged('malformed', arbMalformed, 1),
          tagged('not-flat', arbNotFlat, 1),
        ),
        json: fc.constantFrom(...JSON_TYPES),
        form: fc.constantFrom(...FORM_TYPES),
        creds: arbCreds({ none: 3, 'fuzz-basic': 1 }),
        framing: fc.constantFrom<Framing>('length', 'length', 'chunked'),
      })
      .map(({ target, body: { kind, text }, json, form: formType, creds, framing }) => {
        const body = Buffer.from(text, 'utf8');
        const contentType = kind === 'huge form' ? formType : json;
        const c: FuzzCase = { label: `body ${kind}`, request: request('POST', target, [...creds.headers, ['Content-Type', contentType]], body, framing), authAsFuzz: creds.authAsFuzz };
        if (body.length > LIMIT) {
          // docs/token-endpoint.md: more than OAUTHD_MAX_BODY_BYTES is 413 invalid_request, on every endpoint.
          c.expect = { rule: 'expect:413', what: `413 invalid_request for a ${body.length}-byte body`, holds: (r, json) => r.status === 413 && json?.error === 'invalid_request' };
        } else if (kind !== 'huge form' && !isFlatObjectOfStrings(text)) {
          // Deep nesting, bad syntax, or anything but a flat object of strings: invalid_request, whoever asks,
          // on every endpoint (the body is parsed before any route runs).
          c.expect = refusedAs(400, 'invalid_request');
        }
        return named(c);
      });
    await property(arb, runsOf('json'));
  }, PROPERTY_TIMEOUT_MS);

  it('refuses a parameter sent twice (form or JSON, body or URL) with 400 invalid_request (RFC 6749 §3.2)', async () => {
    const arb = fc
      .record({
        target: arbBodyEndpoint,
        json: fc.boolean(),
        repeated: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: arbOdd.filter((s) => s !== '') }),
        times: fc.integer({ min: 2, max: 4 }),
        values: fc.array(fc.oneof(arbOdd, arbToken, fc.constant('')), { minLength: 4, maxLength: 4 }),
        others: fc.array(fc.tuple(arbParamName, arbOdd), { maxLength: 4 }),
        order: fc.nat(),
        creds: arbCreds({ none: 2, 'fuzz-basic': 2, 'fuzz-body': 1, unknown: 1 }),
        inQuery: fc.boolean(),
        queryToken: fc.boolean(),
      })
      .map(({ target, json, repeated, times, values, others, order, creds, inQuery, queryToken }) => {
        if (queryToken) {
          // RFC 9700 §2.5 (docs/token-endpoint.md): an access_token in the userinfo URL is invalid_request, once or repeated.
          const query = Array.from({ length: times - 1 }, (_, i) => `access_token=${pct(values[i]! || 'x')}`).join('&');
          return named({
            label: 'repeated query token',
            request: request('GET', `/o/userinfo/?${query}`, []),
            authAsFuzz: false,
            expect: { ...refusedAs(400, 'invalid_request'), rule: 'expect:userinfo-query-token' },
          });
        }
        const repeats: [string, string][] = values.slice(0, times).map((v) => [repeated, v]);
        const pairs: [string, string][] = [...others, ...creds.params];
        for (const [i, pair] of repeats.entries()) pairs.splice((order + i * 7) % (pairs.length + 1), 0, pair);
        if (inQuery && !json) {
          // The same parameter in the URL, repeated: refused before anything else (RFC 6749 §2.3.1, §3.2).
          const query = repeats.map(([n, v]) => `${pct(n)}=${pct(v)}`).join('&');
          return named({
            label: 'repeated in query',
            request: request('POST', `${target}?${query}`, [...creds.headers, ['Content-Type', FORM]], form([...others, ...creds.params])),
            authAsFuzz: creds.authAsFuzz,
            expect: PARAM_NAMES.slice(0, 8).includes(repeated) ? refusedAs(400, 'invalid_request') : undefined,
          } as FuzzCase);
        }
        const body = json ? jsonObject(pairs) : form(pairs);
        return named({
          label: 'repeated parameter',
          request: request('POST', target, [...creds.headers, ['Content-Type', json ? JSON_TYPE : FORM]], body),
          authAsFuzz: creds.authAsFuzz,
          expect: refusedAs(400, 'invalid_request'),
        });
      });
    await property(arb, runsOf('repeated'));
  }, PROPERTY_TIMEOUT_MS);

  it('answers odd Unicode (NUL, U+202E, combining marks, lone surrogates) in every parameter with RFC errors and no success', async () => {
    const arb = fc
      .record({
        target: arbEndpoint,
        encoding: fc.constantFrom('form', 'form-raw-utf8', 'json'),
        creds: arbCreds({ none: 2, 'fuzz-basic': 3, 'fuzz-body': 2, 'fuzz-wrong': 1, 'seed-wrong': 0.15, odd: 2 }),
        extra: fc.array(fc.tuple(fc.constantFrom(...PARAM_NAMES), arbOdd), { maxLength: 3 }),
      })
      .chain(({ target, encoding, creds, extra }) =>
        arbParamsFor(target).map((params) => {
          // Unknown or extra parameters are ignored, but never twice the same name.
          const names = new Set([...params, ...creds.params].map(([n]) => n));
          const pairs: [string, string][] = [...params, ...creds.params, ...extra.filter(([n]) => !names.has(n) && names.add(n))];
          const body =
            encoding === 'json' ? jsonObject(pairs)
            : encoding === 'form' ? form(pairs)
            : pairs.map(([n, v]) => `${n}=${v.replace(/[%&=+]/g, (ch) => pct(ch, false)).replace(/[\ud800-\udfff]/g, '\ufffd')}`).join('&');
          const bodyTarget = isBodyEndpoint(target);
          // userinfo and the gateway read no body: the odd values go in the query string instead.
          return named({
            label: `odd unicode (${encoding})`,
            request: bodyTarget
              ? request('POST', target, [...creds.headers, ['Content-Type', encoding === 'json' ? JSON_TYPE : FORM]], body)
              : request('GET', `${target}?${form(pairs)}`, creds.headers),
            authAsFuzz: creds.authAsFuzz,
          });
        }),
      );
    await property(arb, runsOf('unicode'));
  }, PROPERTY_TIMEOUT_MS);

  it('survives header abuse: huge and many headers, duplicate and odd Authorization, conflicting Content-Length and Transfer-Encoding', async () => {
    const arbAuthValue = fc.oneof(
      fc.constant(null).map(() => basic(fuzzClient.clientId, fuzzClient.clientSecret)),
      fc.constant(null).map(() => `Bearer ${live.access}`),
      arbMutatedLive.map((t) => `Bearer ${t}`),
      fc.tuple(fc.constantFrom('bAsIc', 'BASIC', 'basic', 'bearer', 'BEARER', 'BeArEr'), fc.constantFrom(' ', '\t', '  ', ' \t ', '\t\t'), fc.constant(null)).map(
        ([scheme, gap]) => `${scheme}${gap}${scheme.toLowerCase() === 'basic' ? b64(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`) : live.access}`,
      ),
      arbOdd.map((s) => s.replace(/[\r\n]/g, ' ')),
    );
    /** Each turns a body into framing headers and framed bytes; `incomplete` ones promise more than they send. */
    const FRAMINGS: ReadonlyArray<(body: string) => { headers: [string, string][]; body: string; incomplete?: boolean }> = [
      (b) => ({ headers: [['Content-Length', String(b.length)], ['Transfer-Encoding', 'chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked'], ['Content-Length', '3']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'gzip']], body: b }),
      (b) => ({ headers: [['Transfer-Encoding', 'gzip, chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked, gzip']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'Chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', ' chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'identity']], body: b }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `zz\r\n${b}\r\n0\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `${b.length.toString(16)};ext=1\r\n${b}\r\n0\r\nX-Trailer: 1\r\n\r\n` }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `${(b.length + 5).toString(16)}\r\n${b}\r\n0\r\n\r\n`, incomplete: true }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `${b.length.toString(16)}\r\n${b}`, incomplete: true }),
      (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `FFFFFFFFFFFFFFFF\r\n${b}\r\n0\r\n\r\n`, incomplete: true }),
      (b) => ({ headers: [['Content-Length', '-1']], body: b }),
      (b) => ({ headers: [['Content-Length', 'abc']], body: b }),
      (b) => ({ headers: [['Content-Length', `+${b.length}`]], body: b }),
      (b) => ({ headers: [['Content-Length', `0x${b.length.toString(16)}`]], body: b }),
      (b) => ({ headers: [['Content-Length', `00${b.length}`]], body: b }),
      (b) => ({ headers: [['Content-Length', '99999999999999999999999']], body: b }),
      (b) => ({ headers: [['Content-Length', `${b.length}, ${b.length}`]], body: b }),
      (b) => ({ headers: [['Content-Length', String(b.length)], ['Content-Length', String(b.length + 1)]], body: b }),
      (b) => ({ headers: [['Content-Length', String(b.length)], ['Content-Length', String(b.length)]], body: b }),
      (b) => ({ headers: [['Content-Length', String(Math.max(0, b.length - 3))]], body: b }),
      (b) => ({ headers: [['Content-Length', String(b.length + 10)]], body: b, incomplete: true }),
      (b) => ({ headers: [['Content-Length', ` ${b.length} `]], body: b }),
      (b) => ({ headers: [['Content-Length', `${b.length}\t`]], body: b }),
      (b) => ({ headers: [], body: b }),
    ];
    const arb = fc
      .record({
        target: arbEndpoint,
        method: fc.constantFrom('POST', 'GET', 'HEAD', 'PUT'),
        params: fc.array(fc.tuple(fc.constantFrom(...PARAM_NAMES), arbOdd), { maxLength: 4 }),
        auths: fc.array(arbAuthValue, { maxLength: 3 }),
        authName: fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn'),
        long: sometimes(fc.record({ name: fc.constantFrom('X-Junk', 'Authorization', 'Content-Type', 'Cookie', 'User-Agent'), size: fc.oneof(fc.integer({ min: 1_000, max: 20_000 }), fc.constantFrom(16_000, 16_384, 65_536, 100_000)) }), 20),
        many: sometimes(fc.integer({ min: 20, max: 2_500 }), 20),
        framing: sometimes(fc.nat(FRAMINGS.length - 1), 50),
        odd: sometimes(fc.constantFrom(
          ['Authorization ', 'Basic abc'], [' Authorization', 'Basic abc'], ['Author ization', 'x'], ['X-Nul', 'a\u0000b'], ['X-Del', 'a\u007fb'],
          ['X-Ctl', 'a\u0001b'], ['X-Latin1', 'caf\u00e9 \u00ff'], ['', 'empty name'], ['X-Fold', 'a\r\n b'], ['Host', 'other'], ['Host', ''],
          ['Content-Type', `${FORM}\r\n\tfolded`], ['Expect', '100-continue'], ['Expect', 'nonsense'], ['Upgrade', 'h2c'], ['Connection', 'keep-alive, Upgrade'],
          ['X-Auth-Required-Scope', 'read'], ['X-Auth-Required-Scope', 'read\u00e9'], ['Content-Encoding', 'gzip'], ['Content-Encoding', 'br'],
        ) as fc.Arbitrary<[string, string]>, 40),
        contentType: fc.constantFrom(...FORM_TYPES, ...JSON_TYPES),
        creds: arbCreds({ none: 3, 'fuzz-body': 1 }),
      })
      .map(({ target, method, params, auths, authName, long, many, framing, odd, contentType, creds }) => {
        const names = new Set<string>();
        const pairs = [...params, ...creds.params].filter(([n]) => !names.has(n) && names.add(n));
        const body = contentType.startsWith(JSON_TYPE) ? jsonObject(pairs) : form(pairs);
        const headers: [string, string][] = [['Content-Type', contentType]];
        for (const value of auths) headers.push([authName, value]);
        if (long) headers.push([long.name, long.name === 'Authorization' ? `Basic ${'A'.repeat(long.size)}` : 'x'.repeat(long.size)]);
        if (many) for (let i = 0; i < many; i++) headers.push([`X-H${i}`, String(i)]);
        if (odd) headers.push(odd);
        let bytes: Buffer | undefined;
        let incomplete = false;
        if (framing !== null) {
          const framed = FRAMINGS[framing]!(Buffer.from(body, 'utf8').toString('latin1'));
          headers.push(...framed.headers);
          bytes = Buffer.from(framed.body, 'latin1');
          incomplete = framed.incomplete ?? false;
        } else if (method !== 'GET' && method !== 'HEAD') {
          bytes = Buffer.from(body, 'utf8');
          headers.push(['Content-Length', String(bytes.length)]);
        }
        const all: [string, string][] = [...BASE_HEADERS, ...headers].map(([n, v]) => [n, v]);
        return named({
          label: 'header abuse',
          request: { method, target, headers: all, ...(bytes ? { body: bytes } : {}) },
          incomplete,
          authAsFuzz: creds.authAsFuzz || auths.some((a) => a.includes(b64(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`))),
        });
      });
    await property(arb, runsOf('headers'));
  }, PROPERTY_TIMEOUT_MS);

  it('answers random methods, paths and queries under /o/ with JSON errors (404, 405, 400), never a 5xx', async () => {
    const SEGMENTS = ['token', 'revoke_token', 'introspect', 'userinfo', 'auth', 'x', '', '.', '..', '%2e%2e', '%2F', '%00', '%', '%zz', '%ED%A0%80', '%C0%AF', 'TOKEN', 'token%2F', 'token;x=1', '~', '*', '..%2F..%2Fhealthz', '.well-known', 'openapi.json', '\u00e9', 'a'.repeat(2_000)];
    const arbMethod = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
      { weight: 2, arbitrary: fc.constantFrom('TRACE', 'CONNECT', 'PROPFIND', 'SEARCH', 'QUERY', 'M-SEARCH', 'PURGE', 'LINK', 'MKCOL', 'REPORT', 'get', 'Post', 'GETS', 'G ET', '', 'POST\u0000') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }).map((s) => s.replace(/[\r\n ]/g, '')) },
    );
    const arbQuery = fc.option(
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES, 'scope', 'scope'), arbOdd), fc.oneof(arbOdd, arbToken)), { minLength: 1, maxLength: 4 }).map((pairs) => form(pairs)),
    );
    const arb = fc
      .record({
        base: fc.oneof(arbEndpoint, fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }).map((s) => `/o/${s.join('/')}`)),
        suffix: fc.constantFrom('', '', '/', '//', '/x', '?', '#frag', '%20'),
        query: arbQuery,
        method: arbMethod,
        version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
        bearer: fc.option(fc.oneof(arbMutatedLive, arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')))),
        hasBody: fc.boolean(),
        params: fc.array(fc.tuple(fc.constantFrom(...PARAM_NAMES), arbOdd), { maxLength: 3 }),
      })
      .map(({ base, suffix, query, method, version, bearer, hasBody, params }) => {
        const target = `${base}${suffix}${query === null ? '' : `${suffix.includes('?') ? '&' : '?'}${query}`}`.replace(/[^\x21-\x7e]/g, (ch) => pct(ch, false));
        const headers: [string, string][] = [];
        if (bearer !== null) headers.push(['Authorization', `Bearer ${bearer}`.replace(/[^\t\x20-\x7e]/g, '?')]);
        const req = hasBody ? request(method, target, [...headers, ['Content-Type', FORM]], form(params)) : request(method, target, headers);
        return named({ label: 'method and path', request: { ...req, version }, authAsFuzz: false });
      });
    const edge = (method: string, target: string): FuzzCase => ({ label: 'method and path', request: request(method, target, []), authAsFuzz: false });
    await property(arb, runsOf('methodsPaths'), [
      edge('GET', '/o/openapi.json'),
      edge('HEAD', '/o/openapi.json'),
      edge('GET', '/o/openapi.json/'),
      edge('GET', '/o/auth'),
      edge('GET', '/o/auth/'),
      edge('CONNECT', '/o/token/'),
      edge('OPTIONS', '/o/token/'),
      edge('TRACE', '/o/userinfo/'),
      edge('GET', '/o/%zz'),
      edge('GET', '/o//token/'),
      edge('GET', '/o/token/..%2F..%2Fhealthz'),
      edge('GET', '/o/../healthz'),
      edge('GET', '/o/'),
      edge('GET', '/o'),
    ]);
  }, PROPERTY_TIMEOUT_MS);

  it('answers junk, mutated and misplaced bearer tokens on userinfo, the gateway and introspection with 401/400/403, never a success', async () => {
    const arb = fc
      .record({
        target: fc.constantFrom('/o/userinfo/', '/o/userinfo', '/o/auth/x', '/o/auth/api/v1', '/o/introspect/'),
        token: fc.oneof(
          { weight: 3, arbitrary: arbMutatedLive },
          { weight: 1, arbitrary: fc.constant(null).map(() => live.refresh) },
          { weight: 2, arbitrary: arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')) },
          { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,600}=*$/) },
        ),
        scheme: fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Bearer', 'Bearer ,', 'Token ', 'Bearer realm="x" '),
        queryToken: fc.option(arbToken),
        requiredScope: fc.option(fc.oneof(fc.constantFrom('read', 'read write', 'admin', 'introspection', '', ' '), arbOdd)),
        scopeVia: fc.constantFrom('header', 'query'),
        method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE'),
      })
      .map(({ target, token, scheme, queryToken, requiredScope, scopeVia, method }) => {
        const headers: [string, string][] = [['Authorization', `${scheme}${token}`.replace(/[^\t\x20-\x7e]/g, '?')]];
        let query = queryToken === null ? '' : `access_token=${pct(queryToken)}`;
        if (requiredScope !== null && target.startsWith('/o/auth/')) {
          if (scopeVia === 'header') headers.push(['X-Auth-Required-Scope', requiredScope.replace(/[^\t\x20-\x7e]/g, '?')]);
          else query = `${query}${query ? '&' : ''}scope=${pct(requiredScope)}`;
        }
        const fullTarget = query ? `${target}?${query}` : target;
        const post = method === 'POST' && target.startsWith('/o/introspect');
        const req = post
          ? request('POST', fullTarget, [...headers, ['Content-Type', FORM]], form([['token', live.access]]))
          : request(method, fullTarget, headers);
        return named({ label: 'bearer', request: req, authAsFuzz: false });
      });
    await property(arb, runsOf('bearer'));
  }, PROPERTY_TIMEOUT_MS);
});

describe('after the fuzzing', () => {
  it(`ran at least ${TOTAL_RUNS} cases`, () => {
    expect(casesRun).toBeGreaterThanOrEqual(TOTAL_RUNS);
  });

  it('left the database exactly as it was: no grant, token, client or user created, used or revoked', async () => {
    const after = await snapshot();
    expect(after.counts).toEqual(before.counts);
    expect(after.rows).toEqual(before.rows);
    expect(await storeView()).toEqual(storeBefore);
    expect(storeBefore).toMatchObject({ users: 1, clients: 2 });
  });

  it('still serves the pre-fuzz pair: its access token on /o/userinfo/, its refresh token unused per introspection', async () => {
    const info = await userinfo(server, live.access);
    expect(info.status).toBe(200);
    expect(info.json.username).toBe(SEED.username);
    const introspected = await fetch(`${server.oauthUrl}/introspect/`, {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: basic(SEED.clientId, SEED.clientSecret) },
      body: new URLSearchParams({ token: live.refresh, token_type_hint: 'refresh_token' }),
    });
    expect(introspected.status).toBe(200);
    expect(await introspected.json()).toMatchObject({ active: true, client_id: SEED.clientId, username: SEED.username });
  });

  it('is still up: a normal password grant succeeds, and the log holds no failed request (no 5xx)', async () => {
    const grant = await passwordGrant(server);
    expect(grant.status).toBe(200);
    const failures = server.logs().split('\n').filter((line) => line.includes('"request failed"'));
    // The 500s of the known bugs above (gateway-500-on-malformed-scope, postgres-500-on-nul) are logged too.
    const unexplained = failures.filter(
      (line) => !line.includes('gateway: malformed required scope') && !(TEST_STORE === 'postgres' && line.includes('invalid byte sequence for encoding \\"UTF8\\": 0x00')),
    );
    expect(unexplained).toEqual([]);
  });
});

describe('the oracle itself (synthetic answers, no server involved)', () => {
  const response = (status: number, body: string, headers: Record<string, string> = {}): RawResponse => ({
    status,
    reason: '',
    headers: new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]])),
    body: Buffer.from(body),
  });
  const exchange = (...responses: RawResponse[]): RawExchange => ({ responses, bytes: Buffer.alloc(0), socketError: null, endedAfterIdle: false, parseError: null, elapsedMs: 0 });
  const probe: FuzzCase = { label: 'probe', request: request('POST', '/o/token/', [['Content-Type', FORM]], 'a=b'), authAsFuzz: false };
  const rules = (...responses: RawResponse[]) => violationsOf(probe, exchange(...responses)).map((v) => v.rule);

  it('accepts an RFC-shaped refusal with its challenge, and an empty answer of Node itself', () => {
    expect(rules(response(400, '{"error":"invalid_request","error_description":"x"}'))).toEqual([]);
    expect(rules(response(401, '{"error":"invalid_client","error_description":"x"}', { 'WWW-Authenticate': 'Basic realm="oauthd"' }))).toEqual([]);
    expect(rules(response(400, ''))).toEqual([]);
  });

  it('flags 5xx, Fastify error bodies, stack traces, extra keys, unknown codes, a 401 without challenge, and tokens', () => {
    expect(rules(response(500, '{"error":"server_error","error_description":"x"}'))).toContain('5xx');
    expect(rules(response(502, ''))).toContain('5xx');
    expect(rules(response(503, '{"error":"temporarily_unavailable","error_description":"x"}'))).toEqual([]);
    expect(rules(response(400, '{"error":"Bad Request","message":"Client Error","statusCode":400}'))).toEqual(expect.arrayContaining(['leak', 'bad-error-shape']));
    expect(rules(response(400, '{"error":"invalid_request","error_description":"x","stack":"at y"}'))).toEqual(expect.arrayContaining(['leak', 'bad-error-shape']));
    expect(rules(response(400, '{"error":"invalid_request","error_description":"TypeError: x"}'))).toContain('leak');
    expect(rules(response(400, '{"error":"bad_thing","error_description":"x"}'))).toContain('bad-error-code');
    expect(rules(response(401, '{"error":"invalid_request","error_description":"x"}', { 'WWW-Authenticate': 'Basic' }))).toContain('status-code-mismatch');
    expect(rules(response(401, '{"error":"invalid_client","error_description":"x"}'))).toContain('401-without-challenge');
    expect(rules(response(400, 'oops'))).toContain('not-json');
    const tokens = '{"access_token":"a","expires_in":3600,"refresh_token":"r","scope":"read","token_type":"Bearer"}';
    expect(rules(response(200, tokens))).toContain('unexpected-success');
    expect(rules()).toContain('no-response');
  });

  it('lets the one echo of a parameter name through (core/params.ts), even when the name is "stack"', () => {
    expect(rules(response(400, '{"error":"invalid_request","error_description":"Duplicate stack parameter."}'))).toEqual([]);
  });
});

/**
 * The bugs this file found in src/, each with its minimal input, asserting the CORRECT behaviour. They are
 * `it.fails` so the suite stays green while the bug is there; when src/ is fixed the `it.fails` turns red:
 * then make it an `it` and delete the bug's entry in knownBugOf / KnownBugId.
 */
describe('bugs found by fuzzing, fixed: their minimal inputs', () => {
  const send = async (head: string, body: Buffer | string = '') => {
    const bytes = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')]);
    const exchange = await rawExchange(port, bytes, { head: head.startsWith('HEAD') });
    expect(exchange.responses.length).toBeGreaterThan(0);
    return exchange.responses[0]!;
  };
  const rfcShapedOrEmpty = (r: RawResponse) => {
    if (r.body.length === 0) return;
    const json = jsonOf(r);
    expect(json).not.toBeNull();
    expect(Object.keys(json!).sort()).toEqual(['error', 'error_description']);
    expect(bodyText(r)).not.toContain('statusCode');
  };

  // fastify-client-error-body. Requests Node's HTTP parser rejects (Content-Length with Transfer-Encoding,
  // a lower-case method, a NUL in a header, headers over OAUTHD_MAX_HEADER_BYTES) are answered by Fastify's
  // defaultClientErrorHandler: `{"error":"Bad Request","message":"Client Error","statusCode":400}` (431:
  // "Request Header Fields Too Large"), the framework's error JSON that docs/token-endpoint.md promises
  // never to send. Fix: a `clientErrorHandler` in buildApp's Fastify options that writes the RFC body (or
  // none) and `Connection: close`.
  it('answers Content-Length with Transfer-Encoding: chunked with 400 and an RFC-shaped (or empty) body', async () => {
    const r = await send('POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', '0\r\n\r\n');
    expect(r.status).toBe(400);
    rfcShapedOrEmpty(r);
  });

  it('answers headers over the limit with 431 and an RFC-shaped (or empty) body', async () => {
    const r = await send(`GET /o/userinfo/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Junk: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(r.status).toBe(431);
    rfcShapedOrEmpty(r);
  });

  // gateway-500-on-malformed-scope. A required scope that is not NQCHAR (RFC 6749 §3.3) in `?scope=` (or
  // X-Auth-Required-Scope) makes /o/auth/* answer 500 server_error, and log an error, for input any client
  // can send: the gateway URL is public, and Envoy's ext_authz appends the client's own path and query to
  // it. Expected: a 4xx (400 invalid_request), never a 5xx.
  it('answers a malformed required scope on the gateway with a 4xx, not 500', async () => {
    const r = await send(`GET /o/auth/x?scope=%22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ${live.access}\r\n\r\n`);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });

  // userinfo-repeated-query-token. docs/token-endpoint.md: `access_token` in the query string is 400
  // invalid_request (RFC 9700 §2.5). Sent twice, the query parser makes it an array, the route only looks
  // for a string, and the request is treated as carrying no token at all (401 bare challenge).
  it('refuses access_token repeated in the userinfo query with 400 invalid_request, as it refuses it once', async () => {
    const once = await send('GET /o/userinfo/?access_token=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(once.status).toBe(400);
    const twice = await send('GET /o/userinfo/?access_token=x&access_token=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(twice.status).toBe(400);
    expect(jsonOf(twice)?.error).toBe('invalid_request');
  });

  // non-utf8-body-accepted. docs/token-endpoint.md and http/body.ts: "bytes that are not UTF-8 are
  // invalid_request, never silently altered". The body parsers receive the body already decoded by
  // Fastify (`parseAs: 'string'`), which turns every invalid byte into U+FFFD, so the check never sees
  // them: `token=\xff` reaches client authentication (401), and a Latin-1 password is compared altered.
  // Fix: parse as a Buffer and decode with `new TextDecoder('utf-8', { fatal: true })`.
  it('refuses a body with a byte that is not UTF-8 with 400 invalid_request', async () => {
    const r = await send('POST /o/revoke_token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n', Buffer.from('token=\xff', 'latin1'));
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });

  // postgres-500-on-nul (PostgreSQL store only). PostgreSQL text cannot hold U+0000: a client_id (in the body
  // or in Basic credentials) or a username containing NUL makes the store's query fail with "invalid byte
  // sequence for encoding UTF8: 0x00", answered 500 server_error (and logged as an error), before any
  // authentication. Expected: no such client / user (401 invalid_client, 400 invalid_grant), as on SQLite.
  it('answers a NUL in a parameter with 400 invalid_request on every store, never 500', async () => {
    const body = 'grant_type=password&client_id=%00';
    const r = await send(`POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`, body);
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });

  it('does not log in with a Latin-1 password byte that was silently replaced by U+FFFD', async () => {
    // Runs last: it creates a user and, while the bug lasts, a grant (the store checks above are done).
    await server.services.admin.createUser('latin1-victim', 'caf\ufffd-au-lait');
    const body = Buffer.concat([Buffer.from('grant_type=password&username=latin1-victim&password=caf'), Buffer.from([0xe9]), Buffer.from('-au-lait')]);
    const r = await send(
      `POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${basic(fuzzClient.clientId, fuzzClient.clientSecret)}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(r.status).toBe(400);
    expect(jsonOf(r)?.error).toBe('invalid_request');
  });
});

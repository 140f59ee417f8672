/**
 * Bad input, fuzzed: property-based requests (fast-check) over raw HTTP/1.1 sockets against ONE real server,
 * on every endpoint under /o/ (token, revoke_token, introspect, userinfo, auth/*).
 *
 * RFC 6749 §2.3.1 (client authentication, Basic decoding), §3.2 (POST, parameters at most once),
 * §5.2 (error response: `error` + `error_description`); RFC 6750 §3 (Bearer challenge); RFC 7009 §2.2.1;
 * RFC 7662 §2; RFC 7235 §3.1 (every 401 carries a challenge); docs/token-endpoint.md (16 KiB body limit,
 * strict encoding).
 *
 * The properties, by what they fuzz, are in properties/ (bodies, credentials, framing). Every response,
 * whatever was sent, must satisfy the oracle (oracle.ts); some properties also promise a precise answer
 * (413 over the limit, invalid_request for a broken escape or a repeated parameter…). Any violation fails
 * the run. Afterwards the server must still serve, and the database must be exactly as it
 * was: nothing sent by the fuzzer carries valid credentials (the seed client's secret and the seed user's
 * password are never generated; the fuzz client's valid credentials appear only with tokens it cannot act on).
 *
 * Runs: 10,400 cases with CI set, 1,500 otherwise (OAUTHD_FUZZ_RUNS overrides); OAUTHD_FUZZ_SEED replays a
 * run (fast-check prints the seed and path of any counterexample).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, serialise } from '../helpers/raw-http.js';
import { SEED, basic, passwordGrant, userinfo, type TestServer } from '../helpers/server.js';
import { databaseSnapshot, type DatabaseSnapshot } from './database-snapshot.js';
import { named } from './generators.js';
import { describeResponse, jsonOf, violationsOf, type FuzzCase } from './oracle.js';
import { bodyProperties } from './properties/bodies.js';
import { credentialProperties } from './properties/credentials.js';
import { framingProperties } from './properties/framing.js';
import { FORM, describeRequest } from './requests.js';
import { TOTAL_RUNS, startFuzzTarget, type FuzzTarget } from './target.js';

const FUZZ_SEED = process.env.OAUTHD_FUZZ_SEED === undefined ? undefined : Number(process.env.OAUTHD_FUZZ_SEED);
/** OAUTHD_FUZZ_STATS=1 prints how often each property got each answer (to see how deep the cases reach). */
const STATS = process.env.OAUTHD_FUZZ_STATS === '1';
const stats = new Map<string, number>();

// ---------------------------------------------------------------------------------------------------------
// The server and what must not change
// ---------------------------------------------------------------------------------------------------------

let server: TestServer;
let port: number;
/** A client with a generated secret (see startFuzzTarget). */
const fuzzClient = { clientId: '', clientSecret: '' };
/** The pair obtained before fuzzing; it must come out untouched. */
const live = { access: '', refresh: '' };
let before: DatabaseSnapshot;
let storeBefore: { counts: unknown; users: number; clients: number };
let casesRun = 0;
/** Exchanges where the server stayed silent until the client half-closed (see raw-http.ts). */
let idleEnds = 0;

beforeAll(async () => {
  server = await startFuzzTarget({ live, fuzzClient });
  port = Number(new URL(server.url).port);
  before = await databaseSnapshot(server);
  storeBefore = await storeView();
});

/** The same question through the Store interface the server uses. */
async function storeView() {
  const { store } = server.services;
  return {
    counts: await store.counts(),
    users: (await store.listUsers()).length,
    clients: (await store.listClients()).length,
  };
}

afterAll(async () => {
  if (STATS) {
    const lines = [...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${String(n).padStart(6)}  ${k}`);
    console.log(lines.join('\n'));
  }
  console.log(`fuzz: ${casesRun} cases (${idleEnds} answered only after a half-close)`);
  await server?.stop();
});

/** Sends one case and throws (failing the property) on any violation of the oracle. */
async function runCase(c: FuzzCase): Promise<void> {
  casesRun++;
  const exchange = await rawExchange(port, serialise(c.request), {
    head: c.request.method === 'HEAD',
    incomplete: c.incomplete ?? false,
    timeoutMs: 10_000,
  });
  if (exchange.endedAfterIdle) idleEnds++;
  if (STATS) {
    const r = exchange.responses.find((x) => x.status >= 200);
    const key =
      `${c.label.replace(/ \(.*/, '')} → ` +
      `${r ? `${r.status} ${String(jsonOf(r)?.error ?? (r.body.length ? 'other body' : 'empty'))}` : 'none'}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
  }
  const violations = violationsOf(c, exchange, live.access);
  if (violations.length > 0) {
    const found = violations.map((v) => `[${v.rule}] ${v.text}: ${describeResponse(v.response)}`).join('; ');
    throw new Error(`${c.label}: ${found}\n  request: ${describeRequest(c.request)}`);
  }
}

/** Runs `runs` generated cases, after `examples` (edge cases every run must include). */
const property = (arb: fc.Arbitrary<FuzzCase>, runs: number, examples: FuzzCase[] = []) =>
  fc.assert(fc.asyncProperty(arb, runCase), {
    numRuns: runs,
    examples: examples.map((c) => [named(c)] as [FuzzCase]),
    ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}),
  });

const target: FuzzTarget = { live, fuzzClient, property };

describe('fuzzed input over raw HTTP never breaks the server, its answers or its store', () => {
  bodyProperties(target);
  credentialProperties(target);
  framingProperties(target);
});

describe('after the fuzzing', () => {
  it(`ran at least ${TOTAL_RUNS} cases`, () => {
    expect(casesRun).toBeGreaterThanOrEqual(TOTAL_RUNS);
  });

  it('left the database exactly as it was: no grant, token, client or user created, used or revoked', async () => {
    const after = await databaseSnapshot(server);
    expect(after.counts).toEqual(before.counts);
    expect(after.rows).toEqual(before.rows);
    expect(await storeView()).toEqual(storeBefore);
    expect(storeBefore).toMatchObject({ users: 1, clients: 2 });
  });

  it(
    'still serves the pre-fuzz pair: its access token on ' + '/o/userinfo/, its refresh token unused per introspection',
    async () => {
      const info = await userinfo(server, live.access);
      expect(info.status).toBe(200);
      expect(info.json.username).toBe(SEED.username);
      const introspected = await fetch(`${server.oauthUrl}/introspect/`, {
        method: 'POST',
        headers: { 'content-type': FORM, authorization: basic(SEED.clientId, SEED.clientSecret) },
        body: new URLSearchParams({ token: live.refresh, token_type_hint: 'refresh_token' }),
      });
      expect(introspected.status).toBe(200);
      expect(await introspected.json()).toMatchObject({
        active: true,
        client_id: SEED.clientId,
        username: SEED.username,
      });
    },
  );

  it('is still up: a normal password grant succeeds, and the log holds no failed request (no 5xx)', async () => {
    const grant = await passwordGrant(server);
    expect(grant.status).toBe(200);
    const failures = server
      .logs()
      .split('\n')
      .filter((line) => line.includes('"request failed"'));
    expect(failures).toEqual([]);
  });
});

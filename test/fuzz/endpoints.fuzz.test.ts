/**
 * Bad input, fuzzed: property-based requests (fast-check) over raw HTTP/1.1 sockets against ONE real server,
 * on every endpoint under /o/ (token, revoke_token, introspect, userinfo, auth/*).
 *
 * RFC 6749 §2.3.1 (client authentication, Basic decoding), §3.2 (POST, parameters at most once),
 * §5.2 (error response: `error` + `error_description`); RFC 6750 §3 (Bearer challenge); RFC 7009 §2.2.1;
 * RFC 7662 §2; RFC 7235 §3.1 (every 401 carries a challenge); docs/token-endpoint.md (16 KiB body limit,
 * strict encoding).
 *
 * Every response, whatever was sent, must satisfy the oracle (oracle.ts); some properties also promise a
 * precise answer (413 over the limit, invalid_request for a broken escape or a repeated parameter…). Any
 * violation fails the run. Afterwards the server must still serve, and the database must be exactly as it
 * was: nothing sent by the fuzzer carries valid credentials (the seed client's secret and the seed user's
 * password are never generated; the fuzz client's valid credentials appear only with tokens it cannot act on).
 *
 * Runs: 10,400 cases with CI set, 1,500 otherwise (OAUTHD_FUZZ_RUNS overrides); OAUTHD_FUZZ_SEED replays a
 * run (fast-check prints the seed and path of any counterexample).
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, serialise } from '../helpers/raw-http.js';
import {
  SEED,
  basic,
  passwordGrant,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';
import { databaseSnapshot, type DatabaseSnapshot } from './database-snapshot.js';
import {
  ODD_PIECES,
  PARAM_NAMES,
  arbBodyEndpoint,
  arbEndpoint,
  arbOdd,
  arbOtherType,
  arbParamName,
  named,
  secretArbitraries,
  sometimes,
} from './generators.js';
import { describeResponse, jsonOf, refusedAs, violationsOf, type FuzzCase } from './oracle.js';
import {
  BASE_HEADERS,
  FORM,
  FORM_TYPES,
  JSON_TYPE,
  JSON_TYPES,
  LIMIT,
  b64,
  describeRequest,
  form,
  isBodyEndpoint,
  isFlatObjectOfStrings,
  jsonObject,
  pct,
  request,
  type Framing,
} from './requests.js';

const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const TOTAL_RUNS = Number(process.env.OAUTHD_FUZZ_RUNS ?? (CI ? 10_400 : 1_500));
const FUZZ_SEED = process.env.OAUTHD_FUZZ_SEED === undefined ? undefined : Number(process.env.OAUTHD_FUZZ_SEED);
/** OAUTHD_FUZZ_STATS=1 prints how often each property got each answer (to see how deep the cases reach). */
const STATS = process.env.OAUTHD_FUZZ_STATS === '1';
const stats = new Map<string, number>();

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
const { arbMutatedLive, arbToken, arbCreds, arbParamsFor } = secretArbitraries({ live, fuzzClient });
let before: DatabaseSnapshot;
let storeBefore: { counts: unknown; users: number; clients: number };
let casesRun = 0;
/** Exchanges where the server stayed silent until the client half-closed (see raw-http.ts). */
let idleEnds = 0;

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
    const key = `${c.label.replace(/ \(.*/, '')} → ${r ? `${r.status} ${String(jsonOf(r)?.error ?? (r.body.length ? 'other body' : 'empty'))}` : 'none'}`;
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

// ---------------------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------------------

describe('fuzzed input over raw HTTP never breaks the server, its answers or its store', () => {
  it(
    'answers random byte bodies, under form, JSON and odd content types, with RFC-shaped errors; non-UTF-8 bytes are invalid_request',
    async () => {
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
            fc
              .tuple(
                fc.string({ maxLength: 40 }),
                fc.uint8Array({ minLength: 1, maxLength: 8 }),
                fc.string({ maxLength: 40 }),
              )
              .map(([a, bytes, b]) => Buffer.concat([Buffer.from(a), Buffer.from(bytes), Buffer.from(b)])),
          ),
          creds: arbCreds({ none: 6, 'fuzz-basic': 2, 'fuzz-wrong': 1, odd: 1 }),
          framing: fc.constantFrom<Framing>('length', 'length', 'length', 'chunked'),
        })
        .map(({ target, method, contentType, body, creds, framing }) => {
          const headers: [string, string][] = [...creds.headers];
          if (contentType !== null) headers.push(['Content-Type', contentType]);
          const c: FuzzCase = {
            label: 'random bytes',
            request: request(method, target, headers, body, framing),
            authAsFuzz: creds.authAsFuzz,
          };
          // docs/token-endpoint.md: "bytes that are not UTF-8 are invalid_request, never silently altered".
          if (
            method === 'POST' &&
            isBodyEndpoint(target) &&
            contentType !== null &&
            [...FORM_TYPES, ...JSON_TYPES].includes(contentType) &&
            !isUtf8(body)
          ) {
            c.expect = { ...refusedAs(400, 'invalid_request'), rule: 'expect:non-utf8-refused' };
          }
          return named(c);
        });
      await property(arb, runsOf('randomBytes'));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses a form body with a broken percent-escape (lone surrogate, overlong UTF-8, bad hex) with 400 invalid_request on every endpoint',
    async () => {
      const BROKEN = [
        '%',
        '%%',
        '%Z1',
        '%1',
        '%G0',
        '%ED%A0%80',
        '%ED%BF%BF',
        '%C0%AF',
        '%C0%80',
        '%E0%80%AF',
        '%F8%88%80%80%80',
        '%FF',
        '%FE',
        '%80',
        '%E2%82',
        '%F4%90%80%80',
        '%C3',
        '%%41',
        '%u0041',
        '%2',
      ];
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
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers broken, odd and foreign Authorization: Basic headers with 401 and a challenge, never a success',
    async () => {
      const arbSecretPart = fc.oneof(arbOdd, fc.constantFrom('%', '%ZZ', '%3A', 'a%2Bb', '+', '%ED%A0%80', ''));
      const arbDecoded: fc.Arbitrary<Buffer> = fc.oneof(
        {
          weight: 30,
          arbitrary: fc
            .tuple(arbOdd, arbSecretPart)
            .map(([id, secret]) => Buffer.from(`${id.replace(/:/g, '')}:${secret}`)),
        },
        {
          weight: 20,
          arbitrary: arbSecretPart.map((secret) =>
            Buffer.from(`${fuzzClient.clientId}:${secret === fuzzClient.clientSecret ? 'x' : secret}`),
          ),
        },
        // The seed client with a wrong secret: argon2id verifications (one or two candidates), so kept rare.
        {
          weight: 3,
          arbitrary: arbSecretPart.map((secret) =>
            Buffer.from(`${SEED.clientId}:${secret === SEED.clientSecret ? 'x' : secret}`),
          ),
        },
        { weight: 10, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
        { weight: 10, arbitrary: arbOdd.map((s) => Buffer.from(s.replace(/:/g, ''))) },
        {
          weight: 10,
          arbitrary: fc.constantFrom(
            Buffer.from(':'),
            Buffer.from('::'),
            Buffer.from(`${fuzzClient.clientId}:`),
            Buffer.from([0xff, 0x3a, 0xfe]),
            Buffer.from(`${'a'.repeat(6000)}:b`),
          ),
        },
      );
      const arbB64 = fc
        .tuple(arbDecoded, fc.nat(9), fc.nat(), fc.constantFrom(...ODD_PIECES.slice(0, 30)))
        .map(([decoded, how, at, piece]) => {
          const text = b64(decoded);
          switch (how) {
            case 0:
              return text.replace(/=+$/, '');
            case 1:
              return `${text}===`;
            case 2:
              return text.replace(/\+/g, '-').replace(/\//g, '_');
            case 3:
              return text.slice(0, at % (text.length + 1)) + piece + text.slice(at % (text.length + 1));
            case 4:
              return text.slice(0, -1);
            case 5:
              return `${text} ${text}`;
            case 6:
              return `=${text}`;
            default:
              return text;
          }
        });
      const arb = fc
        .record({
          target: arbEndpoint,
          scheme: fc.constantFrom(
            'Basic',
            'basic',
            'BASIC',
            'bAsIc',
            'Basic ',
            'Basic\t',
            'Basic\t\t',
            '\tBasic',
            'Basicx',
            'Basic,',
            'Bearer',
            'Digest',
            'Negotiate',
            '',
          ),
          credentials: fc.oneof(
            { weight: 4, arbitrary: arbB64 },
            { weight: 1, arbitrary: arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')) },
          ),
          trailing: fc.constantFrom('', '', ' ', '\t', ' x', ', Basic abc'),
        })
        .chain(({ target, scheme, credentials, trailing }) =>
          arbParamsFor(target).map((params) => {
            const value = `${scheme}${scheme.endsWith(' ') || scheme.endsWith('\t') ? '' : ' '}${credentials}${trailing}`;
            // Header values with control characters are the HTTP parser's business (the header-abuse property).
            const clean =
              !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value) && ![...value].some((ch) => ch.charCodeAt(0) > 0xff);
            const body = form(params);
            const c: FuzzCase = {
              label: 'Basic header',
              request: request(
                isBodyEndpoint(target) ? 'POST' : 'GET',
                target,
                [
                  ['Authorization', clean ? value : value.replace(/[^\t\x20-\x7e]/g, '?')],
                  ['Content-Type', FORM],
                ],
                isBodyEndpoint(target) ? body : undefined,
              ),
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
                  (r.status === 401 &&
                    json?.error === 'invalid_client' &&
                    /^Basic /.test(r.headers.get('www-authenticate')?.[0] ?? '')) ||
                  (r.status === 400 && json?.error_description === 'A parameter contains a NUL character.'),
              };
            } else if (/^\/o\/introspect/.test(target)) {
              // RFC 7662 §2.1: a client (invalid_client) or, with a Bearer scheme, a bearer caller (invalid_token).
              c.expect = {
                rule: 'expect:introspect-401',
                what: '401 invalid_client or invalid_token',
                holds: (r, json) =>
                  r.status === 401 && (json?.error === 'invalid_client' || json?.error === 'invalid_token'),
              };
            } else {
              // RFC 6750 §3: no usable bearer token.
              c.expect = {
                rule: 'expect:bearer-401',
                what: '401 with a Bearer challenge',
                holds: (r) => r.status === 401 && /^Bearer /.test(r.headers.get('www-authenticate')?.[0] ?? ''),
              };
            }
            return named(c);
          }),
        );
      await property(arb, runsOf('basic'));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers deeply nested and malformed JSON with 400 invalid_request, and any form or JSON body over 16 KiB (up to 1 MB) with 413',
    async () => {
      const arbNested = fc
        .record({
          depth: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(8_000, 8_191, 8_192, 8_193, 10_000)),
          style: fc.nat(4),
          balanced: fc.boolean(),
        })
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
        .record({
          size: fc.oneof(
            fc.integer({ min: 16_000, max: 17_000 }),
            fc.constantFrom(100_000, 1_048_576),
            fc.integer({ min: 0, max: 1_048_576 }),
          ),
          key: fc.constantFrom(...PARAM_NAMES),
          piece: fc.constantFrom('a', '\\u0000', 'é', '😀', '\\"'),
        })
        .map(
          ({ size, key, piece }) =>
            `{"grant_type":"password",${JSON.stringify(key)}:"${piece.repeat(Math.ceil(size / piece.length))}"}`,
        );
      const arbMalformed = fc.oneof(
        fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
        fc.constantFrom(
          '{',
          '}',
          '{"a":}',
          '{"a":"b",}',
          "{'a':'b'}",
          '{"a":"b"} x',
          '\ufeff{}',
          '{"a":NaN}',
          '{"a":"\\x41"}',
          '{"a":"\\ud800"',
          '/* */{}',
          '{"a":"b"}{"c":"d"}',
          'null',
          '"string"',
          '[]',
          '1',
          'true',
          '{"a" "b"}',
          '{"a":"b\u0000"}',
          '{"a":"line\nbreak"}',
        ),
        arbOdd.map((s) => `{"grant_type":"${s}"}`),
      );
      const arbNotFlat = fc.json({ maxDepth: 4 }).filter((text) => {
        const value: unknown = JSON.parse(text);
        return !(
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.values(value).every((v) => typeof v === 'string')
        );
      });
      const arbHugeForm = fc
        .record({
          size: fc.oneof(
            fc.integer({ min: 16_000, max: 17_000 }),
            fc.constantFrom(100_000, 1_048_576),
            fc.integer({ min: 0, max: 1_048_576 }),
          ),
          key: fc.constantFrom(...PARAM_NAMES),
          piece: fc.constantFrom('a', '%00', '%C3%A9', '+'),
        })
        .map(({ size, key, piece }) => `grant_type=password&${key}=${piece.repeat(Math.ceil(size / piece.length))}`);
      const tagged = (kind: string, arb: fc.Arbitrary<string>, weight: number) => ({
        weight,
        arbitrary: arb.map((text) => ({ kind, text })),
      });
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
          const c: FuzzCase = {
            label: `body ${kind}`,
            request: request('POST', target, [...creds.headers, ['Content-Type', contentType]], body, framing),
            authAsFuzz: creds.authAsFuzz,
          };
          if (body.length > LIMIT) {
            // docs/token-endpoint.md: more than OAUTHD_MAX_BODY_BYTES is 413 invalid_request, on every endpoint.
            c.expect = {
              rule: 'expect:413',
              what: `413 invalid_request for a ${body.length}-byte body`,
              holds: (r, json) => r.status === 413 && json?.error === 'invalid_request',
            };
          } else if (kind !== 'huge form' && !isFlatObjectOfStrings(text)) {
            // Deep nesting, bad syntax, or anything but a flat object of strings: invalid_request, whoever asks,
            // on every endpoint (the body is parsed before any route runs).
            c.expect = refusedAs(400, 'invalid_request');
          }
          return named(c);
        });
      await property(arb, runsOf('json'));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'refuses a parameter sent twice (form or JSON, body or URL) with 400 invalid_request (RFC 6749 §3.2)',
    async () => {
      const arb = fc
        .record({
          target: arbBodyEndpoint,
          json: fc.boolean(),
          repeated: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...PARAM_NAMES) },
            { weight: 1, arbitrary: arbOdd.filter((s) => s !== '') },
          ),
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
            const query = Array.from({ length: times - 1 }, (_, i) => `access_token=${pct(values[i]! || 'x')}`).join(
              '&',
            );
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
              request: request(
                'POST',
                `${target}?${query}`,
                [...creds.headers, ['Content-Type', FORM]],
                form([...others, ...creds.params]),
              ),
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
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers odd Unicode (NUL, U+202E, combining marks, lone surrogates) in every parameter with RFC errors and no success',
    async () => {
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
            const pairs: [string, string][] = [
              ...params,
              ...creds.params,
              ...extra.filter(([n]) => !names.has(n) && names.add(n)),
            ];
            const body =
              encoding === 'json'
                ? jsonObject(pairs)
                : encoding === 'form'
                  ? form(pairs)
                  : pairs
                      .map(
                        ([n, v]) =>
                          `${n}=${v.replace(/[%&=+]/g, (ch) => pct(ch, false)).replace(/[\ud800-\udfff]/g, '\ufffd')}`,
                      )
                      .join('&');
            const bodyTarget = isBodyEndpoint(target);
            // userinfo and the gateway read no body: the odd values go in the query string instead.
            return named({
              label: `odd unicode (${encoding})`,
              request: bodyTarget
                ? request(
                    'POST',
                    target,
                    [...creds.headers, ['Content-Type', encoding === 'json' ? JSON_TYPE : FORM]],
                    body,
                  )
                : request('GET', `${target}?${form(pairs)}`, creds.headers),
              authAsFuzz: creds.authAsFuzz,
            });
          }),
        );
      await property(arb, runsOf('unicode'));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'survives header abuse: huge and many headers, duplicate and odd Authorization, conflicting Content-Length and Transfer-Encoding',
    async () => {
      const arbAuthValue = fc.oneof(
        fc.constant(null).map(() => basic(fuzzClient.clientId, fuzzClient.clientSecret)),
        fc.constant(null).map(() => `Bearer ${live.access}`),
        arbMutatedLive.map((t) => `Bearer ${t}`),
        fc
          .tuple(
            fc.constantFrom('bAsIc', 'BASIC', 'basic', 'bearer', 'BEARER', 'BeArEr'),
            fc.constantFrom(' ', '\t', '  ', ' \t ', '\t\t'),
            fc.constant(null),
          )
          .map(
            ([scheme, gap]) =>
              `${scheme}${gap}${scheme.toLowerCase() === 'basic' ? b64(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`) : live.access}`,
          ),
        arbOdd.map((s) => s.replace(/[\r\n]/g, ' ')),
      );
      /** Each turns a body into framing headers and framed bytes; `incomplete` ones promise more than they send. */
      const FRAMINGS: ReadonlyArray<
        (body: string) => { headers: [string, string][]; body: string; incomplete?: boolean }
      > = [
        (b) => ({
          headers: [
            ['Content-Length', String(b.length)],
            ['Transfer-Encoding', 'chunked'],
          ],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({
          headers: [
            ['Transfer-Encoding', 'chunked'],
            ['Content-Length', '3'],
          ],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({
          headers: [
            ['Transfer-Encoding', 'chunked'],
            ['Transfer-Encoding', 'chunked'],
          ],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({ headers: [['Transfer-Encoding', 'gzip']], body: b }),
        (b) => ({
          headers: [['Transfer-Encoding', 'gzip, chunked']],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({
          headers: [['Transfer-Encoding', 'chunked, gzip']],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({ headers: [['Transfer-Encoding', 'Chunked']], body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` }),
        (b) => ({
          headers: [['Transfer-Encoding', ' chunked']],
          body: `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        }),
        (b) => ({ headers: [['Transfer-Encoding', 'identity']], body: b }),
        (b) => ({ headers: [['Transfer-Encoding', 'chunked']], body: `zz\r\n${b}\r\n0\r\n\r\n` }),
        (b) => ({
          headers: [['Transfer-Encoding', 'chunked']],
          body: `${b.length.toString(16)};ext=1\r\n${b}\r\n0\r\nX-Trailer: 1\r\n\r\n`,
        }),
        (b) => ({
          headers: [['Transfer-Encoding', 'chunked']],
          body: `${(b.length + 5).toString(16)}\r\n${b}\r\n0\r\n\r\n`,
          incomplete: true,
        }),
        (b) => ({
          headers: [['Transfer-Encoding', 'chunked']],
          body: `${b.length.toString(16)}\r\n${b}`,
          incomplete: true,
        }),
        (b) => ({
          headers: [['Transfer-Encoding', 'chunked']],
          body: `FFFFFFFFFFFFFFFF\r\n${b}\r\n0\r\n\r\n`,
          incomplete: true,
        }),
        (b) => ({ headers: [['Content-Length', '-1']], body: b }),
        (b) => ({ headers: [['Content-Length', 'abc']], body: b }),
        (b) => ({ headers: [['Content-Length', `+${b.length}`]], body: b }),
        (b) => ({ headers: [['Content-Length', `0x${b.length.toString(16)}`]], body: b }),
        (b) => ({ headers: [['Content-Length', `00${b.length}`]], body: b }),
        (b) => ({ headers: [['Content-Length', '99999999999999999999999']], body: b }),
        (b) => ({ headers: [['Content-Length', `${b.length}, ${b.length}`]], body: b }),
        (b) => ({
          headers: [
            ['Content-Length', String(b.length)],
            ['Content-Length', String(b.length + 1)],
          ],
          body: b,
        }),
        (b) => ({
          headers: [
            ['Content-Length', String(b.length)],
            ['Content-Length', String(b.length)],
          ],
          body: b,
        }),
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
          long: sometimes(
            fc.record({
              name: fc.constantFrom('X-Junk', 'Authorization', 'Content-Type', 'Cookie', 'User-Agent'),
              size: fc.oneof(fc.integer({ min: 1_000, max: 20_000 }), fc.constantFrom(16_000, 16_384, 65_536, 100_000)),
            }),
            20,
          ),
          many: sometimes(fc.integer({ min: 20, max: 2_500 }), 20),
          framing: sometimes(fc.nat(FRAMINGS.length - 1), 50),
          odd: sometimes(
            fc.constantFrom(
              ['Authorization ', 'Basic abc'],
              [' Authorization', 'Basic abc'],
              ['Author ization', 'x'],
              ['X-Nul', 'a\u0000b'],
              ['X-Del', 'a\u007fb'],
              ['X-Ctl', 'a\u0001b'],
              ['X-Latin1', 'caf\u00e9 \u00ff'],
              ['', 'empty name'],
              ['X-Fold', 'a\r\n b'],
              ['Host', 'other'],
              ['Host', ''],
              ['Content-Type', `${FORM}\r\n\tfolded`],
              ['Expect', '100-continue'],
              ['Expect', 'nonsense'],
              ['Upgrade', 'h2c'],
              ['Connection', 'keep-alive, Upgrade'],
              ['X-Auth-Required-Scope', 'read'],
              ['X-Auth-Required-Scope', 'read\u00e9'],
              ['Content-Encoding', 'gzip'],
              ['Content-Encoding', 'br'],
            ) as fc.Arbitrary<[string, string]>,
            40,
          ),
          contentType: fc.constantFrom(...FORM_TYPES, ...JSON_TYPES),
          creds: arbCreds({ none: 3, 'fuzz-body': 1 }),
        })
        .map(({ target, method, params, auths, authName, long, many, framing, odd, contentType, creds }) => {
          const names = new Set<string>();
          const pairs = [...params, ...creds.params].filter(([n]) => !names.has(n) && names.add(n));
          const body = contentType.startsWith(JSON_TYPE) ? jsonObject(pairs) : form(pairs);
          const headers: [string, string][] = [['Content-Type', contentType]];
          for (const value of auths) headers.push([authName, value]);
          if (long)
            headers.push([
              long.name,
              long.name === 'Authorization' ? `Basic ${'A'.repeat(long.size)}` : 'x'.repeat(long.size),
            ]);
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
            authAsFuzz:
              creds.authAsFuzz ||
              auths.some((a) => a.includes(b64(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`))),
          });
        });
      await property(arb, runsOf('headers'));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers random methods, paths and queries under /o/ with JSON errors (404, 405, 400), never a 5xx',
    async () => {
      const SEGMENTS = [
        'token',
        'revoke_token',
        'introspect',
        'userinfo',
        'auth',
        'x',
        '',
        '.',
        '..',
        '%2e%2e',
        '%2F',
        '%00',
        '%',
        '%zz',
        '%ED%A0%80',
        '%C0%AF',
        'TOKEN',
        'token%2F',
        'token;x=1',
        '~',
        '*',
        '..%2F..%2Fhealthz',
        '.well-known',
        'openapi.json',
        '\u00e9',
        'a'.repeat(2_000),
      ];
      const arbMethod = fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'TRACE',
            'CONNECT',
            'PROPFIND',
            'SEARCH',
            'QUERY',
            'M-SEARCH',
            'PURGE',
            'LINK',
            'MKCOL',
            'REPORT',
            'get',
            'Post',
            'GETS',
            'G ET',
            '',
            'POST\u0000',
          ),
        },
        {
          weight: 1,
          arbitrary: fc
            .string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 })
            .map((s) => s.replace(/[\r\n ]/g, '')),
        },
      );
      const arbQuery = fc.option(
        fc
          .array(
            fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES, 'scope', 'scope'), arbOdd), fc.oneof(arbOdd, arbToken)),
            { minLength: 1, maxLength: 4 },
          )
          .map((pairs) => form(pairs)),
      );
      const arb = fc
        .record({
          base: fc.oneof(
            arbEndpoint,
            fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }).map((s) => `/o/${s.join('/')}`),
          ),
          suffix: fc.constantFrom('', '', '/', '//', '/x', '?', '#frag', '%20'),
          query: arbQuery,
          method: arbMethod,
          version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
          bearer: fc.option(
            fc.oneof(
              arbMutatedLive,
              arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')),
            ),
          ),
          hasBody: fc.boolean(),
          params: fc.array(fc.tuple(fc.constantFrom(...PARAM_NAMES), arbOdd), { maxLength: 3 }),
        })
        .map(({ base, suffix, query, method, version, bearer, hasBody, params }) => {
          const target =
            `${base}${suffix}${query === null ? '' : `${suffix.includes('?') ? '&' : '?'}${query}`}`.replace(
              /[^\x21-\x7e]/g,
              (ch) => pct(ch, false),
            );
          const headers: [string, string][] = [];
          if (bearer !== null) headers.push(['Authorization', `Bearer ${bearer}`.replace(/[^\t\x20-\x7e]/g, '?')]);
          const req = hasBody
            ? request(method, target, [...headers, ['Content-Type', FORM]], form(params))
            : request(method, target, headers);
          return named({ label: 'method and path', request: { ...req, version }, authAsFuzz: false });
        });
      const edge = (method: string, target: string): FuzzCase => ({
        label: 'method and path',
        request: request(method, target, []),
        authAsFuzz: false,
      });
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
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'answers junk, mutated and misplaced bearer tokens on userinfo, the gateway and introspection with 401/400/403, never a success',
    async () => {
      const arb = fc
        .record({
          target: fc.constantFrom('/o/userinfo/', '/o/userinfo', '/o/auth/x', '/o/auth/api/v1', '/o/introspect/'),
          token: fc.oneof(
            { weight: 3, arbitrary: arbMutatedLive },
            { weight: 1, arbitrary: fc.constant(null).map(() => live.refresh) },
            { weight: 2, arbitrary: arbOdd.map((s) => s.replace(/[\r\n\0]/g, '')) },
            { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,600}=*$/) },
          ),
          scheme: fc.constantFrom(
            'Bearer ',
            'bearer ',
            'BEARER ',
            'Bearer  ',
            'Bearer\t',
            'Bearer',
            'Bearer ,',
            'Token ',
            'Bearer realm="x" ',
          ),
          queryToken: fc.option(arbToken),
          requiredScope: fc.option(
            fc.oneof(fc.constantFrom('read', 'read write', 'admin', 'introspection', '', ' '), arbOdd),
          ),
          scopeVia: fc.constantFrom('header', 'query'),
          method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE'),
        })
        .map(({ target, token, scheme, queryToken, requiredScope, scopeVia, method }) => {
          const headers: [string, string][] = [['Authorization', `${scheme}${token}`.replace(/[^\t\x20-\x7e]/g, '?')]];
          let query = queryToken === null ? '' : `access_token=${pct(queryToken)}`;
          if (requiredScope !== null && target.startsWith('/o/auth/')) {
            if (scopeVia === 'header')
              headers.push(['X-Auth-Required-Scope', requiredScope.replace(/[^\t\x20-\x7e]/g, '?')]);
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
    },
    PROPERTY_TIMEOUT_MS,
  );
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
    expect(await introspected.json()).toMatchObject({
      active: true,
      client_id: SEED.clientId,
      username: SEED.username,
    });
  });

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

/**
 * fast-check generators for the fuzz tests: endpoints, content types, odd strings, parameter names and
 * values, client credentials. None generates the seed client's secret or the seed user's password, so
 * nothing sent carries valid credentials that could act on the live pair.
 */
import fc from 'fast-check';
import { SEED, basic } from '../helpers/server.js';
import type { FuzzCase } from './oracle.js';
import { BODY_ENDPOINTS, ENDPOINTS, describeRequest } from './requests.js';

/** With and without the trailing slash (both are served), and a deeper gateway path. */
export const arbEndpoint = fc.constantFrom(
  ...ENDPOINTS,
  '/o/token',
  '/o/revoke_token',
  '/o/introspect',
  '/o/userinfo',
  '/o/auth/api/orders/7',
);
export const arbBodyEndpoint = fc.constantFrom(...BODY_ENDPOINTS, '/o/token', '/o/revoke_token', '/o/introspect');
export const arbOtherType = fc.oneof(
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

/** NUL, bidi overrides, combining marks, lone surrogates, noncharacters, separators, emoji, confusables. */
// biome-ignore format: one row per kind of oddity
export const ODD_PIECES = [
  '\u0000', '\u0001', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u00a0', '\u00ad',
  '\u202e', '\u202d', '\u200f', '\u2066', '\u061c',
  '\u0301', '\u0336', '\u20dd', 'e\u0301\u0301\u0301\u0301', 'Z\u0351\u0352\u0353\u0354\u0355\u0356',
  '\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b',
  '\ufeff', '\ufffe', '\uffff', '\ufffd', '\u2028', '\u2029', '\u200b', '\u180e', '\u3000',
  '😀', '👩‍👩‍👧', '\u{10ffff}', '\u{e0041}', 'İ', 'ı', 'ß', 'ﬁ', 'Å', 'Å', 'ｐａｓｓ', 'Ω',
  '\r', '\n', '\r\n', '\t', ' ', '%', '+', '&', '=', '"', "'", '\\', ':', '/', ';', ',', '?', '#',
  '<', '>', '{', '}', '[', ']',
  '%00', '%ED%A0%80', '%C0%AF', '__proto__', 'constructor', 'toString', 'null', 'undefined', 'NaN', '-1', '1e309',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, meant literally
  '${jndi:ldap://x}', "' OR 1=1 --", '../../etc/passwd', 'Error: boom', 'statusCode',
];
export const arbOdd: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...ODD_PIECES), fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 6 })
      .map((a) => a.join('')),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.nat(0xffff).map((n) => String.fromCharCode(n)), maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('A'.repeat(600), '\u0301'.repeat(300), '😀'.repeat(200), '\u0000'.repeat(100)),
  },
);

export const PARAM_NAMES = [
  'grant_type',
  'username',
  'password',
  'client_id',
  'client_secret',
  'scope',
  'refresh_token',
  'token',
  'token_type_hint',
  'access_token',
];
export const arbParamName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) },
  { weight: 1, arbitrary: arbOdd },
);
const arbGrantType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('password', 'refresh_token') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'PASSWORD',
      'password ',
      ' password',
      'pass\u0000word',
      'refresh_token\u202e',
      'client_credentials',
      'authorization_code',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ),
  },
  { weight: 1, arbitrary: arbOdd },
);
const arbScope = fc.oneof(
  fc.constantFrom('read', 'write', 'read write', 'introspection', 'read read', ' read', 'read\twrite', 'READ'),
  arbOdd,
);
/** Never the seed password: random input never carries valid user credentials. */
const arbUsername = fc.oneof(
  fc.constant(SEED.username),
  arbOdd,
  fc.constantFrom(
    `${SEED.username}\u0301`,
    `\u202e${SEED.username}`,
    SEED.username.toUpperCase(),
    `${SEED.username}\u0000`,
  ),
);
const arbPassword = fc
  .oneof(
    arbOdd,
    fc.constantFrom(`${SEED.password} `, SEED.password.slice(1), SEED.password.normalize('NFKC').toLowerCase()),
  )
  .filter((p) => p !== SEED.password);

/** How a case presents client credentials. `fuzz` is the only valid one; `seed-wrong` pays for argon2id. */
type CredKind = 'none' | 'fuzz-basic' | 'fuzz-body' | 'fuzz-wrong' | 'seed-wrong' | 'unknown' | 'odd';
const arbCredKind = (weights: Partial<Record<CredKind, number>>) =>
  fc.oneof(
    ...(Object.entries(weights) as [CredKind, number][]).map(([kind, weight]) => ({
      weight: Math.round(weight * 20),
      arbitrary: fc.constant(kind),
    })),
  );

interface Creds {
  headers: [string, string][];
  params: [string, string][];
  authAsFuzz: boolean;
}
/** `arb` in about `percent` of the cases, null otherwise. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary: arb });

/** Attaches a short text form, so a counterexample prints readably (fast-check uses it). */
export function named(c: FuzzCase): FuzzCase {
  return Object.assign(c, { [fc.toStringMethod]: () => `${c.label}: ${describeRequest(c.request)}` });
}

/** What the generators may send that is real: the pre-fuzz pair and the fuzz client, known once the server runs. */
export interface FuzzSecrets {
  live: { access: string; refresh: string };
  fuzzClient: { clientId: string; clientSecret: string };
}

/**
 * The generators that send real tokens or credentials. They read `secrets` when a case is generated, so the
 * object may be filled in after this call (in beforeAll).
 */
export function secretArbitraries(secrets: FuzzSecrets) {
  /** A live token, changed so that it is no longer valid (or, rarely, only wrapped in trimmed whitespace). */
  const arbMutatedLive = fc
    .tuple(
      fc.constantFrom<'access' | 'refresh'>('access', 'refresh'),
      fc.nat(42),
      fc.constantFrom(...ODD_PIECES.slice(0, 40)),
      fc.nat(8),
    )
    .map(([kind, at, piece, how]) => {
      const t = secrets.live[kind];
      const flip = (ch: string) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase());
      switch (how) {
        case 0:
          return t + piece;
        case 1:
          return piece + t;
        case 2:
          return t.slice(0, at) + t.slice(at + 1);
        case 3:
          return t.slice(0, at) + flip(t[at]!) + t.slice(at + 1);
        case 4:
          return t.slice(0, at) + piece + t.slice(at);
        case 5:
          return t + t;
        case 6:
          return t.toLowerCase() === t ? t.toUpperCase() : t.toLowerCase();
        case 7:
          return `"${t}"`;
        default:
          return t.slice(0, at);
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
    { weight: 1, arbitrary: fc.constantFrom<'access' | 'refresh'>('access', 'refresh').map((k) => secrets.live[k]) },
    { weight: 2, arbitrary: arbMutatedLive },
  );

  const arbCreds = (weights: Partial<Record<CredKind, number>>): fc.Arbitrary<Creds> =>
    fc.tuple(arbCredKind(weights), arbOdd, arbOdd, fc.boolean()).map(([kind, a, b, inBody]) => {
      const cred = (id: string, secret: string): Creds =>
        inBody
          ? {
              headers: [],
              params: [
                ['client_id', id],
                ['client_secret', secret],
              ],
              authAsFuzz: false,
            }
          : { headers: [['Authorization', basic(id, secret)]], params: [], authAsFuzz: false };
      switch (kind) {
        case 'none':
          return { headers: [], params: [], authAsFuzz: false };
        case 'fuzz-basic':
          return {
            headers: [['Authorization', basic(secrets.fuzzClient.clientId, secrets.fuzzClient.clientSecret)]],
            params: [],
            authAsFuzz: true,
          };
        case 'fuzz-body':
          return {
            headers: [],
            params: [
              ['client_id', secrets.fuzzClient.clientId],
              ['client_secret', secrets.fuzzClient.clientSecret],
            ],
            authAsFuzz: true,
          };
        case 'fuzz-wrong':
          return cred(secrets.fuzzClient.clientId, a === secrets.fuzzClient.clientSecret ? `${a}x` : a);
        case 'seed-wrong':
          return cred(SEED.clientId, a === SEED.clientSecret ? `${a}x` : a);
        case 'unknown':
          return cred(`${a}`.replace(/:/g, ''), b);
        default:
          return {
            headers: [],
            params: [
              ['client_id', a],
              ['client_secret', b],
            ],
            authAsFuzz: false,
          };
      }
    });

  /** Parameters for an endpoint: a plausible set, some of them odd. */
  const arbParamsFor = (target: string): fc.Arbitrary<[string, string][]> => {
    if (/^\/o\/token/.test(target)) {
      return fc
        .record({
          grant_type: arbGrantType,
          username: arbUsername,
          password: arbPassword,
          scope: fc.option(arbScope),
          refresh_token: arbToken,
        })
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

  return { arbMutatedLive, arbToken, arbCreds, arbParamsFor };
}

/**
 * Generated requests to the authorization endpoint: query strings with parameters missing, repeated, reordered,
 * hostile redirect URIs (lookalikes of the registered ones, other ports, userinfo, fragments, encoded
 * characters, other schemes), huge values, broken and non-UTF-8 percent escapes; by GET and POST (the pages'
 * own forms, with and without a valid session and CSRF token), with and without cookies.
 */
import fc from 'fast-check';
import type { RawRequest } from '../helpers/raw-http.js';
import { arbOdd } from './generators.js';
import { FORM, pct, request } from './requests.js';

/** The redirect URIs the fuzz clients registered (authorize.fuzz.test.ts). */
export const WEB_URIS = [
  'https://app.example/cb',
  'https://app.example/cb?tenant=acme',
  'http://127.0.0.1:8765/callback',
  'com.example.app:/oauth2redirect',
] as const;
export const ONE_URI = 'https://one.example/only';
export const NORIGHTS_URI = 'https://norights.example/cb';
export const REGISTERED = [...WEB_URIS, ONE_URI, NORIGHTS_URI];
export const URIS_OF: Readonly<Record<string, readonly string[]>> = {
  'fuzz-web': WEB_URIS,
  'fuzz-one': [ONE_URI],
  'fuzz-norights': [NORIGHTS_URI],
};
export const CLIENT_IDS = ['fuzz-web', 'fuzz-one', 'fuzz-norights'] as const;
/** RFC 7636 Appendix B. */
export const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** What the session-bound cases carry: set once the fuzz user has signed in (beforeAll). */
export interface SignedIn {
  cookie: string;
  csrf: string;
}

type Mutation = (uri: string) => string;
const LOOP = '127.0.0.1';
/** The host without its port. */
const hostOnly = (host: string) => host.replace(/:\d+$/, '');
const swapHost = (uri: string, to: (host: string) => string) =>
  uri.replace(/^([a-z.]+:\/\/)([^/?#]+)/i, (_, s, h) => s + to(h));
// biome-ignore format: one row per kind of lookalike
const MUTATIONS: Mutation[] = [
  (u) => `${u}/`, (u) => `${u}/..`, (u) => `${u}/../cb`, (u) => `${u}#`, (u) => `${u}#frag`, (u) => `${u}?`,
  (u) => `${u}?x=1`, (u) => `${u}&x=1`, (u) => `${u}%00`, (u) => `${u} `, (u) => ` ${u}`, (u) => `${u}\t`,
  (u) => `${u}\u0000`, (u) => `${u}.evil.example`, (u) => `${u}x`, (u) => u.toUpperCase(),
  (u) => u.replace(/^https?/, (s) => (s === 'https' ? 'http' : 'https')), (u) => u.replace(/\/([a-z])/, '/%$1'),
  (u) => u.replace(/\/([a-z])/, (_, c: string) => `/%${c.charCodeAt(0).toString(16)}`),
  (u) => u.replace(/\/(?=[^/]*$)/, '%2F'), (u) => u.replace('://', ':/'), (u) => u.replace('://', ':///'),
  (u) => u.replace(/^[a-z.]+:/i, 'javascript:'), (u) => u.replace(/^[a-z.]+:/i, ''),
  (u) => swapHost(u, (h) => `${h}.evil.example`), (u) => swapHost(u, (h) => `evil.example@${h}`),
  (u) => swapHost(u, (h) => `${h}@evil.example`), (u) => swapHost(u, (h) => `evil.example#@${h}`),
  (u) => swapHost(u, (h) => `${h}.`), (u) => swapHost(u, (h) => h.replace('a', '\u0430')),
  (u) => swapHost(u, (h) => `${hostOnly(h)}:443`), (u) => swapHost(u, (h) => `${hostOnly(h)}:8443`),
  (u) => swapHost(u, (h) => `${hostOnly(h)}:0`), (u) => swapHost(u, (h) => `${hostOnly(h)}:99999`),
  (u) => swapHost(u, (h) => h.replace(LOOP, 'localhost')), (u) => swapHost(u, (h) => h.replace(LOOP, '[::1]')),
  (u) => swapHost(u, (h) => h.replace(LOOP, '127.0.0.2')), (u) => swapHost(u, (h) => h.replace(LOOP, '0x7f000001')),
  (u) => swapHost(u, (h) => h.replace(LOOP, '127.1')), (u) => swapHost(u, (h) => h.replace('8765', '1')),
  (u) => swapHost(u, (h) => h.replace('8765', '65535')), (u) => swapHost(u, (h) => h.replace('8765', '08765')),
  (u) => swapHost(u, (h) => `user:pass@${h}`), (u) => `${u}/%2e%2e/evil`, (u) => `${u}\\@evil.example`,
];

/** A redirect URI for a request of `clientId`: mostly its own (so cases reach the redirect), else a lookalike. */
function arbRedirectUri(clientId: string): fc.Arbitrary<string> {
  const own = URIS_OF[clientId] ?? REGISTERED;
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...own) },
    // RFC 8252 §7.3: the registered loopback URI on any port must work too.
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 65535 }).map((p) => `http://127.0.0.1:${p}/callback`) },
    { weight: 1, arbitrary: fc.constantFrom(...REGISTERED) },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...own, ...REGISTERED),
          fc.array(fc.constantFrom(...MUTATIONS), { minLength: 1, maxLength: 2 }),
        )
        .map(([uri, mutations]) => mutations.reduce((u, m) => m(u), uri as string)),
    },
    { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
    { weight: 1, arbitrary: arbOdd },
  );
}

const arbHuge = fc.constantFrom(2_000, 9_000, 20_000).chain((n) => fc.constantFrom('A'.repeat(n), '%'.repeat(n / 2)));

/** One parameter's value, by name. */
function arbValue(name: string, clientId: string): fc.Arbitrary<string> {
  const pick = (...values: string[]) => fc.constantFrom(...values);
  const byName: Record<string, fc.Arbitrary<string>> = {
    client_id: fc.oneof(
      { weight: 12, arbitrary: fc.constant(clientId) },
      { weight: 1, arbitrary: pick(...CLIENT_IDS) },
      { weight: 1, arbitrary: arbOdd },
    ),
    redirect_uri: arbRedirectUri(clientId),
    response_type: fc.oneof(
      { weight: 6, arbitrary: pick('code') },
      { weight: 1, arbitrary: pick('token', 'code token', 'CODE', 'code ', 'id_token', '') },
      { weight: 1, arbitrary: arbOdd },
    ),
    scope: fc.oneof(
      { weight: 6, arbitrary: pick('read', 'write', 'read write') },
      { weight: 1, arbitrary: pick('admin', '', 'read  write', 'READ', 'read read') },
      { weight: 1, arbitrary: arbOdd },
    ),
    state: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: arbOdd }),
    code_challenge: fc.oneof(
      { weight: 6, arbitrary: pick(CHALLENGE) },
      { weight: 1, arbitrary: pick(CHALLENGE.slice(1), `${CHALLENGE}=`, 'x'.repeat(129), CHALLENGE.replace('-', '+')) },
      { weight: 1, arbitrary: arbOdd },
    ),
    code_challenge_method: fc.oneof(
      { weight: 6, arbitrary: pick('S256') },
      { weight: 1, arbitrary: pick('plain', 's256', 'S512', '') },
    ),
  };
  // Own keys only: an odd name such as `constructor` must not find Object.prototype's.
  const usual = Object.hasOwn(byName, name) ? byName[name]! : arbOdd;
  return fc.oneof({ weight: 40, arbitrary: usual }, { weight: 1, arbitrary: arbHuge });
}

const NAMES = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
];

/** How a pair is written into the query: encoded, raw (only what cannot break the request line escaped), broken. */
type Encoding = 'pct' | 'raw' | 'broken';
const BROKEN = ['%', '%G1', '%0', '%C0%AF', '%FF%FE', '%ED%A0%80', '%E2%82', '%F4%90%80%80', '%C3%28', '%00'];

function encode(text: string, encoding: Encoding, broken: string, at: number): string {
  if (encoding === 'pct') return pct(text);
  const raw = [...Buffer.from(text, 'utf8')]
    .map((b) =>
      b <= 0x20 || b >= 0x7f || b === 0x25
        ? `%${b.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(b),
    )
    .join('');
  if (encoding === 'raw') return raw;
  const cut = raw.length === 0 ? 0 : at % (raw.length + 1);
  return raw.slice(0, cut) + broken + raw.slice(cut);
}

const arbPair = (clientId: string) =>
  fc
    .record({
      name: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: arbOdd }),
      encoding: fc.constantFrom<Encoding>('pct', 'pct', 'pct', 'pct', 'raw', 'broken'),
      broken: fc.constantFrom(...BROKEN),
      at: fc.nat(),
    })
    .chain((p) => arbValue(p.name, clientId).map((value) => ({ ...p, value })));

/**
 * The query of a request meant for one of the clients: each usual parameter present or missing, sometimes
 * repeated (an extra pair), odd ones added, in any order, one of them sometimes written raw or broken.
 */
export const arbQuery: fc.Arbitrary<string> = fc
  .record({
    clientId: fc.constantFrom(...CLIENT_IDS),
    // Mostly every usual parameter, so that cases get past the first checks; sometimes any of them missing.
    names: fc.oneof({ weight: 3, arbitrary: fc.constant(NAMES) }, { weight: 1, arbitrary: fc.subarray(NAMES) }),
    encoding: fc.constantFrom<Encoding>('pct', 'pct', 'pct', 'pct', 'pct', 'raw', 'broken'),
    seed: fc.nat(),
  })
  .chain(({ clientId, names, encoding, seed }) =>
    fc
      .tuple(
        fc.tuple(...names.map((name) => arbValue(name, clientId).map((value) => ({ name, value })))),
        fc.oneof(
          { weight: 3, arbitrary: fc.constant([]) },
          { weight: 1, arbitrary: fc.array(arbPair(clientId), { maxLength: 3 }) },
        ),
      )
      .map(([pairs, extra]) => {
        const all = [
          ...pairs.map((p, i) => ({ ...p, encoding: i === seed % Math.max(1, pairs.length) ? encoding : 'pct' })),
          ...extra,
        ];
        const shift = all.length === 0 ? 0 : seed % all.length;
        const ordered = [...all.slice(shift), ...all.slice(0, shift)];
        return ordered
          .map((p) => {
            const e = p.encoding as Encoding;
            const broken = BROKEN[seed % BROKEN.length]!;
            return `${encode(p.name, e === 'broken' ? 'raw' : e, broken, seed)}=${encode(p.value, e, broken, seed)}`;
          })
          .join('&');
      }),
  );

/** A valid request of the fuzz-web client (consent asked) or fuzz-one (consent skipped), to reach a redirect. */
export function validQuery(clientId: string, redirectUri: string, state = 'xyz'): string {
  return new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'read',
    state,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  }).toString();
}

type CookieKind = 'session' | 'none' | 'garbage';
type BodyKind = 'consent' | 'random' | 'login' | 'empty';

export interface AuthorizeCase {
  label: string;
  /** The query string as sent. */
  query: string;
  request: RawRequest;
}

/** A request to `{basePath}/o/authorize/` with `query`, by `method`, with the session or not. */
export function authorizeRequest(
  basePath: string,
  input: {
    query: string;
    method: string;
    cookie: CookieKind;
    body: BodyKind;
    decision: string;
    csrf: 'valid' | 'wrong' | 'missing';
    pairs: [string, string][];
    slash: boolean;
  },
  signedIn: SignedIn,
): AuthorizeCase {
  const target = `${basePath}/o/authorize${input.slash ? '/' : ''}${input.query === '' ? '' : `?${input.query}`}`;
  const headers: [string, string][] = [];
  if (input.cookie === 'session') headers.push(['Cookie', signedIn.cookie]);
  if (input.cookie === 'garbage') headers.push(['Cookie', 'oauthd_session=AAAAAAAAAAAAAAAAAAAAAAAA; oauthd_session=x']);
  const csrf =
    input.csrf === 'valid'
      ? [['csrf_token', signedIn.csrf]]
      : input.csrf === 'wrong'
        ? [['csrf_token', 'A'.repeat(43)]]
        : [];
  let body: string | undefined;
  if (input.method === 'POST') {
    const fields: [string, string][] =
      input.body === 'consent'
        ? [['step', 'consent'], ['decision', input.decision], ...(csrf as [string, string][])]
        : input.body === 'login'
          ? [
              ['step', 'login'],
              ['username', 'nobody'],
              ['password', 'not-the-password'],
              ...(csrf as [string, string][]),
            ]
          : input.body === 'random'
            ? input.pairs
            : [];
    body = fields.map(([n, v]) => `${pct(n)}=${pct(v)}`).join('&');
    headers.push(['Content-Type', FORM]);
  }
  const label = `${input.method} ${input.cookie} cookie ${input.method === 'POST' ? `${input.body} body` : ''}`;
  return { label, query: input.query, request: request(input.method, target, headers, body) };
}

export const arbAuthorizeInput = fc.record({
  query: fc.oneof({ weight: 8, arbitrary: arbQuery }, { weight: 1, arbitrary: fc.constant('') }),
  method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'PUT'),
  cookie: fc.constantFrom<CookieKind>('session', 'session', 'none', 'none', 'garbage'),
  body: fc.constantFrom<BodyKind>('consent', 'consent', 'consent', 'random', 'empty', 'login'),
  decision: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('allow', 'deny') }, { weight: 1, arbitrary: arbOdd }),
  csrf: fc.constantFrom<'valid' | 'wrong' | 'missing'>('valid', 'valid', 'valid', 'wrong', 'missing'),
  pairs: fc.array(fc.tuple(arbOdd, arbOdd), { maxLength: 4 }),
  slash: fc.constantFrom(true, true, true, true, true, true, true, false),
});

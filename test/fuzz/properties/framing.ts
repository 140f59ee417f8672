/** Fuzz properties of the request line and headers: methods, paths, framing and header abuse. */
import fc from 'fast-check';
import { it } from 'vitest';
import { basic } from '../../helpers/server.js';
import { PARAM_NAMES, arbEndpoint, arbOdd, named, secretArbitraries, sometimes } from '../generators.js';
import type { FuzzCase } from '../oracle.js';
import {
  BASE_HEADERS,
  FORM,
  FORM_TYPES,
  JSON_TYPE,
  JSON_TYPES,
  b64,
  form,
  jsonObject,
  pct,
  request,
} from '../requests.js';
import { PROPERTY_TIMEOUT_MS, runsOf, type FuzzTarget } from '../target.js';

export function framingProperties(target: FuzzTarget): void {
  const { live, fuzzClient, property } = target;
  const { arbMutatedLive, arbToken, arbCreds } = secretArbitraries(target);

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
    'survives header abuse: huge and many headers, duplicate and odd Authorization, conflicting Content-Length ' +
      'and Transfer-Encoding',
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
              `${scheme}${gap}${
                scheme.toLowerCase() === 'basic'
                  ? b64(`${fuzzClient.clientId}:${fuzzClient.clientSecret}`)
                  : live.access
              }`,
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
}

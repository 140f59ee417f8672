/** Fuzz properties of request bodies: random bytes, broken escapes, JSON, repeated parameters, odd Unicode. */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { it } from 'vitest';
import {
  PARAM_NAMES,
  arbBodyEndpoint,
  arbEndpoint,
  arbOdd,
  arbOtherType,
  arbParamName,
  named,
  secretArbitraries,
} from '../generators.js';
import { refusedAs, type FuzzCase } from '../oracle.js';
import {
  FORM,
  FORM_TYPES,
  JSON_TYPE,
  JSON_TYPES,
  LIMIT,
  form,
  isBodyEndpoint,
  isFlatObjectOfStrings,
  jsonObject,
  pct,
  request,
  type Framing,
} from '../requests.js';
import { PROPERTY_TIMEOUT_MS, runsOf, type FuzzTarget } from '../target.js';

export function bodyProperties(target: FuzzTarget): void {
  const { property } = target;
  const { arbToken, arbCreds, arbParamsFor } = secretArbitraries(target);

  it(
    'answers random byte bodies, under form, JSON and odd content types, with RFC-shaped errors; non-UTF-8 ' +
      'bytes are invalid_request',
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
    'refuses a form body with a broken percent-escape (lone surrogate, overlong UTF-8, bad hex) with 400 ' +
      'invalid_request on every endpoint',
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
    'answers deeply nested and malformed JSON with 400 invalid_request, and any form or JSON body over 16 KiB ' +
      '(up to 1 MB) with 413',
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
            // RFC 9700 §2.5 (docs/token-endpoint.md): an access_token in the userinfo URL is invalid_request, once or
            // repeated.
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
    'answers odd Unicode (NUL, U+202E, combining marks, lone surrogates) in every parameter with RFC errors ' +
      'and no success',
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
}

/** Fuzz properties of credentials: Basic client authentication and bearer tokens, broken or foreign. */
import { GRANT_TYPES } from '../../../src/core/types.js';
import fc from 'fast-check';
import { it } from 'vitest';
import { SEED } from '../../helpers/server.js';
import { ODD_PIECES, arbEndpoint, arbOdd, named, secretArbitraries } from '../generators.js';
import { refusedAs, type FuzzCase } from '../oracle.js';
import { FORM, b64, form, isBodyEndpoint, pct, request } from '../requests.js';
import { PROPERTY_TIMEOUT_MS, runsOf, type FuzzTarget } from '../target.js';

export function credentialProperties(target: FuzzTarget): void {
  const { live, fuzzClient, property } = target;
  const { arbMutatedLive, arbToken, arbParamsFor } = secretArbitraries(target);

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
            const gap = scheme.endsWith(' ') || scheme.endsWith('\t') ? '' : ' ';
            const value = `${scheme}${gap}${credentials}${trailing}`;
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
            } else if (/^\/o\/token/.test(target) && !(GRANT_TYPES as readonly string[]).includes(grantType)) {
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
    'answers junk, mutated and misplaced bearer tokens on userinfo, the gateway and introspection with ' +
      '401/400/403, never a success',
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
}

/** The fuzz tests' oracle, judged on synthetic answers: no server involved. */
import { describe, expect, it } from 'vitest';
import type { RawExchange, RawResponse } from '../helpers/raw-http.js';
import { violationsOf, type FuzzCase } from './oracle.js';
import { FORM, request } from './requests.js';

describe('the oracle itself (synthetic answers, no server involved)', () => {
  const response = (status: number, body: string, headers: Record<string, string> = {}): RawResponse => ({
    status,
    reason: '',
    headers: new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), [v]])),
    body: Buffer.from(body),
  });
  const exchange = (...responses: RawResponse[]): RawExchange => ({
    responses,
    bytes: Buffer.alloc(0),
    socketError: null,
    endedAfterIdle: false,
    parseError: null,
    elapsedMs: 0,
  });
  const probe: FuzzCase = {
    label: 'probe',
    request: request('POST', '/o/token/', [['Content-Type', FORM]], 'a=b'),
    authAsFuzz: false,
  };
  /** A token the probe does not carry, as the live access token is never in a refused request. */
  const LIVE_ACCESS = 'live-access-token';
  const rules = (...responses: RawResponse[]) =>
    violationsOf(probe, exchange(...responses), LIVE_ACCESS).map((v) => v.rule);

  it('accepts an RFC-shaped refusal with its challenge, and an empty answer of Node itself', () => {
    expect(rules(response(400, '{"error":"invalid_request","error_description":"x"}'))).toEqual([]);
    expect(
      rules(
        response(401, '{"error":"invalid_client","error_description":"x"}', {
          'WWW-Authenticate': 'Basic realm="oauthd"',
        }),
      ),
    ).toEqual([]);
    expect(rules(response(400, ''))).toEqual([]);
  });

  it(
    'flags 5xx, Fastify error bodies, stack traces, extra keys, unknown codes, a 401 without challenge, and ' +
      'tokens',
    () => {
      expect(rules(response(500, '{"error":"server_error","error_description":"x"}'))).toContain('5xx');
      expect(rules(response(502, ''))).toContain('5xx');
      expect(rules(response(503, '{"error":"temporarily_unavailable","error_description":"x"}'))).toEqual([]);
      expect(rules(response(400, '{"error":"Bad Request","message":"Client Error","statusCode":400}'))).toEqual(
        expect.arrayContaining(['leak', 'bad-error-shape']),
      );
      expect(rules(response(400, '{"error":"invalid_request","error_description":"x","stack":"at y"}'))).toEqual(
        expect.arrayContaining(['leak', 'bad-error-shape']),
      );
      expect(rules(response(400, '{"error":"invalid_request","error_description":"TypeError: x"}'))).toContain('leak');
      expect(rules(response(400, '{"error":"bad_thing","error_description":"x"}'))).toContain('bad-error-code');
      expect(
        rules(response(401, '{"error":"invalid_request","error_description":"x"}', { 'WWW-Authenticate': 'Basic' })),
      ).toContain('status-code-mismatch');
      expect(rules(response(401, '{"error":"invalid_client","error_description":"x"}'))).toContain(
        '401-without-challenge',
      );
      expect(rules(response(400, 'oops'))).toContain('not-json');
      const tokens = '{"access_token":"a","expires_in":3600,"refresh_token":"r","scope":"read","token_type":"Bearer"}';
      expect(rules(response(200, tokens))).toContain('unexpected-success');
      expect(rules()).toContain('no-response');
    },
  );

  it('lets the one echo of a parameter name through (core/params.ts), even when the name is "stack"', () => {
    expect(
      rules(response(400, '{"error":"invalid_request","error_description":"Duplicate stack parameter."}')),
    ).toEqual([]);
  });
});

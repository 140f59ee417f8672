import { describe, expect, it } from 'vitest';
import { fakeAuthorizationStore, testClient } from '../../../test/helpers/authorization-fakes.js';
import type { ParamPairs } from '../params.js';
import type { Client } from '../types.js';
import type { AuthorizationRequestCheck } from './api.js';
import { checkAuthorizationRequest } from './check.js';

const ISSUER = 'https://as.example';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const policy = { knownScopes: ['read', 'write', 'admin'], defaultScopes: ['read'] };

const check = (query: ParamPairs, clients: Client[] = [testClient()]) =>
  checkAuthorizationRequest({ store: fakeAuthorizationStore(clients), policy }, query, ISSUER);

/** A valid request, with some parameters replaced (undefined: left out) or added. */
function query(changes: Record<string, string | undefined> = {}, extra: [string, string][] = []): ParamPairs {
  const base: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: 'https://app.example/cb',
    state: 'xyz',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    scope: 'read',
    ...changes,
  };
  const pairs = Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined);
  return [...pairs, ...extra];
}

function shown(result: AuthorizationRequestCheck) {
  if (result.ok || !('show' in result)) throw new Error(`expected an error page, got ${JSON.stringify(result)}`);
  return result.show;
}

function redirected(result: AuthorizationRequestCheck) {
  if (result.ok || !('redirect' in result)) throw new Error(`expected a redirect, got ${JSON.stringify(result)}`);
  const url = new URL(result.redirect);
  return { base: `${url.origin}${url.pathname}`, params: Object.fromEntries(url.searchParams), url };
}

describe('checkAuthorizationRequest: a valid request', () => {
  it('passes with everything bound', async () => {
    const result = await check(query());
    expect(result).toMatchObject({
      ok: true,
      request: {
        redirectUri: 'https://app.example/cb',
        scope: ['read'],
        state: 'xyz',
        codeChallenge: CHALLENGE,
        codeChallengeMethod: 'S256',
      },
    });
  });

  it('takes the only registered URI and the default scope when they are left out', async () => {
    const result = await check(query({ redirect_uri: undefined, scope: undefined, state: undefined }));
    expect(result).toMatchObject({
      ok: true,
      request: { redirectUri: 'https://app.example/cb', scope: ['read'], state: null },
    });
  });

  it('treats an empty parameter as left out (RFC 6749 §3.1)', async () => {
    const result = await check(query({ redirect_uri: '', state: '' }));
    expect(result).toMatchObject({ ok: true, request: { redirectUri: 'https://app.example/cb', state: null } });
  });
});

describe('checkAuthorizationRequest: errors shown, never redirected (RFC 6749 §4.1.2.1)', () => {
  it.each([
    ['a missing client_id', query({ client_id: undefined }), 'invalid_request'],
    ['an unknown client', query({ client_id: 'nobody' }), 'invalid_client'],
    ['a repeated client_id', query({}, [['client_id', 'app']]), 'invalid_request'],
    ['a repeated redirect_uri', query({}, [['redirect_uri', 'https://app.example/cb']]), 'invalid_request'],
    ['an unregistered redirect_uri', query({ redirect_uri: 'https://evil.example/cb' }), 'invalid_request'],
    ['a lookalike redirect_uri', query({ redirect_uri: 'https://app.example/cb/' }), 'invalid_request'],
    ['a redirect_uri with a fragment', query({ redirect_uri: 'https://app.example/cb#x' }), 'invalid_request'],
    ['a relative redirect_uri', query({ redirect_uri: '/cb' }), 'invalid_request'],
    ['a client_id with a NUL', query({ client_id: 'app\u0000' }), 'invalid_client'],
    ['an oversized client_id', query({ client_id: 'a'.repeat(5000) }), 'invalid_client'],
  ])('%s', async (_what, q, error) => {
    expect(shown(await check(q)).error).toBe(error);
  });

  it('a client without registered redirect URIs, even one with the grant', async () => {
    const bare = testClient({}, { redirectUris: null });
    expect(shown(await check(query(), [bare])).description).toMatch(/no registered redirect URI/);
  });

  it('a missing redirect_uri when several are registered', async () => {
    const two = testClient({}, { redirectUris: ['https://app.example/cb', 'https://app.example/two'] });
    expect(shown(await check(query({ redirect_uri: undefined }), [two])).description).toMatch(/required/);
  });

  it('a repeated client_id, even with a bad response_type', async () => {
    expect(shown(await check(query({ response_type: 'token' }, [['client_id', 'other']]))).error).toBe(
      'invalid_request',
    );
  });
});

describe('checkAuthorizationRequest: errors redirected with state and iss (RFC 9207 §2)', () => {
  it.each([
    ['a missing response_type', query({ response_type: undefined }), 'invalid_request'],
    ['another response_type', query({ response_type: 'token' }), 'unsupported_response_type'],
    ['a repeated parameter', query({}, [['scope', 'write']]), 'invalid_request'],
    [
      'a missing code_challenge',
      query({ code_challenge: undefined, code_challenge_method: undefined }),
      'invalid_request',
    ],
    ['a challenge without a method, S256 required', query({ code_challenge_method: undefined }), 'invalid_request'],
    ['the plain method, S256 required', query({ code_challenge_method: 'plain' }), 'invalid_request'],
    ['an unknown method', query({ code_challenge_method: 'S512' }), 'invalid_request'],
    ['a short challenge', query({ code_challenge: 'a'.repeat(42) }), 'invalid_request'],
    ['an unknown scope', query({ scope: 'read delete' }), 'invalid_scope'],
    ['a scope the client may not have', query({ scope: 'admin' }), 'invalid_scope'],
  ])('%s', async (_what, q, error) => {
    const { base, params } = redirected(await check(q));
    expect(base).toBe('https://app.example/cb');
    expect(params).toMatchObject({ error, state: 'xyz', iss: ISSUER });
    expect(params.error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/); // RFC 6749 §4.1.2.1
    expect(params.code).toBeUndefined();
  });

  it('says which PKCE rule failed (RFC 7636 §4.4.1)', async () => {
    const q = query({ code_challenge: undefined, code_challenge_method: undefined });
    expect(redirected(await check(q)).params.error_description).toBe('code_challenge required.');
  });

  it('unauthorized_client for a client without the authorization_code grant', async () => {
    const passwordOnly = testClient({ grantTypes: ['password'] });
    expect(redirected(await check(query(), [passwordOnly])).params.error).toBe('unauthorized_client');
  });

  it('PKCE even for a public client with optional PKCE; not for a confidential one', async () => {
    const q = query({ code_challenge: undefined, code_challenge_method: undefined });
    const publicOptional = testClient({ isPublic: true }, { pkce: 'optional' });
    expect(redirected(await check(q, [publicOptional])).params.error).toBe('invalid_request');
    const confidential = testClient({ isPublic: false, secretHash: 'x' }, { pkce: 'optional' });
    expect(await check(q, [confidential])).toMatchObject({ ok: true, request: { codeChallenge: null } });
  });

  it('keeps the registered URI’s own query and sends the loopback port used', async () => {
    const withQuery = testClient({}, { redirectUris: ['https://app.example/cb?tenant=7', 'http://127.0.0.1/cb'] });
    const one = redirected(
      await check(query({ redirect_uri: 'https://app.example/cb?tenant=7', scope: 'x' }), [withQuery]),
    );
    expect(one.url.search).toMatch(/^\?tenant=7&error=invalid_scope&/);
    const two = redirected(await check(query({ redirect_uri: 'http://127.0.0.1:5000/cb', scope: 'x' }), [withQuery]));
    expect(two.url.origin).toBe('http://127.0.0.1:5000');
  });

  it('leaves out a repeated or malformed state', async () => {
    const repeated = redirected(await check(query({}, [['state', 'abc']])));
    expect(repeated.params).toMatchObject({ error: 'invalid_request' });
    expect(repeated.params.state).toBeUndefined();
    const malformed = redirected(await check(query({ state: 'a\u0001b' })));
    expect(malformed.params).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(/state/),
    });
    expect(malformed.params.state).toBeUndefined();
  });

  it('redirects an oversized parameter rather than failing', async () => {
    const { params } = redirected(await check(query({ state: 'a'.repeat(5000) })));
    expect(params.error).toBe('invalid_request');
    expect(params.state).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { chooseRedirectUri, redirectTo, redirectUriMatches } from './redirect-uri.js';

describe('redirectUriMatches (RFC 9700 §4.1.3 exact matching, RFC 8252 §7.3 loopback ports)', () => {
  it('matches the registered URI character for character', () => {
    expect(redirectUriMatches('https://a.example/cb', 'https://a.example/cb')).toBe(true);
  });

  it.each([
    ['a trailing slash', 'https://a.example/cb/'],
    ['an added query', 'https://a.example/cb?x'],
    ['an added empty query', 'https://a.example/cb?'],
    ['userinfo', 'https://evil@a.example/cb'],
    ['another host case', 'https://A.example/cb'],
    ['another path case', 'https://a.example/CB'],
    ['another scheme', 'http://a.example/cb'],
    ['an explicit default port', 'https://a.example:443/cb'],
    ['a longer path', 'https://a.example/cb/more'],
    ['a lookalike host', 'https://a.example.evil.example/cb'],
    ['percent-encoding', 'https://a.example/%63b'],
  ])('refuses %s', (_what, presented) => {
    expect(redirectUriMatches('https://a.example/cb', presented)).toBe(false);
  });

  it('accepts any port of a registered loopback IP literal, the rest exact', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:3000/cb', 'http://127.0.0.1:4000/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:3000/cb', 'http://127.0.0.1/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]:3000/cb?x=1', 'http://[::1]:9/cb?x=1')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:3000', 'http://127.0.0.1:65535')).toBe(true);
  });

  it.each([
    ['another path', 'http://127.0.0.1:4000/other'],
    ['a trailing slash', 'http://127.0.0.1:4000/cb/'],
    ['https', 'https://127.0.0.1:4000/cb'],
    ['userinfo after the host', 'http://127.0.0.1:80@evil.example/cb'],
    ['a longer host', 'http://127.0.0.1.evil.example/cb'],
    ['port 0', 'http://127.0.0.1:0/cb'],
    ['a port above 65535', 'http://127.0.0.1:65536/cb'],
    ['another loopback IP', 'http://127.0.0.2:4000/cb'],
    ['the other loopback literal', 'http://[::1]:4000/cb'],
  ])('refuses a loopback URI with %s', (_what, presented) => {
    expect(redirectUriMatches('http://127.0.0.1:3000/cb', presented)).toBe(false);
  });

  it('gives localhost no port freedom (RFC 8252 §8.3)', () => {
    expect(redirectUriMatches('http://localhost:3000/cb', 'http://localhost:4000/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost:3000/cb', 'http://localhost:3000/cb')).toBe(true);
  });
});

describe('chooseRedirectUri (RFC 6749 §3.1.2)', () => {
  const one = ['https://a.example/cb'];
  const two = ['https://a.example/cb', 'https://a.example/other'];

  it('takes the only registered URI when the request names none (§3.1.2.3)', () => {
    expect(chooseRedirectUri(one, undefined)).toEqual({ ok: true, redirectUri: 'https://a.example/cb' });
  });

  it('requires the parameter when several are registered', () => {
    expect(chooseRedirectUri(two, undefined)).toMatchObject({
      ok: false,
      description: expect.stringMatching(/required/),
    });
    expect(chooseRedirectUri(two, 'https://a.example/other')).toEqual({
      ok: true,
      redirectUri: 'https://a.example/other',
    });
  });

  it('refuses a client without registered URIs', () => {
    expect(chooseRedirectUri(null, 'https://a.example/cb').ok).toBe(false);
    expect(chooseRedirectUri([], undefined).ok).toBe(false);
  });

  it('refuses an unregistered, relative or fragment-bearing URI', () => {
    expect(chooseRedirectUri(one, 'https://a.example/cb/').ok).toBe(false);
    expect(chooseRedirectUri(one, '/cb').ok).toBe(false);
    expect(chooseRedirectUri(['https://a.example/cb#x'], 'https://a.example/cb#x').ok).toBe(false);
  });

  it('keeps the presented loopback URI, port included', () => {
    expect(chooseRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:8123/cb')).toEqual({
      ok: true,
      redirectUri: 'http://127.0.0.1:8123/cb',
    });
  });
});

describe('redirectTo (RFC 6749 §4.1.2)', () => {
  it('adds the parameters after the URI’s own query, kept as it was, and leaves out nulls', () => {
    const url = redirectTo('https://a.example/cb?x&y=a%20b', [
      ['code', 'abc'],
      ['state', null],
      ['iss', 'https://as.example'],
    ]);
    expect(url).toBe('https://a.example/cb?x&y=a%20b&code=abc&iss=https%3A%2F%2Fas.example');
  });

  it('encodes values so they cannot add parameters', () => {
    const url = new URL(redirectTo('https://a.example/cb', [['state', 'a&code=evil #x']]));
    expect([...url.searchParams]).toEqual([['state', 'a&code=evil #x']]);
    expect(url.hash).toBe('');
  });
});

describe('exact matching (the console client)', () => {
  it('gives no loopback port freedom', () => {
    const registered = ['http://127.0.0.1:8001/console/callback'];
    expect(chooseRedirectUri(registered, 'http://127.0.0.1:9999/console/callback').ok).toBe(true);
    expect(chooseRedirectUri(registered, 'http://127.0.0.1:9999/console/callback', { exact: true }).ok).toBe(false);
    expect(chooseRedirectUri(registered, registered[0], { exact: true })).toEqual({
      ok: true,
      redirectUri: registered[0],
    });
  });
});

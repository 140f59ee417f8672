/** The fuzz test's judge of redirects (redirect-oracle.ts), on hand-picked Locations: it must refuse lookalikes. */
import { describe, expect, it } from 'vitest';
import { locationRefusal, responseParameter } from './redirect-oracle.js';

const allowed = {
  registered: ['https://app.example/cb', 'https://app.example/t?tenant=acme', 'http://127.0.0.1:8765/callback'],
  serverOrigin: 'http://127.0.0.1:4000',
  basePath: '/api',
};

describe('locationRefusal', () => {
  it.each([
    'https://app.example/cb',
    'https://app.example/cb?code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A4000%2Fapi',
    'https://app.example/cb?error=access_denied&error_description=The+person+said+no.',
    'https://app.example/t?tenant=acme&code=abc',
    'http://127.0.0.1:8765/callback?code=abc',
    'http://127.0.0.1:1/callback?code=abc',
    'http://127.0.0.1:65535/callback?error=invalid_scope',
    '/api/o/authorize/?client_id=x',
    'http://127.0.0.1:4000/api/o/authorize/?client_id=x',
  ])('allows %s', (location) => {
    expect(locationRefusal(location, allowed)).toBeNull();
  });

  it.each([
    'https://app.example/cb/',
    'https://app.example/cb.evil.example',
    'https://app.example/cbx?code=abc',
    'https://app.example/cb#code=abc',
    'https://app.example/cb?code=abc#x',
    'https://app.example/cb?code=abc&next=https://evil.example',
    'https://app.example/t?code=abc',
    'https://app.example/t?tenant=acme?code=abc',
    'https://app.example.evil/cb',
    'https://evil.example/cb',
    'https://app.example@evil.example/cb',
    'http://app.example/cb',
    'https://APP.example/cb',
    'https://app.example:443/cb',
    'http://127.0.0.1:8765/callback/',
    'http://127.0.0.1:8765/callbackx',
    'http://127.0.0.1:99999/callback',
    'http://127.0.0.1:8765.evil.example/callback',
    'http://localhost:8765/callback',
    'http://[::1]:8765/callback',
    'http://127.0.0.2:8765/callback',
    '//evil.example/cb',
    '/elsewhere',
    'http://127.0.0.1:4000/elsewhere',
    'javascript:alert(1)',
  ])('refuses %s', (location) => {
    expect(locationRefusal(location, allowed)).not.toBeNull();
  });

  it('reads response parameters as a browser would', () => {
    expect(responseParameter('https://app.example/cb?iss=http%3A%2F%2Fa&state=a+b', 'iss')).toEqual(['http://a']);
    expect(responseParameter('https://app.example/cb?iss=http%3A%2F%2Fa&state=a+b', 'state')).toEqual(['a b']);
    expect(responseParameter('https://app.example/cb', 'iss')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { SERVER_POLICY } from '../types.js';
import { checkPolicyInput, checkRedirectUris, policyAuditFields } from './client-policy.js';
import { redirectUriProblem } from './redirect-uris.js';
import { AdminError } from './validation.js';

const NOW = 1_800_000_000;

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example.com/oauth/callback',
    'https://app.example.com:8443/cb?tenant=a',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:8123/cb',
    'http://[::1]/cb',
    'http://localhost:3000/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeNull();
  });

  it.each([
    ['app.example.com/cb', 'not an absolute URI'],
    ['/cb', 'not an absolute URI'],
    ['https://app.example.com/cb#top', 'fragment'],
    ['https://app.example.com/cb#', 'fragment'],
    ['https://user:pw@app.example.com/cb', 'user information'],
    ['https://user@app.example.com/cb', 'user information'],
    ['https://@app.example.com/cb', 'user information'],
    ['http://app.example.com/cb', 'loopback'],
    ['http://192.168.1.10/cb', 'loopback'],
    ['http://127.0.0.1.example.com/cb', 'loopback'],
    ['https://*.example.com/cb', 'wildcards'],
    ['https://app.example.com/*', 'wildcards'],
    ['myapp:/cb', 'reverse-domain'],
    ['javascript:alert(1)', 'reverse-domain'],
    ['data:text/html,hi', 'reverse-domain'],
    ['file:///etc/passwd', 'reverse-domain'],
    ['https://app.example.com/a b', 'spaces'],
    ['https://app.exämple.com/cb', 'non-ASCII'],
    [`https://app.example.com/${'a'.repeat(2000)}`, 'longer than 2000'],
  ])('refuses %s (%s)', (uri, reason) => {
    expect(redirectUriProblem(uri)).toContain(reason);
  });
});

describe('checkRedirectUris and the other flow settings of checkPolicyInput', () => {
  it('keeps the URIs as given, without duplicates; "none" clears the list', () => {
    const uris = ['https://a.example/cb', 'http://127.0.0.1/cb', 'https://a.example/cb'];
    expect(checkRedirectUris(uris)).toEqual(['https://a.example/cb', 'http://127.0.0.1/cb']);
    expect(checkRedirectUris(['none'])).toBeNull();
  });

  it('takes 20 URIs, refuses 21 and refuses "none" among others', () => {
    const many = Array.from({ length: 21 }, (_, i) => `https://a.example/cb${i}`);
    expect(checkRedirectUris(many.slice(0, 20))).toHaveLength(20);
    expect(() => checkRedirectUris(many)).toThrow(
      new AdminError('at most 20 redirect URIs per client; got 21', { field: 'redirect_uris' }),
    );
    expect(() => checkRedirectUris(['none', 'https://a.example/cb'])).toThrow(/give it alone/);
  });

  it('quotes a refused URI on one line, cut short when long', () => {
    let message = '';
    try {
      checkRedirectUris([`https://a.example/${'x'.repeat(3000)}`]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^--redirect-uri "https:\/\/a\.example\/x+\.\.\." is refused: longer than 2000/);
    expect(message.length).toBeLessThan(200);
  });

  it('maps --pkce, --skip-consent and --no-skip-consent to the policy, and audits them', () => {
    const pkce = (value: string) => checkPolicyInput({ pkce: value }, SERVER_POLICY, NOW).pkce;
    expect(pkce('S256')).toBe('S256');
    expect(pkce('S256,plain')).toBe('S256 plain');
    expect(pkce('plain,S256')).toBe('S256 plain');
    expect(pkce('optional')).toBe('optional');
    expect(pkce('default')).toBeNull();
    for (const bad of ['plain', 's256', 'S256,optional', '', 'none']) {
      expect(() => pkce(bad), bad).toThrow(/^--pkce must be S256, "S256,plain", optional or default/);
    }
    expect(checkPolicyInput({ skipConsent: true }, SERVER_POLICY, NOW)).toEqual({ skipConsent: true });
    expect(checkPolicyInput({ skipConsent: false }, SERVER_POLICY, NOW)).toEqual({ skipConsent: null });
    const changes = checkPolicyInput(
      { redirectUris: ['https://a.example/cb', 'com.example.app:/cb'], skipConsent: true, pkce: 'optional' },
      SERVER_POLICY,
      NOW,
    );
    expect(policyAuditFields(changes)).toEqual({
      policy_changed: 'redirectUris skipConsent pkce',
      redirect_uris: 'https://a.example/cb com.example.app:/cb',
      skip_consent: true,
      pkce: 'optional',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, formActionSource } from './security.js';

const BASE = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'";
const TAIL = "; frame-ancestors 'none'; base-uri 'none'";

describe('the Content-Security-Policy of the pages', () => {
  it("allows forms to post only to 'self' when no redirect follows", () => {
    expect(contentSecurityPolicy()).toBe(`${BASE}${TAIL}`);
  });

  it('adds the origin of an https redirect URI, without its path or query', () => {
    expect(contentSecurityPolicy('https://app.example.com/cb?x=1#f')).toBe(`${BASE} https://app.example.com${TAIL}`);
    expect(formActionSource('https://app.example.com:8443/cb')).toBe('https://app.example.com:8443');
  });

  it('keeps the port of a loopback redirect URI (RFC 8252 §7.3)', () => {
    expect(formActionSource('http://127.0.0.1:51234/callback')).toBe('http://127.0.0.1:51234');
    expect(formActionSource('http://localhost:8080/')).toBe('http://localhost:8080');
  });

  it('uses the scheme of a private-use URI scheme (RFC 8252 §7.1)', () => {
    expect(formActionSource('com.example.app:/oauth2redirect')).toBe('com.example.app:');
    expect(contentSecurityPolicy('com.example.app:/cb')).toBe(`${BASE} com.example.app:${TAIL}`);
  });

  it('uses the scheme for an IPv6 literal host, which CSP has no host-source for', () => {
    expect(formActionSource('http://[::1]:8000/cb')).toBe('http:');
  });

  it('adds nothing for a URI that does not parse, so the policy cannot be broken into', () => {
    expect(formActionSource('not a uri')).toBeNull();
    expect(contentSecurityPolicy("https://a.example; script-src 'unsafe-inline'")).not.toContain('unsafe-inline');
  });
});

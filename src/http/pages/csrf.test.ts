import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { csrfToken, newCsrfSecret, verifyCsrf } from './csrf.js';

describe('the CSRF token', () => {
  it('is HMAC-SHA256 of a fixed label keyed by the cookie value, in base64url', () => {
    const secret = newCsrfSecret();
    const expected = createHmac('sha256', secret).update('oauthd form token v1').digest('base64url');
    expect(csrfToken(secret)).toBe(expected);
    expect(csrfToken(secret)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('verifies the token of the same cookie value only', () => {
    const secret = newCsrfSecret();
    expect(verifyCsrf(secret, csrfToken(secret))).toBe(true);
    expect(verifyCsrf(newCsrfSecret(), csrfToken(secret))).toBe(false);
    expect(verifyCsrf(secret, `${csrfToken(secret)}x`)).toBe(false);
    expect(verifyCsrf(secret, csrfToken(secret).slice(0, -1))).toBe(false);
  });

  it('refuses when the cookie or the field is missing', () => {
    const secret = newCsrfSecret();
    expect(verifyCsrf(null, csrfToken(secret))).toBe(false);
    expect(verifyCsrf(secret, null)).toBe(false);
    expect(verifyCsrf(secret, '')).toBe(false);
  });

  it('never reuses a secret', () => {
    const a = newCsrfSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newCsrfSecret()).not.toBe(a);
  });
});

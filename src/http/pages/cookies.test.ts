import { describe, expect, it } from 'vitest';
import { cookieName, readCookie, serializeCookie } from './cookies.js';

const TOKEN = 'abcdefghijklmnopqrstuvwxyz012345_-AB';

describe('the page cookies', () => {
  it('over http: HttpOnly, SameSite=Lax, Path=/, Max-Age, and neither Secure nor the __Host- prefix', () => {
    const header = serializeCookie('session', TOKEN, { secure: false, maxAgeSeconds: 28800 });
    expect(header).toBe(`oauthd_session=${TOKEN}; Path=/; Max-Age=28800; HttpOnly; SameSite=Lax`);
  });

  it('over https: Secure and the __Host- prefix (no Domain attribute)', () => {
    const header = serializeCookie('csrf', TOKEN, { secure: true, maxAgeSeconds: 60 });
    expect(header).toBe(`__Host-oauthd_csrf=${TOKEN}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure`);
    expect(header).not.toMatch(/Domain=/i);
  });

  it('deletes with Max-Age=0', () => {
    expect(serializeCookie('session', '', { secure: false, maxAgeSeconds: 0 })).toContain(
      'oauthd_session=; Path=/; Max-Age=0',
    );
  });

  it('refuses a value that would need escaping', () => {
    expect(() => serializeCookie('session', 'a;b', { secure: false, maxAgeSeconds: 1 })).toThrow();
  });

  it('reads one cookie among others, by its exact name', () => {
    const header = `other=1; oauthd_session_x=${TOKEN}x; oauthd_session=${TOKEN}; z=2`;
    expect(readCookie(header, 'oauthd_session')).toBe(TOKEN);
    expect(readCookie(header, cookieName('session', true))).toBeNull();
    expect(readCookie(`__Host-oauthd_session=${TOKEN}`, cookieName('session', true))).toBe(TOKEN);
  });

  it('ignores a missing header, a missing cookie and a value of the wrong shape', () => {
    expect(readCookie(undefined, 'oauthd_session')).toBeNull();
    expect(readCookie('a=b', 'oauthd_session')).toBeNull();
    expect(readCookie('oauthd_session=short', 'oauthd_session')).toBeNull();
    expect(readCookie(`oauthd_session=${TOKEN}%00`, 'oauthd_session')).toBeNull();
  });

  it('treats a name sent twice (a planted cookie beside ours) as none', () => {
    expect(readCookie(`oauthd_session=${TOKEN}; oauthd_session=${TOKEN}Z`, 'oauthd_session')).toBeNull();
  });

  it('accepts a quoted value (RFC 6265 §4.1.1)', () => {
    expect(readCookie(`oauthd_session="${TOKEN}"`, 'oauthd_session')).toBe(TOKEN);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ADMIN_READ_SCOPE,
  ADMIN_SCOPE,
  adminAccess,
  heldAdminScope,
  isAdminScope,
  scopeForUser,
} from './admin-scopes.js';

describe('the built-in admin scopes', () => {
  it('leave a user-bound scope as it is for an admin, and take only the admin scopes from anyone else', () => {
    const asked = ['read', ADMIN_SCOPE, 'write', ADMIN_READ_SCOPE];
    expect(scopeForUser(asked, { isAdmin: true })).toEqual(asked);
    expect(scopeForUser(asked, { isAdmin: false })).toEqual(['read', 'write']);
    expect(scopeForUser([ADMIN_SCOPE], { isAdmin: false })).toEqual([]);
  });

  it('give write access with oauthd:admin, read access with oauthd:admin:read alone, and none otherwise', () => {
    expect(adminAccess([ADMIN_SCOPE])).toBe('write');
    expect(adminAccess([ADMIN_READ_SCOPE, ADMIN_SCOPE])).toBe('write');
    expect(adminAccess(['read', ADMIN_READ_SCOPE])).toBe('read');
    expect(adminAccess(['read', 'write', 'oauthd:admin:write', 'oauthd:adminx'])).toBeNull();
  });

  it('are matched exactly (scopes are case-sensitive, RFC 6749 §3.3)', () => {
    expect(isAdminScope('OAUTHD:ADMIN')).toBe(false);
    expect(isAdminScope(`${ADMIN_SCOPE} `)).toBe(false);
    expect(isAdminScope(ADMIN_READ_SCOPE)).toBe(true);
  });

  it("count on a token only while the token's client still holds them", () => {
    const token = ['read', ADMIN_SCOPE, ADMIN_READ_SCOPE];
    expect(heldAdminScope(token, { scopes: ['read', ADMIN_SCOPE, ADMIN_READ_SCOPE] })).toEqual([
      ADMIN_SCOPE,
      ADMIN_READ_SCOPE,
    ]);
    expect(heldAdminScope(token, { scopes: ['read', ADMIN_READ_SCOPE] })).toEqual([ADMIN_READ_SCOPE]);
    expect(heldAdminScope(token, { scopes: ['read'] })).toEqual([]);
    expect(heldAdminScope(token, null)).toEqual([]);
  });
});

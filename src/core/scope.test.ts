// RFC 6749 §3.3 (Access Token Scope) and §6 (Refreshing an Access Token).
import { describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { grantableScope, intersect, isSubset, parseScope, refreshedScope } from './scope.js';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function expectInvalidScope(fn: () => unknown): void {
  const error = catchError(fn);
  expect(error).toBeInstanceOf(OAuthError);
  expect((error as OAuthError).code).toBe('invalid_scope');
}

describe('parseScope', () => {
  it('splits a space-delimited list into its scope tokens', () => {
    expect(parseScope('read write')).toEqual(['read', 'write']);
  });

  it('accepts every NQCHAR: %x21, %x23-5B and %x5D-7E', () => {
    const all = [];
    for (let c = 0x21; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) all.push(String.fromCharCode(c));
    const token = all.join('');
    expect(parseScope(token)).toEqual([token]);
    expect(parseScope('a:b urn:x-y.z/p?q=1&r[0]~!')).toEqual(['a:b', 'urn:x-y.z/p?q=1&r[0]~!']);
  });

  it('rejects a token containing a double quote', () => {
    expect(parseScope('read "write"')).toBeNull();
    expect(parseScope('"')).toBeNull();
  });

  it('rejects a token containing a backslash', () => {
    expect(parseScope('read wr\\ite')).toBeNull();
  });

  it('rejects a token containing non-ASCII characters', () => {
    expect(parseScope('lecture écriture')).toBeNull();
    expect(parseScope('read\u00a0write')).toBeNull();
    expect(parseScope('read 😀')).toBeNull();
  });

  it('rejects a token containing control characters, tab, newline or DEL', () => {
    expect(parseScope('read\twrite')).toBeNull();
    expect(parseScope('read\nwrite')).toBeNull();
    expect(parseScope('read\u0000')).toBeNull();
    expect(parseScope('read\u007f')).toBeNull();
  });

  it('folds repeated scope tokens into one, keeping the first occurrence order', () => {
    expect(parseScope('read write read write read')).toEqual(['read', 'write']);
  });

  it('tolerates multiple, leading and trailing spaces between tokens', () => {
    expect(parseScope('  read   write  ')).toEqual(['read', 'write']);
  });

  it('returns null for an empty or all-space scope', () => {
    expect(parseScope('')).toBeNull();
    expect(parseScope('   ')).toBeNull();
  });

  it('treats scope tokens as case-sensitive', () => {
    expect(parseScope('Read read READ')).toEqual(['Read', 'read', 'READ']);
  });
});

describe('isSubset', () => {
  it('is true when every inner scope is in the outer scope', () => {
    expect(isSubset(['read'], ['read', 'write'])).toBe(true);
    expect(isSubset(['write', 'read'], ['read', 'write'])).toBe(true);
  });

  it('is true for the empty scope', () => {
    expect(isSubset([], ['read'])).toBe(true);
    expect(isSubset([], [])).toBe(true);
  });

  it('is false when any inner scope is missing from the outer scope', () => {
    expect(isSubset(['read', 'admin'], ['read', 'write'])).toBe(false);
    expect(isSubset(['read'], [])).toBe(false);
  });

  it('compares scopes case-sensitively', () => {
    expect(isSubset(['Read'], ['read'])).toBe(false);
  });
});

describe('intersect', () => {
  it('returns the scopes present in all three lists, in the order of the known scopes', () => {
    expect(intersect(['c', 'a', 'b'], ['b', 'c', 'a'], ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(intersect(['write', 'read'], ['read', 'write'], ['admin', 'write', 'read'])).toEqual(['write', 'read']);
  });

  it('drops scopes that are not wanted, not allowed or not known', () => {
    expect(intersect(['a', 'b', 'c'], ['a', 'c', 'd'], ['a', 'b', 'd'])).toEqual(['a']);
  });

  it('returns an empty list when nothing is common', () => {
    expect(intersect(['a'], ['b'], ['a', 'b'])).toEqual([]);
  });
});

describe('grantableScope', () => {
  const known = ['openid', 'profile', 'read', 'write', 'admin'];

  it('grants the default scopes the client may have when no scope is requested', () => {
    expect(grantableScope(undefined, ['write', 'read'], known, ['read', 'profile'])).toEqual(['read']);
    expect(grantableScope(undefined, ['read', 'profile'], known, ['read', 'profile'])).toEqual(['profile', 'read']);
  });

  it('fails with invalid_scope when no scope is requested and no default scope is allowed for the client', () => {
    expectInvalidScope(() => grantableScope(undefined, ['write'], known, ['read']));
    expectInvalidScope(() => grantableScope(undefined, ['read'], known, []));
  });

  it('grants the requested scope when it is known and allowed for the client', () => {
    expect(grantableScope('read', ['read', 'write'], known, [])).toEqual(['read']);
  });

  it('fails with invalid_scope when a requested scope is unknown to the server', () => {
    expectInvalidScope(() => grantableScope('read delete', ['read', 'delete'], known, []));
  });

  it('fails with invalid_scope when a requested scope is not allowed for the client', () => {
    expectInvalidScope(() => grantableScope('read admin', ['read', 'write'], known, []));
  });

  it('fails with invalid_scope when the requested scope is malformed', () => {
    expectInvalidScope(() => grantableScope('read "write"', ['read', 'write'], known, []));
  });

  it('fails with invalid_scope when the requested scope is empty', () => {
    expectInvalidScope(() => grantableScope('', ['read', 'write'], known, ['read']));
  });

  it('does not fall back to case-insensitive matching', () => {
    expectInvalidScope(() => grantableScope('READ', ['read'], known, []));
  });

  it('returns the granted scope in the canonical order of the known scopes, without repeats', () => {
    expect(grantableScope('write read profile read', ['read', 'write', 'profile'], known, [])).toEqual([
      'profile',
      'read',
      'write',
    ]);
  });
});

describe('refreshedScope', () => {
  const known = ['read', 'write', 'admin'];
  const client = ['read', 'write', 'admin'];

  it('keeps the original scope when no scope is requested', () => {
    expect(refreshedScope(undefined, ['read', 'write'], client, known)).toEqual(['read', 'write']);
  });

  it('narrows the scope to a requested subset of the original scope', () => {
    expect(refreshedScope('write', ['read', 'write'], client, known)).toEqual(['write']);
  });

  it('fails with invalid_scope when the refresh asks for a scope not originally granted', () => {
    expectInvalidScope(() => refreshedScope('read admin', ['read', 'write'], client, known));
  });

  it('fails with invalid_scope when the requested scope is malformed', () => {
    expectInvalidScope(() => refreshedScope('read\\', ['read', 'write'], client, known));
  });

  it('drops scopes the client has lost since the original grant', () => {
    expect(refreshedScope(undefined, ['read', 'write'], ['read'], known)).toEqual(['read']);
    expect(refreshedScope('read write', ['read', 'write'], ['write'], known)).toEqual(['write']);
  });

  it('drops scopes the server no longer knows', () => {
    expect(refreshedScope(undefined, ['read', 'legacy'], ['read', 'legacy'], known)).toEqual(['read']);
  });

  it('fails with invalid_scope when no grantable scope is left', () => {
    expectInvalidScope(() => refreshedScope(undefined, ['admin'], ['read'], known));
    expectInvalidScope(() => refreshedScope('write', ['read', 'write'], ['read'], known));
  });

  it('returns the scope in the canonical order of the known scopes', () => {
    expect(refreshedScope('admin read', ['admin', 'write', 'read'], client, known)).toEqual(['read', 'admin']);
  });
});

// RFC 6749 §10.10 and RFC 6819 §5.1.4.2.2 (token entropy ≥ 128 bits, ideally ≥ 160) and §5.1.4.1.3 (store hashes).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, tokenKey, mintToken, sha256, TOKEN_LENGTH } from './tokens.js';

describe('mintToken', () => {
  it('returns 44 base64url characters without padding', () => {
    expect(TOKEN_LENGTH).toBe(44);
    for (let i = 0; i < 50; i++) expect(mintToken(Date.now())).toMatch(/^[A-Za-z0-9_-]{44}$/);
  });

  it('is 6 bytes of mint time (ms, big-endian) and 27 random bytes: 216 random bits', () => {
    const at = Date.UTC(2026, 10, 26, 5, 0, 0, 456);
    const token = mintToken(at);
    const bytes = Buffer.from(token, 'base64url');
    expect(bytes.length).toBe(33);
    expect(bytes.readUIntBE(0, 6)).toBe(at);
    expect((bytes.length - 6) * 8).toBeGreaterThanOrEqual(160); // RFC 6749 §10.10 SHOULD
    expect(bytes.toString('base64url')).toBe(token);
  });

  it('returns a distinct token on each of 1000 draws in one millisecond (several refills of its random pool)', () => {
    const tokens = Array.from({ length: 1000 }, () => mintToken(1_800_000_000_000));
    expect(new Set(tokens).size).toBe(1000);
    // The pool zeroes what it handed out: a token encoded after the wipe would be zero bits after the time.
    const zeroed = Buffer.alloc(33);
    zeroed.writeUIntBE(1_800_000_000_000, 0, 6);
    expect(tokens).not.toContain(zeroed.toString('base64url'));
    expect(tokens.filter((t) => Buffer.from(t, 'base64url').subarray(6).equals(Buffer.alloc(27)))).toEqual([]);
  });
});

describe('tokenKey', () => {
  it('keys a 44-character token by its mint time, then its SHA-256 digest: keys sort by mint time', () => {
    const older = mintToken(1_800_000_000_000);
    const newer = mintToken(1_800_000_000_001);
    const key = tokenKey(older);
    expect(key.length).toBe(38);
    expect(key.readUIntBE(0, 6)).toBe(1_800_000_000_000);
    expect(key.subarray(6)).toEqual(sha256(older));
    expect(Buffer.compare(tokenKey(older), tokenKey(newer))).toBe(-1);
  });

  it('keys a 44-character string it did not mint deterministically, whatever its characters', () => {
    for (const odd of ['é'.repeat(44), '!'.repeat(44), `${'A'.repeat(7)}.${'B'.repeat(36)}`]) {
      expect(tokenKey(odd).length).toBe(38);
      expect(tokenKey(odd)).toEqual(tokenKey(odd));
      expect(tokenKey(odd).subarray(6)).toEqual(sha256(odd));
    }
  });

  it(
    'keys any other length (earlier oauthd tokens, ' + 'django-oauth-toolkit tokens) by its SHA-256 digest, as before',
    () => {
      const earlier = 'x'.repeat(43);
      expect(tokenKey(earlier)).toEqual(createHash('sha256').update(earlier).digest());
      expect(tokenKey('Df0Z0r74hxZmO47mo9QnRrncVJIGU6')).toEqual(
        createHash('sha256').update('Df0Z0r74hxZmO47mo9QnRrncVJIGU6').digest(),
      );
    },
  );

  it('returns the 32-byte SHA-256 digest of the UTF-8 token', () => {
    const digest = tokenKey('abc');
    expect(Buffer.isBuffer(digest)).toBe(true);
    expect(digest.length).toBe(32);
    expect(digest.toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the UTF-8 encoding of non-ASCII tokens', () => {
    expect(tokenKey('é€')).toEqual(createHash('sha256').update(Buffer.from('é€', 'utf8')).digest());
  });

  it('is deterministic and differs for different tokens', () => {
    const token = mintToken(Date.now());
    expect(tokenKey(token).equals(tokenKey(token))).toBe(true);
    expect(tokenKey(token).equals(tokenKey(`${token}x`))).toBe(false);
    expect(tokenKey(token).equals(tokenKey(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`))).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  it('is true for equal strings', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('is false for strings that differ in content', () => {
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
  });

  it('is false, without throwing, for strings of different lengths', () => {
    expect(constantTimeEqual('secret', 'secret1')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
  });
});

// RFC 6749 §10.10 and RFC 6819 §5.1.4.2.2 (token entropy ≥ 128 bits, ideally ≥ 160) and §5.1.4.1.3 (store hashes).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, hashToken, mintToken } from './tokens.js';

describe('mintToken', () => {
  it('returns 43 base64url characters without padding', () => {
    for (let i = 0; i < 50; i++) expect(mintToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('carries 256 bits: it decodes to 32 bytes', () => {
    const token = mintToken();
    const bytes = Buffer.from(token, 'base64url');
    expect(bytes.length).toBe(32);
    expect(bytes.length * 8).toBeGreaterThanOrEqual(256);
    expect(bytes.toString('base64url')).toBe(token);
  });

  it('returns a distinct token on each of 1000 draws (several refills of its random pool)', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => mintToken()));
    expect(tokens.size).toBe(1000);
    // The pool zeroes what it handed out: a token encoded after the wipe would be all zero bits.
    expect(tokens.has('A'.repeat(43))).toBe(false);
  });
});

describe('hashToken', () => {
  it('returns the 32-byte SHA-256 digest of the UTF-8 token', () => {
    const digest = hashToken('abc');
    expect(Buffer.isBuffer(digest)).toBe(true);
    expect(digest.length).toBe(32);
    expect(digest.toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the UTF-8 encoding of non-ASCII tokens', () => {
    expect(hashToken('é€')).toEqual(createHash('sha256').update(Buffer.from('é€', 'utf8')).digest());
  });

  it('is deterministic and differs for different tokens', () => {
    const token = mintToken();
    expect(hashToken(token).equals(hashToken(token))).toBe(true);
    expect(hashToken(token).equals(hashToken(`${token}x`))).toBe(false);
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

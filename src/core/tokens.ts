import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes = 256 bits, well above the 160 bits that RFC 6749 §10.10 / RFC 6819 §5.1.4.2.2 ask. */
const TOKEN_BYTES = 32;

/** A new opaque token: 43 URL-safe characters (base64url without padding). Plaintext: returned once. */
export function mintToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The only form in which a token is stored or looked up: its SHA-256 digest. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares two strings in time that depends only on their (hashed) length, never on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hashToken(a), hashToken(b));
}

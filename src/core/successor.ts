import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { TokenResponse } from './types.js';

/**
 * The pair a refresh token was exchanged for, kept for a retry within the grace window without keeping
 * any token in plaintext: it is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the
 * presented refresh token itself. Only the holder of that refresh token can decrypt it; the database
 * holds its SHA-256 digest, from which the key cannot be derived (256 random bits, no brute force).
 * Layout: 12-byte IV ‖ 16-byte tag ‖ ciphertext. The grant id is bound in as additional data.
 */
const INFO = Buffer.from('oauthd refresh successor v1');

function keyFor(refreshToken: string, grantId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(refreshToken, 'utf8'), Buffer.from(grantId, 'utf8'), INFO, 32));
}

export function sealSuccessor(refreshToken: string, grantId: string, response: TokenResponse): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(refreshToken, grantId), iv);
  cipher.setAAD(Buffer.from(grantId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

/** The sealed response, or null when it does not open (another token, or tampered with). */
export function openSuccessor(refreshToken: string, grantId: string, sealed: Buffer): TokenResponse | null {
  if (sealed.length < 28) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(refreshToken, grantId), sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(grantId, 'utf8'));
    decipher.setAuthTag(sealed.subarray(12, 28));
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(plaintext) as TokenResponse;
  } catch {
    return null;
  }
}

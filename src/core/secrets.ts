import { randomBytes, timingSafeEqual } from 'node:crypto';
import { checkHashBounds } from './hash-bounds.js';
import type { PasswordHasher } from './ports.js';
import { sha256 } from './tokens.js';

/**
 * Client secrets at rest.
 *
 * - Secrets oauthd generates carry 384 random bits, so a fast hash cannot be brute-forced: they are stored
 *   as `sha256$<base64url digest>` and checked with one SHA-256 and a constant-time comparison.
 * - Secrets a person chose (`--client-secret`, e.g. to keep an existing deployment's credentials) may be
 *   guessable, so they get the slow password hash (argon2id), like user passwords.
 * - Secrets imported from django-oauth-toolkit 2.x+ keep their Django hash; one whose cost is past
 *   core/hash-bounds.ts's bounds is imported as `unusableSecret(…)` and never matches.
 */
const FAST_PREFIX = 'sha256$';

/**
 * Marks a confidential client's secret as unusable (Django's `!` prefix): no secret matches it, and the
 * client authenticates only once an operator rotates its secret. Not null, which means "no secret".
 */
export function unusableSecret(reason: string): string {
  return `!${reason}`;
}

export function generateClientSecret(): string {
  return randomBytes(48).toString('base64url');
}

export function hashGeneratedSecret(secret: string): string {
  return FAST_PREFIX + sha256(secret).toString('base64url');
}

export async function hashChosenSecret(secret: string, hasher: PasswordHasher): Promise<string> {
  return hasher.hash(secret);
}

/**
 * The verdict on a presented secret when it costs no slow hash: generated secrets (one SHA-256), and
 * chosen ones the hasher already knows to verify. `undefined` when only the slow hash can tell.
 */
export function judgeClientSecretAtOnce(
  storedHash: string,
  presented: string,
  hasher: PasswordHasher,
): boolean | undefined {
  if (storedHash.startsWith(FAST_PREFIX)) {
    const expected = Buffer.from(storedHash.slice(FAST_PREFIX.length), 'base64url');
    const actual = sha256(presented);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  // An unusable secret (`!…`: imported with a hash past the bounds) or a hash whose cost is past them
  // never matches and is never computed. No dummy hash either: an unknown client costs none, and client
  // ids are not secret, so there is no timing to even out.
  if (!checkHashBounds(storedHash).within) return false;
  return hasher.knownToVerify?.(storedHash, presented) ? true : undefined;
}

export async function verifyClientSecret(
  storedHash: string,
  presented: string,
  hasher: PasswordHasher,
): Promise<boolean> {
  return judgeClientSecretAtOnce(storedHash, presented, hasher) ?? (await hasher.verify(storedHash, presented)).ok;
}

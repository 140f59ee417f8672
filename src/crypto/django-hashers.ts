import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { checkHashBounds } from '../core/hash-bounds.js';
import type { PasswordHasher } from '../core/ports.js';

const pbkdf2Async = promisify(pbkdf2);

/**
 * Password hashes written by Django (`django.contrib.auth.hashers`), as `oauthd import django` brings them
 * over: kept as they are, verified here, and replaced with argon2id on the next successful login (every
 * Django hash verifies with `needsRehash: true`; core/grants/password.ts does the upgrade).
 *
 * Formats (Django's `<algorithm>$…`):
 * - `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` and `pbkdf2_sha1$…`: PBKDF2-HMAC of the UTF-8
 *   password, the salt being the salt text's UTF-8 bytes, output as long as the stored hash;
 * - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (and Django's older `argon2i`): the part after the
 *   `argon2` prefix is a standard PHC string;
 * - `bcrypt_sha256$$2b$12$…`: bcrypt of the hex SHA-256 of the password; `bcrypt$$2b$…`: bcrypt of the
 *   password (bcryptjs, pure JavaScript: it yields to the event loop between rounds);
 * - `!…` (and the empty string): an unusable password, never matches.
 * Django's legacy `sha1$`, `md5$`, `unsalted_*` and `crypt$` hashes are not supported (the importer skips
 * such users and says so). A hash whose cost parameters are past core/hash-bounds.ts's bounds is
 * "out_of_bounds": never verified (a corrupt or hostile row must not tie up a hashing slot for minutes);
 * the importer stores it as unusable.
 */
export type DjangoHashAlgorithm = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'argon2' | 'bcrypt_sha256' | 'bcrypt';

export type DjangoHashInfo =
  | { kind: 'unusable' }
  | { kind: 'supported'; algorithm: DjangoHashAlgorithm }
  /** A Django algorithm oauthd does not verify (legacy or unknown ones). */
  | { kind: 'unsupported'; algorithm: string; reason: string }
  /** A supported algorithm whose cost parameters are past HASH_BOUNDS: never verified. */
  | { kind: 'out_of_bounds'; algorithm: DjangoHashAlgorithm; reason: string }
  /** Not a hash Django writes in any format we know. */
  | { kind: 'malformed'; reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PHC_ARGON2 = /^\$argon2(id|i|d)\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const BCRYPT = /^\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

const LEGACY = new Set(['sha1', 'md5', 'unsalted_md5', 'unsalted_sha1', 'crypt', 'scrypt']);

/** What kind of Django password hash `encoded` is, without verifying anything. */
export function classifyDjangoHash(encoded: string): DjangoHashInfo {
  if (encoded === '' || encoded.startsWith('!')) return { kind: 'unusable' };
  const dollar = encoded.indexOf('$');
  if (dollar < 0) {
    // Django reads a bare 32-character hex string as a legacy unsalted MD5.
    return /^[0-9a-f]{32}$/i.test(encoded)
      ? { kind: 'unsupported', algorithm: 'unsalted_md5', reason: 'legacy algorithm' }
      : { kind: 'malformed', reason: 'no algorithm prefix' };
  }
  const algorithm = encoded.slice(0, dollar);
  const rest = encoded.slice(dollar + 1);
  switch (algorithm) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const parts = rest.split('$');
      if (parts.length !== 3) return { kind: 'malformed', reason: `${algorithm}: expected iterations$salt$hash` };
      const [iterations, salt, hash] = parts as [string, string, string];
      if (!/^[1-9]\d{0,9}$/.test(iterations)) return { kind: 'malformed', reason: `${algorithm}: bad iteration count` };
      if (salt === '') return { kind: 'malformed', reason: `${algorithm}: empty salt` };
      if (!BASE64.test(hash) || Buffer.from(hash, 'base64').toString('base64') !== hash) {
        return { kind: 'malformed', reason: `${algorithm}: hash is not base64` };
      }
      return withinBounds(encoded, algorithm);
    }
    case 'argon2': {
      if (!PHC_ARGON2.test(encoded.slice('argon2'.length)))
        return { kind: 'malformed', reason: 'argon2: not a PHC string' };
      return withinBounds(encoded, algorithm);
    }
    case 'bcrypt_sha256':
    case 'bcrypt': {
      if (!BCRYPT.test(rest)) return { kind: 'malformed', reason: `${algorithm}: not a bcrypt hash` };
      return withinBounds(encoded, algorithm);
    }
    default:
      return LEGACY.has(algorithm)
        ? { kind: 'unsupported', algorithm, reason: 'legacy algorithm' }
        : { kind: 'unsupported', algorithm, reason: 'unknown algorithm' };
  }
}

/** A well-formed hash of a supported algorithm: supported if its cost is within HASH_BOUNDS. */
function withinBounds(encoded: string, algorithm: DjangoHashAlgorithm): DjangoHashInfo {
  const bounds = checkHashBounds(encoded);
  return bounds.within ? { kind: 'supported', algorithm } : { kind: 'out_of_bounds', algorithm, reason: bounds.reason };
}

/**
 * Checks a password against a supported Django hash (see classifyDjangoHash). False for anything else.
 * PBKDF2 and argon2 run on libuv's thread pool; comparisons are constant-time.
 */
export async function verifyDjangoHash(encoded: string, password: string): Promise<boolean> {
  const info = classifyDjangoHash(encoded);
  if (info.kind !== 'supported') return false;
  switch (info.algorithm) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const [, iterations, salt, hash] = encoded.split('$') as [string, string, string, string];
      const expected = Buffer.from(hash, 'base64');
      const digest = info.algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1';
      const actual = await pbkdf2Async(
        Buffer.from(password, 'utf8'),
        Buffer.from(salt, 'utf8'),
        +iterations,
        expected.length,
        digest,
      );
      return timingSafeEqual(expected, actual);
    }
    case 'argon2':
      return argon2.verify(encoded.slice('argon2'.length), password);
    case 'bcrypt_sha256':
      // Django hashes the hex SHA-256 of the password, so passwords past bcrypt's 72 bytes still count.
      return bcrypt.compare(
        createHash('sha256').update(password, 'utf8').digest('hex'),
        encoded.slice('bcrypt_sha256$'.length),
      );
    case 'bcrypt':
      return bcrypt.compare(password, encoded.slice('bcrypt$'.length));
  }
}

/**
 * oauthd's own hasher (argon2id, `inner`) plus verification of Django hashes. New hashes are always
 * `inner`'s. A Django hash that matches answers `needsRehash: true`, so the login that proved the password
 * replaces it with argon2id. An unusable, unknown, corrupt or out-of-bounds hash (core/hash-bounds.ts) is
 * never computed: it does not match and costs one verification of `inner`'s dummy hash, like a missing one.
 *
 * Timing: a wrong password against a Django hash costs that hash's verification (PBKDF2 with 260,000
 * iterations takes longer than argon2id), so until a user has logged in once after the import, the time
 * of a failed login can tell "a user still on a Django hash" from "no such user". It fades as users log in;
 * docs/migrating-from-django-oauth-toolkit.md says so.
 */
export function createDjangoCompatibleHasher(inner: PasswordHasher): PasswordHasher {
  return {
    hash: (password) => inner.hash(password),
    async verify(storedHash, password) {
      if (storedHash === null) return inner.verify(null, password);
      // Checked before anything runs, whoever wrote the hash (the importer, or someone with the database).
      if (!checkHashBounds(storedHash).within) return inner.verify(null, password);
      if (storedHash.startsWith('$')) return inner.verify(storedHash, password);
      if (classifyDjangoHash(storedHash).kind !== 'supported') return inner.verify(null, password);
      let ok: boolean;
      try {
        ok = await verifyDjangoHash(storedHash, password);
      } catch {
        // A hash that looked right but could not be verified (e.g. a PHC string argon2 refuses).
        return inner.verify(null, password);
      }
      return { ok, needsRehash: ok };
    },
  };
}

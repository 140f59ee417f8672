import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
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
 * such users and says so). Limits on the cost parameters keep a corrupt or hostile row from tying up a
 * hashing slot for minutes: such a hash is "unsupported".
 */
export type DjangoHashAlgorithm = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'argon2' | 'bcrypt_sha256' | 'bcrypt';

export type DjangoHashInfo =
  | { kind: 'unusable' }
  | { kind: 'supported'; algorithm: DjangoHashAlgorithm }
  /** A Django algorithm oauthd does not verify (legacy ones, or cost parameters past our limits). */
  | { kind: 'unsupported'; algorithm: string; reason: string }
  /** Not a hash Django writes in any format we know. */
  | { kind: 'malformed'; reason: string };

/** Django 5.2 uses 1,000,000 iterations; ten times that is not a real hash. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Django's argon2 default is 100 MiB (m=102400); 1 GiB per verification is the most we accept. */
const MAX_ARGON2_MEMORY_KIB = 1_048_576;
const MAX_ARGON2_TIME_COST = 64;
/** Django's default is 12; each step doubles the cost, and bcryptjs runs on the main thread. */
const MAX_BCRYPT_ROUNDS = 14;

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
      if (+iterations > MAX_PBKDF2_ITERATIONS) {
        return { kind: 'unsupported', algorithm, reason: `more than ${MAX_PBKDF2_ITERATIONS} iterations` };
      }
      if (salt === '') return { kind: 'malformed', reason: `${algorithm}: empty salt` };
      if (!BASE64.test(hash) || Buffer.from(hash, 'base64').toString('base64') !== hash) {
        return { kind: 'malformed', reason: `${algorithm}: hash is not base64` };
      }
      return { kind: 'supported', algorithm };
    }
    case 'argon2': {
      const phc = PHC_ARGON2.exec(encoded.slice('argon2'.length));
      if (!phc) return { kind: 'malformed', reason: 'argon2: not a PHC string' };
      if (+phc[2]! > MAX_ARGON2_MEMORY_KIB || +phc[3]! > MAX_ARGON2_TIME_COST) {
        return { kind: 'unsupported', algorithm, reason: 'argon2 cost above oauthd\'s limits' };
      }
      return { kind: 'supported', algorithm };
    }
    case 'bcrypt_sha256':
    case 'bcrypt': {
      const match = BCRYPT.exec(rest);
      if (!match) return { kind: 'malformed', reason: `${algorithm}: not a bcrypt hash` };
      if (+match[1]! > MAX_BCRYPT_ROUNDS) {
        return { kind: 'unsupported', algorithm, reason: `bcrypt cost above ${MAX_BCRYPT_ROUNDS}` };
      }
      return { kind: 'supported', algorithm };
    }
    default:
      return LEGACY.has(algorithm)
        ? { kind: 'unsupported', algorithm, reason: 'legacy algorithm' }
        : { kind: 'unsupported', algorithm, reason: 'unknown algorithm' };
  }
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
      const actual = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), +iterations, expected.length, digest);
      return timingSafeEqual(expected, actual);
    }
    case 'argon2':
      return argon2.verify(encoded.slice('argon2'.length), password);
    case 'bcrypt_sha256':
      // Django hashes the hex SHA-256 of the password, so passwords past bcrypt's 72 bytes still count.
      return bcrypt.compare(createHash('sha256').update(password, 'utf8').digest('hex'), encoded.slice('bcrypt_sha256$'.length));
    case 'bcrypt':
      return bcrypt.compare(password, encoded.slice('bcrypt$'.length));
  }
}

/**
 * oauthd's own hasher (argon2id, `inner`) plus verification of Django hashes. New hashes are always
 * `inner`'s. A Django hash that matches answers `needsRehash: true`, so the login that proved the password
 * replaces it with argon2id. An unusable, unknown or corrupt hash never matches and costs one verification
 * of `inner`'s dummy hash, like a missing one.
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
      if (storedHash === null || storedHash.startsWith('$')) return inner.verify(storedHash, password);
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

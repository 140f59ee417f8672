// RFC 6749 §2.3.1 (client password) and §10.1; RFC 6819 §5.1.4.1.3 (no cleartext credentials at rest).
import { describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../crypto/argon2-hasher.js';
import type { PasswordHasher } from './ports.js';
import { pbkdf2Sync } from 'node:crypto';
import { createDjangoCompatibleHasher } from '../crypto/django-hashers.js';
import {
  generateClientSecret,
  hashChosenSecret,
  hashGeneratedSecret,
  unusableSecret,
  verifyClientSecret,
} from './secrets.js';

const fastArgon2 = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });

/** A hasher that must not be reached: generated secrets are checked with SHA-256 only. */
const forbiddenHasher: PasswordHasher = {
  hash: () => Promise.reject(new Error('hash must not be called')),
  verify: () => Promise.reject(new Error('verify must not be called')),
};

describe('generateClientSecret', () => {
  it('returns 64 base64url characters (384 bits)', () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(Buffer.from(secret, 'base64url').length).toBe(48);
  });

  it('returns a different secret each time', () => {
    const secrets = new Set(Array.from({ length: 100 }, () => generateClientSecret()));
    expect(secrets.size).toBe(100);
  });
});

describe('hashGeneratedSecret', () => {
  it('returns sha256$ followed by the base64url SHA-256 digest', () => {
    const sha256OfAbc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(hashGeneratedSecret('abc')).toBe(`sha256$${Buffer.from(sha256OfAbc, 'hex').toString('base64url')}`);
    expect(hashGeneratedSecret(generateClientSecret())).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
  });

  it('does not contain the secret', () => {
    const secret = generateClientSecret();
    const stored = hashGeneratedSecret(secret);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(0, 16));
  });
});

describe('verifyClientSecret with a generated secret', () => {
  it('accepts the right secret through the sha256$ path, without the slow hasher', async () => {
    const secret = generateClientSecret();
    await expect(verifyClientSecret(hashGeneratedSecret(secret), secret, forbiddenHasher)).resolves.toBe(true);
  });

  it('rejects a wrong secret', async () => {
    const secret = generateClientSecret();
    const stored = hashGeneratedSecret(secret);
    await expect(verifyClientSecret(stored, generateClientSecret(), forbiddenHasher)).resolves.toBe(false);
    await expect(verifyClientSecret(stored, `${secret}x`, forbiddenHasher)).resolves.toBe(false);
    await expect(verifyClientSecret(stored, '', forbiddenHasher)).resolves.toBe(false);
  });

  it('rejects, without throwing, a sha256$ hash whose digest has the wrong length', async () => {
    await expect(verifyClientSecret('sha256$', 'x', forbiddenHasher)).resolves.toBe(false);
    await expect(verifyClientSecret('sha256$AAAA', 'x', forbiddenHasher)).resolves.toBe(false);
  });
});

describe('verifyClientSecret with a chosen secret (argon2id)', () => {
  it('stores a chosen secret as an argon2id hash that does not contain it', async () => {
    const stored = await hashChosenSecret('my chosen secret', fastArgon2);
    expect(stored.startsWith('$argon2id$')).toBe(true);
    expect(stored).not.toContain('my chosen secret');
  });

  it('accepts the right chosen secret', async () => {
    const stored = await hashChosenSecret('correct horse battery staple', fastArgon2);
    await expect(verifyClientSecret(stored, 'correct horse battery staple', fastArgon2)).resolves.toBe(true);
  });

  it('rejects a wrong chosen secret', async () => {
    const stored = await hashChosenSecret('correct horse battery staple', fastArgon2);
    await expect(verifyClientSecret(stored, 'Correct horse battery staple', fastArgon2)).resolves.toBe(false);
  });

  it('rejects a secret whose SHA-256 matches when the stored hash is argon2id', async () => {
    const stored = await hashChosenSecret('s', fastArgon2);
    await expect(verifyClientSecret(stored, hashGeneratedSecret('s'), fastArgon2)).resolves.toBe(false);
  });

  it('rejects any secret when the stored hash is garbage', async () => {
    await expect(verifyClientSecret('garbage', 'garbage', fastArgon2)).resolves.toBe(false);
  });
});

describe('verifyClientSecret with a Django-hashed secret (django-oauth-toolkit 2.x+)', () => {
  const django = createDjangoCompatibleHasher(fastArgon2);
  const pbkdf2 = (secret: string, iterations: number, bytes: number) =>
    `pbkdf2_sha256$${iterations}$SaltOfTheClient$` +
    `${pbkdf2Sync(secret, 'SaltOfTheClient', iterations, bytes, 'sha256').toString('base64')}`;

  it('accepts the right secret against a hash within bounds', async () => {
    await expect(verifyClientSecret(pbkdf2('dot-secret', 1000, 32), 'dot-secret', django)).resolves.toBe(true);
    await expect(verifyClientSecret(pbkdf2('dot-secret', 1000, 64), 'dot-secret', django)).resolves.toBe(true);
  });

  it('refuses even the right secret against a hash past HASH_BOUNDS, without reaching the hasher', async () => {
    // 65 bytes of output: one past the bound; it would match if it were computed.
    const over = pbkdf2('dot-secret', 1000, 65);
    await expect(verifyClientSecret(over, 'dot-secret', forbiddenHasher)).resolves.toBe(false);
    await expect(verifyClientSecret('pbkdf2_sha256$9999999$s$AAAA', 'dot-secret', forbiddenHasher)).resolves.toBe(
      false,
    );
  });

  it(
    'refuses every secret against an unusable one (imported ' + 'past the bounds), without reaching the hasher',
    async () => {
      const stored = unusableSecret('pbkdf2_sha256 with more than 3000000 iterations');
      expect(stored.startsWith('!')).toBe(true);
      for (const presented of [stored, stored.slice(1), '', 'dot-secret']) {
        await expect(verifyClientSecret(stored, presented, forbiddenHasher)).resolves.toBe(false);
      }
    },
  );
});

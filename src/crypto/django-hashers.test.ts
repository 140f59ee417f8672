// Django's password hashers (django.contrib.auth.hashers), verified in Node: every hash below was made by
// Django 3.2.25's make_password (Debian's python3-django, with python3-argon2 and python3-bcrypt), except
// the fixture's, which come from test/fixtures/django-oauth-toolkit (made by DOT 1.7 on the same Django).
import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PasswordHasher } from '../core/ports.js';
import { createArgon2Hasher } from './argon2-hasher.js';
import { classifyDjangoHash, createDjangoCompatibleHasher, verifyDjangoHash } from './django-hashers.js';

const PASSWORD = 'pässwörd with ünïcode & $ymbols';
const DJANGO = {
  pbkdf2_sha256: 'pbkdf2_sha256$260000$I5BbHnZ5bCxTCUkDzCVtzl$9sQY366YsBKa7VKWO0sCDetEMDl454jao6eCUYSlHag=',
  pbkdf2_sha1: 'pbkdf2_sha1$260000$tAM5XfHNC5NHv9zMv5EO4e$5JQ1mdUiGzLTgQUl8jBphaaLqfU=',
  argon2: 'argon2$argon2id$v=19$m=102400,t=2,p=8$NjQ4N1BXUG1DTDRscXRxZU42NkI4dQ$0UKPu9K2HpiXqBSSVu3anw',
  bcrypt_sha256: 'bcrypt_sha256$$2b$12$UtLaRJ3.3OTzh.WtVNf9tOsH2cTihivKNnrMMxuMszTiK83cUcMLK',
  bcrypt: 'bcrypt$$2b$12$QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S',
  sha1: 'sha1$sPhDKOYn0q2i0JaA55jh49$2487557054e9be0b652f13ad9c1f31fce9cab929',
  md5: 'md5$CqUnT8MZNZWS13WuqZijg5$20ac79296a40faecc1f72d31b3a6dca2',
  unusable: '!uEWMtlMwxyf25iH8izWL3NNhtJiq69S8wMmQuYly',
} as const;
/** 100 characters: past bcrypt's 72-byte limit, which bcrypt_sha256 exists to lift. */
const LONG = 'x'.repeat(100);
const DJANGO_LONG_BCRYPT_SHA256 = 'bcrypt_sha256$$2b$12$wNXt6Xdfs.9g1gjqswcxVuCx4I.gKnNaJSx41eTG3ZN7MMBrM5nwe';
/** The fixture's bob: a Django 2.2-era hash, 150000 iterations and a 12-character salt. */
const BOB = {
  password: 'bob-legacy-pbkdf2-150k',
  hash: 'pbkdf2_sha256$150000$hACifE7weSXc$RV9U64qKCoi9HNMOv0c9fYCW+fn7p5VWtpz2Qgtd3DU=',
};

describe('classifyDjangoHash', () => {
  it("recognises every format Django writes with the fixture's PASSWORD_HASHERS, plus plain bcrypt", () => {
    for (const algorithm of ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt'] as const) {
      expect(classifyDjangoHash(DJANGO[algorithm])).toEqual({ kind: 'supported', algorithm });
    }
  });

  it('calls "!…" and the empty string unusable', () => {
    expect(classifyDjangoHash(DJANGO.unusable)).toEqual({ kind: 'unusable' });
    expect(classifyDjangoHash('')).toEqual({ kind: 'unusable' });
  });

  it('names legacy and unknown algorithms as unsupported, with the algorithm', () => {
    expect(classifyDjangoHash(DJANGO.sha1)).toMatchObject({ kind: 'unsupported', algorithm: 'sha1' });
    expect(classifyDjangoHash(DJANGO.md5)).toMatchObject({ kind: 'unsupported', algorithm: 'md5' });
    expect(classifyDjangoHash('5f4dcc3b5aa765d61d8327deb882cf99')).toMatchObject({
      kind: 'unsupported',
      algorithm: 'unsalted_md5',
    });
    expect(classifyDjangoHash('scrypt$16384$salt$8$1$abc=')).toMatchObject({
      kind: 'unsupported',
      algorithm: 'scrypt',
    });
    expect(classifyDjangoHash('whirlpool$x$y')).toMatchObject({ kind: 'unsupported', algorithm: 'whirlpool' });
  });

  it('calls cost parameters past HASH_BOUNDS out of bounds, with the algorithm and the reason', () => {
    expect(classifyDjangoHash('pbkdf2_sha256$99999999$salt$AAAA')).toEqual({
      kind: 'out_of_bounds',
      algorithm: 'pbkdf2_sha256',
      reason: 'pbkdf2_sha256 with more than 3000000 iterations',
    });
    expect(classifyDjangoHash(`pbkdf2_sha1$260000$salt$${Buffer.alloc(4096).toString('base64')}`)).toMatchObject({
      kind: 'out_of_bounds',
      algorithm: 'pbkdf2_sha1',
    });
    expect(classifyDjangoHash('bcrypt$$2b$20$QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S')).toMatchObject({
      kind: 'out_of_bounds',
      algorithm: 'bcrypt',
    });
    expect(classifyDjangoHash('argon2$argon2id$v=19$m=4194304,t=2,p=8$c2FsdA$aGFzaA')).toMatchObject({
      kind: 'out_of_bounds',
      algorithm: 'argon2',
    });
  });

  it('calls broken strings malformed', () => {
    for (const bad of [
      'pbkdf2_sha256$260000$salt',
      'pbkdf2_sha256$0$salt$AAAA',
      'pbkdf2_sha256$260000$$AAAA',
      'pbkdf2_sha256$260000$s$not base64!',
      'argon2$nonsense',
      'bcrypt_sha256$$2b$12$short',
      'no-dollar-here',
    ]) {
      expect(classifyDjangoHash(bad).kind, bad).toBe('malformed');
    }
  });
});

describe('verifyDjangoHash', () => {
  it("verifies each of Django's hashes of one password (UTF-8, non-ASCII) and refuses a wrong one", async () => {
    for (const algorithm of ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt'] as const) {
      expect(await verifyDjangoHash(DJANGO[algorithm], PASSWORD), algorithm).toBe(true);
    }
    // bcryptjs takes about a second per check at cost 12: the wrong password is tried on the others.
    for (const algorithm of ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2'] as const) {
      expect(await verifyDjangoHash(DJANGO[algorithm], `${PASSWORD}x`), algorithm).toBe(false);
    }
  });

  it('verifies bcrypt_sha256 beyond 72 bytes: only the whole password matches', async () => {
    expect(await verifyDjangoHash(DJANGO_LONG_BCRYPT_SHA256, LONG)).toBe(true);
    expect(await verifyDjangoHash(DJANGO_LONG_BCRYPT_SHA256, 'x'.repeat(99))).toBe(false);
  });

  it("verifies the fixture's 150000-iteration hash with its 12-character salt", async () => {
    expect(await verifyDjangoHash(BOB.hash, BOB.password)).toBe(true);
  });

  it('never matches legacy, unusable or malformed hashes', async () => {
    expect(await verifyDjangoHash(DJANGO.sha1, PASSWORD)).toBe(false);
    expect(await verifyDjangoHash(DJANGO.md5, PASSWORD)).toBe(false);
    expect(await verifyDjangoHash(DJANGO.unusable, DJANGO.unusable.slice(1))).toBe(false);
    expect(await verifyDjangoHash('', '')).toBe(false);
  });
});

describe('createDjangoCompatibleHasher', () => {
  const argon2 = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
  /** Counts the dummy verifications of the inner hasher (verify with no usable hash). */
  function counting(inner: PasswordHasher) {
    const calls: (string | null)[] = [];
    return {
      calls,
      hasher: {
        hash: inner.hash,
        verify: (h: string | null, p: string) => {
          calls.push(h);
          return inner.verify(h, p);
        },
      },
    };
  }

  it('verifies a Django hash with needsRehash, so the login replaces it', async () => {
    const hasher = createDjangoCompatibleHasher(argon2);
    expect(await hasher.verify(DJANGO.pbkdf2_sha256, PASSWORD)).toEqual({ ok: true, needsRehash: true });
    expect(await hasher.verify(DJANGO.argon2, PASSWORD)).toEqual({ ok: true, needsRehash: true });
    expect(await hasher.verify(DJANGO.pbkdf2_sha256, 'wrong')).toEqual({ ok: false, needsRehash: false });
  });

  it('hashes new passwords with the inner hasher (argon2id) and verifies its own hashes as before', async () => {
    const hasher = createDjangoCompatibleHasher(argon2);
    const hash = await hasher.hash(PASSWORD);
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(await hasher.verify(hash, PASSWORD)).toEqual({ ok: true, needsRehash: false });
  });

  it('spends one dummy verification on unusable, legacy, unknown and corrupt hashes, and never matches', async () => {
    const { calls, hasher: inner } = counting(argon2);
    const hasher = createDjangoCompatibleHasher(inner);
    for (const stored of [
      DJANGO.unusable,
      DJANGO.sha1,
      DJANGO.md5,
      'nonsense',
      'pbkdf2_sha256$1$s$!!!',
      '$2b$12$QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S',
      null,
    ]) {
      calls.length = 0;
      expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: false, needsRehash: false });
      expect(calls.length, String(stored)).toBe(1);
    }
    // "!" followed by the rest must not match the rest either.
    expect((await hasher.verify(DJANGO.unusable, DJANGO.unusable.slice(1))).ok).toBe(false);
  });

  it(
    'never computes a hash past HASH_BOUNDS, even with the ' + 'right password: one dummy verification instead',
    async () => {
      // The right password's PBKDF2 with a 65-byte output (cheap here: 1000 iterations), one byte past the bound:
      // it would match if it were computed.
      const salt = 'OutOfBoundsSalt';
      const overOutput =
        `pbkdf2_sha256$1000$${salt}$` + `${pbkdf2Sync(PASSWORD, salt, 1000, 65, 'sha256').toString('base64')}`;
      expect(await verifyDjangoHash(overOutput, PASSWORD)).toBe(false);
      const hostile = [
        overOutput,
        `pbkdf2_sha256$3000001$${salt}$${Buffer.alloc(32, 1).toString('base64')}`,
        `pbkdf2_sha256$9999999$${salt}$${Buffer.alloc(4096, 1).toString('base64')}`,
        'argon2$argon2id$v=19$m=1048576,t=64,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
        'argon2$argon2id$v=19$m=1048576,t=1,p=131072$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
        '$argon2id$v=19$m=1048576,t=64,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
        'bcrypt$$2b$15$QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S',
      ];
      const { calls, hasher: inner } = counting(argon2);
      const hasher = createDjangoCompatibleHasher(inner);
      for (const stored of hostile) {
        calls.length = 0;
        const started = performance.now();
        expect(await hasher.verify(stored, PASSWORD), stored.slice(0, 40)).toEqual({ ok: false, needsRehash: false });
        // Only the dummy (null) ran: computing any of these would take seconds to minutes.
        expect(calls, stored.slice(0, 40)).toEqual([null]);
        expect(performance.now() - started).toBeLessThan(1000);
      }
    },
  );
});

// The cost bounds of stored hashes (core/hash-bounds.ts): each format, each limit, at and one past it.
import { describe, expect, it } from 'vitest';
import { HASH_BOUNDS, checkHashBounds } from './hash-bounds.js';

const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
/** base64 without padding, as PHC strings write it. */
const phc64 = (bytes: number) => b64(bytes).replace(/=+$/, '');
const pbkdf2 = (algorithm: string, iterations: number, outputBytes: number) =>
  `${algorithm}$${iterations}$I5BbHnZ5bCxTCUkDzCVtzl$${b64(outputBytes)}`;
const argon2 = ({ m = 19456, t = 2, p = 1, out = 32, prefix = '' } = {}) =>
  `${prefix}$argon2id$v=19$m=${m},t=${t},p=${p}$${phc64(16)}$${phc64(out)}`;
const BCRYPT_TAIL = 'QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S';
const bcrypt = (algorithm: string, cost: number) => `${algorithm}$$2b$${String(cost).padStart(2, '0')}$${BCRYPT_TAIL}`;

describe('checkHashBounds', () => {
  it(
    'states the bounds: PBKDF2 ≤ 3,000,000 iterations and ≤ 64 bytes, argon2 m ≤ 128 MiB, t ≤ 16, p ≤ 16, bcrypt ' +
      '≤ 14',
    () => {
      expect(HASH_BOUNDS).toMatchObject({
        pbkdf2MaxIterations: 3_000_000,
        pbkdf2MaxOutputBytes: 64,
        argon2MaxMemoryKiB: 128 * 1024,
        argon2MaxTimeCost: 16,
        argon2MaxParallelism: 16,
        argon2MaxOutputBytes: 64,
        bcryptMaxCost: 14,
      });
    },
  );

  it('accepts the defaults of oauthd, Django and django-oauth-toolkit', () => {
    const defaults = [
      argon2(), // oauthd: m = 19 MiB, t = 2, p = 1
      'pbkdf2_sha256$260000$I5BbHnZ5bCxTCUkDzCVtzl$9sQY366YsBKa7VKWO0sCDetEMDl454jao6eCUYSlHag=', // Django 3.2
      pbkdf2('pbkdf2_sha256', 1_200_000, 32), // Django 6.0
      'pbkdf2_sha1$260000$tAM5XfHNC5NHv9zMv5EO4e$5JQ1mdUiGzLTgQUl8jBphaaLqfU=',
      'argon2$argon2id$v=19$m=102400,t=2,p=8$NjQ4N1BXUG1DTDRscXRxZU42NkI4dQ$0UKPu9K2HpiXqBSSVu3anw', // Django's argon2
      bcrypt('bcrypt_sha256', 12),
      bcrypt('bcrypt', 12),
      `sha256$${Buffer.alloc(32, 1).toString('base64url')}`, // oauthd's generated client secrets
    ];
    for (const hash of defaults) expect(checkHashBounds(hash), hash).toMatchObject({ within: true });
  });

  it('names the format of a hash within bounds', () => {
    expect(checkHashBounds(argon2())).toEqual({ within: true, format: 'argon2' });
    expect(checkHashBounds(argon2({ prefix: 'argon2' }))).toEqual({ within: true, format: 'django_argon2' });
    expect(checkHashBounds(pbkdf2('pbkdf2_sha256', 1000, 32))).toEqual({ within: true, format: 'pbkdf2_sha256' });
    expect(checkHashBounds(pbkdf2('pbkdf2_sha1', 1000, 20))).toEqual({ within: true, format: 'pbkdf2_sha1' });
    expect(checkHashBounds(bcrypt('bcrypt_sha256', 12))).toEqual({ within: true, format: 'bcrypt_sha256' });
    expect(checkHashBounds(bcrypt('bcrypt', 12))).toEqual({ within: true, format: 'bcrypt' });
  });

  for (const algorithm of ['pbkdf2_sha256', 'pbkdf2_sha1']) {
    it(`accepts ${algorithm} at 3,000,000 iterations and refuses 3,000,001`, () => {
      expect(checkHashBounds(pbkdf2(algorithm, 3_000_000, 32))).toEqual({ within: true, format: algorithm });
      expect(checkHashBounds(pbkdf2(algorithm, 3_000_001, 32))).toEqual({
        within: false,
        reason: `${algorithm} with more than 3000000 iterations`,
      });
      expect(checkHashBounds(pbkdf2(algorithm, 9_999_999, 32))).toMatchObject({ within: false });
    });

    it(`accepts ${algorithm} with a 64-byte output and refuses 65 bytes (and the 4096 bytes of a hostile row)`, () => {
      expect(checkHashBounds(pbkdf2(algorithm, 1000, 64))).toEqual({ within: true, format: algorithm });
      expect(checkHashBounds(pbkdf2(algorithm, 1000, 65))).toEqual({
        within: false,
        reason: `${algorithm} with an output longer than 64 bytes`,
      });
      expect(checkHashBounds(pbkdf2(algorithm, 1000, 4096))).toEqual({
        within: false,
        reason: `${algorithm} with an output longer than 64 bytes`,
      });
      expect(checkHashBounds(pbkdf2(algorithm, 9_999_999, 4096))).toMatchObject({ within: false });
      expect(checkHashBounds(pbkdf2(algorithm, 1000, 700))).toEqual({
        within: false,
        reason: `${algorithm} with an output longer than 64 bytes`,
      });
    });
  }

  for (const prefix of ['', 'argon2']) {
    const label = prefix === '' ? "oauthd's $argon2id$" : "Django's argon2$argon2id$";
    it(`accepts ${label} at m = 131072 KiB and refuses 131073`, () => {
      expect(checkHashBounds(argon2({ prefix, m: 131_072 }))).toMatchObject({ within: true });
      expect(checkHashBounds(argon2({ prefix, m: 131_073 }))).toEqual({
        within: false,
        reason: 'argon2 with more than 131072 KiB of memory',
      });
      expect(checkHashBounds(argon2({ prefix, m: 1_048_576, t: 64 }))).toMatchObject({ within: false });
    });

    it(`accepts ${label} at t = 16 and refuses 17`, () => {
      expect(checkHashBounds(argon2({ prefix, t: 16 }))).toMatchObject({ within: true });
      expect(checkHashBounds(argon2({ prefix, t: 17 }))).toEqual({
        within: false,
        reason: 'argon2 with a time cost above 16',
      });
    });

    it(`accepts ${label} at p = 16 and refuses 17 (and 131072)`, () => {
      expect(checkHashBounds(argon2({ prefix, p: 16, m: 131_072 }))).toMatchObject({ within: true });
      expect(checkHashBounds(argon2({ prefix, p: 17 }))).toEqual({
        within: false,
        reason: 'argon2 with a parallelism above 16',
      });
      expect(checkHashBounds(argon2({ prefix, p: 131_072, m: 131_072 }))).toMatchObject({ within: false });
    });

    it(`accepts ${label} with a 64-byte output and refuses 65 bytes`, () => {
      expect(checkHashBounds(argon2({ prefix, out: 64 }))).toMatchObject({ within: true });
      expect(checkHashBounds(argon2({ prefix, out: 65 }))).toEqual({
        within: false,
        reason: 'argon2 with an output longer than 64 bytes',
      });
    });
  }

  it('reads argon2 parameters in any order (node-argon2 writes m, p, t)', () => {
    expect(checkHashBounds(`$argon2id$v=19$m=19456,p=1,t=2$${phc64(16)}$${phc64(32)}`)).toEqual({
      within: true,
      format: 'argon2',
    });
    expect(checkHashBounds(`$argon2id$v=19$p=1,t=17,m=19456$${phc64(16)}$${phc64(32)}`)).toEqual({
      within: false,
      reason: 'argon2 with a time cost above 16',
    });
    expect(checkHashBounds(`$argon2id$v=19$t=2,p=17,m=19456$${phc64(16)}$${phc64(32)}`)).toEqual({
      within: false,
      reason: 'argon2 with a parallelism above 16',
    });
  });

  it('applies the argon2 bounds to argon2i and argon2d too', () => {
    expect(checkHashBounds(argon2({ m: 131_073 }).replace('$argon2id$', '$argon2i$'))).toMatchObject({ within: false });
    expect(checkHashBounds(argon2({ t: 17 }).replace('$argon2id$', '$argon2d$'))).toMatchObject({ within: false });
    expect(checkHashBounds(argon2().replace('$argon2id$', '$argon2i$'))).toMatchObject({ within: true });
  });

  for (const algorithm of ['bcrypt_sha256', 'bcrypt']) {
    it(`accepts ${algorithm} at cost 14 and refuses 15`, () => {
      expect(checkHashBounds(bcrypt(algorithm, 14))).toEqual({ within: true, format: algorithm });
      expect(checkHashBounds(bcrypt(algorithm, 15))).toEqual({
        within: false,
        reason: `${algorithm} with a cost above 14`,
      });
      expect(checkHashBounds(bcrypt(algorithm, 31))).toMatchObject({ within: false });
    });
  }

  it('accepts a hash of 1024 characters and refuses 1025, whatever its parameters', () => {
    const withSalt = (saltLength: number) => `pbkdf2_sha256$1000$${'s'.repeat(saltLength)}$${b64(32)}`;
    const base = withSalt(0).length;
    expect(checkHashBounds(withSalt(1024 - base))).toMatchObject({ within: true });
    expect(checkHashBounds(withSalt(1025 - base))).toEqual({
      within: false,
      reason: 'hash longer than 1024 characters',
    });
  });

  it('calls unusable markers, unknown formats and malformed hashes not within bounds, so they are never run', () => {
    expect(checkHashBounds('')).toEqual({ within: false, reason: 'unusable (never verifies)' });
    expect(checkHashBounds('!uEWMtlMwxyf25iH8izWL3NNhtJiq69S8wMmQuYly')).toEqual({
      within: false,
      reason: 'unusable (never verifies)',
    });
    for (const other of [
      'sha1$sPhDKOYn0q2i0JaA55jh49$2487557054e9be0b652f13ad9c1f31fce9cab929',
      'scrypt$16384$salt$8$1$abc=',
      'garbage',
      'pbkdf2_sha256$0$salt$AAAA',
      'pbkdf2_sha256$12345678901$salt$AAAA',
      '$argon2id$v=19$m=19456,t=2,m=1$c2FsdA$aGFzaA', // m twice, no p
      '$argon2id$v=19$m=19456,t=2,p=1,data=x$c2FsdA$aGFzaA',
      `$2b$12$${BCRYPT_TAIL}`, // bare bcrypt: oauthd verifies bcrypt only behind Django's prefixes
      'sha256$short',
    ]) {
      expect(checkHashBounds(other), other).toEqual({ within: false, reason: 'not a hash format oauthd verifies' });
    }
  });
});

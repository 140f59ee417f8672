/**
 * The admin module's password policy: every way a password is set goes through createAdmin, so every future
 * admin surface inherits the same bounds (OAUTHD_PASSWORD_MIN_LENGTH / OAUTHD_PASSWORD_MAX_LENGTH).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../crypto/argon2-hasher.js';
import { openStore } from '../../store/store.js';
import { createAdmin } from './index.js';
import { AdminError, checkPasswordPolicy, DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './validation.js';
import { clockOf, type Store } from '../ports.js';

const fast = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
let store: Store;
let events: string[];

const admin = (passwordPolicy?: PasswordPolicy) =>
  createAdmin({
    store,
    passwordHasher: fast,
    clock: clockOf(() => 1_800_000_000_000),
    knownScopes: ['read'],
    defaultScopes: ['read'],
    events: { emit: (event) => events.push(event) },
    actor: 'test',
    passwordPolicy,
  });

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  events = [];
});

describe('the password policy', () => {
  it('defaults to at least 8 and at most 1024 characters', () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({ minLength: 8, maxLength: 1024 });
    expect(() => checkPasswordPolicy('1234567')).toThrow(
      'the password must be at least 8 characters (OAUTHD_PASSWORD_MIN_LENGTH)',
    );
    expect(() => checkPasswordPolicy('12345678')).not.toThrow();
    expect(() => checkPasswordPolicy('x'.repeat(1024))).not.toThrow();
    expect(() => checkPasswordPolicy('x'.repeat(1025))).toThrow(
      'the password must be at most 1024 characters (OAUTHD_PASSWORD_MAX_LENGTH)',
    );
  });

  it('counts characters as people do: an emoji is one character, not two UTF-16 units', () => {
    const policy = { minLength: 4, maxLength: 4 };
    expect(() => checkPasswordPolicy('🔑🔑🔑🔑', policy)).not.toThrow();
    expect(() => checkPasswordPolicy('🔑🔑🔑', policy)).toThrow(/at least 4 characters/);
  });

  it('says "1 character", not "1 characters"', () => {
    expect(() => checkPasswordPolicy('', { minLength: 1, maxLength: 10 })).toThrow(
      'the password must be at least 1 character (OAUTHD_PASSWORD_MIN_LENGTH)',
    );
  });

  it(
    'createUser refuses a too-short or too-long password with an ' + 'AdminError, creates nothing and records nothing',
    async () => {
      const a = admin({ minLength: 10, maxLength: 12 });
      await expect(a.createUser('alice', 'short-pw')).rejects.toThrow(
        new AdminError('the password must be at least 10 characters (OAUTHD_PASSWORD_MIN_LENGTH)', {
          field: 'password',
        }),
      );
      await expect(a.createUser('alice', 'much-too-long-password')).rejects.toThrow(
        new AdminError('the password must be at most 12 characters (OAUTHD_PASSWORD_MAX_LENGTH)', {
          field: 'password',
        }),
      );
      expect(await store.listUsers()).toEqual([]);
      expect(events).toEqual([]);
      await a.createUser('alice', 'just-right!');
      expect((await store.listUsers()).map((u) => u.username)).toEqual(['alice']);
    },
  );

  it('setPassword refuses a password outside the bounds and leaves the hash as it was', async () => {
    const a = admin({ minLength: 10, maxLength: 12 });
    await a.createUser('alice', 'just-right!');
    const before = (await store.findUserByUsername('alice'))!.passwordHash;
    events = [];
    await expect(a.setPassword('alice', 'short', { revokeTokens: true })).rejects.toThrow(
      /at least 10 characters \(OAUTHD_PASSWORD_MIN_LENGTH\)/,
    );
    await expect(a.setPassword('alice', 'x'.repeat(13), { revokeTokens: true })).rejects.toThrow(
      /at most 12 characters \(OAUTHD_PASSWORD_MAX_LENGTH\)/,
    );
    expect((await store.findUserByUsername('alice'))!.passwordHash).toBe(before);
    expect(events).toEqual([]);
  });

  it('applies the default policy when none is given', async () => {
    await expect(admin().createUser('bob', 'seven77')).rejects.toThrow(/at least 8 characters/);
    await expect(admin().createUser('bob', 'x'.repeat(1025))).rejects.toThrow(/at most 1024 characters/);
  });
});

describe('generated client ids', () => {
  it('never start with - or _ (a command line would read -… as an option), and keep 192 bits', async () => {
    const { generatedClientId } = await import('./clients.js');
    const ids = Array.from({ length: 2000 }, generatedClientId);
    expect(ids.filter((id) => !/^[A-Za-z0-9][A-Za-z0-9_-]{31}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

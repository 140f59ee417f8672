/** What the authorization contract files share: secrets with their keys, and records to write. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type {
  NewAuthorizationCode,
  NewDeviceCode,
  RedeemAuthorizationCode,
} from '../../src/core/authorization-ports.js';
import type { Store } from '../../src/core/ports.js';
import { mintToken, tokenKey } from '../../src/core/tokens.js';
import { T, newAccess, newRefresh, type ContractSubject } from './fixtures.js';

/** Every row of a table, read straight from the database by the backend's test file (no Store method). */
export type ReadTable = (table: string) => Promise<Record<string, unknown>[]>;

export interface AuthorizationSubject extends ContractSubject {
  readTable: ReadTable;
}

/** A secret as the core handles it: the plaintext (never given to the store) and its key. */
export function secret(): { plain: string; key: Buffer } {
  const plain = mintToken(Date.now());
  return { plain, key: tokenKey(plain) };
}

export function newCode(clientId: string, userId: number, overrides: Partial<NewAuthorizationCode> = {}) {
  const code = secret();
  const record: NewAuthorizationCode = {
    hash: code.key,
    clientId,
    userId,
    redirectUri: 'https://app.example/callback?x=1',
    scope: ['read', 'write'],
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    issuedAt: T,
    expiresAt: T + 60,
    ...overrides,
  };
  return { plain: code.plain, record };
}

/** The exchange of a code at `now` for a new grant of that client and user, with a refresh token. */
export function redemption(
  code: NewAuthorizationCode,
  now: number,
  overrides: Partial<RedeemAuthorizationCode> = {},
): RedeemAuthorizationCode & { grantId: string } {
  const grantId = randomUUID();
  return {
    grantId,
    codeHash: code.hash,
    grant: { id: grantId, clientId: code.clientId, userId: code.userId, scope: code.scope, createdAt: now },
    access: newAccess(now),
    refresh: newRefresh(now),
    now,
    ...overrides,
  };
}

export function newDevice(clientId: string, overrides: Partial<NewDeviceCode> = {}) {
  const device = secret();
  const userCode = 'WDJBMJHT'; // normalised; the key is what is stored
  const record: NewDeviceCode = {
    hash: device.key,
    userCodeHash: tokenKey(`${userCode}-${randomUUID()}`),
    clientId,
    scope: ['read'],
    issuedAt: T,
    expiresAt: T + 600,
    intervalSeconds: 5,
    ...overrides,
  };
  return { plain: device.plain, record };
}

/**
 * Asserts the table's rows hold exactly the given keys in `column` (Buffers equal to the ones passed), and
 * that no value of any row contains one of the plaintexts.
 */
export async function expectKeysOnly(
  readTable: ReadTable,
  table: string,
  column: string,
  keys: Buffer[],
  plaintexts: string[],
): Promise<void> {
  const rows = await readTable(table);
  const stored = rows.map((r) => Buffer.from(r[column] as Uint8Array).toString('hex')).sort();
  expect(stored).toEqual(keys.map((k) => k.toString('hex')).sort());
  for (const row of rows) {
    for (const value of Object.values(row)) {
      const text =
        Buffer.isBuffer(value) || value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : String(value);
      for (const plain of plaintexts) expect(text.includes(plain), `${table} holds a plaintext`).toBe(false);
    }
  }
}

export async function userIdOf(store: Store, username: string): Promise<number> {
  const user = await store.findUserByUsername(username);
  if (!user) throw new Error(`fixture: no user ${username}`);
  return user.id;
}

/** What the Store contract's files share: fixed times, record builders, and the store under test. */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { SERVER_POLICY, type Client, type NewAccessToken, type NewToken } from '../../src/core/types.js';
import type { ClientChanges, NewClient, NewLockout, NewUser, RotateRefreshToken, Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';

/** A fixed instant so every timestamp asserted is exact. */
export const T = 1_700_000_000;
export const ACCESS_TTL = 3600;

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

export function newClient(overrides: Partial<NewClient> = {}): NewClient {
  return {
    clientId: `client-${randomUUID()}`,
    name: 'Test client',
    secretHash: 'secret-hash-v1',
    isPublic: false,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write'],
    canIntrospect: false,
    policy: SERVER_POLICY,
    createdAt: T,
    ...overrides,
  };
}

export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  return {
    username: `user-${randomUUID()}`,
    passwordHash: 'password-hash-v1',
    isActive: true,
    createdAt: T,
    ...overrides,
  };
}

export function newAccess(issuedAt: number, scope: string[] = ['read']): NewAccessToken {
  return { hash: tokenKey(mintToken(Date.now())), scope, issuedAt, expiresAt: issuedAt + ACCESS_TTL };
}

export function newRefresh(
  issuedAt: number,
  scope: string[] = ['read', 'write'],
  expiresAt: number | null = null,
): NewToken {
  return { hash: tokenKey(mintToken(Date.now())), scope, issuedAt, expiresAt };
}

export interface IssuedGrant {
  grantId: string;
  clientId: string;
  userId: number;
  username: string;
  access: NewAccessToken;
  refresh: NewToken;
}

/**
 * Issues a grant (with its first access and refresh token) to a client and a user, creating them when
 * they do not exist yet. The access token carries ['read'], the refresh token ['read', 'write'].
 */
export async function issueGrant(
  store: Store,
  options: { clientId?: string; username?: string; at?: number } = {},
): Promise<IssuedGrant> {
  const clientId = options.clientId ?? `client-${randomUUID()}`;
  const username = options.username ?? `user-${randomUUID()}`;
  const at = options.at ?? T;
  if (!(await store.findClient(clientId))) await store.createClient(newClient({ clientId }));
  if (!(await store.findUserByUsername(username))) await store.createUser(newUser({ username }));
  const user = await store.findUserByUsername(username);
  if (!user) throw new Error('fixture: user was not created');
  const grantId = randomUUID();
  const access = newAccess(at);
  const refresh = newRefresh(at);
  const issued = await store.issueTokens({
    grant: { id: grantId, clientId, userId: user.id, scope: ['read', 'write'], createdAt: at },
    access,
    refresh,
  });
  if (issued !== 'issued') throw new Error(`fixture: issueTokens answered ${issued}`);
  return { grantId, clientId, userId: user.id, username, access, refresh };
}

export function rotation(g: { grantId: string }, presentedHash: Buffer, now: number): RotateRefreshToken {
  return { presentedHash, grantId: g.grantId, access: newAccess(now), refresh: newRefresh(now), now };
}

/** Asserts every access and refresh token given is revoked at `at` (or live when `at` is null). */
export async function expectRevokedAt(
  store: Store,
  hashes: { access?: Buffer[]; refresh?: Buffer[] },
  at: number | null,
) {
  for (const hash of hashes.access ?? []) expect((await store.findAccessToken(hash))?.revokedAt).toBe(at);
  for (const hash of hashes.refresh ?? []) expect((await store.findRefreshToken(hash))?.revokedAt).toBe(at);
}

/**
 * A `describe` whose every test gets a fresh store from `open`, cleaned up after it; `register` adds the
 * tests, reading the running test's store through `store()`.
 */
export function describeWithFreshStore(
  title: string,
  open: () => Promise<OpenedStore>,
  register: (store: () => Store) => void,
): void {
  describe(title, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });
    register(() => store);
  });
}

/** The store under test, as each contract file sees it. */
export interface ContractSubject {
  /** The fresh, migrated, empty store of the running test. */
  store(): Store;
  /**
   * Opens a second, independent store instance on the database of the running test's store (another
   * connection, as another process would have); the caller closes it. When absent, cross-instance tests skip.
   */
  openSecond?: () => Promise<Store>;
}

/** A token issued at `issuedAt` for `ttl` seconds (null: no expiry), scope ['read']. */
export const newTokenAt = (issuedAt: number, ttl: number | null = 3600) => ({
  hash: tokenKey(mintToken(Date.now())),
  scope: ['read'],
  issuedAt,
  expiresAt: ttl === null ? null : issuedAt + ttl,
});

export async function addClient(store: Store, clientId = `client-${randomUUID()}`): Promise<string> {
  await store.createClient({
    clientId,
    name: 'c',
    secretHash: 'h',
    isPublic: false,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write'],
    createdAt: T,
  });
  return clientId;
}

export async function addUser(
  store: Store,
  username = `user-${randomUUID()}`,
): Promise<{ id: number; username: string }> {
  await store.createUser({ username, passwordHash: 'p', isActive: true, createdAt: T });
  const found = (await store.findUserByUsername(username))!;
  return { id: found.id, username };
}

/** A grant with its first pair: access token for 1 h, refresh token without expiry unless given. */
export async function addGrant(
  store: Store,
  clientId: string,
  userId: number,
  at = T,
  refreshTtl: number | null = null,
) {
  const id = randomUUID();
  const access = { ...newTokenAt(at), expiresAt: at + 3600 };
  const refresh = newTokenAt(at, refreshTtl);
  expect(
    await store.issueTokens({ grant: { id, clientId, userId, scope: ['read'], createdAt: at }, access, refresh }),
  ).toBe('issued');
  return { id, access, refresh };
}

export const newLockout = (overrides: Partial<NewLockout>): NewLockout => ({
  kind: 'user_ip',
  username: null,
  clientId: null,
  ipKey: null,
  startedAt: T,
  until: T + 900,
  ...overrides,
});

/** store.updateClient without `ifVersion`, which never answers `version_mismatch`: the client, or null. */
export async function updateClient(
  store: Store,
  clientId: string,
  changes: ClientChanges,
  now: number,
): Promise<Client | null> {
  const updated = await store.updateClient(clientId, changes, now);
  if (updated === 'version_mismatch') throw new Error('updateClient answered version_mismatch without ifVersion');
  return updated;
}

/** A client as the store returns it right after createClient: as created, at version 1. */
export const stored = (client: NewClient, version = 1): NewClient & { version: number } => ({ ...client, version });

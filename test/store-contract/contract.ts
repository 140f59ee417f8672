/**
 * The Store contract (src/core/ports.ts), as a suite every backend runs unchanged.
 *
 * Only the Store interface is used here: no SQL, no driver. A backend's test file calls
 * `runStoreContract` with a factory that opens a fresh, migrated, empty store per test; backend-specific
 * behaviour (locks, connection loss) is tested in that file, not here.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewAccessToken, NewToken } from '../../src/core/types.js';
import type { NewClient, NewUser, RotateRefreshToken, Store } from '../../src/core/ports.js';
import { tokenKey, mintToken } from '../../src/core/tokens.js';

/** A fixed instant so every timestamp asserted is exact. */
const T = 1_700_000_000;
const ACCESS_TTL = 3600;

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

function newClient(overrides: Partial<NewClient> = {}): NewClient {
  return {
    clientId: `client-${randomUUID()}`,
    name: 'Test client',
    secretHash: 'secret-hash-v1',
    isPublic: false,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write'],
    canIntrospect: false,
    createdAt: T,
    ...overrides,
  };
}

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  return {
    username: `user-${randomUUID()}`,
    passwordHash: 'password-hash-v1',
    isActive: true,
    createdAt: T,
    ...overrides,
  };
}

function newAccess(issuedAt: number, scope: string[] = ['read']): NewAccessToken {
  return { hash: tokenKey(mintToken(Date.now())), scope, issuedAt, expiresAt: issuedAt + ACCESS_TTL };
}

function newRefresh(issuedAt: number, scope: string[] = ['read', 'write'], expiresAt: number | null = null): NewToken {
  return { hash: tokenKey(mintToken(Date.now())), scope, issuedAt, expiresAt };
}

interface IssuedGrant {
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
async function issueGrant(
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

function rotation(g: { grantId: string }, presentedHash: Buffer, now: number): RotateRefreshToken {
  return { presentedHash, grantId: g.grantId, access: newAccess(now), refresh: newRefresh(now), now };
}

/** Asserts every access and refresh token given is revoked at `at` (or live when `at` is null). */
async function expectRevokedAt(store: Store, hashes: { access?: Buffer[]; refresh?: Buffer[] }, at: number | null) {
  for (const hash of hashes.access ?? []) expect((await store.findAccessToken(hash))?.revokedAt).toBe(at);
  for (const hash of hashes.refresh ?? []) expect((await store.findRefreshToken(hash))?.revokedAt).toBe(at);
}

/**
 * Defines the whole Store contract as one vitest `describe`.
 *
 * @param open opens a fresh, migrated, empty store; `cleanup` closes it and removes its data.
 * @param openSecond opens a second, independent store instance on the database of the store most recently
 *   returned by `open` (another connection, as another process would have). The caller closes it. When
 *   omitted, the cross-instance tests are skipped.
 */
export function runStoreContract(
  name: string,
  open: () => Promise<OpenedStore>,
  openSecond?: () => Promise<Store>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      cleanup = opened.cleanup;
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('migrate', () => {
      it('running migrate twice more on a migrated store succeeds and keeps existing data', async () => {
        const client = newClient();
        await store.createClient(client);
        await store.migrate();
        await store.migrate();
        expect(await store.findClient(client.clientId)).toEqual(client);
        expect(await store.createUser(newUser())).toBe('created');
      });

      it('a fresh store has no clients and no users', async () => {
        expect(await store.counts()).toEqual({ clients: 0, users: 0 });
        expect(await store.listClients()).toEqual([]);
        expect(await store.listUsers()).toEqual([]);
      });
    });

    describe('clients', () => {
      it('createClient returns created for a new id and exists for the same id, leaving the first client unchanged', async () => {
        const client = newClient();
        expect(await store.createClient(client)).toBe('created');
        expect(await store.createClient({ ...client, name: 'Another name', scopes: ['admin'] })).toBe('exists');
        expect(await store.findClient(client.clientId)).toEqual(client);
      });

      it('findClient returns every field of a confidential client as it was created', async () => {
        const client = newClient({
          name: 'Confidential app',
          secretHash: 'v1$some$secret$hash',
          isPublic: false,
          grantTypes: ['password', 'refresh_token'],
          scopes: ['read', 'write', 'profile:email'],
          createdAt: T + 42,
        });
        await store.createClient(client);
        expect(await store.findClient(client.clientId)).toEqual(client);
      });

      it('findClient returns a public client with a null secretHash, isPublic true and its single grant type', async () => {
        const client = newClient({ secretHash: null, isPublic: true, grantTypes: ['password'], scopes: ['read'] });
        await store.createClient(client);
        const found = await store.findClient(client.clientId);
        expect(found).toEqual(client);
        expect(found?.secretHash).toBeNull();
        expect(found?.isPublic).toBe(true);
      });

      it('findClient returns an empty scopes array for a client created with no scopes', async () => {
        const client = newClient({ scopes: [] });
        await store.createClient(client);
        expect(await store.findClient(client.clientId)).toEqual(client);
      });

      it('findClient and listClients return canIntrospect true for a client created as a resource server, false for one created without it', async () => {
        const resourceServer = newClient({ clientId: 'client-rs', canIntrospect: true, createdAt: T });
        const { canIntrospect: _left, ...plain } = newClient({ clientId: 'client-plain', createdAt: T + 1 });
        await store.createClient(resourceServer);
        await store.createClient(plain);
        expect(await store.findClient('client-rs')).toEqual(resourceServer);
        expect((await store.findClient('client-rs'))?.canIntrospect).toBe(true);
        expect(await store.findClient('client-plain')).toEqual({ ...plain, canIntrospect: false });
        expect((await store.listClients()).map((c) => [c.clientId, c.canIntrospect])).toEqual([['client-rs', true], ['client-plain', false]]);
      });

      it('createClient rejects a public client marked canIntrospect and stores nothing', async () => {
        const client = newClient({ secretHash: null, isPublic: true, canIntrospect: true });
        await expect(store.createClient(client)).rejects.toThrow();
        expect(await store.findClient(client.clientId)).toBeNull();
      });

      it('findClient returns null for an unknown client id', async () => {
        expect(await store.findClient('no-such-client')).toBeNull();
      });

      it('listClients returns every created client with all its fields', async () => {
        const a = newClient({ clientId: 'client-a', createdAt: T });
        const b = newClient({ clientId: 'client-b', secretHash: null, isPublic: true, grantTypes: ['password'], createdAt: T + 1 });
        await store.createClient(a);
        await store.createClient(b);
        const listed = await store.listClients();
        expect([...listed].sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([a, b]);
      });

      it('deleteClient returns true for an existing client, after which the client is not found, and false the second time', async () => {
        const client = newClient();
        await store.createClient(client);
        expect(await store.deleteClient(client.clientId)).toBe(true);
        expect(await store.findClient(client.clientId)).toBeNull();
        expect(await store.deleteClient(client.clientId)).toBe(false);
        expect(await store.listClients()).toEqual([]);
      });

      it('deleteClient returns false for an unknown client id', async () => {
        expect(await store.deleteClient('no-such-client')).toBe(false);
      });

      it('deleting a client makes its access and refresh tokens unfindable and leaves the user and other clients’ tokens alone', async () => {
        const g = await issueGrant(store);
        const other = await issueGrant(store, { username: g.username });
        expect(await store.deleteClient(g.clientId)).toBe(true);
        expect(await store.findAccessToken(g.access.hash)).toBeNull();
        expect(await store.findRefreshToken(g.refresh.hash)).toBeNull();
        expect(await store.findUserByUsername(g.username)).not.toBeNull();
        expect(await store.findAccessToken(other.access.hash)).toMatchObject({ grantId: other.grantId, revokedAt: null });
        expect(await store.findRefreshToken(other.refresh.hash)).toMatchObject({ grantId: other.grantId, revokedAt: null });
      });

      it('issueTokens for a client deleted since it was authenticated answers client_gone and writes nothing', async () => {
        const g = await issueGrant(store);
        const user = (await store.findUserByUsername(g.username))!;
        expect(await store.deleteClient(g.clientId)).toBe(true);
        const access = newAccess(T);
        const refresh = newRefresh(T);
        const late = { grant: { id: randomUUID(), clientId: g.clientId, userId: user.id, scope: ['read'], createdAt: T }, access, refresh };
        expect(await store.issueTokens(late)).toBe('client_gone');
        expect(await store.findAccessToken(access.hash)).toBeNull();
        expect(await store.findRefreshToken(refresh.hash)).toBeNull();
        // The same call for a live client issues.
        const live = await issueGrant(store, { username: g.username });
        const again = { ...late, grant: { ...late.grant, id: randomUUID(), clientId: live.clientId }, access: newAccess(T), refresh: newRefresh(T) };
        expect(await store.issueTokens(again)).toBe('issued');
      });

      it('deleting a client also deletes tokens written by rotation', async () => {
        const g = await issueGrant(store);
        const r = rotation(g, g.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r)).toBe('rotated');
        await store.deleteClient(g.clientId);
        expect(await store.findAccessToken(r.access.hash)).toBeNull();
        expect(await store.findRefreshToken(r.refresh.hash)).toBeNull();
      });

      it('setClientSecret replaces the secret hash of a confidential client and returns true', async () => {
        const client = newClient({ secretHash: 'old-hash' });
        await store.createClient(client);
        expect(await store.setClientSecret(client.clientId, 'new-hash', T + 100)).toBe(true);
        expect(await store.findClient(client.clientId)).toEqual({ ...client, secretHash: 'new-hash' });
      });

      it('setClientSecret returns false for an unknown client id and creates nothing', async () => {
        expect(await store.setClientSecret('no-such-client', 'new-hash', T + 100)).toBe(false);
        expect(await store.findClient('no-such-client')).toBeNull();
        expect(await store.counts()).toEqual({ clients: 0, users: 0 });
      });
    });

    describe('users', () => {
      it('createUser returns created for a new username and exists for the same username, leaving the first user unchanged', async () => {
        const user = newUser({ username: 'alice', passwordHash: 'hash-1' });
        expect(await store.createUser(user)).toBe('created');
        expect(await store.createUser({ ...user, passwordHash: 'hash-2', isActive: false })).toBe('exists');
        const found = await store.findUserByUsername('alice');
        expect(found).toMatchObject({ username: 'alice', passwordHash: 'hash-1', isActive: true });
      });

      it('findUserByUsername returns every field with a numeric id and updatedAt equal to createdAt', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'hash-1', isActive: true, createdAt: T + 7 }));
        const found = await store.findUserByUsername('alice');
        expect(found).toEqual({
          id: expect.any(Number),
          username: 'alice',
          passwordHash: 'hash-1',
          isActive: true,
          createdAt: T + 7,
          updatedAt: T + 7,
        });
        expect(Number.isInteger(found?.id)).toBe(true);
      });

      it('findUserByUsername returns an inactive user with a null password hash as created', async () => {
        await store.createUser(newUser({ username: 'locked', passwordHash: null, isActive: false }));
        expect(await store.findUserByUsername('locked')).toMatchObject({ passwordHash: null, isActive: false });
      });

      it('findUserByUsername is case-sensitive: alice and Alice are two different users', async () => {
        expect(await store.createUser(newUser({ username: 'alice', passwordHash: 'hash-lower' }))).toBe('created');
        expect(await store.findUserByUsername('Alice')).toBeNull();
        expect(await store.createUser(newUser({ username: 'Alice', passwordHash: 'hash-upper' }))).toBe('created');
        const lower = await store.findUserByUsername('alice');
        const upper = await store.findUserByUsername('Alice');
        expect(lower?.passwordHash).toBe('hash-lower');
        expect(upper?.passwordHash).toBe('hash-upper');
        expect(lower?.id).not.toBe(upper?.id);
      });

      it('findUserByUsername returns null for an unknown username', async () => {
        expect(await store.findUserByUsername('nobody')).toBeNull();
      });

      it('listUsers returns every created user with distinct ids', async () => {
        await store.createUser(newUser({ username: 'alice' }));
        await store.createUser(newUser({ username: 'bob', isActive: false, passwordHash: null }));
        const listed = await store.listUsers();
        expect(listed.map((u) => u.username).sort()).toEqual(['alice', 'bob']);
        expect(new Set(listed.map((u) => u.id)).size).toBe(2);
        const alice = await store.findUserByUsername('alice');
        const bob = await store.findUserByUsername('bob');
        expect(listed).toEqual(expect.arrayContaining([alice, bob]));
      });

      it('setUserPassword returns false for an unknown user and creates nothing', async () => {
        expect(await store.setUserPassword('nobody', 'hash', { revokeGrants: true, now: T + 5 })).toBe(false);
        expect(await store.findUserByUsername('nobody')).toBeNull();
        expect(await store.counts()).toEqual({ clients: 0, users: 0 });
      });

      it('setUserPassword replaces the hash and sets updatedAt to now', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'old' }));
        expect(await store.setUserPassword('alice', 'new', { revokeGrants: false, now: T + 50 })).toBe(true);
        expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: 'new', createdAt: T, updatedAt: T + 50 });
      });

      it('setUserPassword with revokeGrants true revokes every token of every grant of the user and no other user’s', async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice' });
        const rotated = rotation(g2, g2.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(rotated)).toBe('rotated');
        const bob = await issueGrant(store, { username: 'bob', clientId: g1.clientId });

        expect(await store.setUserPassword('alice', 'new', { revokeGrants: true, now: T + 60 })).toBe(true);

        await expectRevokedAt(
          store,
          { access: [g1.access.hash, rotated.access.hash], refresh: [g1.refresh.hash, rotated.refresh.hash] },
          T + 60,
        );
        // Tokens revoked earlier (the first access token of g2, revoked by the rotation) stay revoked.
        expect((await store.findAccessToken(g2.access.hash))?.revokedAt).not.toBeNull();
        expect((await store.findRefreshToken(g2.refresh.hash))?.revokedAt).not.toBeNull();
        await expectRevokedAt(store, { access: [bob.access.hash], refresh: [bob.refresh.hash] }, null);
      });

      it('setUserPassword with revokeGrants false leaves the user’s tokens live', async () => {
        const g = await issueGrant(store, { username: 'alice' });
        expect(await store.setUserPassword('alice', 'new', { revokeGrants: false, now: T + 60 })).toBe(true);
        await expectRevokedAt(store, { access: [g.access.hash], refresh: [g.refresh.hash] }, null);
        expect(await store.rotateRefreshToken(rotation(g, g.refresh.hash, T + 70))).toBe('rotated');
      });

      it('replacePasswordHash replaces the hash and sets updatedAt when the expected hash still matches', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'old-params' }));
        const user = await store.findUserByUsername('alice');
        await store.replacePasswordHash(user!.id, 'old-params', 'new-params', T + 30);
        expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: 'new-params', updatedAt: T + 30 });
      });

      it('replacePasswordHash changes nothing when the stored hash is no longer the expected one (a concurrent set-password wins)', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'old-params' }));
        const user = await store.findUserByUsername('alice');
        await store.setUserPassword('alice', 'set-by-admin', { revokeGrants: false, now: T + 20 });
        await store.replacePasswordHash(user!.id, 'old-params', 'rehashed-old', T + 30);
        expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: 'set-by-admin', updatedAt: T + 20 });
      });

      it('replacePasswordHash changes nothing for a user whose password hash is null', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: null }));
        const user = await store.findUserByUsername('alice');
        await store.replacePasswordHash(user!.id, 'anything', 'new', T + 30);
        expect(await store.findUserByUsername('alice')).toMatchObject({ passwordHash: null, updatedAt: T });
      });

      it('replacePasswordHash only touches the user whose id is given', async () => {
        await store.createUser(newUser({ username: 'alice', passwordHash: 'same' }));
        await store.createUser(newUser({ username: 'bob', passwordHash: 'same' }));
        const alice = await store.findUserByUsername('alice');
        await store.replacePasswordHash(alice!.id, 'same', 'new', T + 30);
        expect((await store.findUserByUsername('alice'))?.passwordHash).toBe('new');
        expect((await store.findUserByUsername('bob'))?.passwordHash).toBe('same');
      });

      it('setUserActive returns false for an unknown user', async () => {
        expect(await store.setUserActive('nobody', false, T + 5)).toBe(false);
        expect(await store.findUserByUsername('nobody')).toBeNull();
      });

      it('setUserActive(false) disables the user, revokes every token of every grant of that user and no other user’s', async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice' });
        const bob = await issueGrant(store, { username: 'bob', clientId: g1.clientId });

        expect(await store.setUserActive('alice', false, T + 80)).toBe(true);

        expect(await store.findUserByUsername('alice')).toMatchObject({ isActive: false, updatedAt: T + 80 });
        await expectRevokedAt(
          store,
          { access: [g1.access.hash, g2.access.hash], refresh: [g1.refresh.hash, g2.refresh.hash] },
          T + 80,
        );
        expect(await store.findAccessToken(g1.access.hash)).toMatchObject({ userIsActive: false });
        expect(await store.findRefreshToken(g1.refresh.hash)).toMatchObject({ userIsActive: false });
        expect(await store.rotateRefreshToken(rotation(g2, g2.refresh.hash, T + 90))).toBe('revoked');

        expect(await store.findUserByUsername('bob')).toMatchObject({ isActive: true });
        await expectRevokedAt(store, { access: [bob.access.hash], refresh: [bob.refresh.hash] }, null);
        expect(await store.findAccessToken(bob.access.hash)).toMatchObject({ userIsActive: true });
      });

      it('setUserActive(true) re-enables the user without reviving the tokens revoked when it was disabled', async () => {
        const g = await issueGrant(store, { username: 'alice' });
        await store.setUserActive('alice', false, T + 80);
        expect(await store.setUserActive('alice', true, T + 90)).toBe(true);
        expect(await store.findUserByUsername('alice')).toMatchObject({ isActive: true, updatedAt: T + 90 });
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: true, revokedAt: T + 80 });
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ userIsActive: true, revokedAt: T + 80 });
      });

      it('counts reports the number of clients and users', async () => {
        expect(await store.counts()).toEqual({ clients: 0, users: 0 });
        await store.createClient(newClient());
        expect(await store.counts()).toEqual({ clients: 1, users: 0 });
        await store.createUser(newUser());
        await store.createUser(newUser());
        await store.createClient(newClient());
        await store.createClient(newClient());
        expect(await store.counts()).toEqual({ clients: 3, users: 2 });
      });
    });

    describe('issueTokens and lookups', () => {
      it('findAccessToken returns the access token joined with its grant and user', async () => {
        const g = await issueGrant(store, { at: T + 3 });
        expect(await store.findAccessToken(g.access.hash)).toEqual({
          grantId: g.grantId,
          clientId: g.clientId,
          userId: g.userId,
          username: g.username,
          userIsActive: true,
          scope: ['read'],
          issuedAt: T + 3,
          expiresAt: T + 3 + ACCESS_TTL,
          revokedAt: null,
        });
      });

      it('findRefreshToken returns the refresh token joined with its grant and user, with null expiresAt, usedAt and revokedAt', async () => {
        const g = await issueGrant(store, { at: T + 3 });
        expect(await store.findRefreshToken(g.refresh.hash)).toEqual({
          grantId: g.grantId,
          clientId: g.clientId,
          userId: g.userId,
          username: g.username,
          userIsActive: true,
          scope: ['read', 'write'],
          issuedAt: T + 3,
          expiresAt: null,
          usedAt: null,
          revokedAt: null,
          successor: null,
        });
      });

      it('findRefreshToken returns the expiry of a refresh token issued with one', async () => {
        const client = newClient();
        await store.createClient(client);
        await store.createUser(newUser({ username: 'alice' }));
        const user = await store.findUserByUsername('alice');
        const refresh = newRefresh(T, ['read'], T + 86_400);
        await store.issueTokens({
          grant: { id: randomUUID(), clientId: client.clientId, userId: user!.id, scope: ['read'], createdAt: T },
          access: newAccess(T),
          refresh,
        });
        expect(await store.findRefreshToken(refresh.hash)).toMatchObject({ expiresAt: T + 86_400, scope: ['read'] });
      });

      it('an access token with an empty scope comes back with an empty scope array', async () => {
        const client = newClient();
        await store.createClient(client);
        await store.createUser(newUser({ username: 'alice' }));
        const user = await store.findUserByUsername('alice');
        const access = newAccess(T, []);
        const refresh = newRefresh(T, []);
        await store.issueTokens({
          grant: { id: randomUUID(), clientId: client.clientId, userId: user!.id, scope: [], createdAt: T },
          access,
          refresh,
        });
        expect((await store.findAccessToken(access.hash))?.scope).toEqual([]);
        expect((await store.findRefreshToken(refresh.hash))?.scope).toEqual([]);
      });

      it('findAccessToken and findRefreshToken return null for unknown hashes', async () => {
        await issueGrant(store);
        expect(await store.findAccessToken(tokenKey(mintToken(Date.now())))).toBeNull();
        expect(await store.findRefreshToken(tokenKey(mintToken(Date.now())))).toBeNull();
      });

      it('an access token hash is not found as a refresh token, and a refresh token hash is not found as an access token', async () => {
        const g = await issueGrant(store);
        expect(await store.findRefreshToken(g.access.hash)).toBeNull();
        expect(await store.findAccessToken(g.refresh.hash)).toBeNull();
      });

      it('two grants of the same user and client are kept apart', async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice', clientId: g1.clientId });
        expect((await store.findAccessToken(g1.access.hash))?.grantId).toBe(g1.grantId);
        expect((await store.findAccessToken(g2.access.hash))?.grantId).toBe(g2.grantId);
        expect((await store.findRefreshToken(g2.refresh.hash))?.grantId).toBe(g2.grantId);
      });
    });

    describe('rotateRefreshToken', () => {
      it('rotated: the new pair is written in the same grant, the old refresh token is used at now and its access token is revoked at now', async () => {
        const g = await issueGrant(store);
        const now = T + 100;
        const r: RotateRefreshToken = {
          presentedHash: g.refresh.hash,
          grantId: g.grantId,
          access: newAccess(now, ['read']),
          refresh: newRefresh(now, ['read', 'write']),
          now,
        };
        expect(await store.rotateRefreshToken(r)).toBe('rotated');

        expect(await store.findAccessToken(r.access.hash)).toEqual({
          grantId: g.grantId,
          clientId: g.clientId,
          userId: g.userId,
          username: g.username,
          userIsActive: true,
          scope: ['read'],
          issuedAt: now,
          expiresAt: now + ACCESS_TTL,
          revokedAt: null,
        });
        expect(await store.findRefreshToken(r.refresh.hash)).toEqual({
          grantId: g.grantId,
          clientId: g.clientId,
          userId: g.userId,
          username: g.username,
          userIsActive: true,
          scope: ['read', 'write'],
          issuedAt: now,
          expiresAt: null,
          usedAt: null,
          revokedAt: null,
          successor: null,
        });
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: now, revokedAt: null });
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: now });
      });

      it('a rotated refresh token can itself be rotated, revoking only the access token issued with it', async () => {
        const g = await issueGrant(store);
        const r1 = rotation(g, g.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r1)).toBe('rotated');
        const r2 = rotation(g, r1.refresh.hash, T + 20);
        expect(await store.rotateRefreshToken(r2)).toBe('rotated');
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 10 });
        expect(await store.findAccessToken(r1.access.hash)).toMatchObject({ revokedAt: T + 20 });
        expect(await store.findAccessToken(r2.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.findRefreshToken(r1.refresh.hash)).toMatchObject({ usedAt: T + 20 });
        expect(await store.findRefreshToken(r2.refresh.hash)).toMatchObject({ usedAt: null, grantId: g.grantId });
      });

      it('rotating the same refresh token a second time returns already_used and writes nothing', async () => {
        const g = await issueGrant(store);
        const first = rotation(g, g.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(first)).toBe('rotated');
        const second = rotation(g, g.refresh.hash, T + 20);
        expect(await store.rotateRefreshToken(second)).toBe('already_used');
        expect(await store.findAccessToken(second.access.hash)).toBeNull();
        expect(await store.findRefreshToken(second.refresh.hash)).toBeNull();
        // The first use stays recorded, and the winner's pair is untouched by the store.
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: T + 10 });
        expect(await store.findAccessToken(first.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.findRefreshToken(first.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: null });
      });

      it('rotating an unknown hash returns not_found and writes nothing', async () => {
        const g = await issueGrant(store);
        const r = rotation(g, tokenKey(mintToken(Date.now())), T + 10);
        expect(await store.rotateRefreshToken(r)).toBe('not_found');
        expect(await store.findAccessToken(r.access.hash)).toBeNull();
        expect(await store.findRefreshToken(r.refresh.hash)).toBeNull();
        await expectRevokedAt(store, { access: [g.access.hash], refresh: [g.refresh.hash] }, null);
      });

      it('rotating a refresh token under another grant id returns not_found and leaves both grants untouched', async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice', clientId: g1.clientId });
        const r = rotation(g2, g1.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r)).toBe('not_found');
        expect(await store.findAccessToken(r.access.hash)).toBeNull();
        expect(await store.findRefreshToken(r.refresh.hash)).toBeNull();
        expect(await store.findRefreshToken(g1.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: null });
        await expectRevokedAt(store, { access: [g1.access.hash, g2.access.hash], refresh: [g2.refresh.hash] }, null);
      });

      it('rotating an access token hash returns not_found', async () => {
        const g = await issueGrant(store);
        expect(await store.rotateRefreshToken(rotation(g, g.access.hash, T + 10))).toBe('not_found');
      });

      it('rotating a refresh token of a revoked grant returns revoked and writes nothing', async () => {
        const g = await issueGrant(store);
        await store.revokeGrant(g.grantId, T + 5);
        const r = rotation(g, g.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r)).toBe('revoked');
        expect(await store.findAccessToken(r.access.hash)).toBeNull();
        expect(await store.findRefreshToken(r.refresh.hash)).toBeNull();
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: T + 5 });
      });
    });

    describe('eraseSealedSuccessors (grace window)', () => {
      const GRACE = 30;
      const sealed = (n: number) => Buffer.alloc(48, n);

      /** A grant whose first refresh token was rotated at `usedAt` with a sealed successor. */
      async function usedWithSuccessor(usedAt: number) {
        const g = await issueGrant(store);
        const r = { ...rotation(g, g.refresh.hash, usedAt), successorResponse: sealed(usedAt % 256) };
        expect(await store.rotateRefreshToken(r)).toBe('rotated');
        return { g, r };
      }

      /** Calls from `usedFrom` until the range is done; returns the erased count and the calls made. */
      async function eraseAll(now: number, usedFrom: number, limit: number) {
        let erased = 0;
        let calls = 0;
        for (let from: number | null = usedFrom; from !== null; calls++) {
          const result = await store.eraseSealedSuccessors({ now, graceSeconds: GRACE, usedFrom: from, limit });
          erased += result.erased;
          if (result.next !== null) expect(result.next).toBeGreaterThan(from);
          from = result.next;
        }
        return { erased, calls };
      }

      it('erases the sealed successor of a token used more than the grace window before now, and keeps those within it', async () => {
        const old = await usedWithSuccessor(T + 10);
        const recent = await usedWithSuccessor(T + 50);
        expect((await store.findRefreshToken(old.g.refresh.hash))?.successor?.response).toEqual(sealed((T + 10) % 256));

        // now − grace = T + 41: the first was used before it, the second after.
        expect(await store.eraseSealedSuccessors({ now: T + 71, graceSeconds: GRACE, usedFrom: 0, limit: 100 })).toEqual({ erased: 1, next: null });
        expect(await store.findRefreshToken(old.g.refresh.hash)).toMatchObject({ usedAt: T + 10, successor: null });
        expect((await store.findRefreshToken(recent.g.refresh.hash))?.successor).toEqual({ response: sealed((T + 50) % 256), live: true });
        // The pair itself is untouched: its refresh token still rotates.
        expect(await store.rotateRefreshToken(rotation(old.g, old.r.refresh.hash, T + 72))).toBe('rotated');
        // At the window's last second (now − used_at = grace) it is kept.
        expect(await store.eraseSealedSuccessors({ now: T + 50 + GRACE, graceSeconds: GRACE, usedFrom: 0, limit: 100 })).toEqual({ erased: 0, next: null });
        expect((await store.findRefreshToken(recent.g.refresh.hash))?.successor).not.toBeNull();
      });

      it('walks about limit used tokens per call, in used_at order, and says where to go on until the range is done', async () => {
        for (const at of [T + 1, T + 2, T + 3, T + 4, T + 5]) await usedWithSuccessor(at);
        const first = await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: 0, limit: 2 });
        expect(first).toEqual({ erased: 2, next: T + 3 });
        const rest = await eraseAll(T + 100, first.next!, 2);
        expect(rest).toEqual({ erased: 3, calls: 2 });
        expect(await eraseAll(T + 100, 0, 2)).toMatchObject({ erased: 0 });
      });

      it('takes a whole second in one call when more than limit tokens were used in it, so it never stalls', async () => {
        for (let i = 0; i < 4; i++) await usedWithSuccessor(T + 7);
        await usedWithSuccessor(T + 8);
        expect(await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: T + 7, limit: 2 })).toEqual({ erased: 4, next: T + 8 });
        expect(await store.eraseSealedSuccessors({ now: T + 100, graceSeconds: GRACE, usedFrom: T + 8, limit: 2 })).toEqual({ erased: 1, next: null });
      });

      it('looks only at tokens used since usedFrom', async () => {
        const before = await usedWithSuccessor(T + 10);
        const after = await usedWithSuccessor(T + 20);
        await eraseAll(T + 100, T + 15, 100);
        expect((await store.findRefreshToken(before.g.refresh.hash))?.successor).not.toBeNull();
        expect((await store.findRefreshToken(after.g.refresh.hash))?.successor).toBeNull();
      });
    });

    describe('revokeGrant', () => {
      it('revokeGrant revokes every access and refresh token of the family, including those written by rotations', async () => {
        const g = await issueGrant(store);
        const r1 = rotation(g, g.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r1)).toBe('rotated');
        const r2 = rotation(g, r1.refresh.hash, T + 20);
        expect(await store.rotateRefreshToken(r2)).toBe('rotated');

        await store.revokeGrant(g.grantId, T + 30);

        for (const hash of [g.access.hash, r1.access.hash, r2.access.hash]) {
          expect((await store.findAccessToken(hash))?.revokedAt).not.toBeNull();
        }
        for (const hash of [g.refresh.hash, r1.refresh.hash, r2.refresh.hash]) {
          expect((await store.findRefreshToken(hash))?.revokedAt).not.toBeNull();
        }
        // Tokens that were live until now are revoked at now.
        await expectRevokedAt(store, { access: [r2.access.hash], refresh: [r2.refresh.hash] }, T + 30);
        expect(await store.rotateRefreshToken(rotation(g, r2.refresh.hash, T + 40))).toBe('revoked');
      });

      it('revokeGrant is idempotent: a second call succeeds and keeps the first revocation time', async () => {
        const g = await issueGrant(store);
        await store.revokeGrant(g.grantId, T + 30);
        await expect(store.revokeGrant(g.grantId, T + 99)).resolves.toBeUndefined();
        await expectRevokedAt(store, { access: [g.access.hash], refresh: [g.refresh.hash] }, T + 30);
      });

      it('revokeGrant of an unknown grant id succeeds and changes nothing', async () => {
        const g = await issueGrant(store);
        await expect(store.revokeGrant(randomUUID(), T + 30)).resolves.toBeUndefined();
        await expectRevokedAt(store, { access: [g.access.hash], refresh: [g.refresh.hash] }, null);
      });

      it('revokeGrant leaves other grants of the same user and client live', async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice', clientId: g1.clientId });
        await store.revokeGrant(g1.grantId, T + 30);
        await expectRevokedAt(store, { access: [g1.access.hash], refresh: [g1.refresh.hash] }, T + 30);
        await expectRevokedAt(store, { access: [g2.access.hash], refresh: [g2.refresh.hash] }, null);
        expect(await store.rotateRefreshToken(rotation(g2, g2.refresh.hash, T + 40))).toBe('rotated');
      });
    });

    // Bearer validation may read the same token again and again (the SQLite store keeps what it read: see
    // src/store/sqlite/access-token-cache.ts). Every change must show on the very next read, whichever
    // instance made it.
    describe('a token read before a change is read changed after it', () => {
      it('after the rotation of its refresh token: revoked', async () => {
        const g = await issueGrant(store);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.rotateRefreshToken(rotation(g, g.refresh.hash, T + 5))).toBe('rotated');
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 5 });
      });

      it('after revokeGrant: revoked; other grants read before stay as they were', async () => {
        const g = await issueGrant(store);
        const other = await issueGrant(store, { clientId: g.clientId, username: g.username });
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.findAccessToken(other.access.hash)).toMatchObject({ revokedAt: null });
        await store.revokeGrant(g.grantId, T + 6);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 6 });
        expect(await store.findAccessToken(other.access.hash)).toMatchObject({ revokedAt: null });
      });

      it('after setUserActive(false): inactive and revoked', async () => {
        const g = await issueGrant(store);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: true, revokedAt: null });
        expect(await store.setUserActive(g.username, false, T + 7)).toBe(true);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ userIsActive: false, revokedAt: T + 7 });
      });

      it('after setUserPassword with revokeGrants: revoked', async () => {
        const g = await issueGrant(store);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null });
        expect(await store.setUserPassword(g.username, 'password-hash-v2', { revokeGrants: true, now: T + 8 })).toBe(true);
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: T + 8 });
      });

      it('after deleteClient: gone', async () => {
        const g = await issueGrant(store);
        expect(await store.findAccessToken(g.access.hash)).not.toBeNull();
        expect(await store.deleteClient(g.clientId)).toBe(true);
        expect(await store.findAccessToken(g.access.hash)).toBeNull();
      });

      it('after deleteExpired removed it: gone', async () => {
        const g = await issueGrant(store);
        expect(await store.findAccessToken(g.access.hash)).not.toBeNull();
        await store.deleteExpired({ now: T + ACCESS_TTL + 1, retentionSeconds: 0, limit: 100 });
        expect(await store.findAccessToken(g.access.hash)).toBeNull();
      });

      it.skipIf(!openSecond)('after a change through another instance on the same database (another process): revoked, inactive, gone', async () => {
        const second = await openSecond!();
        try {
          const g1 = await issueGrant(store);
          const g2 = await issueGrant(store);
          const g3 = await issueGrant(store);
          for (const g of [g1, g2, g3]) expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: null, userIsActive: true });
          await second.revokeGrant(g1.grantId, T + 9);
          expect(await store.findAccessToken(g1.access.hash)).toMatchObject({ revokedAt: T + 9 });
          expect(await store.findAccessToken(g2.access.hash)).toMatchObject({ revokedAt: null });
          expect(await second.setUserActive(g2.username, false, T + 10)).toBe(true);
          expect(await store.findAccessToken(g2.access.hash)).toMatchObject({ userIsActive: false, revokedAt: T + 10 });
          expect(await second.deleteClient(g3.clientId)).toBe(true);
          expect(await store.findAccessToken(g3.access.hash)).toBeNull();
        } finally {
          await second.close();
        }
      });
    });

    describe('concurrency', () => {
      async function race(stores: Store[]) {
        const g = await issueGrant(store);
        const rotations = Array.from({ length: 10 }, () => rotation(g, g.refresh.hash, T + 10));
        const results = await Promise.all(
          rotations.map((r, i) => stores[i % stores.length]!.rotateRefreshToken(r)),
        );
        expect(results.filter((x) => x === 'rotated')).toHaveLength(1);
        expect(results.filter((x) => x === 'already_used')).toHaveLength(9);

        const findable: number[] = [];
        for (const [i, r] of rotations.entries()) {
          const access = await store.findAccessToken(r.access.hash);
          const refresh = await store.findRefreshToken(r.refresh.hash);
          expect(access === null).toBe(refresh === null);
          if (access) findable.push(i);
        }
        expect(findable).toEqual([results.indexOf('rotated')]);
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: T + 10 });
      }

      it('of 10 concurrent rotations of one refresh token exactly one is rotated, nine are already_used, and only the winner’s pair exists', async () => {
        await race([store]);
      });

      it.skipIf(!openSecond)(
        'of 10 concurrent rotations of one refresh token through two store instances on one database exactly one is rotated',
        async () => {
          const second = await openSecond!();
          try {
            await race([store, second]);
          } finally {
            await second.close();
          }
        },
      );
    });
  });
}

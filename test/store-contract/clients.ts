/** The ClientStore contract (src/core/ports.ts). */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import {
  T,
  newClient,
  newAccess,
  newRefresh,
  issueGrant,
  rotation,
  addClient,
  type ContractSubject,
  stored,
  updateClient,
} from './fixtures.js';

/** Registering, finding, listing and deleting clients, and their secrets. */
export function clientContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('clients', () => {
    it(
      'createClient returns created for a new id and exists for the ' + 'same id, leaving the first client unchanged',
      async () => {
        const client = newClient();
        expect(await store.createClient(client)).toBe('created');
        expect(await store.createClient({ ...client, name: 'Another name', scopes: ['admin'] })).toBe('exists');
        expect(await store.findClient(client.clientId)).toEqual(stored(client));
      },
    );

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
      expect(await store.findClient(client.clientId)).toEqual(stored(client));
    });

    it(
      'findClient returns a public client with a null ' + 'secretHash, isPublic true and its single grant type',
      async () => {
        const client = newClient({ secretHash: null, isPublic: true, grantTypes: ['password'], scopes: ['read'] });
        await store.createClient(client);
        const found = await store.findClient(client.clientId);
        expect(found).toEqual(stored(client));
        expect(found?.secretHash).toBeNull();
        expect(found?.isPublic).toBe(true);
      },
    );

    it('findClient returns an empty scopes array for a client created with no scopes', async () => {
      const client = newClient({ scopes: [] });
      await store.createClient(client);
      expect(await store.findClient(client.clientId)).toEqual(stored(client));
    });

    it(
      'findClient and listClients return canIntrospect true for a client created as a resource server, false for ' +
        'one created without it',
      async () => {
        const resourceServer = newClient({ clientId: 'client-rs', canIntrospect: true, createdAt: T });
        const { canIntrospect: _left, ...plain } = newClient({ clientId: 'client-plain', createdAt: T + 1 });
        await store.createClient(resourceServer);
        await store.createClient(plain);
        expect(await store.findClient('client-rs')).toEqual(stored(resourceServer));
        expect((await store.findClient('client-rs'))?.canIntrospect).toBe(true);
        expect(await store.findClient('client-plain')).toEqual({ ...plain, canIntrospect: false, version: 1 });
        expect((await store.listClients()).map((c) => [c.clientId, c.canIntrospect])).toEqual([
          ['client-rs', true],
          ['client-plain', false],
        ]);
      },
    );

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
      const b = newClient({
        clientId: 'client-b',
        secretHash: null,
        isPublic: true,
        grantTypes: ['password'],
        createdAt: T + 1,
      });
      await store.createClient(a);
      await store.createClient(b);
      const listed = await store.listClients();
      expect([...listed].sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([stored(a), stored(b)]);
    });

    it(
      'deleteClient returns true for an existing client, after which the client is not found, and false the ' +
        'second time',
      async () => {
        const client = newClient();
        await store.createClient(client);
        expect(await store.deleteClient(client.clientId)).toBe(true);
        expect(await store.findClient(client.clientId)).toBeNull();
        expect(await store.deleteClient(client.clientId)).toBe(false);
        expect(await store.listClients()).toEqual([]);
      },
    );

    it('deleteClient returns false for an unknown client id', async () => {
      expect(await store.deleteClient('no-such-client')).toBe(false);
    });

    it(
      'deleting a client makes its access and refresh tokens unfindable and leaves the user and other clients’ ' +
        'tokens alone',
      async () => {
        const g = await issueGrant(store);
        const other = await issueGrant(store, { username: g.username });
        expect(await store.deleteClient(g.clientId)).toBe(true);
        expect(await store.findAccessToken(g.access.hash)).toBeNull();
        expect(await store.findRefreshToken(g.refresh.hash)).toBeNull();
        expect(await store.findUserByUsername(g.username)).not.toBeNull();
        expect(await store.findAccessToken(other.access.hash)).toMatchObject({
          grantId: other.grantId,
          revokedAt: null,
        });
        expect(await store.findRefreshToken(other.refresh.hash)).toMatchObject({
          grantId: other.grantId,
          revokedAt: null,
        });
      },
    );

    it(
      'issueTokens for a client deleted since it was ' + 'authenticated answers client_gone and writes nothing',
      async () => {
        const g = await issueGrant(store);
        const user = (await store.findUserByUsername(g.username))!;
        expect(await store.deleteClient(g.clientId)).toBe(true);
        const access = newAccess(T);
        const refresh = newRefresh(T);
        const late = {
          grant: { id: randomUUID(), clientId: g.clientId, userId: user.id, scope: ['read'], createdAt: T },
          access,
          refresh,
        };
        expect(await store.issueTokens(late)).toBe('client_gone');
        expect(await store.findAccessToken(access.hash)).toBeNull();
        expect(await store.findRefreshToken(refresh.hash)).toBeNull();
        // The same call for a live client issues.
        const live = await issueGrant(store, { username: g.username });
        const again = {
          ...late,
          grant: { ...late.grant, id: randomUUID(), clientId: live.clientId },
          access: newAccess(T),
          refresh: newRefresh(T),
        };
        expect(await store.issueTokens(again)).toBe('issued');
      },
    );

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
      expect(await store.findClient(client.clientId)).toEqual({ ...stored(client, 2), secretHash: 'new-hash' });
    });

    it('setClientSecret returns false for an unknown client id and creates nothing', async () => {
      expect(await store.setClientSecret('no-such-client', 'new-hash', T + 100)).toBe(false);
      expect(await store.findClient('no-such-client')).toBeNull();
      expect(await store.counts()).toEqual({ clients: 0, users: 0 });
    });
  });
}

/** `oauthd client update`: changing a client's fields. */
export function clientOperatorContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('updateClient', () => {
    it('changes only the fields given and returns the client as stored', async () => {
      const id = await addClient(store);
      const updated = await updateClient(store, id, { scopes: ['read'] }, T + 5);
      expect(updated).toMatchObject({
        clientId: id,
        name: 'c',
        scopes: ['read'],
        grantTypes: ['password', 'refresh_token'],
      });
      expect(updated?.defaultScopes ?? null).toBeNull();
      await store.updateClient(id, { name: 'renamed', grantTypes: ['password'], defaultScopes: ['read'] }, T + 6);
      expect(await store.findClient(id)).toMatchObject({
        name: 'renamed',
        scopes: ['read'],
        grantTypes: ['password'],
        defaultScopes: ['read'],
        secretHash: 'h',
      });
    });

    it('sets the default scopes back to the server’s with null, and keeps them when left out', async () => {
      const id = await addClient(store);
      await store.updateClient(id, { defaultScopes: ['write'] }, T);
      await store.updateClient(id, { name: 'other' }, T);
      expect((await store.findClient(id))?.defaultScopes).toEqual(['write']);
      await store.updateClient(id, { defaultScopes: null }, T);
      expect((await store.findClient(id))?.defaultScopes ?? null).toBeNull();
    });

    it('answers null for an unknown client and creates nothing', async () => {
      expect(await store.updateClient('nobody', { name: 'x' }, T)).toBeNull();
      expect(await store.findClient('nobody')).toBeNull();
    });

    it('keeps default scopes given at creation', async () => {
      await store.createClient({
        clientId: 'with-defaults',
        name: 'c',
        secretHash: null,
        isPublic: true,
        grantTypes: ['password'],
        scopes: ['read', 'write'],
        defaultScopes: ['read'],
        createdAt: T,
      });
      expect((await store.findClient('with-defaults'))?.defaultScopes).toEqual(['read']);
    });
  });
}

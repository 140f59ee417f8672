/** The TokenStore contract (src/core/ports.ts). */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RotateRefreshToken, Store } from '../../src/core/ports.js';
import { mintToken, tokenKey } from '../../src/core/tokens.js';
import {
  T,
  ACCESS_TTL,
  newClient,
  newUser,
  newAccess,
  newRefresh,
  issueGrant,
  rotation,
  expectRevokedAt,
  type ContractSubject,
} from './fixtures.js';

/** Issuing, finding, rotating and revoking grants and their tokens. */
export function tokenContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
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
        userIsAdmin: false,
        scope: ['read'],
        issuedAt: T + 3,
        expiresAt: T + 3 + ACCESS_TTL,
        revokedAt: null,
      });
    });

    it(
      'findRefreshToken returns the refresh token joined with its grant and user, with null expiresAt, usedAt ' +
        'and revokedAt',
      async () => {
        const g = await issueGrant(store, { at: T + 3 });
        expect(await store.findRefreshToken(g.refresh.hash)).toEqual({
          grantId: g.grantId,
          clientId: g.clientId,
          userId: g.userId,
          username: g.username,
          userIsActive: true,
          grantType: 'password',
          grantCreatedAt: T + 3,
          scope: ['read', 'write'],
          issuedAt: T + 3,
          expiresAt: null,
          usedAt: null,
          revokedAt: null,
          successor: null,
        });
      },
    );

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

    it(
      'an access token hash is not found as a refresh token, and a refresh token hash is not found as an access ' +
        'token',
      async () => {
        const g = await issueGrant(store);
        expect(await store.findRefreshToken(g.access.hash)).toBeNull();
        expect(await store.findAccessToken(g.refresh.hash)).toBeNull();
      },
    );

    it('two grants of the same user and client are kept apart', async () => {
      const g1 = await issueGrant(store, { username: 'alice' });
      const g2 = await issueGrant(store, { username: 'alice', clientId: g1.clientId });
      expect((await store.findAccessToken(g1.access.hash))?.grantId).toBe(g1.grantId);
      expect((await store.findAccessToken(g2.access.hash))?.grantId).toBe(g2.grantId);
      expect((await store.findRefreshToken(g2.refresh.hash))?.grantId).toBe(g2.grantId);
    });
  });

  describe('rotateRefreshToken', () => {
    it(
      'rotated: the new pair is written in the same grant, the old refresh token is used at now and its access ' +
        'token is revoked at now',
      async () => {
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
          userIsAdmin: false,
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
          grantType: 'password',
          grantCreatedAt: T,
          scope: ['read', 'write'],
          issuedAt: now,
          expiresAt: null,
          usedAt: null,
          revokedAt: null,
          successor: null,
        });
        expect(await store.findRefreshToken(g.refresh.hash)).toMatchObject({ usedAt: now, revokedAt: null });
        expect(await store.findAccessToken(g.access.hash)).toMatchObject({ revokedAt: now });
      },
    );

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

    it(
      'rotating a refresh token under another grant id returns ' + 'not_found and leaves both grants untouched',
      async () => {
        const g1 = await issueGrant(store, { username: 'alice' });
        const g2 = await issueGrant(store, { username: 'alice', clientId: g1.clientId });
        const r = rotation(g2, g1.refresh.hash, T + 10);
        expect(await store.rotateRefreshToken(r)).toBe('not_found');
        expect(await store.findAccessToken(r.access.hash)).toBeNull();
        expect(await store.findRefreshToken(r.refresh.hash)).toBeNull();
        expect(await store.findRefreshToken(g1.refresh.hash)).toMatchObject({ usedAt: null, revokedAt: null });
        await expectRevokedAt(store, { access: [g1.access.hash, g2.access.hash], refresh: [g2.refresh.hash] }, null);
      },
    );

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

  describe('revokeGrant', () => {
    it(
      'revokeGrant revokes every access and refresh token of the ' + 'family, including those written by rotations',
      async () => {
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
      },
    );

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
}

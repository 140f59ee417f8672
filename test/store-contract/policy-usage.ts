/**
 * The Store contract for what machine clients and the password-grant sunset need: a client's own policy
 * (ClientStore), grants without a user (TokenStore), revoking a client's grants by how they began, and the
 * per-client usage counters (ClientUsageStore).
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { SERVER_POLICY } from '../../src/core/types.js';
import {
  T,
  addGrant,
  addUser,
  newAccess,
  newClient,
  newRefresh,
  type ContractSubject,
  updateClient,
} from './fixtures.js';

const DAY = 86_400;

export function policyAndUsageContract(subject: ContractSubject): void {
  let store: Store;
  beforeEach(() => {
    store = subject.store();
  });

  describe('client policy', () => {
    it('a client created without a policy follows the server in everything', async () => {
      const { policy: _omitted, ...client } = newClient();
      await store.createClient(client);
      expect((await store.findClient(client.clientId))?.policy).toEqual(SERVER_POLICY);
    });

    it('keeps every policy field given at creation, and lists them', async () => {
      const policy = {
        accessTokenTtlSeconds: 600,
        refreshIdleTtlSeconds: 86_400,
        refreshAbsoluteTtlSeconds: 2_592_000,
        refreshGraceSeconds: 0,
        allowedNetworks: ['10.0.0.0/8', '2001:db8::/32'],
        rateLimitPerMinute: 120,
        passwordGrantSunset: { at: T + 30 * DAY, announcedAt: T, revokeGrants: true },
        redirectUris: ['https://app.example/callback', 'http://127.0.0.1/callback'],
        skipConsent: true,
        pkce: 'S256 plain' as const,
      };
      const client = newClient({ policy });
      await store.createClient(client);
      expect((await store.findClient(client.clientId))?.policy).toEqual(policy);
      expect((await store.listClients()).find((c) => c.clientId === client.clientId)?.policy).toEqual(policy);
    });

    it('updateClient changes only the policy fields given; null takes one back to the server setting', async () => {
      const client = newClient({ policy: { accessTokenTtlSeconds: 600, rateLimitPerMinute: 60 } });
      await store.createClient(client);
      const updated = await updateClient(
        store,
        client.clientId,
        { policy: { rateLimitPerMinute: null, allowedNetworks: ['192.0.2.0/24'] } },
        T + 1,
      );
      expect(updated?.policy).toEqual({
        ...SERVER_POLICY,
        accessTokenTtlSeconds: 600,
        allowedNetworks: ['192.0.2.0/24'],
      });
      expect((await store.findClient(client.clientId))?.policy).toEqual(updated?.policy);
      // Other fields and an update without a policy leave it as it is.
      const renamed = await updateClient(store, client.clientId, { name: 'Renamed' }, T + 2);
      expect(renamed?.policy).toEqual(updated?.policy);
      // Everything back to the server's settings.
      const cleared = await updateClient(
        store,
        client.clientId,
        { policy: { accessTokenTtlSeconds: null, allowedNetworks: null } },
        T + 3,
      );
      expect(cleared?.policy).toEqual(SERVER_POLICY);
    });

    it('a sunset can be set and cleared', async () => {
      const client = newClient();
      await store.createClient(client);
      const sunset = { at: T + DAY, announcedAt: T, revokeGrants: false };
      expect(
        (await updateClient(store, client.clientId, { policy: { passwordGrantSunset: sunset } }, T))?.policy,
      ).toEqual({ ...SERVER_POLICY, passwordGrantSunset: sunset });
      expect(
        (await updateClient(store, client.clientId, { policy: { passwordGrantSunset: null } }, T))?.policy,
      ).toEqual(SERVER_POLICY);
    });

    it('concurrent updates of different policy fields both take effect (one merge per statement)', async () => {
      const client = newClient();
      await store.createClient(client);
      await Promise.all([
        store.updateClient(client.clientId, { policy: { accessTokenTtlSeconds: 300 } }, T),
        store.updateClient(client.clientId, { policy: { rateLimitPerMinute: 10 } }, T),
        store.updateClient(client.clientId, { policy: { refreshGraceSeconds: 5 } }, T),
      ]);
      expect((await store.findClient(client.clientId))?.policy).toEqual({
        ...SERVER_POLICY,
        accessTokenTtlSeconds: 300,
        rateLimitPerMinute: 10,
        refreshGraceSeconds: 5,
      });
    });
  });

  describe('grants without a user (client_credentials)', () => {
    it('issues an access token without a refresh token and finds it with no user', async () => {
      const client = newClient({ grantTypes: ['client_credentials'] });
      await store.createClient(client);
      const access = newAccess(T);
      const grant = {
        id: randomUUID(),
        clientId: client.clientId,
        userId: null,
        grantType: 'client_credentials' as const,
        scope: ['read'],
        createdAt: T,
      };
      expect(await store.issueTokens({ grant, access, refresh: null })).toBe('issued');
      expect(await store.findAccessToken(access.hash)).toEqual({
        grantId: grant.id,
        clientId: client.clientId,
        userId: null,
        username: null,
        userIsActive: true,
        userIsAdmin: false,
        scope: ['read'],
        issuedAt: T,
        expiresAt: access.expiresAt,
        revokedAt: null,
      });
      await store.revokeGrant(grant.id, T + 5);
      expect((await store.findAccessToken(access.hash))?.revokedAt).toBe(T + 5);
    });

    it('the cleanup removes such a grant once its access token is gone and the retention has passed', async () => {
      const client = newClient({ grantTypes: ['client_credentials'] });
      await store.createClient(client);
      const issue = async (at: number) => {
        const grant = {
          id: randomUUID(),
          clientId: client.clientId,
          userId: null,
          grantType: 'client_credentials' as const,
          scope: [],
          createdAt: at,
        };
        await store.issueTokens({ grant, access: newAccess(at), refresh: null });
        return grant.id;
      };
      const spent = await issue(T);
      const live = await issue(T + 7200);
      const grantsLeft = () => store.revokeClientGrants(client.clientId, { grantType: 'client_credentials', now: 0 });
      // At T + 3600 + 100 with a 60 s retention: the first token has expired, the second is live.
      await store.deleteExpired({ now: T + 3700, retentionSeconds: 60, limit: 1000 });
      await store.deleteExpired({ now: T + 3700, retentionSeconds: 60, limit: 1000 });
      expect(await grantsLeft()).toEqual([live]);
      expect(spent).not.toBe(live);
    });

    it('is client_gone for a deleted client, as any grant', async () => {
      const grant = { id: randomUUID(), clientId: 'no-such-client', userId: null, scope: [], createdAt: T };
      expect(await store.issueTokens({ grant, access: newAccess(T), refresh: null })).toBe('client_gone');
    });

    it('a refresh token carries how and when its grant began', async () => {
      const client = newClient();
      await store.createClient(client);
      const user = await addUser(store);
      const refresh = newRefresh(T + 10);
      const grant = { id: randomUUID(), clientId: client.clientId, userId: user.id, scope: ['read'], createdAt: T };
      await store.issueTokens({ grant, access: newAccess(T), refresh });
      const found = await store.findRefreshToken(refresh.hash);
      expect(found?.grantType).toBe('password');
      expect(found?.grantCreatedAt).toBe(T);
    });
  });

  describe('revokeClientGrants', () => {
    it("revokes the client's live grants that began with the given grant type, and only those", async () => {
      const client = newClient({ grantTypes: ['password', 'client_credentials', 'refresh_token'] });
      await store.createClient(client);
      const other = newClient();
      await store.createClient(other);
      const user = await addUser(store);
      const passwordGrant = await addGrant(store, client.clientId, user.id);
      const otherClientGrant = await addGrant(store, other.clientId, user.id);
      const machineAccess = newAccess(T);
      const machineGrantId = randomUUID();
      await store.issueTokens({
        grant: {
          id: machineGrantId,
          clientId: client.clientId,
          userId: null,
          grantType: 'client_credentials',
          scope: [],
          createdAt: T,
        },
        access: machineAccess,
        refresh: null,
      });
      const revoked = await store.revokeClientGrants(client.clientId, { grantType: 'password', now: T + 60 });
      expect(revoked).toEqual([passwordGrant.id]);
      expect((await store.findRefreshToken(passwordGrant.refresh.hash))?.revokedAt).toBe(T + 60);
      expect((await store.findAccessToken(passwordGrant.access.hash))?.revokedAt).toBe(T + 60);
      expect((await store.findAccessToken(machineAccess.hash))?.revokedAt).toBeNull();
      expect((await store.findRefreshToken(otherClientGrant.refresh.hash))?.revokedAt).toBeNull();
      expect(await store.revokeClientGrants(client.clientId, { grantType: 'password', now: T + 61 })).toEqual([]);
    });
  });

  describe('countLiveClientGrants', () => {
    it("counts the client's live grants and the users holding them, not dead ones nor other clients'", async () => {
      const client = newClient({ grantTypes: ['password', 'client_credentials', 'refresh_token'] });
      await store.createClient(client);
      const other = newClient();
      await store.createClient(other);
      const [ann, ben] = [await addUser(store), await addUser(store)];
      await addGrant(store, client.clientId, ann.id);
      await addGrant(store, client.clientId, ann.id);
      const revoked = await addGrant(store, client.clientId, ben.id);
      await addGrant(store, other.clientId, ben.id);
      await store.issueTokens({
        grant: {
          id: randomUUID(),
          clientId: client.clientId,
          userId: null,
          grantType: 'client_credentials',
          scope: [],
          createdAt: T,
        },
        access: newAccess(T),
        refresh: null,
      });
      expect(await store.countLiveClientGrants(client.clientId, T + 1)).toEqual({ grants: 4, users: 2 });
      await store.revokeGrant(revoked.id, T + 1);
      expect(await store.countLiveClientGrants(client.clientId, T + 2)).toEqual({ grants: 3, users: 1 });
      expect(await store.countLiveClientGrants('no-such-client', T + 2)).toEqual({ grants: 0, users: 0 });
    });
  });

  describe('client usage', () => {
    const day = Math.floor(T / DAY);

    it('adds requests per (client, grant type, day) and keeps the latest use', async () => {
      const a = newClient();
      const b = newClient();
      await store.createClient(a);
      await store.createClient(b);
      await store.recordClientUsage([
        { clientId: a.clientId, grantType: 'password', day, requests: 3, lastUsedAt: T + 30 },
        { clientId: a.clientId, grantType: 'refresh_token', day, requests: 1, lastUsedAt: T + 5 },
        { clientId: b.clientId, grantType: 'client_credentials', day: day - 1, requests: 7, lastUsedAt: T - 100 },
      ]);
      await store.recordClientUsage([
        { clientId: a.clientId, grantType: 'password', day, requests: 2, lastUsedAt: T + 10 },
      ]);
      await store.recordClientUsage([]);
      expect(await store.listClientUsage({ clientId: a.clientId, sinceDay: day - 30 })).toEqual([
        { clientId: a.clientId, grantType: 'password', day, requests: 5, lastUsedAt: T + 30 },
        { clientId: a.clientId, grantType: 'refresh_token', day, requests: 1, lastUsedAt: T + 5 },
      ]);
      const all = await store.listClientUsage({ sinceDay: day - 30 });
      expect(all.filter((u) => u.clientId === b.clientId)).toEqual([
        { clientId: b.clientId, grantType: 'client_credentials', day: day - 1, requests: 7, lastUsedAt: T - 100 },
      ]);
      expect(await store.listClientUsage({ clientId: b.clientId, sinceDay: day })).toEqual([]);
    });

    it('goes with its client, and the cleanup removes days past the retention', async () => {
      const a = newClient();
      const b = newClient();
      await store.createClient(a);
      await store.createClient(b);
      await store.recordClientUsage([
        { clientId: a.clientId, grantType: 'password', day, requests: 1, lastUsedAt: T },
        { clientId: b.clientId, grantType: 'password', day: day - 200, requests: 1, lastUsedAt: T - 200 * DAY },
        { clientId: b.clientId, grantType: 'password', day, requests: 1, lastUsedAt: T },
      ]);
      expect(await store.deleteClient(a.clientId)).toBe(true);
      expect(await store.listClientUsage({ clientId: a.clientId, sinceDay: 0 })).toEqual([]);
      await store.deleteExpired({ now: T, retentionSeconds: 0, limit: 1000 });
      expect(await store.listClientUsage({ clientId: b.clientId, sinceDay: 0 })).toEqual([
        { clientId: b.clientId, grantType: 'password', day, requests: 1, lastUsedAt: T },
      ]);
    });
  });
}

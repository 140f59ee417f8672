/**
 * The admin module's side of the authorization code and device flows, on a real (in-memory SQLite) store:
 * the settings a client needs for them, and what `user sessions` / `user revoke` see and end.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createArgon2Hasher } from '../../crypto/argon2-hasher.js';
import { openStore } from '../../store/store.js';
import { clockOf, type Store } from '../ports.js';
import { DEVICE_CODE_GRANT, SERVER_POLICY } from '../types.js';
import { checkFlowSettings } from './clients.js';
import { createAdmin } from './index.js';
import { AdminError } from './validation.js';

const NOW = 1_800_000_000;
const fast = createArgon2Hasher({ memoryCostKiB: 1024, timeCost: 1, parallelism: 1 });
let store: Store;
let events: { event: string; fields: Record<string, unknown> }[];

const admin = () =>
  createAdmin({
    store,
    passwordHasher: fast,
    clock: clockOf(() => NOW * 1000),
    knownScopes: ['read', 'write'],
    defaultScopes: ['read'],
    events: { emit: (event, fields) => events.push({ event, fields: fields as Record<string, unknown> }) },
    actor: 'test',
  });

beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
  events = [];
});

const WEB = { redirectUris: ['https://app.example.com/cb'] };

describe('the settings of the code and device flows', () => {
  it('creates a web app and a device client, with the device_code alias', async () => {
    const { client: web } = await admin().createClient({
      name: 'web',
      clientId: 'web',
      grantTypes: ['authorization_code', 'refresh_token'],
      policy: { ...WEB, skipConsent: true, pkce: 'optional' },
    });
    expect(web.policy).toEqual({ ...SERVER_POLICY, ...WEB, skipConsent: true, pkce: 'optional' });
    expect((await store.findClient('web'))!.policy).toEqual(web.policy);
    const { client: tv } = await admin().createClient({
      name: 'tv',
      clientId: 'tv',
      isPublic: true,
      grantTypes: ['device_code', 'refresh_token'],
    });
    expect(tv.grantTypes).toEqual([DEVICE_CODE_GRANT, 'refresh_token']);
    expect(events.map((e) => e.fields.grant_types)).toEqual([
      'authorization_code refresh_token',
      `${DEVICE_CODE_GRANT} refresh_token`,
    ]);
    expect(events[0]!.fields).toMatchObject({
      redirect_uris: 'https://app.example.com/cb',
      skip_consent: true,
      pkce: 'optional',
    });
  });

  it('refuses authorization_code without a redirect URI, on create and when an update leaves none', async () => {
    const codeClient = { name: 'web', clientId: 'web', grantTypes: ['authorization_code'] };
    await expect(admin().createClient(codeClient)).rejects.toThrow(/authorization_code grant needs at least one/);
    await admin().createClient({ ...codeClient, policy: WEB });
    await expect(admin().updateClient('web', { policy: { redirectUris: ['none'] } })).rejects.toThrow(
      /needs at least one --redirect-uri/,
    );
    await admin().createClient({ name: 'pw', clientId: 'pw' });
    await expect(admin().updateClient('pw', { grantTypes: ['authorization_code'] })).rejects.toThrow(AdminError);
    expect((await store.findClient('web'))!.policy.redirectUris).toEqual(WEB.redirectUris);
    expect((await store.findClient('pw'))!.grantTypes).toEqual(['password', 'refresh_token']);
    expect(events.map((e) => e.event)).toEqual(['client.created', 'client.created']);
  });

  it('refuses --pkce optional for a public client, on create and on update', async () => {
    const spa = { name: 'spa', clientId: 'spa', isPublic: true, grantTypes: ['authorization_code'] };
    await expect(admin().createClient({ ...spa, policy: { ...WEB, pkce: 'optional' } })).rejects.toThrow(
      /a public client must use PKCE \(RFC 9700 §2\.1\.1\)/,
    );
    await admin().createClient({ ...spa, policy: WEB });
    await expect(admin().updateClient('spa', { policy: { pkce: 'optional' } })).rejects.toThrow(/must use PKCE/);
    expect((await store.findClient('spa'))!.policy.pkce).toBeNull();
  });

  it('refuses --skip-consent for a public client (RFC 8252 §8.6), on create and on update', async () => {
    const spa = { name: 'spa', clientId: 'spa', isPublic: true, grantTypes: ['authorization_code'] };
    await expect(admin().createClient({ ...spa, policy: { ...WEB, skipConsent: true } })).rejects.toThrow(
      /a public client cannot skip consent/,
    );
    await admin().createClient({ ...spa, policy: WEB });
    await expect(admin().updateClient('spa', { policy: { skipConsent: true } })).rejects.toThrow(/cannot skip/);
    expect((await store.findClient('spa'))!.policy.skipConsent).toBeNull();
  });

  it('refuses making a client public while its PKCE is optional', () => {
    const optional = { ...SERVER_POLICY, pkce: 'optional' as const };
    expect(() => checkFlowSettings(false, ['password'], optional)).not.toThrow();
    expect(() => checkFlowSettings(true, ['password'], optional)).toThrow(/must use PKCE/);
  });

  it('names the new fields in client.updated', async () => {
    await admin().createClient({ name: 'web', clientId: 'web' });
    events = [];
    await admin().updateClient('web', {
      grantTypes: ['authorization_code', 'refresh_token'],
      policy: { ...WEB, skipConsent: true, pkce: 'S256,plain' },
    });
    expect(events[0]!.fields).toMatchObject({
      changed: 'policy grantTypes',
      policy_changed: 'redirectUris skipConsent pkce',
      redirect_uris: 'https://app.example.com/cb',
      skip_consent: true,
      pkce: 'S256 plain',
    });
  });
});

describe('user sessions and user revoke', () => {
  async function setUp() {
    const a = admin();
    const user = await a.createUser('alice', 'alice-password');
    for (const id of ['one', 'two']) await a.createClient({ name: id, clientId: id, policy: WEB });
    for (const clientId of ['one', 'two']) {
      await store.issueTokens({
        grant: { id: `grant-${clientId}`, clientId, userId: user.id, scope: ['read'], createdAt: NOW - 60 },
        access: { hash: randomBytes(32), scope: ['read'], issuedAt: NOW - 60, expiresAt: NOW + 600 },
        refresh: null,
      });
      await store.recordConsent(user.id, clientId, ['read'], NOW - 30);
    }
    for (let i = 0; i < 2; i++) {
      await store.createBrowserSession({
        hash: randomBytes(32),
        userId: user.id,
        createdAt: NOW - 10,
        expiresAt: NOW + 3600,
      });
    }
    events = [];
    return user;
  }

  it('lists grants, sign-in sessions and consents', async () => {
    await setUp();
    const held = await admin().userSessions('alice');
    expect(held.grants.map((g) => g.clientId)).toEqual(['one', 'two']);
    expect(held.browserSessions).toHaveLength(2);
    expect(held.browserSessions[0]).toMatchObject({ createdAt: NOW - 10, expiresAt: NOW + 3600 });
    expect(held.consents.map((c) => [c.clientId, c.scope])).toEqual([
      ['one', ['read']],
      ['two', ['read']],
    ]);
  });

  it('with a client: revokes its grants and forgets its consent, keeps the sign-in sessions', async () => {
    const user = await setUp();
    const revoked = await admin().revokeUserSessions('alice', { clientId: 'one' });
    expect(revoked).toEqual({ grants: ['grant-one'], consents: ['one'], browserSessions: 0 });
    expect(events.map((e) => [e.event, e.fields.client_id])).toEqual([
      ['grant.revoked', 'one'],
      ['consent.revoked', 'one'],
    ]);
    expect(events[1]!.fields).toEqual({
      client_id: 'one',
      user_id: user.id,
      username: 'alice',
      via: 'admin',
      actor: 'test',
    });
    const held = await admin().userSessions('alice');
    expect(held.consents.map((c) => c.clientId)).toEqual(['two']);
    expect(held.browserSessions).toHaveLength(2);
  });

  it('without a client: revokes everything, a consent.revoked per client, and ends the sign-in sessions', async () => {
    await setUp();
    const revoked = await admin().revokeUserSessions('alice');
    expect(revoked.grants.sort()).toEqual(['grant-one', 'grant-two']);
    expect(revoked.consents.sort()).toEqual(['one', 'two']);
    expect(revoked.browserSessions).toBe(2);
    const consentEvents = events.filter((e) => e.event === 'consent.revoked').map((e) => e.fields.client_id);
    expect(consentEvents.sort()).toEqual(['one', 'two']);
    expect(events.filter((e) => e.event === 'session.ended').map((e) => e.fields.sessions)).toEqual([2]);
    expect(await admin().userSessions('alice')).toMatchObject({ grants: [], browserSessions: [], consents: [] });
    events = [];
    expect(await admin().revokeUserSessions('alice')).toEqual({ grants: [], consents: [], browserSessions: 0 });
    expect(events).toEqual([]);
  });
});

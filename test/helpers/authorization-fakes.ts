/**
 * Small in-memory stand-ins for the parts of the store the authorization code, sign-in and device flows use,
 * for the core's unit tests (the real backends are held to the same contract by test/store-contract/). Each
 * method does what the port promises, atomically (one synchronous step), so the tests exercise the core's own
 * decisions; a recording event sink and a test clock go with them.
 */
import type {
  AuthorizationCodeRecord,
  BrowserSession,
  DeviceCodeRecord,
  NewAuthorizationCode,
  NewBrowserSession,
  NewDeviceCode,
  RedeemAuthorizationCode,
  RedeemCodeResult,
  RedeemDeviceCode,
} from '../../src/core/authorization-ports.js';
import { clockOf, type EventSink, type NewLockout } from '../../src/core/ports.js';
import { SERVER_POLICY, type Client, type ClientPolicy, type Grant, type User } from '../../src/core/types.js';

const key = (hash: Buffer): string => hash.toString('hex');

export function testClock(startSeconds = 1_800_000_000) {
  const state = { ms: startSeconds * 1000 };
  return {
    clock: clockOf(() => state.ms),
    advance: (seconds: number) => {
      state.ms += seconds * 1000;
    },
    advanceMs: (ms: number) => {
      state.ms += ms;
    },
  };
}

export function recordingSink() {
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  const sink: EventSink = { emit: (event, fields) => events.push({ event, fields }) };
  return { sink, events, names: () => events.map((e) => e.event) };
}

export function testClient(overrides: Partial<Client> = {}, policy: Partial<ClientPolicy> = {}): Client {
  return {
    clientId: 'app',
    name: 'App',
    secretHash: null,
    isPublic: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['read', 'write'],
    defaultScopes: null,
    canIntrospect: false,
    policy: { ...SERVER_POLICY, redirectUris: ['https://app.example/cb'], ...policy },
    createdAt: 1_700_000_000,
    ...overrides,
  };
}

interface StoredCode extends NewAuthorizationCode {
  usedAt: number | null;
  grantId: string | null;
}
interface StoredDevice extends NewDeviceCode {
  status: DeviceCodeRecord['status'];
  userId: number | null;
  lastPollMs: number | null;
}

export function fakeAuthorizationStore(clients: Client[] = [testClient()], users: User[] = []) {
  const codes = new Map<string, StoredCode>();
  const devices = new Map<string, StoredDevice>();
  const sessions = new Map<string, NewBrowserSession & { endedAt: number | null }>();
  const consents = new Map<string, string[]>();
  const grants: { grant: Grant; refresh: boolean }[] = [];
  const revoked: string[] = [];
  const lockouts: NewLockout[] = [];
  const rehashed: { userId: number; newHash: string }[] = [];
  const clientById = (id: string) => clients.find((c) => c.clientId === id) ?? null;
  const userById = (id: number) => users.find((u) => u.id === id) ?? null;
  const deviceRecord = (d: StoredDevice): DeviceCodeRecord => ({
    clientId: d.clientId,
    scope: d.scope,
    status: d.status,
    userId: d.userId,
    issuedAt: d.issuedAt,
    expiresAt: d.expiresAt,
    intervalSeconds: d.intervalSeconds,
  });
  return {
    codes,
    devices,
    sessions,
    consents,
    grants,
    revoked,
    lockouts,
    rehashed,
    clients,
    users,
    async findClient(clientId: string) {
      return clientById(clientId);
    },
    async findUserByUsername(username: string) {
      return users.find((u) => u.username === username) ?? null;
    },
    async replacePasswordHash(userId: number, _expected: string, newHash: string) {
      rehashed.push({ userId, newHash });
    },
    async recordLockouts(list: NewLockout[]) {
      lockouts.push(...list);
    },
    async revokeGrant(grantId: string) {
      revoked.push(grantId);
    },
    async findConsent(userId: number, clientId: string) {
      return consents.get(`${userId} ${clientId}`) ?? null;
    },
    async recordConsent(userId: number, clientId: string, scope: string[], _now: number) {
      const before = consents.get(`${userId} ${clientId}`) ?? [];
      consents.set(`${userId} ${clientId}`, [...new Set([...before, ...scope])]);
    },
    async createAuthorizationCode(code: NewAuthorizationCode) {
      codes.set(key(code.hash), { ...code, usedAt: null, grantId: null });
    },
    async findAuthorizationCode(hash: Buffer): Promise<AuthorizationCodeRecord | null> {
      const code = codes.get(key(hash));
      const user = code ? userById(code.userId) : null;
      if (!code || !user) return null;
      const { hash: _hash, ...rest } = code;
      return { ...rest, username: user.username, userIsActive: user.isActive };
    },
    async redeemAuthorizationCode(r: RedeemAuthorizationCode): Promise<RedeemCodeResult> {
      const code = codes.get(key(r.codeHash));
      if (!code) return { outcome: 'not_found' };
      if (code.usedAt !== null) {
        if (code.grantId) revoked.push(code.grantId);
        return { outcome: 'reused', grantId: code.grantId };
      }
      if (code.expiresAt <= r.now) return { outcome: 'expired' };
      if (!clientById(code.clientId)) return { outcome: 'client_gone' };
      code.usedAt = r.now;
      code.grantId = r.grant.id;
      grants.push({ grant: r.grant, refresh: r.refresh !== null });
      return { outcome: 'redeemed' };
    },
    async createDeviceCode(code: NewDeviceCode) {
      const taken = [...devices.values()].some(
        (d) => d.userCodeHash.equals(code.userCodeHash) && d.status === 'pending' && d.expiresAt > code.issuedAt,
      );
      if (taken) return 'user_code_taken' as const;
      devices.set(key(code.hash), { ...code, status: 'pending', userId: null, lastPollMs: null });
      return 'created' as const;
    },
    async findPendingDeviceCode(userCodeHash: Buffer, now: number) {
      const d = [...devices.values()].find((x) => x.userCodeHash.equals(userCodeHash));
      if (d?.status !== 'pending' || d.expiresAt <= now) return null;
      return { ...deviceRecord(d), hash: d.hash };
    },
    async decideDeviceCode(
      hash: Buffer,
      decision: { approved: boolean; userId: number; now: number; scope?: readonly string[] },
    ) {
      const d = devices.get(key(hash));
      if (d?.status !== 'pending' || d.expiresAt <= decision.now) return false;
      d.status = decision.approved ? 'approved' : 'denied';
      d.userId = decision.userId;
      if (decision.scope !== undefined) d.scope = [...decision.scope];
      return true;
    },
    async pollDeviceCode(hash: Buffer, clientId: string, nowMs: number) {
      const d = devices.get(key(hash));
      if (!d || d.clientId !== clientId) return null;
      const tooSoon = d.lastPollMs !== null && nowMs - d.lastPollMs < d.intervalSeconds * 1000;
      if (tooSoon) d.intervalSeconds += 5;
      d.lastPollMs = nowMs;
      return { record: deviceRecord(d), tooSoon };
    },
    async redeemDeviceCode(r: RedeemDeviceCode) {
      const d = devices.get(key(r.hash));
      if (d?.status !== 'approved') return 'not_approved' as const;
      if (!clientById(d.clientId)) return 'client_gone' as const;
      d.status = 'used';
      grants.push({ grant: r.grant, refresh: r.refresh !== null });
      return 'redeemed' as const;
    },
    async createBrowserSession(session: NewBrowserSession) {
      sessions.set(key(session.hash), { ...session, endedAt: null });
    },
    async findBrowserSession(hash: Buffer, now: number): Promise<BrowserSession | null> {
      const s = sessions.get(key(hash));
      const user = s ? userById(s.userId) : null;
      if (!s || !user?.isActive || s.endedAt !== null || s.expiresAt <= now) return null;
      return { userId: s.userId, username: user.username, createdAt: s.createdAt, expiresAt: s.expiresAt };
    },
    async endBrowserSession(hash: Buffer, now: number) {
      const s = sessions.get(key(hash));
      if (s && s.endedAt === null) s.endedAt = now;
    },
  };
}

export type FakeAuthorizationStore = ReturnType<typeof fakeAuthorizationStore>;

import { beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAuthorizationStore,
  recordingSink,
  testClient,
  testClock,
  type FakeAuthorizationStore,
} from '../../../test/helpers/authorization-fakes.js';
import { tokenKey } from '../tokens.js';
import type { ClientPolicy } from '../types.js';
import type { AuthorizationFlow, ValidAuthorizationRequest } from './api.js';
import { createAuthorizationFlow } from './flow.js';

const ISSUER = 'https://as.example';
const alice = { userId: 7, username: 'alice' };
const context = { issuer: ISSUER, ip: '192.0.2.1' };

let store: FakeAuthorizationStore;
let recorded: ReturnType<typeof recordingSink>;
let flow: AuthorizationFlow;
const time = testClock();

const request = (changes: Partial<ValidAuthorizationRequest> = {}): ValidAuthorizationRequest => ({
  client: testClient(),
  redirectUri: 'https://app.example/cb?tenant=7',
  scope: ['read', 'write'],
  state: 's t&x',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256',
  ...changes,
});

beforeEach(() => {
  store = fakeAuthorizationStore();
  recorded = recordingSink();
  flow = createAuthorizationFlow({
    store,
    clock: time.clock,
    events: recorded.sink,
    policy: { knownScopes: ['read', 'write'], defaultScopes: ['read'] },
    codeTtlSeconds: 60,
  });
});

describe('needsConsent', () => {
  const confidential = (policy: Partial<ClientPolicy> = {}) =>
    request({ client: testClient({ isPublic: false, secretHash: 'x' }, policy) });

  it('asks when nothing is remembered, and not for a confidential client that skips consent', async () => {
    expect(await flow.needsConsent(confidential(), alice)).toBe(true);
    expect(await flow.needsConsent(confidential({ skipConsent: true }), alice)).toBe(false);
  });

  it('does not ask when the remembered consent covers every scope asked', async () => {
    await store.recordConsent(7, 'app', ['read'], 0);
    expect(await flow.needsConsent({ ...confidential(), scope: ['read'] }, alice)).toBe(false);
    expect(await flow.needsConsent({ ...confidential(), scope: ['read', 'write'] }, alice)).toBe(true);
    expect(await flow.needsConsent({ ...confidential(), scope: ['read'] }, { userId: 8, username: 'bob' })).toBe(true);
  });

  it('always asks for a public client, remembered or skip-consent (RFC 8252 §8.6)', async () => {
    await store.recordConsent(7, 'app', ['read', 'write'], 0);
    expect(await flow.needsConsent(request(), alice)).toBe(true);
    expect(await flow.needsConsent(request({ client: testClient({}, { skipConsent: true }) }), alice)).toBe(true);
  });
});

describe('approve', () => {
  it('mints a code bound to the request, stored by its hash, and redirects with code, state and iss', async () => {
    const url = new URL(await flow.approve(request(), alice, { ...context, consented: false }));
    expect(`${url.origin}${url.pathname}`).toBe('https://app.example/cb');
    expect([...url.searchParams.keys()]).toEqual(['tenant', 'code', 'state', 'iss']);
    expect(url.searchParams.get('state')).toBe('s t&x');
    expect(url.searchParams.get('iss')).toBe(ISSUER);
    const code = url.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const stored = store.codes.get(tokenKey(code).toString('hex'));
    const now = time.clock.now();
    expect(stored).toMatchObject({
      clientId: 'app',
      userId: 7,
      redirectUri: 'https://app.example/cb?tenant=7',
      scope: ['read', 'write'],
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      issuedAt: now,
      expiresAt: now + 60,
    });
    // Never the plaintext: no stored value holds the code.
    expect(JSON.stringify([...store.codes.entries()])).not.toContain(code);
    expect(recorded.names()).toEqual(['authorization_code.issued']);
    expect(recorded.events[0]?.fields).toEqual({
      client_id: 'app',
      user_id: 7,
      username: 'alice',
      ip: '192.0.2.1',
      scope: 'read write',
    });
  });

  it('mints a new code each time', async () => {
    const a = new URL(await flow.approve(request(), alice, { ...context, consented: false }));
    const b = new URL(await flow.approve(request(), alice, { ...context, consented: false }));
    expect(a.searchParams.get('code')).not.toBe(b.searchParams.get('code'));
  });

  it('remembers the consent as a union when the person consented', async () => {
    await store.recordConsent(7, 'app', ['write'], 0);
    await flow.approve(request({ scope: ['read'] }), alice, { ...context, consented: true });
    expect(store.consents.get('7 app')?.sort()).toEqual(['read', 'write']);
    expect(recorded.names()).toEqual(['consent.given', 'authorization_code.issued']);
  });

  it('leaves state out when the request had none', async () => {
    const url = new URL(await flow.approve(request({ state: null }), alice, { ...context, consented: false }));
    expect(url.searchParams.has('state')).toBe(false);
  });
});

describe('deny', () => {
  it('redirects with access_denied, state and iss, and audits it', () => {
    const url = new URL(flow.deny(request(), alice, context));
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      tenant: '7',
      error: 'access_denied',
      state: 's t&x',
      iss: ISSUER,
    });
    expect(url.searchParams.has('code')).toBe(false);
    expect(recorded.names()).toEqual(['authorization.denied']);
    expect(store.codes.size).toBe(0);
  });
});

describe('the admin scopes and the console client', () => {
  const user = (id: number, username: string, isAdmin: boolean) => ({
    id,
    username,
    passwordHash: null,
    isActive: true,
    isAdmin,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  });
  const asking = request({ scope: ['read', 'oauthd:admin'] });
  const root = { userId: 1, username: 'root' };

  beforeEach(() => {
    store.users.push(user(7, 'alice', false), user(1, 'root', true));
  });

  it('forUser takes the admin scopes out for a user who is no admin, and leaves an admin their request', async () => {
    expect(await flow.forUser(asking, alice, ISSUER)).toEqual({ ok: true, request: { ...asking, scope: ['read'] } });
    expect(await flow.forUser(asking, root, ISSUER)).toEqual({ ok: true, request: asking });
    // A session naming a user since replaced under that name is no admin's.
    expect(await flow.forUser(asking, { userId: 99, username: 'root' }, ISSUER)).toMatchObject({
      request: { scope: ['read'] },
    });
  });

  it('forUser and approve answer invalid_scope when nothing is left, and approve mints no code then', async () => {
    const only = request({ scope: ['oauthd:admin'] });
    const refused = await flow.forUser(only, alice, ISSUER);
    expect(refused.ok).toBe(false);
    const location = new URL((refused as { redirect: string }).redirect);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'invalid_scope', state: 's t&x' });
    const approved = new URL(await flow.approve(only, alice, { ...context, consented: true }));
    expect(approved.searchParams.get('error')).toBe('invalid_scope');
    expect(store.codes.size).toBe(0);
    expect(recorded.names()).toEqual([]);
  });

  it('approve binds the narrowed scope to the code (the consent page never shows more)', async () => {
    await flow.approve(asking, alice, { ...context, consented: true });
    expect([...store.codes.values()][0]!.scope).toEqual(['read']);
    expect(await store.findConsent(7, 'app')).toEqual(['read']);
  });

  it('the built-in console client is not asked for consent, though public', async () => {
    const builtIn = request({ client: { ...testClient(), builtIn: true } });
    expect(builtIn.client.isPublic).toBe(true);
    expect(await flow.needsConsent(builtIn, root)).toBe(false);
  });

  it('the built-in console client needs a sign-in made within the last minute, by the clock', () => {
    const builtIn = request({ client: { ...testClient(), builtIn: true } });
    const session = { userId: 9, username: 'root', createdAt: time.clock.now(), expiresAt: time.clock.now() + 28_800 };
    expect(flow.needsFreshSignIn(builtIn, session)).toBe(false);
    time.advance(61);
    expect(flow.needsFreshSignIn(builtIn, session)).toBe(true);
    expect(flow.needsFreshSignIn(request(), session)).toBe(false);
  });
});

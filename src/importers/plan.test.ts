// The import policy, every outcome: created, present, updated, skipped (no_user, no_client, conflict), and
// the order of an update's writes; grants without a user (client_credentials, RFC 6749 §4.4) too.
import { describe, expect, it } from 'vitest';
import type { GrantState, ImportGrant, ImportUser, StoredGrant } from '../store/import-types.js';
import { planClient, planGrant, planRevocation, planUser } from './plan.js';

const hash = (label: string) => Buffer.from(label.padEnd(32, '.'));
const AT = hash('access');
const NEW_AT = hash('new access');
const RT = hash('refresh');
const OTHER = hash('other access');

const user = (over: Partial<ImportUser> = {}): ImportUser => ({
  username: 'alice',
  passwordHash: 'pbkdf2_sha256$1$salt$new',
  isActive: true,
  createdAt: 1_700_000_000,
  mayReplaceHash: (current) => current === null || !current.startsWith('$argon2'),
  ...over,
});

describe('planUser', () => {
  it('creates a user the target does not hold', () => {
    expect(planUser(user(), null)).toEqual({
      create: true,
      replaceHash: false,
      disable: false,
      result: { outcome: 'created', changes: [], staysDisabled: false },
    });
  });

  it('leaves a user present when nothing changed', () => {
    const plan = planUser(user(), { passwordHash: 'pbkdf2_sha256$1$salt$new', isActive: true });
    expect(plan).toMatchObject({ create: false, replaceHash: false, disable: false, result: { outcome: 'present' } });
  });

  it('replaces a foreign hash the source changed', () => {
    const plan = planUser(user(), { passwordHash: 'pbkdf2_sha256$1$salt$old', isActive: true });
    expect(plan).toMatchObject({ replaceHash: true, disable: false });
    expect(plan.result).toEqual({ outcome: 'updated', changes: ['password_hash'], staysDisabled: false });
  });

  it('never replaces a hash oauthd set (the user logged in here)', () => {
    const plan = planUser(user(), { passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$x$y', isActive: true });
    expect(plan).toMatchObject({ replaceHash: false, result: { outcome: 'present', changes: [] } });
  });

  it('disables a user the source disabled', () => {
    const plan = planUser(user({ isActive: false }), { passwordHash: 'pbkdf2_sha256$1$salt$new', isActive: true });
    expect(plan).toMatchObject({ disable: true, result: { outcome: 'updated', changes: ['disabled'] } });
  });

  it('replaces the hash and disables in one update', () => {
    const plan = planUser(user({ isActive: false }), { passwordHash: null, isActive: true });
    expect(plan.result.changes).toEqual(['password_hash', 'disabled']);
  });

  it('never re-enables a user oauthd disabled, and says so', () => {
    const plan = planUser(user(), { passwordHash: 'pbkdf2_sha256$1$salt$new', isActive: false });
    expect(plan).toMatchObject({ disable: false, result: { outcome: 'present', staysDisabled: true } });
  });
});

describe('planClient', () => {
  it('creates a client the target does not hold, and never changes one it does', () => {
    expect(planClient(false)).toEqual({ create: true, result: 'created' });
    expect(planClient(true)).toEqual({ create: false, result: 'present' });
  });
});

const grant = (over: Partial<ImportGrant> = {}): ImportGrant => ({
  id: 'dot-rt-1',
  clientId: 'app',
  username: 'alice',
  grantType: 'password',
  scope: ['read'],
  createdAt: 1_700_000_000,
  access: { hash: AT, scope: ['read'], issuedAt: 1_700_000_000, expiresAt: 1_700_003_600 },
  refresh: { hash: RT, scope: ['read'], issuedAt: 1_700_000_000, expiresAt: null },
  ...over,
});
const stored = (over: Partial<StoredGrant> = {}): StoredGrant => ({
  clientId: 'app',
  userId: 7,
  revoked: false,
  rotatedHere: false,
  liveAccessTokens: [AT],
  ...over,
});
const fresh: GrantState = { user: { id: 7 }, clientKnown: true, existing: null, access: null, refresh: null };
/** A re-import of grant() into a target that holds it exactly as imported. */
const reimport = (over: Partial<GrantState> = {}): GrantState => ({
  user: { id: 7 },
  clientKnown: true,
  existing: stored(),
  access: { grantId: 'dot-rt-1' },
  refresh: { grantId: 'dot-rt-1', accessTokenHash: AT },
  ...over,
});
const conflict = { action: 'none', result: { outcome: 'skipped', reason: 'conflict' } };
const present = { action: 'none', result: { outcome: 'present' } };

describe('planGrant for a grant id the target does not hold', () => {
  it('creates it', () => {
    expect(planGrant(grant(), fresh)).toEqual({ action: 'create', result: { outcome: 'created' } });
  });

  it('creates it for a user a dry run would have created', () => {
    expect(planGrant(grant(), { ...fresh, user: 'pending' }).action).toBe('create');
  });

  it('skips it without its user, then without its client', () => {
    expect(planGrant(grant(), { ...fresh, user: null, clientKnown: false }).result).toEqual({
      outcome: 'skipped',
      reason: 'no_user',
    });
    expect(planGrant(grant(), { ...fresh, clientKnown: false }).result).toEqual({
      outcome: 'skipped',
      reason: 'no_client',
    });
  });

  it('skips it when either token is already in another grant', () => {
    expect(planGrant(grant(), { ...fresh, access: { grantId: 'other' } })).toEqual(conflict);
    expect(planGrant(grant(), { ...fresh, refresh: { grantId: 'other', accessTokenHash: null } })).toEqual(conflict);
  });
});

describe('planGrant for a grant id the target holds', () => {
  it('leaves an unchanged re-import present', () => {
    expect(planGrant(grant(), reimport())).toEqual(present);
  });

  it('calls it a conflict when the id belongs to another user or client, or to a user not there yet', () => {
    expect(planGrant(grant(), reimport({ existing: stored({ userId: 8 }) }))).toEqual(conflict);
    expect(planGrant(grant(), reimport({ existing: stored({ clientId: 'other' }) }))).toEqual(conflict);
    expect(planGrant(grant(), reimport({ user: 'pending' }))).toEqual(conflict);
    expect(planGrant(grant(), reimport({ user: null }))).toEqual(conflict);
  });

  it('keeps an access-token family present only while its token is in it', () => {
    const alone = grant({ id: 'dot-at-1', refresh: null });
    expect(planGrant(alone, reimport({ access: { grantId: 'dot-at-1' } }))).toEqual(present);
    expect(planGrant(alone, reimport({ access: { grantId: 'other' } }))).toEqual(conflict);
    expect(planGrant(alone, reimport({ access: null }))).toEqual(conflict);
  });

  it('calls it a conflict when its refresh token is not in it', () => {
    expect(planGrant(grant(), reimport({ refresh: null }))).toEqual(conflict);
    expect(planGrant(grant(), reimport({ refresh: { grantId: 'other', accessTokenHash: AT } }))).toEqual(conflict);
  });

  it("leaves a grant oauthd touched as oauthd's: revoked here, or rotated here", () => {
    const changed = grant({ access: null });
    expect(planGrant(changed, reimport({ existing: stored({ revoked: true }) }))).toEqual(present);
    expect(planGrant(changed, reimport({ existing: stored({ rotatedHere: true }) }))).toEqual(present);
  });

  it('calls it a conflict when the new access token is in another grant', () => {
    const reissued = grant({ access: { hash: NEW_AT, scope: ['read'], issuedAt: 1, expiresAt: 2 } });
    expect(planGrant(reissued, reimport({ access: { grantId: 'other' } }))).toEqual(conflict);
  });

  it('revokes the access token the source revoked alone, leaving the refresh token linked as it was', () => {
    expect(planGrant(grant({ access: null }), reimport({ access: null }))).toEqual({
      action: 'update',
      writes: [{ kind: 'revoke_access', hashes: [AT] }],
      result: { outcome: 'updated', accessRevoked: true, accessAdded: false },
    });
  });

  it('relinks the refresh token, then revokes the old access tokens, then adds the new one', () => {
    const token = { hash: NEW_AT, scope: ['read'], issuedAt: 1, expiresAt: 2 };
    const state = reimport({ access: null, existing: stored({ liveAccessTokens: [AT, OTHER] }) });
    expect(planGrant(grant({ access: token }), state)).toEqual({
      action: 'update',
      writes: [
        { kind: 'relink_refresh', refreshHash: RT, accessHash: NEW_AT },
        { kind: 'revoke_access', hashes: [AT, OTHER] },
        { kind: 'add_access', token },
      ],
      result: { outcome: 'updated', accessRevoked: true, accessAdded: true },
    });
  });

  it('only relinks when the new access token is already in the grant', () => {
    const state = reimport({ refresh: { grantId: 'dot-rt-1', accessTokenHash: null } });
    expect(planGrant(grant(), state)).toEqual({
      action: 'update',
      writes: [{ kind: 'relink_refresh', refreshHash: RT, accessHash: AT }],
      result: { outcome: 'updated', accessRevoked: false, accessAdded: false },
    });
  });
});

describe('planGrant for a grant without a user (a client_credentials token)', () => {
  const machine = grant({ id: 'dot-at-4', username: null, grantType: 'client_credentials', refresh: null });
  const none = { id: null };
  const again = (over: Partial<GrantState> = {}): GrantState => ({
    user: none,
    clientKnown: true,
    existing: stored({ userId: null }),
    access: { grantId: 'dot-at-4' },
    refresh: null,
    ...over,
  });

  it('creates it without a user, and skips it without its client', () => {
    expect(planGrant(machine, { ...fresh, user: none })).toEqual({ action: 'create', result: { outcome: 'created' } });
    expect(planGrant(machine, { ...fresh, user: none, clientKnown: false }).result).toEqual({
      outcome: 'skipped',
      reason: 'no_client',
    });
  });

  it('never creates one with a refresh token (RFC 6749 §4.4.3: that grant issues none)', () => {
    expect(
      planGrant({ ...machine, id: 'dot-rt-4', refresh: grant().refresh }, { ...fresh, user: none }).result,
    ).toEqual({ outcome: 'skipped', reason: 'no_user' });
  });

  it('leaves a re-import present, and calls a clash with a grant of a user a conflict, either way', () => {
    expect(planGrant(machine, again())).toEqual(present);
    expect(planGrant(machine, again({ existing: stored({ userId: 7 }) }))).toEqual(conflict);
    expect(planGrant(machine, again({ access: { grantId: 'dot-at-5' } }))).toEqual(conflict);
    const alone = grant({ id: 'dot-at-4', refresh: null });
    expect(planGrant(alone, again({ user: { id: 7 } }))).toEqual(conflict);
    // A user not there (yet) never matches a stored grant without one.
    expect(planGrant(alone, again({ user: 'pending' }))).toEqual(conflict);
    expect(planGrant(alone, again({ user: null }))).toEqual(conflict);
  });
});

describe('planRevocation', () => {
  it('revokes an imported grant oauthd has not touched', () => {
    expect(planRevocation({ revoked: false, rotatedHere: false })).toBe('revoke');
  });

  it('keeps a grant that is gone, already revoked, or rotated here', () => {
    expect(planRevocation(null)).toBe('keep');
    expect(planRevocation({ revoked: true, rotatedHere: false })).toBe('keep');
    expect(planRevocation({ revoked: false, rotatedHere: true })).toBe('keep');
  });
});

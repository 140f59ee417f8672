import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { NewClient } from '../../core/ports.js';
import type { EpochSeconds, NewAccessToken } from '../../core/types.js';
import {
  assertImportSchema,
  type GrantState,
  type ImportGrant,
  type ImportPlanner,
  type ImportTarget,
  type ImportTargetCounts,
  type ImportUser,
  type StoredGrantUse,
} from '../import-types.js';
import { joinList, storedPolicy } from '../rows.js';

/**
 * The import target on a SQLite file (see ../import-types.ts for the contract). Each method is one
 * BEGIN IMMEDIATE transaction, so it serializes with a running server's writes (rotation included) on
 * SQLite's write lock, holding it for a few statements only. A dry run opens the file read-only.
 */
export function openSqliteImportTarget(
  path: string,
  options: { dryRun: boolean; planner: ImportPlanner },
): ImportTarget {
  const { dryRun, planner } = options;
  if (dryRun && !existsSync(path)) {
    throw new Error(`no oauthd database at ${path}: run \`oauthd migrate\` first (a dry run writes nothing)`);
  }
  const db = new Database(path, { readonly: dryRun, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  if (!dryRun) db.pragma('foreign_keys = ON');
  checkSchema(db);
  const writes = dryRun ? null : prepareWrites(db);
  const ctx: Context = { reads: prepareReads(db), writes, planner, pending: { users: new Set(), clients: new Set() } };

  /** Runs `work` as one write transaction (or, in a dry run, a plain read transaction). */
  const tx = <A extends unknown[], R>(work: (...args: A) => R) => {
    const t = db.transaction(work);
    return (...args: A): R => (dryRun ? t.deferred(...args) : t.immediate(...args));
  };
  const importUser = tx((u: ImportUser, now: EpochSeconds) => applyUser(ctx, u, now));
  const importClient = tx((c: NewClient) => applyClient(ctx, c));
  const importGrant = tx((g: ImportGrant, now: EpochSeconds) => applyGrant(ctx, g, now));
  const revokeUntouchedGrant = tx((grantId: string, now: EpochSeconds) => applyRevocation(ctx, grantId, now));
  const { reads } = ctx;

  return {
    importUser: async (user, now) => importUser(user, now),
    hasClient: async (clientId) => clientKnown(ctx, clientId),
    importClient: async (client) => importClient(client),
    importGrant: async (grant, now) => importGrant(grant, now),
    revokeUntouchedGrant: async (grantId, now) => revokeUntouchedGrant(grantId, now),
    grantIdsWithPrefix: async (prefix) => reads.grantIdsWithPrefix.all(prefix, prefix).map((r) => r.id),
    async activeUsersWithForeignHashes(isOwnHash) {
      const rows = reads.activeUsers.all();
      return rows.filter((r) => r.password_hash === null || !isOwnHash(r.password_hash)).map((r) => r.username);
    },
    counts: async () => reads.counts.get()!,
    async close() {
      if (db.open) db.close();
    },
  };
}

interface Context {
  reads: ReturnType<typeof prepareReads>;
  /** Null in a dry run, which writes nothing. */
  writes: ReturnType<typeof prepareWrites> | null;
  planner: ImportPlanner;
  /** What a dry run would have created, for the calls that follow (a real run finds it in the tables). */
  pending: { users: Set<string>; clients: Set<string> };
}

function prepareReads(db: Database.Database) {
  return {
    userByName: db.prepare<[string], { id: number; password_hash: string | null; is_active: number }>(
      'SELECT id, password_hash, is_active FROM users WHERE username = ?',
    ),
    clientExists: db.prepare<[string], 1>('SELECT 1 FROM clients WHERE client_id = ?'),
    grantById: db.prepare<[string], { client_id: string; user_id: number | null; revoked_at: number | null }>(
      'SELECT client_id, user_id, revoked_at FROM grants WHERE id = ?',
    ),
    // Rotated since import: its live refresh token is one a rotation wrote (migration 4).
    grantRotated: db.prepare<[string], 1>(
      `SELECT 1 FROM refresh_tokens
       WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL AND from_rotation = 1`,
    ),
    accessOwner: db.prepare<[Buffer], { grant_id: string }>('SELECT grant_id FROM access_tokens WHERE token_hash = ?'),
    refreshRow: db.prepare<[Buffer], { grant_id: string; access_token_hash: Buffer | null }>(
      'SELECT grant_id, access_token_hash FROM refresh_tokens WHERE token_hash = ?',
    ),
    liveAccessOfGrant: db.prepare<[string], { token_hash: Buffer }>(
      'SELECT token_hash FROM access_tokens WHERE grant_id = ? AND revoked_at IS NULL',
    ),
    grantIdsWithPrefix: db.prepare<[string, string], { id: string }>(
      'SELECT id FROM grants WHERE substr(id, 1, length(?)) = ? ORDER BY id',
    ),
    activeUsers: db.prepare<[], { username: string; password_hash: string | null }>(
      'SELECT username, password_hash FROM users WHERE is_active = 1 ORDER BY username',
    ),
    counts: db.prepare<[], ImportTargetCounts>(`SELECT (SELECT count(*) FROM users) AS users,
      (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM grants) AS grants,
      (SELECT count(*) FROM access_tokens) AS accessTokens, (SELECT count(*) FROM refresh_tokens) AS refreshTokens`),
  };
}

function prepareWrites(db: Database.Database) {
  const revokeOfUser = 'grant_id IN (SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL)';
  return {
    insertUser: db.prepare(
      'INSERT INTO users (username, password_hash, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    // An import's changes are administrative: each bumps the user's version (the admin API's ETag).
    setHash: db.prepare('UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?'),
    disable: db.prepare('UPDATE users SET is_active = 0, updated_at = ?, version = version + 1 WHERE id = ?'),
    revokeUserAccess: db.prepare(
      `UPDATE access_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND ${revokeOfUser}`,
    ),
    revokeUserRefresh: db.prepare(
      `UPDATE refresh_tokens SET revoked_at = ? WHERE used_at IS NULL AND revoked_at IS NULL AND ${revokeOfUser}`,
    ),
    revokeUserGrants: db.prepare('UPDATE grants SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL'),
    insertClient: db.prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes,
      can_introspect, created_at, updated_at, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id) DO NOTHING`),
    insertGrant: db.prepare(
      'INSERT INTO grants (id, client_id, user_id, grant_type, scope, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertAccess: db.prepare(
      'INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    insertRefresh: db.prepare(`INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at,
      expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
    revokeAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL'),
    linkRefresh: db.prepare('UPDATE refresh_tokens SET access_token_hash = ? WHERE token_hash = ?'),
    revokeGrant: db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    revokeGrantAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL'),
    revokeGrantRefresh: db.prepare(
      'UPDATE refresh_tokens SET revoked_at = ? WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL',
    ),
  };
}

const clientKnown = (ctx: Context, clientId: string): boolean =>
  ctx.reads.clientExists.get(clientId) !== undefined || ctx.pending.clients.has(clientId);

function applyUser(ctx: Context, u: ImportUser, now: EpochSeconds) {
  const row = ctx.reads.userByName.get(u.username);
  const plan = ctx.planner.planUser(u, row ? { passwordHash: row.password_hash, isActive: row.is_active === 1 } : null);
  const w = ctx.writes;
  if (!w) {
    if (plan.create) ctx.pending.users.add(u.username);
    return plan.result;
  }
  if (plan.create) w.insertUser.run(u.username, u.passwordHash, u.isActive ? 1 : 0, u.createdAt, u.createdAt);
  if (!row) return plan.result;
  if (plan.replaceHash) w.setHash.run(u.passwordHash, now, row.id);
  if (plan.disable) {
    w.disable.run(now, row.id);
    // The grants last: the token statements find them by their not being revoked yet.
    w.revokeUserAccess.run(now, row.id);
    w.revokeUserRefresh.run(now, row.id);
    w.revokeUserGrants.run(now, row.id);
  }
  return plan.result;
}

function applyClient(ctx: Context, c: NewClient) {
  const plan = ctx.planner.planClient(clientKnown(ctx, c.clientId));
  if (!plan.create) return plan.result;
  if (ctx.writes) {
    ctx.writes.insertClient.run(
      c.clientId,
      c.name,
      c.secretHash,
      c.isPublic ? 1 : 0,
      joinList(c.grantTypes),
      joinList(c.scopes),
      c.canIntrospect === true ? 1 : 0,
      c.createdAt,
      c.createdAt,
      storedPolicy(c.policy),
    );
  } else {
    ctx.pending.clients.add(c.clientId);
  }
  return plan.result;
}

function readGrantState(ctx: Context, g: ImportGrant): GrantState {
  const { reads } = ctx;
  const user = g.username === null ? { id: null } : reads.userByName.get(g.username);
  const grant = reads.grantById.get(g.id);
  const access = g.access ? reads.accessOwner.get(g.access.hash) : undefined;
  const refresh = g.refresh ? reads.refreshRow.get(g.refresh.hash) : undefined;
  return {
    user: user ? { id: user.id } : g.username !== null && ctx.pending.users.has(g.username) ? 'pending' : null,
    clientKnown: clientKnown(ctx, g.clientId),
    existing: grant
      ? {
          clientId: grant.client_id,
          userId: grant.user_id,
          ...grantUse(ctx, g.id, grant.revoked_at),
          liveAccessTokens: reads.liveAccessOfGrant.all(g.id).map((r) => r.token_hash),
        }
      : null,
    access: access ? { grantId: access.grant_id } : null,
    refresh: refresh ? { grantId: refresh.grant_id, accessTokenHash: refresh.access_token_hash } : null,
  };
}

const grantUse = (ctx: Context, grantId: string, revokedAt: number | null): StoredGrantUse => ({
  revoked: revokedAt !== null,
  rotatedHere: ctx.reads.grantRotated.get(grantId) !== undefined,
});

function applyGrant(ctx: Context, g: ImportGrant, now: EpochSeconds) {
  const state = readGrantState(ctx, g);
  const plan = ctx.planner.planGrant(g, state);
  const w = ctx.writes;
  if (!w || plan.action === 'none') return plan.result;
  const insertAccess = (a: NewAccessToken) =>
    w.insertAccess.run(a.hash, g.id, joinList(a.scope), a.issuedAt, a.expiresAt);
  if (plan.action === 'create') {
    // Only a dry run has pending users; the planner creates a grant only for a user it knows.
    if (state.user === null || state.user === 'pending') throw new Error(`no user ${g.username} for grant ${g.id}`);
    w.insertGrant.run(g.id, g.clientId, state.user.id, g.grantType, joinList(g.scope), g.createdAt);
    if (g.access) insertAccess(g.access);
    if (g.refresh) {
      const { hash, scope, issuedAt, expiresAt } = g.refresh;
      w.insertRefresh.run(hash, g.id, g.access?.hash ?? null, joinList(scope), issuedAt, expiresAt);
    }
    return plan.result;
  }
  for (const step of plan.writes) {
    if (step.kind === 'relink_refresh') w.linkRefresh.run(step.accessHash, step.refreshHash);
    else if (step.kind === 'revoke_access') for (const hash of step.hashes) w.revokeAccess.run(now, hash);
    else insertAccess(step.token);
  }
  return plan.result;
}

function applyRevocation(ctx: Context, grantId: string, now: EpochSeconds): 'revoked' | 'unchanged' {
  const grant = ctx.reads.grantById.get(grantId);
  const use = grant ? grantUse(ctx, grantId, grant.revoked_at) : null;
  if (ctx.planner.planRevocation(use) === 'keep') return 'unchanged';
  if (ctx.writes) {
    ctx.writes.revokeGrant.run(now, grantId);
    ctx.writes.revokeGrantRefresh.run(now, grantId);
    ctx.writes.revokeGrantAccess.run(now, grantId);
  }
  return 'revoked';
}

function checkSchema(db: Database.Database): void {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  const version = table
    ? db.prepare<[], { v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get()!.v
    : 0;
  try {
    assertImportSchema(version);
  } catch (error) {
    db.close();
    throw error;
  }
}

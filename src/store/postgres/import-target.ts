import pg from 'pg';
import type { NewClient } from '../../core/ports.js';
import type { EpochSeconds, NewAccessToken } from '../../core/types.js';
import type { ImportGrant, ImportGrantResult, ImportPlanner, ImportTarget, ImportUser } from '../import-types.js';
import { joinList, storedPolicy } from '../rows.js';
import {
  checkSchema,
  clientKnown,
  firstRow,
  grantUse,
  type ImportContext,
  type Query,
  readGrantState,
  ROTATED_SINCE_IMPORT,
  userByName,
} from './import-reads.js';
import { parsePostgresUrl } from './url.js';

const INT8_OID = 20;
const INSERT_ACCESS =
  'INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)';
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

/**
 * The import target on PostgreSQL (see ../import-types.ts for the contract): one connection of its own,
 * READ COMMITTED like the store, each method one short transaction. Writes that race a running server
 * are conditional (`… AND revoked_at IS NULL`, `… AND NOT EXISTS (used refresh token)`), and revocation
 * locks in the store's order (grant, then refresh tokens, then access tokens), so it never deadlocks with
 * a rotation. A dry run's session is READ ONLY.
 */
export async function openPostgresImportTarget(
  url: string,
  options: { dryRun: boolean; planner: ImportPlanner },
): Promise<ImportTarget> {
  const { connectionString, statementTimeoutMs, sessionOptions } = parsePostgresUrl(url);
  const readOnly = options.dryRun ? ' -c default_transaction_read_only=on' : '';
  const client = new pg.Client({
    connectionString,
    statement_timeout: statementTimeoutMs,
    application_name: 'oauthd import',
    options: sessionOptions + readOnly,
    types,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    await checkSchema(client);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  const q: Query = (text, values = []) => client.query(text, values);
  const ctx: ImportContext = { q, ...options, pending: { users: new Set(), clients: new Set() } };
  const tx = async <T>(work: () => Promise<T>): Promise<T> => {
    await q('BEGIN');
    try {
      const result = await work();
      await q('COMMIT');
      return result;
    } catch (error) {
      await q('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  return {
    importUser: (user, now) => tx(() => applyUser(ctx, user, now)),
    hasClient: (clientId) => clientKnown(ctx, clientId),
    importClient: (c) => tx(() => applyClient(ctx, c)),
    importGrant: (grant, now) => tx(() => applyGrant(ctx, grant, now)),
    revokeUntouchedGrant: (grantId, now) => tx(() => applyRevocation(ctx, grantId, now)),
    async grantIdsWithPrefix(prefix) {
      const sql = 'SELECT id FROM grants WHERE left(id, length($1)) = $1 ORDER BY id';
      return (await q<{ id: string }>(sql, [prefix])).rows.map((r) => r.id);
    },
    async activeUsersWithForeignHashes(isOwnHash) {
      const { rows } = await q<{ username: string; password_hash: string | null }>(
        'SELECT username, password_hash FROM users WHERE is_active ORDER BY username',
      );
      return rows.filter((r) => r.password_hash === null || !isOwnHash(r.password_hash)).map((r) => r.username);
    },
    async counts() {
      const { rows } = await q<{ users: number; clients: number; grants: number; access: number; refresh: number }>(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM clients) AS clients,
           (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM access_tokens) AS access,
           (SELECT count(*) FROM refresh_tokens) AS refresh`,
      );
      const r = rows[0]!;
      return { users: r.users, clients: r.clients, grants: r.grants, accessTokens: r.access, refreshTokens: r.refresh };
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

/** Revokes the grants `where` selects, then their refresh tokens, then their access tokens (lock order). */
async function revokeGrantsWhere(ctx: ImportContext, where: string, key: unknown, now: EpochSeconds) {
  const { rows } = await ctx.q<{ id: string }>(
    `UPDATE grants SET revoked_at = $1 WHERE ${where} AND revoked_at IS NULL RETURNING id`,
    [now, key],
  );
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await ctx.q(
    'UPDATE refresh_tokens SET revoked_at = $1 WHERE grant_id = ANY($2) AND used_at IS NULL AND revoked_at IS NULL',
    [now, ids],
  );
  await ctx.q('UPDATE access_tokens SET revoked_at = $1 WHERE grant_id = ANY($2) AND revoked_at IS NULL', [now, ids]);
  return rows.length;
}

async function applyUser(ctx: ImportContext, u: ImportUser, now: EpochSeconds) {
  const row = await userByName(ctx, u.username);
  const plan = ctx.planner.planUser(u, row ? { passwordHash: row.password_hash, isActive: row.is_active } : null);
  if (ctx.dryRun) {
    if (plan.create) ctx.pending.users.add(u.username);
    return plan.result;
  }
  if (plan.create) {
    await ctx.q(
      `INSERT INTO users (username, password_hash, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (username) DO NOTHING`,
      [u.username, u.passwordHash, u.isActive, u.createdAt],
    );
  }
  if (!row) return plan.result;
  if (plan.replaceHash) {
    // Conditional on the hash read: a login upgrading it meanwhile wins. An administrative change: a new version.
    await ctx.q(
      `UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1
       WHERE id = $3 AND password_hash IS NOT DISTINCT FROM $4`,
      [u.passwordHash, now, row.id, row.password_hash],
    );
  }
  if (plan.disable) {
    await ctx.q('UPDATE users SET is_active = false, updated_at = $1, version = version + 1 WHERE id = $2', [
      now,
      row.id,
    ]);
    await revokeGrantsWhere(ctx, 'user_id = $2', row.id, now);
  }
  return plan.result;
}

async function applyClient(ctx: ImportContext, c: NewClient) {
  const plan = ctx.planner.planClient(await clientKnown(ctx, c.clientId));
  if (!plan.create) return plan.result;
  if (ctx.dryRun) {
    ctx.pending.clients.add(c.clientId);
    return plan.result;
  }
  const { rowCount } = await ctx.q(
    `INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect, created_at,
       updated_at, policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) ON CONFLICT (client_id) DO NOTHING`,
    [
      c.clientId,
      c.name,
      c.secretHash,
      c.isPublic,
      joinList(c.grantTypes),
      joinList(c.scopes),
      c.canIntrospect === true,
      c.createdAt,
      storedPolicy(c.policy),
    ],
  );
  return rowCount === 1 ? plan.result : 'present'; // another import won the race
}

async function applyGrant(ctx: ImportContext, g: ImportGrant, now: EpochSeconds): Promise<ImportGrantResult> {
  const state = await readGrantState(ctx, g);
  const plan = ctx.planner.planGrant(g, state);
  if (ctx.dryRun || plan.action === 'none') return plan.result;
  const insertAccess = (a: NewAccessToken) =>
    ctx.q(INSERT_ACCESS, [a.hash, g.id, joinList(a.scope), a.issuedAt, a.expiresAt]);
  if (plan.action === 'create') {
    // Only a dry run has pending users; the planner creates a grant only for a user it knows.
    if (state.user === null || state.user === 'pending') throw new Error(`no user ${g.username} for grant ${g.id}`);
    const inserted = await ctx.q(
      `INSERT INTO grants (id, client_id, user_id, grant_type, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING`,
      [g.id, g.clientId, state.user.id, g.grantType, joinList(g.scope), g.createdAt],
    );
    if (inserted.rowCount !== 1) return { outcome: 'present' }; // another import won the race
    if (g.access) await insertAccess(g.access);
    if (g.refresh) {
      const { hash, scope, issuedAt, expiresAt } = g.refresh;
      await ctx.q(
        `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [hash, g.id, g.access?.hash ?? null, joinList(scope), issuedAt, expiresAt],
      );
    }
    return plan.result;
  }
  for (const step of plan.writes) {
    if (step.kind === 'relink_refresh') {
      // Only while the refresh token is still unused: a rotation committed since keeps its own link.
      await ctx.q('UPDATE refresh_tokens SET access_token_hash = $1 WHERE token_hash = $2 AND used_at IS NULL', [
        step.accessHash,
        step.refreshHash,
      ]);
    } else if (step.kind === 'revoke_access') {
      const sql = 'UPDATE access_tokens SET revoked_at = $1 WHERE token_hash = ANY($2) AND revoked_at IS NULL';
      await ctx.q(sql, [now, step.hashes]);
    } else {
      await insertAccess(step.token);
    }
  }
  return plan.result;
}

async function applyRevocation(
  ctx: ImportContext,
  grantId: string,
  now: EpochSeconds,
): Promise<'revoked' | 'unchanged'> {
  const sql = 'SELECT revoked_at FROM grants WHERE id = $1';
  const row = await firstRow<{ revoked_at: number | null }>(ctx, sql, [grantId]);
  const grant = row ? await grantUse(ctx, grantId, row.revoked_at) : null;
  if (ctx.planner.planRevocation(grant) === 'keep') return 'unchanged';
  if (ctx.dryRun) return 'revoked';
  // The write re-checks in one statement: a rotation committed since the read makes the grant used: it stays.
  const untouched = `id = $2 AND NOT EXISTS (${ROTATED_SINCE_IMPORT.replace('$1', 'grants.id')})`;
  const revoked = await revokeGrantsWhere(ctx, untouched, grantId, now);
  return revoked > 0 ? 'revoked' : 'unchanged';
}

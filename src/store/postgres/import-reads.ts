import type pg from 'pg';
import {
  assertImportSchema,
  type GrantState,
  type ImportGrant,
  type ImportPlanner,
  type StoredGrantUse,
} from '../import-types.js';

// What the PostgreSQL import target reads before it asks the planner; ./import-target.ts writes.

/** Rotated since import: its live refresh token is one a rotation wrote (migration 4); walks the live index. */
export const ROTATED_SINCE_IMPORT =
  'SELECT 1 FROM refresh_tokens WHERE grant_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND from_rotation';
export type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

export interface ImportContext {
  q: Query;
  dryRun: boolean;
  planner: ImportPlanner;
  /** What a dry run would have created, for the calls that follow (a real run finds it in the tables). */
  pending: { users: Set<string>; clients: Set<string> };
}

/** The first row `text` returns, if any. */
export const firstRow = async <R extends pg.QueryResultRow>(ctx: ImportContext, text: string, values: unknown[]) =>
  (await ctx.q<R>(text, values)).rows[0];
export const userByName = (ctx: ImportContext, username: string) =>
  firstRow<{ id: number; password_hash: string | null; is_active: boolean }>(
    ctx,
    'SELECT id, password_hash, is_active FROM users WHERE username = $1',
    [username],
  );
export const clientKnown = async (ctx: ImportContext, clientId: string) =>
  (await firstRow(ctx, 'SELECT 1 FROM clients WHERE client_id = $1', [clientId])) !== undefined ||
  ctx.pending.clients.has(clientId);
export const grantUse = async (
  ctx: ImportContext,
  grantId: string,
  revokedAt: number | null,
): Promise<StoredGrantUse> => ({
  revoked: revokedAt !== null,
  rotatedHere: (await ctx.q(ROTATED_SINCE_IMPORT, [grantId])).rowCount! > 0,
});

export async function readGrantState(ctx: ImportContext, g: ImportGrant): Promise<GrantState> {
  const user = g.username === null ? { id: null } : await userByName(ctx, g.username);
  // Serializes with a revocation of the same grant (which locks it the same way), not with rotations.
  const lock = ctx.dryRun ? '' : ' FOR NO KEY UPDATE';
  const grant = await firstRow<{ client_id: string; user_id: number | null; revoked_at: number | null }>(
    ctx,
    `SELECT client_id, user_id, revoked_at FROM grants WHERE id = $1${lock}`,
    [g.id],
  );
  const access = g.access
    ? await firstRow<{ grant_id: string }>(ctx, 'SELECT grant_id FROM access_tokens WHERE token_hash = $1', [
        g.access.hash,
      ])
    : undefined;
  const refresh = g.refresh
    ? await firstRow<{ grant_id: string; access_token_hash: Buffer | null }>(
        ctx,
        'SELECT grant_id, access_token_hash FROM refresh_tokens WHERE token_hash = $1',
        [g.refresh.hash],
      )
    : undefined;
  const liveAccess = async () => {
    const sql = 'SELECT token_hash FROM access_tokens WHERE grant_id = $1 AND revoked_at IS NULL';
    return (await ctx.q<{ token_hash: Buffer }>(sql, [g.id])).rows.map((r) => r.token_hash);
  };
  return {
    user: user ? { id: user.id } : g.username !== null && ctx.pending.users.has(g.username) ? 'pending' : null,
    clientKnown: await clientKnown(ctx, g.clientId),
    existing: grant
      ? {
          clientId: grant.client_id,
          userId: grant.user_id,
          ...(await grantUse(ctx, g.id, grant.revoked_at)),
          liveAccessTokens: await liveAccess(),
        }
      : null,
    access: access ? { grantId: access.grant_id } : null,
    refresh: refresh ? { grantId: refresh.grant_id, accessTokenHash: refresh.access_token_hash } : null,
  };
}

export async function checkSchema(client: pg.Client): Promise<void> {
  const table = "SELECT to_regclass('schema_migrations') IS NOT NULL AS present";
  const { rows } = await client.query<{ present: boolean }>(table);
  const version = rows[0]!.present
    ? (await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v
    : 0;
  assertImportSchema(version);
}

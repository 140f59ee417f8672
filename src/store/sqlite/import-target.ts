import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { NewClient } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import type { ImportGrant, ImportGrantResult, ImportTarget, ImportUser, ImportUserResult } from '../import-target.js';
import { migrations } from '../migrations/index.js';
import { joinList } from '../rows.js';

/**
 * The import target on a SQLite file (see ../import-target.ts for the contract). Each method is one
 * BEGIN IMMEDIATE transaction, so it serializes with a running server's writes (rotation included) on
 * SQLite's write lock, holding it for a few statements only. A dry run opens the file read-only.
 */
export function openSqliteImportTarget(path: string, options: { dryRun: boolean }): ImportTarget {
  const { dryRun } = options;
  if (dryRun && !existsSync(path)) throw new Error(`no oauthd database at ${path}: run \`oauthd migrate\` first (a dry run writes nothing)`);
  const db = new Database(path, { readonly: dryRun, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  if (!dryRun) db.pragma('foreign_keys = ON');
  checkSchema(db);

  // A dry run writes nothing, so it remembers what it would have created for the calls that follow.
  const wouldCreateUsers = new Set<string>();
  const wouldCreateClients = new Set<string>();

  const q = {
    userByName: db.prepare('SELECT id, password_hash, is_active FROM users WHERE username = ?'),
    insertUser: dryRun
      ? null
      : db.prepare('INSERT INTO users (username, password_hash, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    clientExists: db.prepare('SELECT 1 FROM clients WHERE client_id = ?'),
    grantById: db.prepare('SELECT client_id, user_id, revoked_at FROM grants WHERE id = ?'),
    // Rotated since import: its live refresh token is one a rotation wrote (migration 4).
    grantUsed: db.prepare('SELECT 1 FROM refresh_tokens WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL AND from_rotation = 1'),
    accessExists: db.prepare('SELECT grant_id FROM access_tokens WHERE token_hash = ?'),
    refreshInGrant: db.prepare('SELECT access_token_hash FROM refresh_tokens WHERE token_hash = ? AND grant_id = ?'),
    refreshExists: db.prepare('SELECT grant_id FROM refresh_tokens WHERE token_hash = ?'),
    liveAccessOfGrant: db.prepare('SELECT token_hash FROM access_tokens WHERE grant_id = ? AND revoked_at IS NULL'),
    grantIdsWithPrefix: db.prepare("SELECT id FROM grants WHERE substr(id, 1, length(?)) = ? ORDER BY id"),
    activeUsers: db.prepare('SELECT username, password_hash FROM users WHERE is_active = 1 ORDER BY username'),
    counts: db.prepare(`SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM clients) AS clients,
      (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM access_tokens) AS accessTokens,
      (SELECT count(*) FROM refresh_tokens) AS refreshTokens`),
  };
  const w = dryRun
    ? null
    : {
        setHash: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
        disable: db.prepare('UPDATE users SET is_active = 0, updated_at = ? WHERE id = ?'),
        revokeUserAccess: db.prepare(`UPDATE access_tokens SET revoked_at = ? WHERE revoked_at IS NULL
          AND grant_id IN (SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL)`),
        revokeUserRefresh: db.prepare(`UPDATE refresh_tokens SET revoked_at = ? WHERE used_at IS NULL AND revoked_at IS NULL
          AND grant_id IN (SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL)`),
        revokeUserGrants: db.prepare('UPDATE grants SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL'),
        insertClient: db.prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING`),
        insertGrant: db.prepare('INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES (?, ?, ?, ?, ?)'),
        insertAccess: db.prepare('INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
        insertRefresh: db.prepare(`INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
          VALUES (?, ?, ?, ?, ?, ?)`),
        revokeAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL'),
        linkRefresh: db.prepare('UPDATE refresh_tokens SET access_token_hash = ? WHERE token_hash = ?'),
        revokeGrant: db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
        revokeGrantAccess: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL'),
        revokeGrantRefresh: db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE grant_id = ? AND used_at IS NULL AND revoked_at IS NULL'),
      };

  /** Runs `work` as one write transaction (or, in a dry run, a plain read transaction). */
  const tx = <A extends unknown[], R>(work: (...args: A) => R) => {
    const t = db.transaction(work);
    return (...args: A): R => (dryRun ? t.deferred(...args) : t.immediate(...args));
  };

  const importUser = tx((u: ImportUser, now: EpochSeconds): ImportUserResult => {
    const row = q.userByName.get(u.username) as { id: number; password_hash: string | null; is_active: number } | undefined;
    if (!row) {
      if (w) q.insertUser!.run(u.username, u.passwordHash, u.isActive ? 1 : 0, u.createdAt, u.createdAt);
      else wouldCreateUsers.add(u.username);
      return { outcome: 'created', changes: [], staysDisabled: false };
    }
    const changes: ImportUserResult['changes'] = [];
    if (row.password_hash !== u.passwordHash && u.mayReplaceHash(row.password_hash)) {
      w?.setHash.run(u.passwordHash, now, row.id);
      changes.push('password_hash');
    }
    if (!u.isActive && row.is_active === 1) {
      // As `oauthd user disable`: a disabled user's tokens stop working at once.
      if (w) {
        w.disable.run(now, row.id);
        w.revokeUserAccess.run(now, row.id);
        w.revokeUserRefresh.run(now, row.id);
        w.revokeUserGrants.run(now, row.id);
      }
      changes.push('disabled');
    }
    return { outcome: changes.length > 0 ? 'updated' : 'present', changes, staysDisabled: u.isActive && row.is_active === 0 };
  });

  const importClient = tx((c: NewClient): 'created' | 'present' => {
    if (q.clientExists.get(c.clientId) || wouldCreateClients.has(c.clientId)) return 'present';
    if (w) {
      w.insertClient.run(c.clientId, c.name, c.secretHash, c.isPublic ? 1 : 0, joinList(c.grantTypes), joinList(c.scopes), c.canIntrospect === true ? 1 : 0, c.createdAt, c.createdAt);
    } else {
      wouldCreateClients.add(c.clientId);
    }
    return 'created';
  });

  const importGrant = tx((g: ImportGrant, now: EpochSeconds): ImportGrantResult => {
    const user = q.userByName.get(g.username) as { id: number } | undefined;
    const existing = q.grantById.get(g.id) as { client_id: string; user_id: number; revoked_at: number | null } | undefined;
    if (!existing) {
      if (!user && !wouldCreateUsers.has(g.username)) return { outcome: 'skipped', reason: 'no_user' };
      if (!q.clientExists.get(g.clientId) && !wouldCreateClients.has(g.clientId)) return { outcome: 'skipped', reason: 'no_client' };
      if ((g.access && q.accessExists.get(g.access.hash)) || (g.refresh && q.refreshExists.get(g.refresh.hash))) {
        return { outcome: 'skipped', reason: 'conflict' };
      }
      if (w) {
        w.insertGrant.run(g.id, g.clientId, user!.id, joinList(g.scope), g.createdAt);
        if (g.access) w.insertAccess.run(g.access.hash, g.id, joinList(g.access.scope), g.access.issuedAt, g.access.expiresAt);
        if (g.refresh) {
          w.insertRefresh.run(g.refresh.hash, g.id, g.access?.hash ?? null, joinList(g.refresh.scope), g.refresh.issuedAt, g.refresh.expiresAt);
        }
      }
      return { outcome: 'created' };
    }

    // The id exists: it must be the same family (a re-import), not another database's token with that id.
    if (!user || existing.user_id !== user.id || existing.client_id !== g.clientId) return { outcome: 'skipped', reason: 'conflict' };
    if (!g.refresh) {
      const at = g.access ? (q.accessExists.get(g.access.hash) as { grant_id: string } | undefined) : undefined;
      return at?.grant_id === g.id ? { outcome: 'present' } : { outcome: 'skipped', reason: 'conflict' };
    }
    const rt = q.refreshInGrant.get(g.refresh.hash, g.id) as { access_token_hash: Buffer | null } | undefined;
    if (!rt) return { outcome: 'skipped', reason: 'conflict' };
    // Touched by oauthd (refreshed here, or revoked here): oauthd's state wins.
    if (existing.revoked_at !== null || q.grantUsed.get(g.id)) return { outcome: 'present' };

    // The source's access token for this refresh token changed (revoked alone, or reissued in place):
    // revoke the old one here, add the new one.
    const desired = g.access?.hash ?? null;
    const live = (q.liveAccessOfGrant.all(g.id) as { token_hash: Buffer }[]).map((r) => r.token_hash);
    const stale = live.filter((h) => desired === null || !h.equals(desired));
    const known = desired !== null && q.accessExists.get(desired) !== undefined;
    if (desired !== null && known) {
      const owner = (q.accessExists.get(desired) as { grant_id: string }).grant_id;
      if (owner !== g.id) return { outcome: 'skipped', reason: 'conflict' };
    }
    const add = desired !== null && !known;
    const relink = desired !== null && !(rt.access_token_hash?.equals(desired) ?? false);
    if (stale.length === 0 && !add && !relink) return { outcome: 'present' };
    if (w) {
      for (const h of stale) w.revokeAccess.run(now, h);
      if (add) w.insertAccess.run(g.access!.hash, g.id, joinList(g.access!.scope), g.access!.issuedAt, g.access!.expiresAt);
      if (relink) w.linkRefresh.run(desired, g.refresh.hash);
    }
    return { outcome: 'updated', accessRevoked: stale.length > 0, accessAdded: add };
  });

  const revokeUntouchedGrant = tx((grantId: string, now: EpochSeconds): 'revoked' | 'unchanged' => {
    const existing = q.grantById.get(grantId) as { revoked_at: number | null } | undefined;
    if (!existing || existing.revoked_at !== null || q.grantUsed.get(grantId)) return 'unchanged';
    if (w) {
      w.revokeGrant.run(now, grantId);
      w.revokeGrantRefresh.run(now, grantId);
      w.revokeGrantAccess.run(now, grantId);
    }
    return 'revoked';
  });

  return {
    async importUser(user, now) {
      return importUser(user, now);
    },
    async hasClient(clientId) {
      return q.clientExists.get(clientId) !== undefined || wouldCreateClients.has(clientId);
    },
    async importClient(client) {
      return importClient(client);
    },
    async importGrant(grant, now) {
      return importGrant(grant, now);
    },
    async revokeUntouchedGrant(grantId, now) {
      return revokeUntouchedGrant(grantId, now);
    },
    async grantIdsWithPrefix(prefix) {
      return (q.grantIdsWithPrefix.all(prefix, prefix) as { id: string }[]).map((r) => r.id);
    },
    async activeUsersWithForeignHashes(isOwnHash) {
      const rows = q.activeUsers.all() as { username: string; password_hash: string | null }[];
      return rows.filter((r) => r.password_hash === null || !isOwnHash(r.password_hash)).map((r) => r.username);
    },
    async counts() {
      return q.counts.get() as Awaited<ReturnType<ImportTarget['counts']>>;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function checkSchema(db: Database.Database): void {
  const latest = migrations[migrations.length - 1]!.version;
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  const version = table ? (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v : 0;
  if (version < latest) {
    db.close();
    throw new Error(`the oauthd database has schema version ${version}, not ${latest}: run \`oauthd migrate\` first (a dry run writes nothing)`);
  }
}

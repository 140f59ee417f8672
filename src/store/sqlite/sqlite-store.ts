import { chmodSync, closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreUnavailableError,
  type AuditEvent,
  type LockoutMatch,
  type NewClient,
  type NewUser,
  type RotateResult,
  type SealedErasure,
  type Store,
} from '../../core/ports.js';
import type { AccessTokenRecord, EpochSeconds, RefreshTokenRecord, UserGrant } from '../../core/types.js';
import { migrations } from '../migrations/index.js';
import { joinList, splitList, toClient, toLockout, toUser, type ClientRow, type LockoutRow, type UserRow } from '../rows.js';
import { batchRunner, groupCommit, isUnavailable } from './group-commit.js';
import { noWal, walDurability, type SyncFile } from './wal-durability.js';
import { runOp, writeOps, type WriteOp } from './write-ops.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { accessTokenCache } from './access-token-cache.js';

export interface SqliteStoreOptions {
  /** How the WAL is flushed to disk (tests count and delay it); fdatasync on the thread pool by default. */
  syncWal?: SyncFile;
  /**
   * `inline` (default): SQLite checkpoints in the commit that fills the WAL (short-lived processes: the CLI).
   * `background`: a worker thread checkpoints (the server; see checkpointer.ts).
   */
  checkpoint?: 'inline' | 'background';
  /** Told when a background checkpoint fails for a reason other than a busy lock. */
  onCheckpointError?: (message: string) => void;
  /**
   * Access-token records kept in memory between lookups, never stale (access-token-cache.ts); 0: none.
   * Default 10 000.
   */
  accessTokenCacheEntries?: number;
  /**
   * Told once, at open, when the database file or its `-wal` / `-shm` already exist with permissions looser
   * than 0600 (one line, for the caller's log or stderr). Default: ignored.
   */
  onWarning?: (message: string) => void;
}

/**
 * The database directory, file, `-wal` and `-shm` hold password hashes, token digests, sealed successors and
 * the audit trail: readable by their owner only, whatever the umask. A directory this creates is 0700; a new
 * database file is created 0600 before SQLite opens it, and SQLite gives the `-wal` and `-shm` files it
 * creates the database file's own mode (it chmods them, so the umask does not loosen them either). Files
 * that already exist are left as they are (an operator may have chosen group access for a backup job) but
 * reported through `warn` when any group or other bit is set.
 */
function prepareFiles(path: string, warn: (message: string) => void): void {
  const dir = dirname(path);
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) {
    // mkdir's mode goes through the umask: set it exactly on every directory made here.
    let d = first;
    chmodSync(d, 0o700);
    for (const part of relative(first, dir).split(sep).filter((p) => p !== '')) chmodSync((d = join(d, part)), 0o700);
  }
  const loose: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) loose.push(`${file} (${mode.toString(8).padStart(4, '0')})`);
  }
  if (!existsSync(path)) {
    // O_EXCL: another process creating it at the same moment wins and keeps its own (equally strict) mode.
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
      try {
        fchmodSync(fd, 0o600);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (loose.length > 0) {
    warn(`the SQLite database is readable beyond its owner: ${loose.join(', ')}; run chmod 600 on these files (they hold password hashes and token digests)`);
  }
}


/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3.
 *
 * better-sqlite3 is synchronous, so each atomic intention is one synchronous transaction: nothing else in
 * this process runs between its statements. Write transactions are BEGIN IMMEDIATE, so several processes
 * on one file serialize on SQLite's write lock (waiting up to busy_timeout) instead of failing at commit.
 * Durability: no write is acknowledged before its commit is on stable storage (it survives a power cut, not
 * only a process crash), but the fsync does not block the event loop: see wal-durability.ts. Every write
 * method commits, then awaits `durable()`; so does a read that returns state a write may have just changed
 * (a used refresh token, whose sealed successor a grace-window retry would hand out).
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  if (path !== ':memory:') prepareFiles(path, options.onWarning ?? (() => {}));
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  const wal = path !== ':memory:' && db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  // NORMAL only where wal-durability.ts syncs the WAL before acknowledging; FULL (SQLite syncs) otherwise.
  db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Zero the bytes a delete or update frees on the pages it writes anyway (no extra I/O): an erased sealed
  // successor (deleteExpired) must not linger in a page's free space.
  db.pragma('secure_delete = FAST');
  const durability = wal ? walDurability(`${realpathSync(path)}-wal`, options.syncWal) : noWal;
  let checkpointer: Checkpointer | undefined;
  if (wal && options.checkpoint === 'background') {
    // A backstop (≈ 80 MB of WAL): the worker's PASSIVE checkpoints copy frames as they come but, under
    // continuous writes, rarely catch up completely; this inline one finishes the little left and lets the
    // WAL rewind (docs/design-notes.md).
    db.pragma('wal_autocheckpoint = 20000');
    checkpointer = startCheckpointer(realpathSync(path), { onError: options.onCheckpointError });
  }
  const tokens = accessTokenCache(db, options.accessTokenCacheEntries ?? 10_000);
  /**
   * One read transaction per event-loop turn. A statement run outside a transaction opens and closes a read
   * transaction of its own, and in WAL mode each costs file-lock system calls (a SHARED lock on the database
   * taken and dropped with fcntl) and a check of the WAL index: ≈ 5 % of a refresh's event loop. The hot reads
   * (tokens, clients, users) instead join a transaction begun at the first of them in a turn and committed by
   * setImmediate at the end of that turn, or by the next write, whichever comes first (a write cannot run
   * inside it). They all see the database as it was when that turn's first read ran: every request answered in
   * a turn arrived before the turn began, as the access-token cache's once-per-turn `data_version` check
   * already assumes, so each still sees every commit made before it arrived; a commit of this connection ends
   * the transaction first, so reads after it see it. docs/design-notes.md, *One read transaction per turn*.
   */
  const beginRead = db.prepare('BEGIN DEFERRED');
  const endRead = db.prepare('COMMIT');
  let readOpen = false;
  const closeRead = (): void => {
    if (!readOpen) return;
    readOpen = false;
    if (db.open && db.inTransaction) endRead.run();
  };
  const read = <T>(run: () => T): T => {
    if (!readOpen && !db.inTransaction && db.open) {
      beginRead.run();
      readOpen = true;
      setImmediate(closeRead);
    }
    return run();
  };
  /**
   * Runs a synchronous write transaction and resolves once it is durable. `forget` runs right after it (in
   * the same synchronous step, also when it threw): by default the whole access-token cache goes.
   */
  const write = async <T>(run: () => T, forget: () => void = tokens.clear): Promise<T> => {
    closeRead();
    let value: T;
    try {
      value = run();
    } finally {
      forget();
    }
    durability.committed();
    await durability.durable();
    return value;
  };
  const ops = writeOps(db);
  // The hot writes (issue, rotate, revoke, audit rows, cleanup): group commit, answered once durable.
  const runBatch = batchRunner<WriteOp>(db, (w) => runOp(ops, w));
  /** What a batch of hot writes may have changed in cached access tokens. */
  const forgetAfter = (batch: readonly WriteOp[]) => () => {
    for (const w of batch) {
      if (w.op === 'rotate') tokens.forgetGrant(w.args[0].grantId);
      else if (w.op === 'revokeGrant') tokens.forgetGrant(w.args[0]);
      else if (w.op === 'deleteExpired') tokens.clear();
    }
  };
  const hot = groupCommit<WriteOp>((batch) => write(() => runBatch(batch), forgetAfter(batch))).submit;

  let statements: ReturnType<typeof prepare> | undefined;
  const st = () => (statements ??= prepare(db));

  const migrate = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
    const row = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
    for (const m of migrations) {
      if (m.version <= row.v) continue;
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Math.floor(Date.now() / 1000),
      );
    }
  });

  const setUserPassword = db.transaction(
    (username: string, hash: string, revokeGrants: boolean, now: EpochSeconds): boolean => {
      const user = st().userByName.get(username) as UserRow | undefined;
      if (!user) return false;
      st().setPassword.run(hash, now, user.id);
      if (revokeGrants) ops.revokeUserGrants(user.id, now);
      return true;
    },
  );

  // The client's grants go with it (ON DELETE CASCADE); their live tokens first (tokens have no foreign key
  // to grants since migration 4). Dead ones are left to the cleanup, and no lookup finds a token without its grant.
  const deleteClient = db.transaction((clientId: string): boolean => {
    st().deleteClientLiveAccess.run(clientId);
    st().deleteClientLiveRefresh.run(clientId);
    return st().deleteClient.run(clientId).changes === 1;
  });

  const setUserActive = db.transaction((username: string, isActive: boolean, now: EpochSeconds): boolean => {
    const user = st().userByName.get(username) as UserRow | undefined;
    if (!user) return false;
    st().setActive.run(isActive ? 1 : 0, now, user.id);
    // Disabling a user ends every session it has: tokens stop working at once.
    if (!isActive) ops.revokeUserGrants(user.id, now);
    return true;
  });

  const liveGrantsOf = (userId: number, now: EpochSeconds) =>
    (st().liveGrantsOfUser.all(userId, now, now) as (Omit<UserGrant, 'scope'> & { scope: string })[]).map((g) => ({ ...g, scope: splitList(g.scope) }));

  // The user's live tokens go first (tokens have no foreign key to grants since migration 4), then the user,
  // and its grants with it (ON DELETE CASCADE). Dead tokens are left to the cleanup; no lookup finds a token
  // without its grant.
  const deleteUser = db.transaction((username: string, now: EpochSeconds) => {
    const row = st().userByName.get(username) as UserRow | undefined;
    if (!row) return null;
    const liveGrants = liveGrantsOf(row.id, now).length;
    st().deleteUserLiveAccess.run(row.id);
    st().deleteUserLiveRefresh.run(row.id);
    st().deleteUser.run(row.id);
    return { user: toUser(row), liveGrants };
  });

  const renameUser = db.transaction((username: string, newUsername: string, now: EpochSeconds): 'renamed' | 'not_found' | 'exists' => {
    const row = st().userByName.get(username) as UserRow | undefined;
    if (!row) return 'not_found';
    if (username === newUsername) return 'renamed';
    if (st().userByName.get(newUsername)) return 'exists';
    st().renameUser.run(newUsername, now, row.id);
    return 'renamed';
  });

  const revokeUserGrants = db.transaction((userId: number, clientId: string | undefined, now: EpochSeconds): string[] => {
    const ids = liveGrantsOf(userId, now)
      .filter((g) => clientId === undefined || g.clientId === clientId)
      .map((g) => g.grantId);
    for (const id of ids) ops.revokeGrant(id, now);
    return ids;
  });

  const recordLockouts = db.transaction((lockouts: readonly NewLockoutArgs[]) => {
    for (const l of lockouts) st().insertLockout.run(l.kind, l.username, l.clientId, l.ipKey, l.startedAt, l.until);
  });

  return guarded({
    async migrate() {
      await write(() => migrate.immediate());
    },
    async close() {
      closeRead();
      await checkpointer?.close();
      await durability.close();
      if (db.open) db.close();
    },
    async ping() {
      if (durability.failure) throw durability.failure;
      st().ping.get();
    },
    async deleteExpired({ now, retentionSeconds, limit, auditRetentionSeconds }) {
      return (await hot({
        op: 'deleteExpired',
        args: [now, now - retentionSeconds, limit, auditRetentionSeconds === undefined ? null : now - auditRetentionSeconds],
      })) as number;
    },
    async eraseSealedSuccessors({ now, graceSeconds, usedFrom, limit }) {
      return (await hot({ op: 'eraseSealed', args: [usedFrom, now - graceSeconds, limit] })) as SealedErasure;
    },

    async createClient(c: NewClient) {
      const info = await write(() =>
        st().insertClient.run(c.clientId, c.name, c.secretHash, c.isPublic ? 1 : 0, joinList(c.grantTypes), joinList(c.scopes), c.canIntrospect === true ? 1 : 0, c.defaultScopes ? joinList(c.defaultScopes) : null, c.createdAt, c.createdAt),
      );
      return info.changes === 1 ? 'created' : 'exists';
    },
    async findClient(clientId) {
      const row = read(() => st().clientById.get(clientId)) as ClientRow | undefined;
      return row ? toClient(row) : null;
    },
    async listClients() {
      return (st().allClients.all() as ClientRow[]).map(toClient);
    },
    async deleteClient(clientId) {
      return write(() => deleteClient.immediate(clientId));
    },
    async setClientSecret(clientId, secretHash, now) {
      return (await write(() => st().setClientSecret.run(secretHash, now, clientId))).changes === 1;
    },
    async updateClient(clientId, changes, now) {
      const row = (await write(() =>
        st().updateClient.get(
          changes.name ?? null,
          changes.scopes ? joinList(changes.scopes) : null,
          changes.grantTypes ? joinList(changes.grantTypes) : null,
          changes.defaultScopes !== undefined ? 1 : 0,
          changes.defaultScopes ? joinList(changes.defaultScopes) : null,
          now,
          clientId,
        ),
      )) as ClientRow | undefined;
      return row ? toClient(row) : null;
    },

    async createUser(u: NewUser) {
      const info = await write(() => st().insertUser.run(u.username, u.passwordHash, u.isActive ? 1 : 0, u.createdAt, u.createdAt));
      return info.changes === 1 ? 'created' : 'exists';
    },
    async findUserByUsername(username) {
      const row = read(() => st().userByName.get(username)) as UserRow | undefined;
      return row ? toUser(row) : null;
    },
    async listUsers() {
      return (st().allUsers.all() as UserRow[]).map(toUser);
    },
    async setUserPassword(username, passwordHash, { revokeGrants, now }) {
      return write(() => setUserPassword.immediate(username, passwordHash, revokeGrants, now));
    },
    async replacePasswordHash(userId, expectedHash, newHash, now) {
      await write(() => st().replacePassword.run(newHash, now, userId, expectedHash));
    },
    async setUserActive(username, isActive, now) {
      return write(() => setUserActive.immediate(username, isActive, now));
    },
    async renameUser(username, newUsername, now) {
      return write(() => renameUser.immediate(username, newUsername, now));
    },
    async deleteUser(username, now) {
      return write(() => deleteUser.immediate(username, now));
    },
    async listUserGrants(userId, now) {
      return read(() => liveGrantsOf(userId, now));
    },
    async revokeUserGrants(userId, { clientId, now }) {
      return write(() => revokeUserGrants.immediate(userId, clientId, now));
    },
    async counts() {
      return st().counts.get() as { clients: number; users: number };
    },

    async recordLockouts(lockouts) {
      if (lockouts.length === 0) return;
      await write(() => recordLockouts.immediate(lockouts), () => {});
    },
    async listActiveLockouts(now) {
      return (st().activeLockouts.all(now) as LockoutRow[]).map(toLockout);
    },
    async clearLockouts(match: LockoutMatch, now) {
      const rows = await write(
        () => ('username' in match ? st().clearLockoutsOfUser.all(now, now, match.username) : st().clearLockoutsOfIp.all(now, now, match.ipKey)) as LockoutRow[],
        () => {},
      );
      return rows.map(toLockout);
    },
    async lockoutsClearedSince(since) {
      return (st().lockoutsClearedSince.all(since) as LockoutRow[]).map(toLockout);
    },

    async issueTokens(t) {
      return (await hot({ op: 'issueTokens', args: [t] })) as 'issued' | 'client_gone';
    },
    async findAccessToken(hash) {
      return read(() => tokens.get(hash, () => {
        const row = st().accessByHash.get(hash) as
          | (Omit<AccessTokenRecord, 'scope' | 'userIsActive'> & { scope: string; userIsActive: number })
          | undefined;
        return row ? { ...row, scope: splitList(row.scope), userIsActive: row.userIsActive === 1 } : null;
      }));
    },
    async findRefreshToken(hash) {
      const row = read(() => st().refreshByHash.get(hash)) as
        | (Omit<RefreshTokenRecord, 'scope' | 'userIsActive' | 'successor'> & {
            scope: string;
            userIsActive: number;
            successorResponse: Buffer | null;
            successorLive: number | null;
          })
        | undefined;
      if (!row) return null;
      // A used token may have been used by a commit whose sync is still in flight: what this answer leads to
      // (the sealed successor handed out again, or reuse detected) must not rest on a commit that can be lost.
      if (row.usedAt !== null) await durability.durable();
      const { successorResponse, successorLive, ...rest } = row;
      return {
        ...rest,
        scope: splitList(row.scope),
        userIsActive: row.userIsActive === 1,
        successor: successorResponse ? { response: successorResponse, live: successorLive === 1 } : null,
      };
    },
    async recordAuditEvents(events) {
      await hot({ op: 'recordAudit', args: [events] });
    },
    async queryAuditEvents(q) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.event !== undefined) (where.push('event = ?'), args.push(q.event));
      if (q.clientId !== undefined) (where.push('client_id = ?'), args.push(q.clientId));
      if (q.username !== undefined) (where.push('username = ?'), args.push(q.username));
      if (q.since !== undefined) (where.push('at >= ?'), args.push(q.since));
      if (q.until !== undefined) (where.push('at < ?'), args.push(q.until));
      const sql = `SELECT at, event, client_id AS clientId, user_id AS userId, username, grant_id AS grantId, ip, detail
        FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      return db.prepare(sql).all(...args, q.limit) as AuditEvent[];
    },
    async rotateRefreshToken(r) {
      return (await hot({ op: 'rotate', args: [r] })) as RotateResult;
    },
    async revokeGrant(grantId, now) {
      await hot({ op: 'revokeGrant', args: [grantId, now] });
    },
  });
}

/** Maps infrastructure failures of every method to StoreUnavailableError (the Store contract). */
function guarded(store: Store): Store {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(store) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        if (isUnavailable(error)) {
          throw new StoreUnavailableError(`sqlite: ${(error as { code: string }).code}`, { cause: error });
        }
        throw error;
      }
    };
  }
  return wrapped as unknown as Store;
}

type NewLockoutArgs = Parameters<Store['recordLockouts']>[0][number];

/** A grant is live while it is not revoked and holds a live refresh token or a live access token. */
const LIVE_GRANTS_OF_USER = `SELECT g.id AS grantId, g.client_id AS clientId, g.scope AS scope, g.created_at AS createdAt,
    max(g.created_at,
      coalesce((SELECT max(r.issued_at) FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL), 0),
      coalesce((SELECT max(a.issued_at) FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL), 0)) AS lastUsedAt
  FROM grants g WHERE g.user_id = ? AND g.revoked_at IS NULL AND (
    EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND r.revoked_at IS NULL
      AND (r.expires_at IS NULL OR r.expires_at > ?))
    OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.grant_id = g.id AND a.revoked_at IS NULL AND a.expires_at > ?))
  ORDER BY g.created_at, g.id`;

function prepare(db: Database.Database) {
  return {
    insertClient: db.prepare(`INSERT INTO clients (client_id, name, secret_hash, is_public, grant_types, scopes, can_introspect, default_scopes, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING`),
    // One statement: a field given as NULL keeps its value (default_scopes: the flag says whether to set it).
    updateClient: db.prepare(`UPDATE clients SET name = coalesce(?, name), scopes = coalesce(?, scopes), grant_types = coalesce(?, grant_types),
        default_scopes = CASE WHEN ? THEN ? ELSE default_scopes END, updated_at = ?
      WHERE client_id = ? RETURNING *`),
    clientById: db.prepare('SELECT * FROM clients WHERE client_id = ?'),
    allClients: db.prepare('SELECT * FROM clients ORDER BY created_at, client_id'),
    deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),
    deleteClientLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    deleteClientLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE client_id = ?)`),
    setClientSecret: db.prepare('UPDATE clients SET secret_hash = ?, updated_at = ? WHERE client_id = ? AND is_public = 0'),

    insertUser: db.prepare(`INSERT INTO users (username, password_hash, is_active, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`),
    userByName: db.prepare('SELECT * FROM users WHERE username = ?'),
    allUsers: db.prepare('SELECT * FROM users ORDER BY id'),
    setPassword: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
    replacePassword: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?'),
    setActive: db.prepare('UPDATE users SET is_active = ?, updated_at = ? WHERE id = ?'),
    counts: db.prepare('SELECT (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM users) AS users'),
    renameUser: db.prepare('UPDATE users SET username = ?, updated_at = ? WHERE id = ?'),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    deleteUserLiveAccess: db.prepare(`DELETE FROM access_tokens
      WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    deleteUserLiveRefresh: db.prepare(`DELETE FROM refresh_tokens
      WHERE used_at IS NULL AND revoked_at IS NULL AND grant_id IN (SELECT id FROM grants WHERE user_id = ?)`),
    liveGrantsOfUser: db.prepare(LIVE_GRANTS_OF_USER),

    insertLockout: db.prepare('INSERT INTO lockouts (kind, username, client_id, ip_key, started_at, locked_until) VALUES (?, ?, ?, ?, ?, ?)'),
    activeLockouts: db.prepare('SELECT * FROM lockouts WHERE cleared_at IS NULL AND locked_until > ? ORDER BY started_at, id'),
    clearLockoutsOfUser: db.prepare(`UPDATE lockouts SET cleared_at = ?
      WHERE cleared_at IS NULL AND locked_until > ? AND username = ? RETURNING *`),
    clearLockoutsOfIp: db.prepare(`UPDATE lockouts SET cleared_at = ?
      WHERE cleared_at IS NULL AND locked_until > ? AND ip_key = ? RETURNING *`),
    lockoutsClearedSince: db.prepare('SELECT * FROM lockouts WHERE cleared_at >= ? ORDER BY cleared_at, id'),

    accessByHash: db.prepare(`SELECT a.grant_id AS grantId, g.client_id AS clientId, g.user_id AS userId,
        u.username AS username, u.is_active AS userIsActive, a.scope AS scope,
        a.issued_at AS issuedAt, a.expires_at AS expiresAt, coalesce(a.revoked_at, g.revoked_at) AS revokedAt
      FROM access_tokens a JOIN grants g ON g.id = a.grant_id JOIN users u ON u.id = g.user_id
      WHERE a.token_hash = ?`),
    refreshByHash: db.prepare(`SELECT r.grant_id AS grantId, g.client_id AS clientId, g.user_id AS userId,
        u.username AS username, u.is_active AS userIsActive, r.scope AS scope, r.issued_at AS issuedAt, r.expires_at AS expiresAt,
        r.used_at AS usedAt, coalesce(r.revoked_at, g.revoked_at) AS revokedAt, r.successor_response AS successorResponse,
        (s.used_at IS NULL AND s.revoked_at IS NULL AND g.revoked_at IS NULL) AS successorLive
      FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id JOIN users u ON u.id = g.user_id
        LEFT JOIN refresh_tokens s ON s.token_hash = r.successor_hash
      WHERE r.token_hash = ?`),
    ping: db.prepare('SELECT 1'),
  };
}

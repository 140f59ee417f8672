import { realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  DevicePoll,
  RedeemAuthorizationCode,
  RedeemCodeResult,
  RedeemDeviceCode,
} from '../../core/authorization-ports.js';
import type { AuditEvent, IssueTokens, RotateRefreshToken, RotateResult, SealedErasure } from '../../core/ports.js';
import type { EpochSeconds } from '../../core/types.js';
import { accessTokenCache, type AccessTokenCache } from './access-token-cache.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { prepareFiles } from './files.js';
import { noWal, walDurability, type SyncFile } from './wal-durability.js';

export interface SqliteStoreOptions {
  /** How the WAL is flushed to disk (tests count and delay it); fdatasync on the thread pool by default. */
  syncWal?: SyncFile;
  /** `inline` (default, the CLI): in the commit that fills the WAL; `background`: checkpointer.ts (the server). */
  checkpoint?: 'inline' | 'background';
  /** Told when a background checkpoint fails for a reason other than a busy lock. */
  onCheckpointError?: (message: string) => void;
  /** Access-token records kept in memory between lookups, never stale (access-token-cache.ts); 0: none. */
  accessTokenCacheEntries?: number;
  /** Told once, at open, when the database files are readable beyond their owner (files.ts). */
  onWarning?: (message: string) => void;
}

/**
 * The hot writes, run by group commit (`queueWrite`): each name with its arguments and its result. Their SQL
 * lives with its concern (issue, rotate, revoke in tokens.ts; code and device-code redemptions and polls in
 * authorization-codes.ts and device-codes.ts; audit.ts; maintenance.ts), registered at open.
 */
export interface QueuedWrites {
  issueTokens: { args: [tokens: IssueTokens]; result: 'issued' | 'client_gone' };
  rotate: { args: [rotation: RotateRefreshToken]; result: RotateResult };
  revokeGrant: { args: [grantId: string, now: EpochSeconds]; result: void };
  recordAudit: { args: [events: readonly AuditEvent[]]; result: void };
  deleteExpired: {
    args: [now: EpochSeconds, before: EpochSeconds, limit: number, auditBefore: EpochSeconds | null];
    result: number;
  };
  eraseSealed: { args: [from: EpochSeconds, before: EpochSeconds, limit: number]; result: SealedErasure };
  redeemCode: { args: [redemption: RedeemAuthorizationCode]; result: RedeemCodeResult };
  pollDevice: { args: [hash: Buffer, clientId: string, nowMs: number]; result: DevicePoll | null };
  redeemDevice: { args: [redemption: RedeemDeviceCode]; result: 'redeemed' | 'not_approved' | 'client_gone' };
}
export type QueuedWriteName = keyof QueuedWrites;
type Args<K extends QueuedWriteName> = QueuedWrites[K]['args'];
type Result<K extends QueuedWriteName> = QueuedWrites[K]['result'];
/** A hot write's SQL: synchronous, run inside the batch's transaction. */
export type WriteRunner<K extends QueuedWriteName> = (...args: Args<K>) => Result<K>;
type WriteRunners = { [K in QueuedWriteName]: WriteRunner<K> };

/**
 * What each hot write may change in cached access tokens, forgotten right after its batch commits (in the
 * same synchronous step, so no lookup runs in between), given the write's result when it ran (undefined when
 * it threw). Issuing, polling and audit rows change no existing token; a reused code revokes the grant it names.
 */
const FORGET_CACHED_TOKENS: {
  [K in QueuedWriteName]: (cache: AccessTokenCache, result: Result<K> | undefined, ...args: Args<K>) => void;
} = {
  issueTokens: () => {},
  rotate: (cache, _result, rotation) => cache.forgetGrant(rotation.grantId),
  revokeGrant: (cache, _result, grantId) => cache.forgetGrant(grantId),
  recordAudit: () => {},
  deleteExpired: (cache) => cache.clear(),
  eraseSealed: () => {},
  redeemCode: (cache, result) => {
    if (result?.outcome === 'reused' && result.grantId !== null) cache.forgetGrant(result.grantId);
  },
  pollDevice: () => {},
  redeemDevice: () => {},
};

/** SQLite result codes that mean "the database cannot serve this now", not "the request is wrong". */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOMEM|PROTOCOL)/;

/** The fault guard's message for an infrastructure failure (`sqlite: <code>`), null for any other error. */
export function describeUnavailable(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code) ? `sqlite: ${code}` : null;
}

/** One SQLite connection in WAL mode and the machinery that makes it fast and durable. */
export interface SqliteConnection {
  readonly db: Database.Database;
  /** The access-token records this connection has read (access-token-cache.ts). */
  readonly accessTokenCache: AccessTokenCache;
  /** Runs a hot read inside this event-loop turn's read transaction (begun by the turn's first read). */
  readInTurn<T>(read: () => T): T;
  /**
   * Runs a synchronous write transaction, then forgets cached access tokens (all of them, unless the write
   * changes none), and resolves once the commit is on stable storage.
   */
  commitDurably<T>(write: () => T, options?: { changesNoToken?: boolean }): Promise<T>;
  /** Resolves once every commit made so far is on stable storage. */
  waitDurable(): Promise<void>;
  /** Gives the SQL of hot writes to the queue (each concern its own, at open). */
  registerWrites(runners: Partial<WriteRunners>): void;
  /** Queues a hot write for this turn's group commit; resolves with its own result once durable. */
  queueWrite<K extends QueuedWriteName>(name: K, ...args: Args<K>): Promise<Result<K>>;
  /** The first failed WAL sync: every later write fails, and so does ping. */
  readonly syncFailure: Error | null;
  close(): Promise<void>;
}

/**
 * Opens the connection. better-sqlite3 is synchronous, so each intention is one synchronous transaction;
 * writes are BEGIN IMMEDIATE, so processes sharing the file serialize on SQLite's write lock (busy_timeout)
 * instead of failing at commit. No write is answered before its commit is on stable storage, yet the fsync
 * runs off the event loop (wal-durability.ts; docs/design-notes.md, *The store*).
 */
export function openConnection(path: string, options: SqliteStoreOptions = {}): SqliteConnection {
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
    // A backstop: the worker's PASSIVE checkpoints rarely catch up completely under continuous writes; this
    // inline one finishes the little left and lets the WAL rewind (docs/design-notes.md, *The store*).
    db.pragma('wal_autocheckpoint = 20000');
    checkpointer = startCheckpointer(realpathSync(path), { onError: options.onCheckpointError });
  }
  const cache = accessTokenCache(db, options.accessTokenCacheEntries ?? 10_000);
  const turn = readTransactionPerTurn(db);

  const commit = async <T>(write: () => T, forgetCachedTokens: () => void): Promise<T> => {
    turn.end(); // a write cannot run inside the read transaction
    let value: T;
    try {
      value = write();
    } finally {
      forgetCachedTokens();
    }
    durability.committed();
    await durability.durable();
    return value;
  };
  const queue = groupCommit(db, cache, commit);

  return {
    db,
    accessTokenCache: cache,
    readInTurn: turn.read,
    commitDurably: (write, { changesNoToken = false } = {}) => commit(write, changesNoToken ? () => {} : cache.clear),
    waitDurable: () => durability.durable(),
    registerWrites: queue.register,
    queueWrite: queue.submit,
    get syncFailure() {
      return durability.failure;
    },
    async close() {
      turn.end();
      await checkpointer?.close();
      await durability.close();
      if (db.open) db.close();
    },
  };
}

/**
 * One read transaction per event-loop turn: a statement outside a transaction opens one of its own, and in
 * WAL mode each costs file-lock system calls. The hot reads join one begun at the turn's first read, ended at
 * the end of the turn or by the next write; every request answered in a turn arrived before it began, so each
 * still sees every commit made before it arrived. docs/design-notes.md, *One read transaction per turn*.
 */
function readTransactionPerTurn(db: Database.Database) {
  const begin = db.prepare('BEGIN DEFERRED');
  const commit = db.prepare('COMMIT');
  let open = false;
  const end = (): void => {
    if (!open) return;
    open = false;
    if (db.open && db.inTransaction) commit.run();
  };
  const read = <T>(run: () => T): T => {
    if (!open && !db.inTransaction && db.open) {
      begin.run();
      open = true;
      setImmediate(end);
    }
    return run();
  };
  return { read, end };
}

/** A queued write: runs its SQL (returning how to answer its caller), or is failed; forgets what it changed. */
interface PendingWrite {
  run(): () => void;
  fail(error: unknown): void;
  forgetCachedTokens(): void;
}

/**
 * Group commit: the hot writes queued in one event-loop turn run in one BEGIN IMMEDIATE transaction and share
 * one fsync, each caller answered with its own result. No savepoints: if one write throws, the batch is rolled
 * back and each runs again alone, so the failing one fails alone and the others see exactly the state they
 * would have seen. A failure of the database itself (lock timeout, I/O) fails the whole batch, none committed.
 */
function groupCommit(
  db: Database.Database,
  cache: AccessTokenCache,
  commit: <T>(write: () => T, forgetCachedTokens: () => void) => Promise<T>,
) {
  const runners: Partial<WriteRunners> = {};
  let pending: PendingWrite[] = [];
  const runAll = db.transaction((batch: readonly PendingWrite[]) => batch.map((write) => write.run()));
  const runAlone = db.transaction((write: PendingWrite) => write.run());

  const runBatch = (batch: readonly PendingWrite[]): (() => void)[] => {
    try {
      return runAll.immediate(batch);
    } catch (error) {
      if (batch.length === 1 || describeUnavailable(error) !== null) throw error;
      return batch.map((write) => {
        try {
          return runAlone.immediate(write);
        } catch (failure) {
          return () => write.fail(failure);
        }
      });
    }
  };

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    let answers: (() => void)[];
    try {
      answers = await commit(
        () => runBatch(batch),
        () => {
          for (const write of batch) write.forgetCachedTokens();
        },
      );
    } catch (error) {
      for (const write of batch) write.fail(error);
      return;
    }
    for (const answer of answers) answer();
  };

  const submit = <K extends QueuedWriteName>(name: K, ...args: Args<K>): Promise<Result<K>> => {
    const runner: WriteRunner<K> | undefined = runners[name];
    if (runner === undefined) return Promise.reject(new Error(`no SQLite write registered as ${name}`));
    const forget: (cache: AccessTokenCache, result: Result<K> | undefined, ...args: Args<K>) => void =
      FORGET_CACHED_TOKENS[name];
    // The result of its last run: a batch rolled back and run again alone runs each write twice.
    let ran: Result<K> | undefined;
    return new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void flush());
      pending.push({
        run() {
          ran = undefined;
          const result = runner(...args);
          ran = result;
          return () => resolve(result);
        },
        fail: reject,
        forgetCachedTokens: () => forget(cache, ran, ...args),
      });
    });
  };

  return { register: (more: Partial<WriteRunners>) => void Object.assign(runners, more), submit };
}

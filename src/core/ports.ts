import type { AuditEventName } from './audit-events.js';
import type { AuthorizationStore } from './authorization-ports.js';
import type {
  AccessTokenRecord,
  Client,
  ClientPolicy,
  EpochSeconds,
  Grant,
  GrantOrigin,
  GrantType,
  Lockout,
  LockoutSubject,
  NewAccessToken,
  NewToken,
  RefreshTokenRecord,
  User,
  UserGrant,
} from './types.js';

// The Clock port lives in its own file; re-exported here, where the other ports are.
export { type Clock, clockOf, epochSeconds } from './clock.js';
// So do the admin API's listings, activity counts and user changes.
export type { AuditActivityQuery, AuditActivityRow, ListQuery, UserChanges, UserUpdate } from './admin-ports.js';
import type { AuditActivityQuery, AuditActivityRow, ListQuery, UserChanges, UserUpdate } from './admin-ports.js';
// So does the login throttle's.
export {
  type LoginThrottle,
  noThrottle,
  type ThrottleDecision,
  type ThrottleReservation,
  type ThrottleSubjects,
} from './throttle-port.js';

/** A slow password hash (argon2id), run off the event loop by its implementation. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Checks a password against a stored hash. `needsRehash` is true when the hash was made with other
   * parameters or another algorithm and should be replaced after this successful login.
   * A null or unusable hash never matches, and still costs one full verification (no timing oracle).
   */
  verify(storedHash: string | null, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /**
   * True when this pair is already known to verify (it verified recently), judged at once without the
   * slow hash; false when that is not known. Optional: a hasher without memory never knows.
   */
  knownToVerify?(storedHash: string, password: string): boolean;
}

/** One row of the audit trail. */
export interface AuditEvent {
  /** Its row id, in insertion order; set by the store when read (absent on an event being written). */
  id?: number;
  at: EpochSeconds;
  event: string;
  clientId: string | null;
  userId: number | null;
  username: string | null;
  grantId: string | null;
  ip: string | null;
  /** Every other field of the event, as JSON. Never a secret. */
  detail: string;
}

export interface AuditQuery {
  event?: string;
  clientId?: string;
  username?: string;
  userId?: number;
  since?: EpochSeconds;
  until?: EpochSeconds;
  /** Keyset paging: only events after this one in the order (at DESC, id DESC), i.e. older than it. */
  before?: { at: EpochSeconds; id: number };
  /** Newest first, at most this many. */
  limit: number;
}

/** Structured events (audit trail). Fields never contain a secret. */
export interface EventSink {
  /** `event` is one of AUDIT_EVENTS (core/audit-events.ts). */
  emit(event: AuditEventName, fields: Record<string, string | number | boolean | null>): void;
}

export interface NewClient {
  clientId: string;
  name: string;
  secretHash: string | null;
  isPublic: boolean;
  grantTypes: GrantType[];
  scopes: string[];
  /** See Client.canIntrospect; false when left out. The store refuses it for a public client. */
  canIntrospect?: boolean;
  /** See Client.defaultScopes; null when left out. */
  defaultScopes?: string[] | null;
  /** See Client.policy; the server's policy in everything when left out. Null fields are not stored. */
  policy?: Partial<ClientPolicy>;
  createdAt: EpochSeconds;
}

/** The fields `updateClient` changes; a field left out keeps its value. */
export interface ClientChanges {
  name?: string;
  scopes?: string[];
  /** null: back to the server's default scopes. */
  defaultScopes?: string[] | null;
  grantTypes?: GrantType[];
  /** The policy fields to set; a field given as null goes back to the server's setting, one left out stays. */
  policy?: Partial<ClientPolicy>;
}

/** Token requests of one client with one grant type on one UTC day (`day`: days since the epoch). */
export interface ClientUsage {
  clientId: string;
  grantType: GrantType;
  day: number;
  requests: number;
  lastUsedAt: EpochSeconds;
}

/** A lockout that starts now (see LoginThrottle: `failed` reports the subjects it locked). */
export interface NewLockout extends LockoutSubject {
  startedAt: EpochSeconds;
  until: EpochSeconds;
}

/** Which lockouts `clearLockouts` ends: every one naming this username, or this IP key. */
export type LockoutMatch = { username: string } | { ipKey: string };

export interface NewUser {
  username: string;
  passwordHash: string | null;
  isActive: boolean;
  /** False when left out. */
  isAdmin?: boolean;
  createdAt: EpochSeconds;
}

export interface IssueTokens {
  grant: Grant;
  access: NewAccessToken;
  /** Null for client_credentials: no refresh token (RFC 6749 §4.4.3). */
  refresh: NewToken | null;
}

export interface RotateRefreshToken {
  /** The key (core/tokens.ts tokenKey) of the refresh token presented. */
  presentedHash: Buffer;
  /** The grant the presented token belongs to (as read by findRefreshToken). */
  grantId: string;
  access: NewAccessToken;
  refresh: NewToken;
  now: EpochSeconds;
  /** The response, encrypted for a retry within the grace window; null when the window is off. */
  successorResponse?: Buffer | null;
}

/**
 * - `rotated`: the presented token was live and is now used; the access token issued with it is revoked;
 *   the new pair is written. All in one atomic step.
 * - `already_used`: the token was used before (reuse, RFC 9700 §4.14.2). Nothing was written.
 * - `revoked`: the token or its grant was revoked. Nothing was written.
 * - `not_found`: no such token in that grant.
 */
export type RotateResult = 'rotated' | 'already_used' | 'revoked' | 'not_found';

/** What one eraseSealedSuccessors call did: how many it erased, and where the next call starts (null: done). */
export interface SealedErasure {
  erased: number;
  next: EpochSeconds | null;
}

/*
 * The store: intentions, not CRUD. Each method is atomic. Store methods verify nothing secret (the core
 * checks secrets and passwords) and throw only for infrastructure failures (StoreUnavailableError).
 * Tokens are passed and kept only as keys derived by SHA-256 (core/tokens.ts), never in plaintext.
 *
 * It is split by who uses it (as fosite sizes its storage per handler): a grant handler depends on the
 * token store and the directory parts it reads, a test fake implements only those. `Store` is all of them,
 * what a backend provides.
 */

/** Grants and their tokens: what the token, revocation and introspection endpoints use. */
export interface TokenStore {
  /**
   * Writes a new grant with its first access and refresh token, atomically. `client_gone`: the client was
   * deleted after it was authenticated (by the CLI or another instance, e.g. while the password was being
   * hashed or within the client cache's bound); nothing was written.
   */
  issueTokens(tokens: IssueTokens): Promise<'issued' | 'client_gone'>;
  findAccessToken(hash: Buffer): Promise<AccessTokenRecord | null>;
  findRefreshToken(hash: Buffer): Promise<RefreshTokenRecord | null>;
  /** Single use: one conditional update; of N concurrent calls with one token exactly one is `rotated`. */
  rotateRefreshToken(rotation: RotateRefreshToken): Promise<RotateResult>;
  /** Revokes a grant and every token in it. Idempotent. */
  revokeGrant(grantId: string, now: EpochSeconds): Promise<void>;
}

/** Registered clients. */
export interface ClientStore {
  createClient(client: NewClient): Promise<'created' | 'exists'>;
  findClient(clientId: string): Promise<Client | null>;
  /** Every client (by created_at, client_id); with a query, one page of them by client_id (see ListQuery). */
  listClients(query?: ListQuery): Promise<Client[]>;
  /**
   * Deletes the client and every grant and token issued to it. With `ifVersion`, only while the client's version
   * is that one (`version_mismatch` otherwise; nothing deleted).
   */
  deleteClient(clientId: string, options?: { ifVersion?: number }): Promise<boolean | 'version_mismatch'>;
  /** Replaces a confidential client's secret hash; false for an unknown or public client. */
  setClientSecret(clientId: string, secretHash: string, now: EpochSeconds): Promise<boolean>;
  /**
   * Changes the given fields of a client in one statement and returns the client as it is then; null for an
   * unknown client. Tokens already issued are left as they are (the refresh grant narrows them, RFC 6749 §6).
   */
  updateClient(
    clientId: string,
    changes: ClientChanges,
    now: EpochSeconds,
    options?: { ifVersion?: number },
  ): Promise<Client | null | 'version_mismatch'>;
  /** Revokes the client's live grants that began with `grantType`, atomically; returns their ids. */
  revokeClientGrants(clientId: string, options: { grantType: GrantOrigin; now: EpochSeconds }): Promise<string[]>;
  /** The client's grants live at `now` (as listUserGrants judges), and the users holding them. */
  countLiveClientGrants(clientId: string, now: EpochSeconds): Promise<{ grants: number; users: number }>;
}

/** How much each client uses each grant, counted in memory by the server and added here in batches. */
export interface ClientUsageStore {
  /** Adds each row's requests to what is stored for its (client, grant type, day); keeps the latest use. */
  recordClientUsage(usage: readonly ClientUsage[]): Promise<void>;
  /** The stored rows from `sinceDay` on (of one client when given), by client, grant type, then day. */
  listClientUsage(query: { clientId?: string; sinceDay: number }): Promise<ClientUsage[]>;
}

/** Resource owners, and the grants they hold. */
export interface UserStore {
  createUser(user: NewUser): Promise<'created' | 'exists'>;
  findUserByUsername(username: string): Promise<User | null>;
  /** Every user (by id); with a query, one page of them by username (see ListQuery). */
  listUsers(query?: ListQuery): Promise<User[]>;
  /**
   * Renames, enables or disables, and grants or takes the admin flag, in one transaction, bumping the version
   * once; with `ifVersion`, only while the user's version is that one.
   */
  updateUser(
    username: string,
    changes: UserChanges,
    options: { now: EpochSeconds; ifVersion?: number },
  ): Promise<UserUpdate>;
  /**
   * Replaces the password hash; with `revokeGrants`, also revokes every grant of the user, ends its sign-in sessions
   * and cancels its codes not yet exchanged and device codes not yet redeemed (they would become grants later).
   */
  setUserPassword(
    username: string,
    passwordHash: string,
    options: { revokeGrants: boolean; now: EpochSeconds },
  ): Promise<boolean>;
  /**
   * Upgrades a hash after a successful login, only if it is still `expectedHash` (a concurrent
   * set-password wins).
   */
  replacePasswordHash(userId: number, expectedHash: string, newHash: string, now: EpochSeconds): Promise<void>;
  /** Enables or disables a user. Disabling revokes, ends and cancels as a password reset with `revokeGrants`. */
  setUserActive(username: string, isActive: boolean, now: EpochSeconds): Promise<boolean>;
  /**
   * Renames a user; its grants and tokens stay valid (they name the user by id). `exists`: another user has
   * that name; nothing changed.
   */
  renameUser(username: string, newUsername: string, now: EpochSeconds): Promise<'renamed' | 'not_found' | 'exists'>;
  /**
   * Deletes a user with every grant and token: in one transaction, its live tokens are deleted, then the user
   * (its grants go with it). Returns the user deleted and how many live grants it had; null for an unknown user.
   */
  deleteUser(
    username: string,
    now: EpochSeconds,
    options?: { ifVersion?: number },
  ): Promise<{ user: User; liveGrants: number } | null | 'version_mismatch'>;
  /**
   * The user's live grants at `now` (not revoked, with a refresh token unused, unrevoked and unexpired, or an
   * access token unrevoked and unexpired), oldest first.
   */
  listUserGrants(userId: number, now: EpochSeconds): Promise<UserGrant[]>;
  /** Revokes the user's live grants (of one client when given) and cancels its unexchanged codes; returns ids. */
  revokeUserGrants(userId: number, options: { clientId?: string; now: EpochSeconds }): Promise<string[]>;
}

/** Lockouts the login throttle started, kept so operators can list and clear them. */
export interface LockoutStore {
  /** Records lockouts that just started (written by the server when the login throttle reports them). */
  recordLockouts(lockouts: readonly NewLockout[]): Promise<void>;
  /** Lockouts in force at `now` (until > now) and not cleared, oldest first. */
  listActiveLockouts(now: EpochSeconds): Promise<Lockout[]>;
  /** Marks the lockouts in force matching `match` cleared at `now`, atomically; returns them. */
  clearLockouts(match: LockoutMatch, now: EpochSeconds): Promise<Lockout[]>;
  /** Lockouts cleared at or after `since` (running servers poll this to forget the cleared counters). */
  lockoutsClearedSince(since: EpochSeconds): Promise<Lockout[]>;
}

/** The audit trail. */
export interface AuditStore {
  /** Appends audit events (a batch, in one transaction). */
  recordAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Audit events matching every given filter, newest first (at DESC, id DESC), each with its id. */
  queryAuditEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Counts of the given events per bucket from `since` on (the dashboard's charts); empty buckets left out. */
  auditActivity(query: AuditActivityQuery): Promise<AuditActivityRow[]>;
}

/** The database itself: its schema, its health, its cleanup. */
export interface StoreMaintenance {
  /** Apply pending migrations. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the database answers a trivial query; throws StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Is there at least one client and one user? (Drives the first-start hint.) */
  counts(): Promise<{ clients: number; users: number }>;
  /**
   * Removes dead rows, at most `limit` per kind per call, and says how many went: access tokens expired before
   * `now`; refresh tokens and authorization codes used, revoked or expired more than `retentionSeconds` before
   * `now` (kept that long so a replayed one is still recognised as reuse); grants revoked that long ago, with
   * their tokens; device codes and browser sessions expired or ended that long ago; and audit events older
   * than `auditRetentionSeconds`, when given. Call again while it returns `limit` or more.
   */
  deleteExpired(options: {
    now: EpochSeconds;
    retentionSeconds: number;
    limit: number;
    auditRetentionSeconds?: number;
  }): Promise<number>;
  /**
   * Erases the sealed successor (RotateRefreshToken.successorResponse) of refresh tokens used in
   * [`usedFrom`, `now` − `graceSeconds`): past the grace window nothing hands it out any more, but whoever
   * reads the database and kept the old refresh token could still open it and recover a live pair. Looks at
   * about `limit` used tokens per call, in `used_at` order (more only when more than `limit` share one second);
   * call again from `next` until it is null (the range is done).
   */
  eraseSealedSuccessors(options: {
    now: EpochSeconds;
    graceSeconds: number;
    usedFrom: EpochSeconds;
    limit: number;
  }): Promise<SealedErasure>;
}

/** Everything a backend provides. */
export interface Store
  extends TokenStore,
    ClientStore,
    ClientUsageStore,
    UserStore,
    LockoutStore,
    AuditStore,
    AuthorizationStore,
    StoreMaintenance {}

export type StoreMethod = keyof Store;

/**
 * Runs around every call of a store (store/decorate.ts): `call` makes the call itself, and resolves or rejects
 * as it does. Metrics and the fault guard are advices.
 */
export type StoreAdvice = <T>(method: StoreMethod, call: () => Promise<T>) => Promise<T>;

/**
 * Thrown by a store when the database cannot serve the call (locked past its timeout, unreachable, disk full):
 * a failure of infrastructure, not of the request. The HTTP layer answers 503 temporarily_unavailable.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

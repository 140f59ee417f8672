import type { NewClient } from '../core/ports.js';
import type { EpochSeconds, GrantOrigin, NewAccessToken, NewToken } from '../core/types.js';
import { migrations } from './migrations/index.js';

/**
 * What an importer (`oauthd import django`) writes into oauthd's database: a separate interface from the
 * Store, because importing is not something the server does. Each method is atomic on its own (one
 * transaction); an import is many such calls, and is idempotent, so an interrupted import is finished by
 * running it again. Nothing here verifies a secret; tokens arrive as SHA-256 hashes only.
 *
 * What happens to a row that already exists (a re-import, e.g. the delta after the cut-over) is decided by
 * the ImportPlanner the target is opened with (src/importers/plan.ts); a backend only reads the state the
 * planner asks about and applies its plan.
 *
 * Dry run (`dryRun: true`): the database is opened read-only; every method answers what it would do.
 */
export interface ImportTarget {
  importUser(user: ImportUser, now: EpochSeconds): Promise<ImportUserResult>;
  hasClient(clientId: string): Promise<boolean>;
  importClient(client: NewClient): Promise<ImportClientResult>;
  importGrant(grant: ImportGrant, now: EpochSeconds): Promise<ImportGrantResult>;
  /** Revokes an imported grant that the source revoked or no longer has, if the planner says so. */
  revokeUntouchedGrant(grantId: string, now: EpochSeconds): Promise<'revoked' | 'unchanged'>;
  /** Ids of the grants whose id starts with `prefix` (the importer's deterministic ids). */
  grantIdsWithPrefix(prefix: string): Promise<string[]>;
  /** Usernames of active users whose password hash is not oauthd's own (imported and never used here). */
  activeUsersWithForeignHashes(isOwnHash: (hash: string) => boolean): Promise<string[]>;
  counts(): Promise<ImportTargetCounts>;
  close(): Promise<void>;
}

export interface ImportUser {
  username: string;
  /** Kept as given (an argon2id or a Django hash); null: no usable password. */
  passwordHash: string | null;
  isActive: boolean;
  createdAt: EpochSeconds;
  /** For an existing user: may its current hash be replaced by `passwordHash`? (Not when oauthd set it.) */
  mayReplaceHash(current: string | null): boolean;
}

export interface ImportUserResult {
  outcome: 'created' | 'present' | 'updated';
  /** What an update changed. */
  changes: ('password_hash' | 'disabled')[];
  /** The source has the user active, oauthd has them disabled: left disabled. */
  staysDisabled: boolean;
}

export type ImportClientResult = 'created' | 'present';

/**
 * A token family to import under a deterministic id. `refresh` null: an access token alone; `access`
 * null: a refresh token without a live access token.
 */
export interface ImportGrant {
  id: string;
  clientId: string;
  /** Null: a grant to the client itself (client_credentials, RFC 6749 §4.4), which has no refresh token. */
  username: string | null;
  /** How the grant began (Grant.grantType); null: unknown (e.g. an authorization-code application's). */
  grantType: GrantOrigin | null;
  scope: string[];
  createdAt: EpochSeconds;
  access: NewAccessToken | null;
  refresh: NewToken | null;
}

export type ImportGrantResult =
  | { outcome: 'created' | 'present' }
  /** An untouched grant whose access token changed in the source: the old one revoked, the new one added. */
  | { outcome: 'updated'; accessRevoked: boolean; accessAdded: boolean }
  /** `conflict`: the id exists for other tokens, client or user, or a token exists in another grant. */
  | { outcome: 'skipped'; reason: 'no_user' | 'no_client' | 'conflict' };

export interface ImportTargetCounts {
  users: number;
  clients: number;
  grants: number;
  accessTokens: number;
  refreshTokens: number;
}

/**
 * The import policy, one pure function per kind: given the source row and what the target holds, what to
 * write. Implemented once in src/importers/plan.ts; a backend reads the state, asks, and writes.
 */
export interface ImportPlanner {
  planUser(user: ImportUser, current: StoredUser | null): UserPlan;
  planClient(present: boolean): ClientPlan;
  planGrant(grant: ImportGrant, state: GrantState): GrantPlan;
  planRevocation(grant: StoredGrantUse | null): RevocationPlan;
}

/** The user the target holds under the imported username. */
export interface StoredUser {
  passwordHash: string | null;
  isActive: boolean;
}

/** Writes for one user, applied in this order; none of them when `result.outcome` is 'present'. */
export interface UserPlan {
  create: boolean;
  replaceHash: boolean;
  /** Disable the user and revoke every grant of theirs, as `oauthd user disable` does. */
  disable: boolean;
  result: ImportUserResult;
}

export interface ClientPlan {
  create: boolean;
  result: ImportClientResult;
}

/** Whether a grant was touched on oauthd: what decides if an import may still change it. */
export interface StoredGrantUse {
  revoked: boolean;
  /** A refresh token of it was rotated on oauthd (its live refresh token is one a rotation wrote). */
  rotatedHere: boolean;
}

/** The grant stored under the imported id. */
export interface StoredGrant extends StoredGrantUse {
  clientId: string;
  /** Null: a grant without a user (client_credentials). */
  userId: number | null;
  /** Hashes of its access tokens that are not revoked. */
  liveAccessTokens: Buffer[];
}

/** What the target holds that bears on importing one grant. */
export interface GrantState {
  /**
   * The grant's user: its id, 'pending' (a dry run would have created it), or null (none). `{ id: null }`
   * for a grant imported without a user (ImportGrant.username null), which needs none.
   */
  user: { id: number | null } | 'pending' | null;
  /** The client exists (or a dry run would have created it). */
  clientKnown: boolean;
  existing: StoredGrant | null;
  /** The grant holding the imported access token, if any grant does. */
  access: { grantId: string } | null;
  /** The grant holding the imported refresh token, if any, and the access token that row links to. */
  refresh: { grantId: string; accessTokenHash: Buffer | null } | null;
}

/** One write to an existing grant; a plan lists them in the order they must run. */
export type GrantWrite =
  | { kind: 'relink_refresh'; refreshHash: Buffer; accessHash: Buffer }
  | { kind: 'revoke_access'; hashes: Buffer[] }
  | { kind: 'add_access'; token: NewAccessToken };

export type GrantPlan =
  /** Insert the grant, then its access token, then its refresh token linked to it. */
  | { action: 'create'; result: { outcome: 'created' } }
  | { action: 'update'; writes: GrantWrite[]; result: Extract<ImportGrantResult, { outcome: 'updated' }> }
  /** Write nothing: present, or skipped. */
  | { action: 'none'; result: ImportGrantResult };

export type RevocationPlan = 'revoke' | 'keep';

/** An import needs the latest schema: a dry run cannot migrate, and a real run has migrated before opening. */
export function assertImportSchema(version: number): void {
  const latest = migrations[migrations.length - 1]!.version;
  if (version < latest) {
    throw new Error(
      `the oauthd database has schema version ${version}, not ${latest}: ` +
        'run `oauthd migrate` first (a dry run writes nothing)',
    );
  }
}

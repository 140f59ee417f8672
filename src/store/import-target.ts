import type { NewClient } from '../core/ports.js';
import type { EpochSeconds, NewAccessToken, NewToken } from '../core/types.js';
import { openPostgresImportTarget } from './postgres/import-target.js';
import { openSqliteImportTarget } from './sqlite/import-target.js';
import { openStore, redactUrl } from './store.js';

/**
 * What an importer (`oauthd import django`) writes into oauthd's database: a separate interface from the
 * Store, because importing is not something the server does. Each method is atomic on its own (one
 * transaction); an import is many such calls, and is idempotent, so an interrupted import is finished by
 * running it again. Nothing here verifies a secret; tokens arrive as SHA-256 hashes only.
 *
 * The rule for rows that already exist (a re-import, e.g. the delta after the cut-over): a row oauthd has
 * not touched since it was imported follows the source; a row oauthd has touched is oauthd's. Concretely:
 * - a user's password hash is replaced only while it is not oauthd's own (`mayReplaceHash`); a user is
 *   disabled when the source disabled them, never re-enabled;
 * - a grant is updated or revoked only while none of its refresh tokens was used on oauthd and it was not
 *   revoked here; updates only revoke or swap the access token, they never bring a revoked token back;
 * - clients are never changed.
 *
 * Dry run (`dryRun: true`): the database is opened read-only; every method answers what it would do.
 */
export interface ImportTarget {
  importUser(user: ImportUser, now: EpochSeconds): Promise<ImportUserResult>;
  hasClient(clientId: string): Promise<boolean>;
  /** Creates the client unless one with that id exists (which is left as it is). */
  importClient(client: NewClient): Promise<'created' | 'present'>;
  importGrant(grant: ImportGrant, now: EpochSeconds): Promise<ImportGrantResult>;
  /**
   * Revokes an imported grant that the source revoked or no longer has, unless oauthd has used it since
   * (a refresh token of it was exchanged here) or revoked it already.
   */
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

/**
 * A token family to import under a deterministic id. `refresh` null: an access token alone; `access`
 * null: a refresh token without a live access token.
 */
export interface ImportGrant {
  id: string;
  clientId: string;
  username: string;
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
 * Opens an import target on the database `databaseUrl` names (see store.ts for the URL forms). Unless
 * `dryRun`, the schema is migrated first, as every command does; a dry run needs an up-to-date schema
 * and writes nothing.
 */
export async function openImportTarget(databaseUrl: string, options: { dryRun: boolean }): Promise<ImportTarget> {
  if (!options.dryRun) {
    const store = openStore(databaseUrl);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  }
  if (databaseUrl.startsWith('sqlite:')) return openSqliteImportTarget(databaseUrl.slice('sqlite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresImportTarget(databaseUrl, options);
  throw new Error(`unsupported database URL scheme in ${JSON.stringify(redactUrl(databaseUrl))}`);
}

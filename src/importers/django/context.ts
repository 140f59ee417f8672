import type { EpochSeconds } from '../../core/types.js';
import type { ImportTarget } from '../../store/import-types.js';
import type { DjangoSnapshot } from './source.js';

export interface DjangoImportOptions {
  /** The DOT database: a SQLite path or a postgres:// URL. */
  from: string;
  /** oauthd's database URL. */
  databaseUrl: string;
  userTable: string;
  usernameColumn: string;
  /** The scopes every imported client may be granted (DOT's SCOPES that a client may get). */
  clientScopes: string[];
  /** The scope given to a refresh token whose access token DOT deleted; null: skip such tokens. */
  orphanScope: string[] | null;
  /** DOT's REFRESH_TOKEN_EXPIRE_SECONDS: imported refresh tokens expire that long after their access token. */
  refreshTokenExpireSeconds: number | null;
  dryRun: boolean;
  now: EpochSeconds;
  /** Called as rows are handled: `done` of `total` rows of `kind` (the CLI shows it on stderr). */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

export interface ImportProgress {
  kind: 'users' | 'clients' | 'refresh tokens' | 'access tokens';
  done: number;
  total: number;
}

/** What every step of one import shares: where it writes, what it read, how it was asked to run. */
export interface ImportRun {
  target: ImportTarget;
  source: DjangoSnapshot;
  options: DjangoImportOptions;
  progress(kind: ImportProgress['kind'], done: number, total: number): void;
}

/** oauthd's own password hashes (argon2id): a re-import never replaces one (the user logged in here). */
export const isOwnPasswordHash = (hash: string): boolean => hash.startsWith('$argon2');

/** Where a DOT row's tokens go in oauthd (by DOT id), or why they cannot be imported. */
export type Destination<T> = Map<string, T | { skip: string }>;

import { plural } from '../plural.js';

/**
 * Why an administrative action was refused, so each surface answers in its own terms (the admin API: 400, 404,
 * 409, 412, 403; the CLI: exit 1 with the message).
 */
export type AdminErrorCode = 'invalid' | 'not_found' | 'exists' | 'version_mismatch' | 'forbidden';

/**
 * A refused administrative action; its message is one line, safe to print, never containing a secret. `field`:
 * the input at fault, named as the admin API names it (snake_case: `scopes`, `redirect_uris`, `password`…).
 */
export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly field: string | undefined;

  constructor(message: string, options: { code?: AdminErrorCode; field?: string } = {}) {
    super(message);
    this.name = 'AdminError';
    this.code = options.code ?? 'invalid';
    this.field = options.field;
  }
}

/** The one answer for a client id that names no client (the built-in console client included). */
export const noClient = (clientId: string): AdminError =>
  new AdminError(`no client with id ${JSON.stringify(clientId)}`, { code: 'not_found' });

/** The one answer for a username that names no user. */
export const noUser = (username: string): AdminError =>
  new AdminError(`no user named ${JSON.stringify(username)}`, { code: 'not_found' });

/** Another change came first: the caller's copy is stale (RFC 9110 §13.1.1, answered 412 by the API). */
export const versionMismatch = (what: string): AdminError =>
  new AdminError(`the ${what} was changed meanwhile; read it again and retry`, { code: 'version_mismatch' });

/** Bounds on a password being set, in characters (Unicode code points, as people count them). */
export interface PasswordPolicy {
  /** OAUTHD_PASSWORD_MIN_LENGTH. */
  minLength: number;
  /** OAUTHD_PASSWORD_MAX_LENGTH: argon2 takes any length, but a login re-hashes it each time. */
  maxLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8, maxLength: 1024 };

/**
 * Throws an AdminError naming the rule (and its setting) a password breaks. Exported so that every way a
 * password is set (the CLI reads and checks before it opens the store) applies the same rule.
 */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): void {
  const length = [...password].length;
  if (length < policy.minLength) {
    throw new AdminError(
      `the password must be at least ${plural(policy.minLength, 'character')} (OAUTHD_PASSWORD_MIN_LENGTH)`,
      { field: 'password' },
    );
  }
  if (length > policy.maxLength) {
    throw new AdminError(
      `the password must be at most ${plural(policy.maxLength, 'character')} (OAUTHD_PASSWORD_MAX_LENGTH)`,
      { field: 'password' },
    );
  }
}

import { plural } from '../plural.js';

/** A refused administrative action; its message is one line, safe to print, never containing a secret. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

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
    );
  }
  if (length > policy.maxLength) {
    throw new AdminError(
      `the password must be at most ${plural(policy.maxLength, 'character')} (OAUTHD_PASSWORD_MAX_LENGTH)`,
    );
  }
}

import { randomBytes } from 'node:crypto';

/*
 * The forms whose answer shows a secret (create a client, rotate its secret) answer 200, not a redirect: the
 * secret is on that answer only. Reloading such a page posts the form again, which would create a second client
 * or rotate again (the secret just copied would stop working). Each of these forms carries a single-use `once`
 * value, spent by the first POST; a second POST of the same form changes nothing. Kept in memory: the console
 * runs in one process (the admin listener is the primary's in a cluster); after a restart an old form is
 * refused like a reloaded one, and is simply opened again.
 */

/** How many unspent values are remembered (the oldest forgotten first): far more than open forms. */
const REMEMBERED = 10_000;

export interface OnceValues {
  /** A fresh value for a form. */
  issue(): string;
  /** True the first time a value this process issued is presented; false ever after, or when unknown. */
  spend(value: string | null): boolean;
}

export function onceValues(remembered = REMEMBERED): OnceValues {
  const issued = new Set<string>();
  return {
    issue() {
      const value = randomBytes(18).toString('base64url');
      issued.add(value);
      if (issued.size > remembered) issued.delete(issued.values().next().value!);
      return value;
    },
    spend: (value) => value !== null && issued.delete(value),
  };
}

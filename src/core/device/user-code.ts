import { randomInt } from 'node:crypto';

/*
 * User codes, RFC 8628 §6.1: 8 characters from 20 consonants, without vowels (no words) and without characters
 * that are easily confused (no I/1, O/0, no Y), case-insensitive, shown as `XXXX-XXXX`. 20^8 ≈ 2^34.6 codes; with
 * the per-IP guessing limit and the short lifetime of a code, guessing a live one is hopeless (§5.1).
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;
const NORMALISED = new RegExp(`^[${USER_CODE_ALPHABET}]{${LENGTH}}$`);

/** A new user code, normalised (no dash); each character drawn uniformly by the CSPRNG. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/**
 * What a person typed, as stored (RFC 8628 §6.1: case-insensitive, punctuation ignored): upper case, without
 * dashes and spaces. Null when anything else is left, or the wrong number of characters: no such code exists.
 */
export function normaliseUserCode(typed: string): string | null {
  if (typed.length > 64) return null;
  const code = typed.toUpperCase().replace(/[-\s]/g, '');
  return NORMALISED.test(code) ? code : null;
}

/** `WDJBMJHT` → `WDJB-MJHT`, as the pages show it. */
export function formatUserCode(normalised: string): string {
  return `${normalised.slice(0, 4)}-${normalised.slice(4)}`;
}

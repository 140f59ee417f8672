import { invalidRequest } from './errors.js';

/** Request parameters in the order they arrived, repeats included, as the HTTP adapter decoded them. */
export type ParamPairs = ReadonlyArray<readonly [name: string, value: string]>;

const SHOWABLE_NAME = /^[a-z_]{1,40}$/;
/** No OAuth request needs more; a cap keeps hostile bodies from costing more than a normal one. */
const MAX_PARAMS = 64;
/** Longest accepted parameter value, in characters (tokens are 44, secrets ≤ 255, passwords ≤ 1024). */
const MAX_VALUE_LENGTH = 4096;

/**
 * Turns the raw pairs into one value per name.
 * - RFC 6749 §3.2: request parameters MUST NOT be included more than once → invalid_request.
 * - RFC 6749 §3.2: parameters sent without a value MUST be treated as if they were omitted.
 */
export function singleValued(pairs: ParamPairs): Map<string, string> {
  const seen = new Set<string>();
  const values = new Map<string, string>();
  if (pairs.length > MAX_PARAMS) throw invalidRequest('Too many parameters.');
  for (const [name, value] of pairs) {
    if (name.length > 100 || value.length > MAX_VALUE_LENGTH) throw invalidRequest('A parameter is too long.');
    // No OAuth parameter holds U+0000, and some databases cannot store it: refuse it here, on every store.
    if (name.includes('\u0000') || value.includes('\u0000'))
      throw invalidRequest('A parameter contains a NUL character.');
    if (seen.has(name)) {
      // Echo the name back only when it is a plain parameter name, never arbitrary input.
      throw invalidRequest(SHOWABLE_NAME.test(name) ? `Duplicate ${name} parameter.` : 'Duplicate parameter.');
    }
    seen.add(name);
    if (value !== '') values.set(name, value);
  }
  return values;
}

/**
 * A required parameter (RFC 6749 §5.2 invalid_request), with oauthlib's (django-oauth-toolkit's) wording
 * for compatibility: `Request is missing username parameter.`, or the message given.
 */
export function required(
  params: ReadonlyMap<string, string>,
  name: string,
  missing = `Request is missing ${name} parameter.`,
): string {
  const value = params.get(name);
  if (value === undefined) throw invalidRequest(missing);
  return value;
}

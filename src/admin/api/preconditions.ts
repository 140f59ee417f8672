import { ApiError, invalidFields } from './errors.js';

/**
 * Optimistic concurrency (RFC 9110 §13.1.1 If-Match): each client and user has a version, bumped by every
 * change, sent as the strong ETag `"<version>"` (§8.8.3). A change names the version it was made from; the
 * store applies it only while that is still the current one, so of two admins editing the same copy, the
 * second is refused (412) instead of silently undoing the first.
 */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * What an If-Match header asks: `any` (`*`: the resource must exist), or the versions named by strong ETags.
 * Weak tags never match (§13.1.1: If-Match uses the strong comparison), nor tags that are not ours: both
 * leave no version, and the change is refused as a lost update.
 */
export type IfMatch = { any: true } | { any: false; versions: number[] };

/**
 * The highest version there can be (the version columns are 32-bit integers): a tag naming a higher one is
 * never ours, like a weak one, and can never match.
 */
const MAX_VERSION = 2 ** 31 - 1;

/** entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 §8.8.3), etagc = %x21 / %x23-7E / obs-text. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"$/;

/** The If-Match header parsed (null: not sent); a malformed one is a 400 naming the header. */
export function parseIfMatch(header: string | string[] | undefined): IfMatch | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return { any: true };
  const versions: number[] = [];
  for (const member of text.split(',').map((m) => m.trim())) {
    if (member === '') continue; // RFC 9110 §5.6.1: empty list elements are ignored
    const match = ENTITY_TAG.exec(member);
    if (!match) {
      throw invalidFields([
        { field: 'If-Match', problem: 'must be * or a list of entity tags such as "7" (with the quotes)' },
      ]);
    }
    const version = match[1] === undefined && /^\d{1,15}$/.test(match[2]!) ? Number(match[2]) : null;
    if (version !== null && version <= MAX_VERSION) versions.push(version);
  }
  if (versions.length === 0 && !text.split(',').some((m) => m.trim() !== '')) {
    throw invalidFields([{ field: 'If-Match', problem: 'is empty' }]);
  }
  return { any: false, versions };
}

/** RFC 6585 §3: a change that must be conditional came without If-Match. */
export function preconditionRequired(): ApiError {
  return new ApiError(428, {
    error: 'precondition_required',
    error_description: 'Send If-Match with the ETag of the copy you changed (or * to change whatever is current).',
  });
}

/** RFC 9110 §13.1.1: the resource is no longer the version the request was made from. */
export function preconditionFailed(): ApiError {
  return new ApiError(412, {
    error: 'precondition_failed',
    error_description: 'The resource was changed meanwhile: read it again (new ETag) and retry.',
  });
}

/** No version the store could match: a version that cannot exist, so the store answers version_mismatch. */
const NO_VERSION = -1;

/**
 * The `ifVersion` to hand the core for a change made under `ifMatch`: undefined for none or `*`; the one
 * version named; among several, the current one if named (`current` reads it), else one that cannot match.
 */
export async function ifVersionOf(
  ifMatch: IfMatch | null,
  current: () => Promise<number | undefined>,
): Promise<number | undefined> {
  if (ifMatch === null || ifMatch.any) return undefined;
  if (ifMatch.versions.length === 1) return ifMatch.versions[0];
  if (ifMatch.versions.length === 0) return NO_VERSION;
  const version = await current();
  return version !== undefined && ifMatch.versions.includes(version) ? version : NO_VERSION;
}

/**
 * For actions the core cannot make conditional (rotating a secret, setting a password): the condition is
 * evaluated against the current version just before (§13.2.2), a 412 when it fails.
 */
export function checkIfMatch(ifMatch: IfMatch | null, version: number | undefined): void {
  if (ifMatch === null || ifMatch.any) return;
  if (version === undefined || !ifMatch.versions.includes(version)) throw preconditionFailed();
}

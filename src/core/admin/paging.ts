import type { ListQuery } from '../ports.js';
import { AdminError } from './validation.js';

/** A page of a listing and the cursor of the next one (null: this is the last). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** Optimistic concurrency (the admin API's If-Match): act only on this version, else `version_mismatch`. */
export interface IfVersion {
  ifVersion?: number | undefined;
}

/** The most a page may hold, whatever the caller asks for. */
export const MAX_PAGE = 500;

/** A page size: a whole number from 1 to MAX_PAGE (an AdminError on `limit` otherwise). */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new AdminError(`the limit must be a whole number from 1 to ${MAX_PAGE}`, { field: 'limit' });
  }
  return limit;
}

/**
 * One page of a keyset listing: one more row than asked is read, so `next` (the key of the last row shown) is
 * given only when there is more, and the last page never leads to an empty one.
 */
export async function pageOf<T>(
  query: ListQuery,
  list: (query: ListQuery) => Promise<T[]>,
  keyOf: (item: T) => string,
): Promise<Page<T>> {
  const limit = checkLimit(query.limit);
  // An empty search is no search (a cleared search box).
  const search = query.search === undefined || query.search === '' ? {} : { search: query.search };
  const after = query.after === undefined ? {} : { after: query.after };
  const rows = await list({ ...search, ...after, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? keyOf(last) : null };
}

import { invalidFields } from './errors.js';
import type { Schema } from './input.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** The query parameters of every listing. */
export const PAGE_QUERY: Record<string, Schema> = {
  cursor: {
    type: 'string',
    description: 'Where to go on: the `next_cursor` of the previous page, as it was (opaque).',
    maxLength: 1024,
  },
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_LIMIT,
    description: `At most this many items (default ${DEFAULT_LIMIT}).`,
  },
};

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A cursor: base64url of a small JSON object naming the listing it belongs to (`k`) and where its next page
 * starts. Opaque to callers; a cursor of another listing, or anything that is not one, is a 400.
 */
export function encodeCursor(kind: string, position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...position })).toString('base64url');
}

/**
 * The position a cursor holds, checked strictly: exactly the keys `shape` names, each of its type (strings
 * non-empty and without U+0000, numbers whole and not negative).
 */
export function decodeCursor<T extends Record<string, string | number>>(
  cursor: string,
  kind: string,
  shape: { [K in keyof T]: T[K] extends number ? 'number' : 'string' },
): T {
  const bad = () => invalidFields([{ field: 'cursor', problem: 'is not a cursor of this listing' }]);
  if (!BASE64URL.test(cursor)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  const record = value as Record<string, unknown>;
  const keys = Object.keys(shape);
  if (record.k !== kind || Object.keys(record).length !== keys.length + 1) throw bad();
  for (const key of keys) {
    const item = record[key];
    const ok =
      shape[key] === 'number'
        ? typeof item === 'number' && Number.isSafeInteger(item) && item >= 0
        : typeof item === 'string' && item !== '' && !item.includes('\u0000');
    if (!ok) throw bad();
  }
  const { k: _kind, ...position } = record;
  return position as T;
}

/** A page as the API answers it: the items, and the cursor of the next page (null: this was the last). */
export const page = <T>(items: T[], next: string | null) => ({ items, next_cursor: next });

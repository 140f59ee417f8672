// The admin API's input checks: closed objects, types, bounds and field paths; strict query parameters.
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { checkBody, checkQuery, object } from './input.js';
import { decodeCursor, encodeCursor } from './paging.js';

const schema = object(
  {
    name: { type: 'string', minLength: 1, maxLength: 5 },
    ttl: { type: ['integer', 'null'], minimum: 1, maximum: 10 },
    uris: { type: 'array', maxItems: 2, items: { type: 'string' } },
    mode: { type: ['string', 'null'], enum: ['a', 'b', null] },
  },
  ['name'],
);

function fields(fn: () => unknown): { field: string; problem: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    return (error as ApiError).body.fields ?? [];
  }
  throw new Error('did not throw');
}

describe('checkBody', () => {
  it('accepts a body that fits, null where allowed', () => {
    const body = { name: 'x', ttl: null, uris: ['u'], mode: null };
    expect(checkBody(body, schema)).toEqual(body);
  });

  it('names every field at fault: unknown, missing, wrong type, out of bounds, inside arrays', () => {
    const found = fields(() => checkBody({ colour: 1, ttl: 1.5, uris: ['a', 2], mode: 'c' }, schema));
    expect(found.map((f) => f.field).sort()).toEqual(['colour', 'mode', 'name', 'ttl', 'uris[1]']);
    expect(fields(() => checkBody({ name: '', ttl: 11 }, schema)).map((f) => f.problem)).toEqual([
      'must not be empty',
      'must be at most 10',
    ]);
    expect(fields(() => checkBody({ name: 'abcdef', uris: ['a', 'b', 'c'] }, schema))).toHaveLength(2);
  });

  it('refuses a body that is no object', () => {
    for (const body of [[], 'x', 3, null]) expect(fields(() => checkBody(body, schema))[0]!.field).toBe('body');
  });

  it('refuses __proto__, constructor and other inherited names as unknown fields', () => {
    const parsed = JSON.parse('{"name":"x","__proto__":{"admin":true}}') as unknown;
    expect(fields(() => checkBody(parsed, schema))).toEqual([{ field: '__proto__', problem: 'unknown field' }]);
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(fields(() => checkBody({ name: 'x', [name]: 1 }, schema))).toEqual([
        { field: name, problem: 'unknown field' },
      ]);
      expect(
        fields(() => checkQuery({ [name]: '1' }, object({}))),
        name,
      ).toHaveLength(1);
    }
  });
});

describe('checkQuery', () => {
  const query = object({ limit: { type: 'integer', minimum: 1, maximum: 200 }, q: { type: 'string' } });

  it('reads whole numbers, and refuses unknown, repeated and malformed parameters', () => {
    expect(checkQuery({ limit: '20', q: 'a' }, query)).toEqual({ limit: 20, q: 'a' });
    expect(fields(() => checkQuery({ limit: ['1', '2'] }, query))[0]!.problem).toBe('must be given once');
    expect(fields(() => checkQuery({ limit: '-1' }, query))[0]!.field).toBe('limit');
    expect(fields(() => checkQuery({ limit: '0' }, query))[0]!.problem).toBe('must be at least 1');
    expect(fields(() => checkQuery({ other: 'x' }, query))[0]!.problem).toBe('unknown query parameter');
  });

  it('refuses U+0000 in any string, in a query or a body, naming where', () => {
    const nul = 'must not contain a NUL character';
    expect(fields(() => checkQuery({ q: 'a\u0000' }, query))).toEqual([{ field: 'q', problem: nul }]);
    expect(fields(() => checkBody({ name: '\u0000', uris: ['ok', 'b\u0000'] }, schema))).toEqual([
      { field: 'name', problem: nul },
      { field: 'uris[1]', problem: nul },
    ]);
  });
});

describe('cursors', () => {
  it('round-trip, and refuse another listing, extra keys, wrong types and junk', () => {
    const cursor = encodeCursor('users', { after: 'alice' });
    expect(decodeCursor(cursor, 'users', { after: 'string' })).toEqual({ after: 'alice' });
    const bad = [
      cursor.replace(/.$/, '*'),
      encodeCursor('clients', { after: 'alice' }),
      encodeCursor('users', { after: 'alice', more: 1 }),
      encodeCursor('users', { after: 3 }),
      encodeCursor('users', { after: '' }),
      encodeCursor('users', { after: 'a\u0000' }),
      Buffer.from('not json').toString('base64url'),
    ];
    for (const c of bad)
      expect(fields(() => decodeCursor(c, 'users', { after: 'string' }))[0]!.field, c).toBe('cursor');
  });
});

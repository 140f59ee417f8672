// RFC 9110 §8.8.3 (entity tags) and §13.1.1 (If-Match: strong comparison, `*`), as the admin API reads them.
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { checkIfMatch, etagOf, ifVersionOf, parseIfMatch } from './preconditions.js';

const fieldsOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).body.fields;
  }
  throw new Error('did not throw');
};

describe('parseIfMatch', () => {
  it('reads nothing when the header is absent, and any version for *', () => {
    expect(parseIfMatch(undefined)).toBeNull();
    expect(parseIfMatch(' * ')).toEqual({ any: true });
  });

  it('reads the versions of strong tags, ignoring weak and foreign ones (they can never match)', () => {
    expect(parseIfMatch(etagOf(7))).toEqual({ any: false, versions: [7] });
    expect(parseIfMatch('"3", W/"4" , "x5",,"6"')).toEqual({ any: false, versions: [3, 6] });
    expect(parseIfMatch('W/"4"')).toEqual({ any: false, versions: [] });
    // No version column holds more than 2^31-1: such a tag names no version there can be.
    expect(parseIfMatch('"2147483647", "2147483648", "99999999999"')).toEqual({ any: false, versions: [2147483647] });
  });

  it('refuses what is no list of entity tags, naming the header', () => {
    for (const header of ['7', '"7', 'W/7', '', ' , ', '"a"b"']) {
      expect(
        fieldsOf(() => parseIfMatch(header)),
        header,
      ).toEqual([{ field: 'If-Match', problem: expect.any(String) }]);
    }
  });
});

describe('ifVersionOf', () => {
  const current = async () => 5;

  it('passes no version for no condition or *, the one named, and an impossible one when none can match', async () => {
    expect(await ifVersionOf(null, current)).toBeUndefined();
    expect(await ifVersionOf({ any: true }, current)).toBeUndefined();
    expect(await ifVersionOf({ any: false, versions: [4] }, current)).toBe(4);
    expect(await ifVersionOf({ any: false, versions: [] }, current)).toBe(-1);
  });

  it('among several versions, picks the current one if named', async () => {
    expect(await ifVersionOf({ any: false, versions: [4, 5] }, current)).toBe(5);
    expect(await ifVersionOf({ any: false, versions: [2, 3] }, current)).toBe(-1);
  });
});

describe('checkIfMatch', () => {
  it('lets the current version or * through and refuses any other with 412', () => {
    expect(() => checkIfMatch(null, 3)).not.toThrow();
    expect(() => checkIfMatch({ any: true }, 3)).not.toThrow();
    expect(() => checkIfMatch({ any: false, versions: [3] }, 3)).not.toThrow();
    try {
      checkIfMatch({ any: false, versions: [2] }, 3);
      throw new Error('did not throw');
    } catch (error) {
      expect((error as ApiError).status).toBe(412);
    }
  });
});

// RFC 6749 Appendix B (application/x-www-form-urlencoded) and §3.2 (parameters MUST NOT repeat).
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../core/errors.js';
import { decodeFormComponent, parseFormBody, parseJsonBody } from './body.js';

function expectInvalidRequest(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OAuthError);
  expect((error as OAuthError).code).toBe('invalid_request');
}

describe('parseFormBody', () => {
  it('returns no pairs for an empty body', () => {
    expect(parseFormBody('')).toEqual([]);
  });

  it('decodes a plain body into name/value pairs in order', () => {
    expect(parseFormBody('grant_type=password&username=johndoe&password=A3ddj3w')).toEqual([
      ['grant_type', 'password'],
      ['username', 'johndoe'],
      ['password', 'A3ddj3w'],
    ]);
  });

  it('decodes + as a space', () => {
    expect(parseFormBody('scope=read+write&a+b=c')).toEqual([
      ['scope', 'read write'],
      ['a b', 'c'],
    ]);
  });

  it('decodes %2B as a literal plus sign', () => {
    expect(parseFormBody('password=a%2Bb+c')).toEqual([['password', 'a+b c']]);
  });

  it("decodes the spec's example password with %25, %5E, %40 and %26", () => {
    expect(parseFormBody('username=johndoe&password=H%25bRUg%5EeaOZ%40HGabcLs7SOr9D1EL3%26')).toEqual([
      ['username', 'johndoe'],
      ['password', 'H%bRUg^eaOZ@HGabcLs7SOr9D1EL3&'],
    ]);
  });

  it('decodes percent-escapes as UTF-8', () => {
    expect(parseFormBody('username=%C3%A9l%C3%A8ve&password=%E2%82%AC%F0%9F%98%80')).toEqual([
      ['username', 'élève'],
      ['password', '€😀'],
    ]);
  });

  it('keeps repeated parameters, in order', () => {
    expect(parseFormBody('scope=a&grant_type=password&scope=b')).toEqual([
      ['scope', 'a'],
      ['grant_type', 'password'],
      ['scope', 'b'],
    ]);
  });

  it('treats a part without = as a name with an empty value', () => {
    expect(parseFormBody('a&b=1')).toEqual([
      ['a', ''],
      ['b', '1'],
    ]);
    expect(parseFormBody('a=')).toEqual([['a', '']]);
  });

  it('splits on the first = only', () => {
    expect(parseFormBody('password=a=b==')).toEqual([['password', 'a=b==']]);
  });

  it('skips empty parts between, before and after separators', () => {
    expect(parseFormBody('&&a=1&&b=2&')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('rejects a percent-escape that is not hexadecimal with invalid_request', () => {
    expectInvalidRequest(() => parseFormBody('password=%zz'));
  });

  it('rejects a truncated UTF-8 sequence with invalid_request', () => {
    expectInvalidRequest(() => parseFormBody('password=%E2%82'));
  });

  it('rejects a byte sequence that is not UTF-8 with invalid_request', () => {
    expectInvalidRequest(() => parseFormBody('password=%FF'));
    expectInvalidRequest(() => parseFormBody('password=%ED%A0%80')); // a UTF-16 surrogate
  });

  it('rejects a lone or incomplete % with invalid_request', () => {
    expectInvalidRequest(() => parseFormBody('password=abc%'));
    expectInvalidRequest(() => parseFormBody('password=abc%4'));
  });

  it('rejects a broken escape in a parameter name too', () => {
    expectInvalidRequest(() => parseFormBody('pass%word=x'));
  });
});

describe('decodeFormComponent', () => {
  it('decodes + and %XX together', () => {
    expect(decodeFormComponent('a+%2B+b')).toBe('a + b');
  });
});

describe('parseJsonBody', () => {
  it('turns a flat object of strings into pairs in order', () => {
    expect(parseJsonBody('{"grant_type":"password","username":"johndoe","password":"A3ddj3w"}')).toEqual([
      ['grant_type', 'password'],
      ['username', 'johndoe'],
      ['password', 'A3ddj3w'],
    ]);
  });

  it('accepts whitespace around tokens', () => {
    expect(parseJsonBody(' {\n  "a" : "1" ,\n  "b":"2"\n}\n')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('returns no pairs for an empty object', () => {
    expect(parseJsonBody('{}')).toEqual([]);
  });

  it('keeps a repeated key as two pairs', () => {
    expect(parseJsonBody('{"a":"1","a":"2"}')).toEqual([
      ['a', '1'],
      ['a', '2'],
    ]);
  });

  it('decodes escaped quotes and unicode escapes in keys and values', () => {
    expect(parseJsonBody('{"pa\\"ss":"x\\u0041"}')).toEqual([['pa"ss', 'xA']]);
  });

  it('decodes escaped backslashes, including one right before a closing quote', () => {
    expect(parseJsonBody('{"a\\\\":"b\\\\","c":"\\"\\\\\\""}')).toEqual([
      ['a\\', 'b\\'],
      ['c', '"\\"'],
    ]);
  });

  it('decodes control escapes and surrogate pairs', () => {
    expect(parseJsonBody('{"p":"a\\tb\\n\\/\\ud83d\\ude00"}')).toEqual([['p', 'a\tb\n/😀']]);
  });

  it('keeps empty strings as values', () => {
    expect(parseJsonBody('{"scope":"","a":"1"}')).toEqual([
      ['scope', ''],
      ['a', '1'],
    ]);
  });

  it('rejects a value that is an array', () => {
    expectInvalidRequest(() => parseJsonBody('{"scope":["read","write"]}'));
  });

  it('rejects a value that is a nested object', () => {
    expectInvalidRequest(() => parseJsonBody('{"a":{"b":"c"}}'));
  });

  it('rejects number, null and boolean values', () => {
    expectInvalidRequest(() => parseJsonBody('{"a":1}'));
    expectInvalidRequest(() => parseJsonBody('{"a":null}'));
    expectInvalidRequest(() => parseJsonBody('{"a":true}'));
    expectInvalidRequest(() => parseJsonBody('{"a":false}'));
  });

  it('rejects JSON that is not an object', () => {
    for (const body of ['[]', '["a","b"]', '"a"', '1', 'null', 'true']) {
      expectInvalidRequest(() => parseJsonBody(body));
    }
  });

  it('rejects invalid JSON', () => {
    for (const body of ['', '{', '{"a":"1",}', "{'a':'1'}", '{"a":"1"} x', 'grant_type=password']) {
      expectInvalidRequest(() => parseJsonBody(body));
    }
  });

  // A repeated key whose earlier value is not a string: JSON.parse keeps only the last value, so the
  // object looks flat and string-valued, but the body still carries a non-string parameter.
  it('rejects a repeated key whose earlier value is a number', () => {
    expectInvalidRequest(() => parseJsonBody('{"a":1,"a":"x"}'));
  });

  it('rejects a repeated key whose earlier value is a nested object', () => {
    expectInvalidRequest(() => parseJsonBody('{"password":{"x":"y"},"password":"z"}'));
  });
});

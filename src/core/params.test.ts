// RFC 6749 §3.2 (parameters MUST NOT repeat; empty values are omitted) and §5.2 (invalid_request).
import { describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { required, singleValued } from './params.js';

function catchError(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error('expected the call to throw');
}

describe('singleValued', () => {
  it('maps each parameter name to its value', () => {
    const params = singleValued([
      ['grant_type', 'password'],
      ['username', 'johndoe'],
      ['password', 'A3ddj3w'],
    ]);
    expect([...params]).toEqual([
      ['grant_type', 'password'],
      ['username', 'johndoe'],
      ['password', 'A3ddj3w'],
    ]);
  });

  it('returns an empty map for no parameters', () => {
    expect(singleValued([]).size).toBe(0);
  });

  it('rejects a repeated parameter with invalid_request naming a plain lowercase name', () => {
    const error = catchError(() =>
      singleValued([
        ['grant_type', 'password'],
        ['grant_type', 'refresh_token'],
      ]),
    );
    expect(error.code).toBe('invalid_request');
    expect(error.description).toBe('Duplicate grant_type parameter.');
  });

  it('rejects a repeated parameter even when the repeated values are identical', () => {
    const error = catchError(() =>
      singleValued([
        ['scope', 'read'],
        ['scope', 'read'],
      ]),
    );
    expect(error.code).toBe('invalid_request');
    expect(error.description).toBe('Duplicate scope parameter.');
  });

  it('rejects a repeated parameter even when one of the values is empty', () => {
    const error = catchError(() =>
      singleValued([
        ['username', ''],
        ['username', 'johndoe'],
      ]),
    );
    expect(error.code).toBe('invalid_request');
    expect(error.description).toBe('Duplicate username parameter.');
  });

  it('does not echo back a repeated name that is not a plain lowercase name', () => {
    for (const name of ['<script>alert(1)</script>', 'Grant_Type', 'x-y', 'a b', '', 'x'.repeat(41), 'é']) {
      const error = catchError(() =>
        singleValued([
          [name, '1'],
          [name, '2'],
        ]),
      );
      expect(error.code).toBe('invalid_request');
      expect(error.description).toBe('Duplicate parameter.');
    }
  });

  it('echoes a plain lowercase name of up to 40 characters', () => {
    const name = 'a'.repeat(40);
    const error = catchError(() =>
      singleValued([
        [name, '1'],
        [name, '2'],
      ]),
    );
    expect(error.description).toBe(`Duplicate ${name} parameter.`);
  });

  it('treats parameters sent without a value as omitted', () => {
    const params = singleValued([
      ['grant_type', 'password'],
      ['scope', ''],
      ['client_secret', ''],
    ]);
    expect(params.has('scope')).toBe(false);
    expect(params.has('client_secret')).toBe(false);
    expect(params.get('grant_type')).toBe('password');
    expect(params.size).toBe(1);
  });

  it('keeps values that are only whitespace', () => {
    expect(singleValued([['password', ' ']]).get('password')).toBe(' ');
  });

  it('treats parameter names case-sensitively', () => {
    const params = singleValued([
      ['scope', 'a'],
      ['Scope', 'b'],
    ]);
    expect(params.get('scope')).toBe('a');
    expect(params.get('Scope')).toBe('b');
  });
});

describe('required', () => {
  it('returns the value of a present parameter', () => {
    expect(required(new Map([['username', 'johndoe']]), 'username')).toBe('johndoe');
  });

  it('fails with invalid_request and oauthlib wording when the parameter is missing', () => {
    const error = catchError(() => required(new Map(), 'username'));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toBe('Request is missing username parameter.');
  });

  it('fails for a parameter that was sent empty, since empty means omitted', () => {
    const params = singleValued([['password', '']]);
    const error = catchError(() => required(params, 'password'));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toBe('Request is missing password parameter.');
  });
});

// RFC 6749 §2.3.1 (client password in HTTP Basic, form-urlencoded first), RFC 7617 (Basic),
// RFC 7235 §2.1 (case-insensitive scheme) and RFC 6750 §2.1 (Bearer).
import { describe, expect, it } from 'vitest';
import { bearerTokenOf } from '../core/protected-resource.js';
import { parseBasicAuthorization } from './credentials.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const basic = (text: string): string => `Basic ${b64(text)}`;

describe('parseBasicAuthorization', () => {
  it('returns null when there is no Authorization header', () => {
    expect(parseBasicAuthorization(undefined)).toBeNull();
  });

  it('returns null for another scheme such as Bearer', () => {
    expect(parseBasicAuthorization('Bearer mF_9.B5f-4.1JqM')).toBeNull();
    expect(parseBasicAuthorization(`Digest ${b64('id:secret')}`)).toBeNull();
  });

  it('decodes the id and secret of the RFC 6749 §2.3.1 example', () => {
    expect(parseBasicAuthorization('Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3')).toEqual({
      clientId: 's6BhdRkqt3',
      secretCandidates: ['7Fjfp0ZBr1KtDRbnfVdmIw'],
    });
  });

  it('treats the scheme name case-insensitively', () => {
    const expected = { clientId: 'id', secretCandidates: ['secret'] };
    expect(parseBasicAuthorization(`basic ${b64('id:secret')}`)).toEqual(expected);
    expect(parseBasicAuthorization(`BASIC ${b64('id:secret')}`)).toEqual(expected);
    expect(parseBasicAuthorization(`bAsIc ${b64('id:secret')}`)).toEqual(expected);
  });

  it('tolerates extra spaces around and after the scheme', () => {
    expect(parseBasicAuthorization(`  Basic   ${b64('id:secret')}  `)).toEqual({
      clientId: 'id',
      secretCandidates: ['secret'],
    });
  });

  it("returns 'malformed' for credentials that are not Base64", () => {
    expect(parseBasicAuthorization('Basic not*base64!')).toBe('malformed');
    expect(parseBasicAuthorization('Basic aWQ6c2VjcmV0===')).toBe('malformed');
    expect(parseBasicAuthorization('Basic aWQ6c2Vj cmV0')).toBe('malformed');
  });

  it("returns 'malformed' for Basic without credentials", () => {
    expect(parseBasicAuthorization('Basic')).toBe('malformed');
    expect(parseBasicAuthorization('Basic ')).toBe('malformed');
  });

  it("returns 'malformed' when the decoded credentials have no colon", () => {
    expect(parseBasicAuthorization(basic('idsecret'))).toBe('malformed');
  });

  it("returns 'malformed' when the decoded bytes are not UTF-8", () => {
    const bytes = Buffer.from([0x69, 0x64, 0x3a, 0xff, 0xfe]).toString('base64');
    expect(parseBasicAuthorization(`Basic ${bytes}`)).toBe('malformed');
    const latin1 = Buffer.from('id:caf\u00e9', 'latin1').toString('base64');
    expect(parseBasicAuthorization(`Basic ${latin1}`)).toBe('malformed');
  });

  it('accepts UTF-8 ids and secrets', () => {
    expect(parseBasicAuthorization(basic('clïent:sécret€'))).toEqual({
      clientId: 'clïent',
      secretCandidates: ['sécret€'],
    });
  });

  it('form-urldecodes the id and the secret, keeping the raw secret as a second candidate', () => {
    expect(parseBasicAuthorization(basic('a%3Ab:c%2Bd'))).toEqual({
      clientId: 'a:b',
      secretCandidates: ['c+d', 'c%2Bd'],
    });
  });

  it('gives the decoded-with-space and the raw secret as candidates for a secret with a raw +', () => {
    expect(parseBasicAuthorization(basic('id:ab+cd'))).toEqual({
      clientId: 'id',
      secretCandidates: ['ab cd', 'ab+cd'],
    });
  });

  it('decodes + in the client id as a space', () => {
    const parsed = parseBasicAuthorization(basic('my+client:s'));
    expect(parsed).toEqual({ clientId: 'my client', secretCandidates: ['s'] });
  });

  it('gives only the raw secret when it contains a % that is not a valid escape', () => {
    expect(parseBasicAuthorization(basic('id:100%sure'))).toEqual({
      clientId: 'id',
      secretCandidates: ['100%sure'],
    });
    expect(parseBasicAuthorization(basic('id:a+b%'))).toEqual({
      clientId: 'id',
      secretCandidates: ['a+b%'],
    });
  });

  it('keeps the raw client id when it contains a % that is not a valid escape', () => {
    expect(parseBasicAuthorization(basic('50%off:s'))).toEqual({ clientId: '50%off', secretCandidates: ['s'] });
  });

  it('gives a single candidate when decoding does not change the secret', () => {
    const parsed = parseBasicAuthorization(basic('id:7Fjfp0ZBr1KtDRbnfVdmIw'));
    expect(parsed).not.toBe('malformed');
    expect(parsed).not.toBeNull();
    expect((parsed as { secretCandidates: string[] }).secretCandidates).toHaveLength(1);
  });

  it('splits on the first colon only, so the secret may contain colons', () => {
    expect(parseBasicAuthorization(basic('id:se:cr:et'))).toEqual({
      clientId: 'id',
      secretCandidates: ['se:cr:et'],
    });
  });

  it('accepts an empty secret', () => {
    expect(parseBasicAuthorization(basic('id:'))).toEqual({ clientId: 'id', secretCandidates: [''] });
  });

  it('accepts an empty client id', () => {
    expect(parseBasicAuthorization(basic(':secret'))).toEqual({ clientId: '', secretCandidates: ['secret'] });
  });

  it('accepts unpadded Base64', () => {
    const unpadded = b64('id:secret1').replace(/=+$/, '');
    expect(parseBasicAuthorization(`Basic ${unpadded}`)).toEqual({ clientId: 'id', secretCandidates: ['secret1'] });
  });
});

describe('bearerTokenOf (the Bearer header parser every protected route uses)', () => {
  it('returns the token of a Bearer header', () => {
    expect(bearerTokenOf('Bearer mF_9.B5f-4.1JqM')).toBe('mF_9.B5f-4.1JqM');
  });

  it('treats the scheme name case-insensitively', () => {
    expect(bearerTokenOf('bearer abc')).toBe('abc');
    expect(bearerTokenOf('BEARER abc')).toBe('abc');
  });

  it('keeps base64 padding and token68 characters in the token', () => {
    expect(bearerTokenOf('Bearer a-b._~+/c==')).toBe('a-b._~+/c==');
  });

  it("returns '' for the Bearer scheme without a token", () => {
    expect(bearerTokenOf('Bearer')).toBe('');
    expect(bearerTokenOf('Bearer   ')).toBe('');
  });

  it('returns null when there is no Authorization header', () => {
    expect(bearerTokenOf(undefined)).toBeNull();
  });

  it('returns null for another scheme such as Basic', () => {
    expect(bearerTokenOf(basic('id:secret'))).toBeNull();
  });

  it('returns null for a header that has no scheme at all', () => {
    expect(bearerTokenOf('')).toBeNull();
    expect(bearerTokenOf('=abc')).toBeNull();
  });
});

describe('NUL in Basic credentials', () => {
  it('treats a client id or secret that decodes to U+0000 as malformed (PostgreSQL cannot hold it)', () => {
    const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    expect(parseBasicAuthorization(header('%00:'))).toBe('malformed');
    expect(parseBasicAuthorization(header('client:%00secret'))).toBe('malformed');
    expect(parseBasicAuthorization(header('client:secret'))).toEqual({
      clientId: 'client',
      secretCandidates: ['secret'],
    });
  });
});

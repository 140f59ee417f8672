import { describe, expect, it } from 'vitest';
import { SERVER_POLICY, type ClientPolicy } from '../types.js';
import { checkChallenge, isPkceValue, s256Challenge, verifierMatches } from './pkce.js';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const client = (pkce: ClientPolicy['pkce'], isPublic = false) => ({ isPublic, policy: { ...SERVER_POLICY, pkce } });

describe('PKCE verification (RFC 7636 §4.2, §4.6)', () => {
  it('computes the S256 challenge of Appendix B', () => {
    expect(s256Challenge(VERIFIER)).toBe(CHALLENGE);
  });

  it('matches S256 and plain, and nothing else', () => {
    expect(verifierMatches(VERIFIER, CHALLENGE, 'S256')).toBe(true);
    expect(verifierMatches(VERIFIER, VERIFIER, 'plain')).toBe(true);
    expect(verifierMatches(VERIFIER, CHALLENGE, 'plain')).toBe(false);
    expect(verifierMatches(CHALLENGE, CHALLENGE, 'S256')).toBe(false);
    expect(verifierMatches(`${VERIFIER.slice(0, -1)}j`, CHALLENGE, 'S256')).toBe(false);
  });

  it('refuses a verifier outside 43–128 unreserved characters (§4.1)', () => {
    expect(isPkceValue('a'.repeat(43))).toBe(true);
    expect(isPkceValue('a'.repeat(128))).toBe(true);
    expect(isPkceValue('a'.repeat(42))).toBe(false);
    expect(isPkceValue('a'.repeat(129))).toBe(false);
    expect(isPkceValue(`${'a'.repeat(42)}+`)).toBe(false);
    expect(isPkceValue(`${'a'.repeat(42)}=`)).toBe(false);
    // A short verifier whose plain challenge was stored anyway is still refused.
    expect(verifierMatches('short', 'short', 'plain')).toBe(false);
  });
});

describe('checkChallenge (RFC 7636 §4.3, §4.4.1)', () => {
  it('requires a challenge under the default policy, S256 and S256 plain', () => {
    for (const pkce of [null, 'S256', 'S256 plain'] as const) {
      expect(checkChallenge(client(pkce), undefined, undefined)).toEqual({
        ok: false,
        description: 'code_challenge required.',
      });
    }
  });

  it('lets a confidential client with optional PKCE leave it out, never a public one', () => {
    expect(checkChallenge(client('optional'), undefined, undefined)).toEqual({
      ok: true,
      codeChallenge: null,
      codeChallengeMethod: null,
    });
    expect(checkChallenge(client('optional', true), undefined, undefined).ok).toBe(false);
  });

  it('takes plain as the method when none is sent, so an S256-only client is refused', () => {
    expect(checkChallenge(client(null), CHALLENGE, undefined)).toMatchObject({ ok: false });
    expect(checkChallenge(client('S256 plain'), VERIFIER, undefined)).toEqual({
      ok: true,
      codeChallenge: VERIFIER,
      codeChallengeMethod: 'plain',
    });
  });

  it('accepts plain only under S256 plain', () => {
    expect(checkChallenge(client('S256'), VERIFIER, 'plain').ok).toBe(false);
    expect(checkChallenge(client('optional'), VERIFIER, 'plain').ok).toBe(false);
    expect(checkChallenge(client('S256 plain'), VERIFIER, 'plain').ok).toBe(true);
  });

  it('accepts S256 with a well-formed challenge', () => {
    expect(checkChallenge(client(null, true), CHALLENGE, 'S256')).toEqual({
      ok: true,
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
    });
  });

  it('refuses an unknown method, a malformed challenge and a method without a challenge', () => {
    expect(checkChallenge(client(null), CHALLENGE, 'S512').ok).toBe(false);
    expect(checkChallenge(client(null), 'too-short', 'S256').ok).toBe(false);
    expect(checkChallenge(client(null), `${CHALLENGE}=`, 'S256').ok).toBe(false);
    expect(checkChallenge(client('optional'), undefined, 'S256').ok).toBe(false);
  });
});

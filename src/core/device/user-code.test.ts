import { describe, expect, it } from 'vitest';
import { USER_CODE_ALPHABET, formatUserCode, newUserCode, normaliseUserCode } from './user-code.js';

describe('user codes (RFC 8628 §6.1)', () => {
  it('uses 20 consonants, no vowels and nothing ambiguous', () => {
    expect(USER_CODE_ALPHABET).toHaveLength(20);
    expect(new Set(USER_CODE_ALPHABET).size).toBe(20);
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY0-9]/);
  });

  it('draws 8 characters of the alphabet, each of them over many draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = newUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const c of code) seen.add(c);
    }
    expect(seen.size).toBe(20);
  });

  it('formats as XXXX-XXXX', () => {
    expect(formatUserCode('WDJBMJHT')).toBe('WDJB-MJHT');
  });

  it.each([
    ['WDJB-MJHT', 'WDJBMJHT'],
    ['wdjb-mjht', 'WDJBMJHT'],
    ['WdJb MjHt', 'WDJBMJHT'],
    [' wdjbmjht ', 'WDJBMJHT'],
    ['W-D-J-B-M-J-H-T', 'WDJBMJHT'],
  ])('normalises %j', (typed, normalised) => {
    expect(normaliseUserCode(typed)).toBe(normalised);
  });

  it.each([
    ['a vowel', 'WDJB-MJHA'],
    ['a digit', 'WDJB-MJH1'],
    ['other punctuation', 'WDJB.MJHT'],
    ['too few characters', 'WDJB-MJH'],
    ['too many characters', 'WDJB-MJHTT'],
    ['nothing', ''],
    ['a non-ASCII letter', 'WDJB-MJHŤ'],
    ['a very long input', '-'.repeat(100)],
  ])('refuses %s', (_what, typed) => {
    expect(normaliseUserCode(typed)).toBeNull();
  });
});

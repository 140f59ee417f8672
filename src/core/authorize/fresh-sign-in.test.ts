import { describe, expect, it } from 'vitest';
import { FRESH_SIGN_IN_SECONDS, needsFreshSignIn } from './fresh-sign-in.js';

const NOW = 1_800_000_000;
const signedInAgo = (seconds: number) => ({ createdAt: NOW - seconds });

describe('needsFreshSignIn', () => {
  const builtIn = { builtIn: true };

  it('lets a built-in client use a sign-in made within the window (the login form, then its 303)', () => {
    expect(FRESH_SIGN_IN_SECONDS).toBe(15);
    expect(needsFreshSignIn(builtIn, signedInAgo(0), NOW)).toBe(false);
    expect(needsFreshSignIn(builtIn, signedInAgo(FRESH_SIGN_IN_SECONDS), NOW)).toBe(false);
  });

  it('asks a built-in client for the password again once the sign-in is older than the window', () => {
    expect(needsFreshSignIn(builtIn, signedInAgo(FRESH_SIGN_IN_SECONDS + 1), NOW)).toBe(true);
    expect(needsFreshSignIn(builtIn, signedInAgo(8 * 3600), NOW)).toBe(true);
  });

  it('keeps single sign-on for every other client, however old the sign-in', () => {
    for (const client of [{}, { builtIn: false }]) {
      expect(needsFreshSignIn(client, signedInAgo(8 * 3600), NOW)).toBe(false);
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { BearerValidator } from '../core/bearer.js';
import { invalidToken, temporarilyUnavailable } from '../core/errors.js';
import type { Principal } from '../core/types.js';
import { cachedVerifier } from './cache.js';

const principal = (expiresAt: number): Principal => ({
  clientId: 'c',
  userId: 1,
  username: 'u',
  scope: ['read'],
  grantId: 'g',
  issuedAt: 0,
  expiresAt,
});

function fakeVerifier(answer: () => Promise<Principal>) {
  let calls = 0;
  const verifier: BearerValidator = {
    validate: () => {
      calls += 1;
      return answer();
    },
  };
  return { verifier, calls: () => calls };
}

describe('cachedVerifier', () => {
  it('serves a valid answer from the cache until the staleness bound, then asks again', async () => {
    let nowMs = 1_000_000;
    const inner = fakeVerifier(async () => principal(10_000));
    const cached = cachedVerifier(inner.verifier, { maxStalenessMs: 5000, now: () => nowMs });
    await cached.validate('t');
    nowMs += 4999;
    await cached.validate('t');
    expect(inner.calls()).toBe(1);
    nowMs += 1;
    await cached.validate('t');
    expect(inner.calls()).toBe(2);
  });

  it(
    'counts the bound from when the lookup started, so a slow lookup cannot outlive a revocation by more than ' +
      'the bound',
    async () => {
      let nowMs = 1_000_000;
      let release: (() => void) | undefined;
      // The first lookup hangs until released; later ones answer at once.
      const inner = fakeVerifier(() =>
        release === undefined
          ? new Promise<Principal>((resolve) => (release = () => resolve(principal(10_000))))
          : Promise.resolve(principal(10_000)),
      );
      const cached = cachedVerifier(inner.verifier, { maxStalenessMs: 5000, now: () => nowMs });
      const pending = cached.validate('t');
      nowMs += 3000; // the store was read at the start; the answer arrives 3 s later
      release!();
      await pending;
      nowMs += 2000; // 5 s after the lookup started: the entry is stale
      await cached.validate('t');
      expect(inner.calls()).toBe(2);
    },
  );

  it('never serves a cached token past its own expiry', async () => {
    let nowMs = 1_000_000;
    const inner = fakeVerifier(async () => principal(1_001)); // expires at 1 001 000 ms
    const cached = cachedVerifier(inner.verifier, { maxStalenessMs: 5000, now: () => nowMs });
    await cached.validate('t');
    nowMs = 1_001_000;
    await cached.validate('t');
    expect(inner.calls()).toBe(2);
  });

  it('caches invalid_token answers but not infrastructure failures', async () => {
    const nowMs = 1_000_000;
    let fail = invalidToken('bad');
    const inner = fakeVerifier(async () => {
      throw fail;
    });
    const cached = cachedVerifier(inner.verifier, { maxStalenessMs: 5000, now: () => nowMs });
    await expect(cached.validate('bad')).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(cached.validate('bad')).rejects.toMatchObject({ code: 'invalid_token' });
    expect(inner.calls()).toBe(1);
    fail = temporarilyUnavailable('down');
    await expect(cached.validate('other')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    await expect(cached.validate('other')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    expect(inner.calls()).toBe(3);
  });

  it('evicts the oldest entries beyond maxEntries', async () => {
    const inner = fakeVerifier(async () => principal(10_000));
    const cached = cachedVerifier(inner.verifier, { maxStalenessMs: 5000, maxEntries: 2, now: () => 1_000_000 });
    await cached.validate('a');
    await cached.validate('b');
    await cached.validate('c');
    await cached.validate('a');
    expect(inner.calls()).toBe(4);
  });
});

import { describe, expect, it } from 'vitest';
import { throttleKeyOfIp } from './keys.js';
import { createLoginThrottle } from './login-throttle.js';
import { DEFAULT_THROTTLE } from './settings.js';

describe('throttleKeyOfIp', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(throttleKeyOfIp('203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(throttleKeyOfIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(throttleKeyOfIp('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys every address of one IPv6 /64 alike, whatever its spelling', () => {
    const key = throttleKeyOfIp('2001:db8:1:2::a');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const ip of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0000:0000:0000:0001',
      '2001:db8:1:2::1.2.3.4',
    ]) {
      expect(throttleKeyOfIp(ip)).toBe(key);
    }
  });

  it('keys different /64s apart, including ones written with :: in the network half', () => {
    expect(throttleKeyOfIp('2001:db8:1:3::a')).toBe('2001:db8:1:3::/64');
    expect(throttleKeyOfIp('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleKeyOfIp('::1')).toBe('0:0:0:0::/64');
    expect(throttleKeyOfIp('fe80::1')).not.toBe(throttleKeyOfIp('fe81::1'));
  });
});

describe('clearing a lockout', () => {
  const settings = {
    ...DEFAULT_THROTTLE,
    maxFailuresPerUserIp: 2,
    backoffAfter: 100,
    maxFailuresPerIp: 4,
    lockoutSeconds: 600,
  };
  const fail = async (throttle: ReturnType<typeof createLoginThrottle>, username: string, ip: string) => {
    const decision = await throttle.reserve({ ip, username });
    if (!decision.allowed) return 'refused';
    return decision.reservation.failed();
  };

  it('failed() reports the subjects it locked, and clear() of that subject lets the next attempt through', async () => {
    const throttle = createLoginThrottle(settings, { keyPrefix: 'unit-clear' });
    expect(await fail(throttle, 'alice', '2001:db8:1:2::5')).toEqual({ lockedOut: false, locked: [] });
    expect(await fail(throttle, 'alice', '2001:db8:1:2::5')).toEqual({
      lockedOut: true,
      locked: [{ kind: 'user_ip', username: 'alice', clientId: null, ipKey: '2001:db8:1:2::/64', seconds: 600 }],
    });
    expect((await throttle.check({ ip: '2001:db8:1:2::77', username: 'alice' })).allowed).toBe(false);
    // Another subject's clear changes nothing.
    await throttle.clear!({ kind: 'user_ip', username: 'bob', clientId: null, ipKey: '2001:db8:1:2::/64' });
    expect((await throttle.check({ ip: '2001:db8:1:2::5', username: 'alice' })).allowed).toBe(false);
    await throttle.clear!({ kind: 'user_ip', username: 'alice', clientId: null, ipKey: '2001:db8:1:2::/64' });
    expect(await throttle.check({ ip: '2001:db8:1:2::5', username: 'alice' })).toEqual({ allowed: true });
    // The count starts from zero again: one more failure is no lockout.
    expect(await fail(throttle, 'alice', '2001:db8:1:2::5')).toEqual({ lockedOut: false, locked: [] });
  });

  it('clear() of an IP ends the lockout of the IP for every username', async () => {
    const throttle = createLoginThrottle(settings, { keyPrefix: 'unit-clear-ip' });
    for (const u of ['a', 'b', 'c']) await fail(throttle, u, '192.0.2.1');
    expect(await fail(throttle, 'd', '192.0.2.1')).toMatchObject({
      lockedOut: true,
      locked: [{ kind: 'ip', ipKey: '192.0.2.1' }],
    });
    expect((await throttle.check({ ip: '192.0.2.1', username: 'e' })).allowed).toBe(false);
    await throttle.clear!({ kind: 'ip', username: null, clientId: null, ipKey: '192.0.2.1' });
    expect(await throttle.check({ ip: '192.0.2.1', username: 'e' })).toEqual({ allowed: true });
  });
});

describe('reservations that end out of order, or do not fit', () => {
  const settings = {
    ...DEFAULT_THROTTLE,
    maxFailuresPerUserIp: 3,
    backoffAfter: 1,
    maxFailuresPerUser: 100,
    lockoutSeconds: 600,
  };

  it(
    'keeps a lockout when an earlier attempt of the burst ' + 'fails after it (its backoff cannot shorten it)',
    async () => {
      const throttle = createLoginThrottle(settings, { keyPrefix: 'unit-order' });
      const subjects = { ip: '198.51.100.9', username: 'carol' };
      const attempts = [];
      for (let i = 0; i < 3; i++) attempts.push(await throttle.reserve(subjects));
      const [first, second, third] = attempts.map((d) => (d.allowed ? d.reservation : null));
      expect((await third!.failed()).lockedOut).toBe(true); // rank 3 reaches the limit first
      await second!.failed(); // rank 2 ends later: a 2 s backoff
      await first!.failed(); // rank 1: below the backoff threshold's second step
      const next = await throttle.reserve(subjects);
      expect(next.allowed).toBe(false);
      expect(!next.allowed && next.retryAfterSeconds).toBeGreaterThan(500);
    },
  );

  it(
    'lets a two-form request try one form where the counter has room for one, instead of refusing it until the ' +
      'window ends',
    async () => {
      const throttle = createLoginThrottle(
        { ...DEFAULT_THROTTLE, maxFailuresPerClientIp: 3 },
        { keyPrefix: 'unit-weight', maxWaitMs: 50 },
      );
      const subjects = { ip: '198.51.100.10', clientId: 'legacy' };
      const two = await throttle.reserve(subjects, 2);
      expect(two.allowed && two.weight).toBe(2);
      if (two.allowed) expect((await two.reservation.failed()).lockedOut).toBe(false); // 2 of 3
      const again = await throttle.reserve(subjects, 2);
      expect(again.allowed && again.weight).toBe(1); // room for one form only
      if (again.allowed) expect((await again.reservation.failed()).lockedOut).toBe(true); // 3 of 3: locked
      expect((await throttle.reserve(subjects, 2)).allowed).toBe(false);
    },
  );

  it('caps one IPv6 /48 share of a username cross-IP count, however many /64s it rotates through', async () => {
    const throttle = createLoginThrottle(
      { ...settings, backoffAfter: 100, maxFailuresPerUser: 5, lockoutSeconds: 600 },
      { keyPrefix: 'unit-share' },
    );
    // Three /64s of one /48, three failures each: nine failures, but the /48 adds at most three to "dave".
    for (const net of ['2001:db8:7:1::', '2001:db8:7:2::', '2001:db8:7:3::']) {
      for (let i = 0; i < 3; i++) {
        const d = await throttle.reserve({ ip: `${net}${i + 1}`, username: 'dave' });
        expect(d.allowed).toBe(true);
        if (d.allowed) await d.reservation.failed();
      }
    }
    // dave from another network is not locked out.
    expect((await throttle.reserve({ ip: '2001:db8:99::1', username: 'dave' })).allowed).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { createLoginThrottle, DEFAULT_THROTTLE, throttleKeyOfIp } from './login-throttle.js';

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
    for (const ip of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0000:0000:0000:0001', '2001:db8:1:2::1.2.3.4']) {
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
  const settings = { ...DEFAULT_THROTTLE, maxFailuresPerUserIp: 2, backoffAfter: 100, maxFailuresPerIp: 4, lockoutSeconds: 600 };
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
    expect(await fail(throttle, 'd', '192.0.2.1')).toMatchObject({ lockedOut: true, locked: [{ kind: 'ip', ipKey: '192.0.2.1' }] });
    expect((await throttle.check({ ip: '192.0.2.1', username: 'e' })).allowed).toBe(false);
    await throttle.clear!({ kind: 'ip', username: null, clientId: null, ipKey: '192.0.2.1' });
    expect(await throttle.check({ ip: '192.0.2.1', username: 'e' })).toEqual({ allowed: true });
  });
});

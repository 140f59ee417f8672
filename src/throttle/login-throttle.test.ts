import { describe, expect, it } from 'vitest';
import { throttleKeyOfIp } from './login-throttle.js';

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

import { describe, expect, it } from 'vitest';
import { fromAllowedNetwork, networkMatcher, parseNetwork, parseNetworkList } from './networks.js';

describe('parseNetwork', () => {
  it.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3/32'],
    [' 192.0.2.77/26 ', '192.0.2.64/26'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['2001:0DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128'],
    ['::1', '::1/128'],
    ['::/0', '::/0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8/128'],
    ['::ffff:192.0.2.1', '::ffff:c000:201/128'],
  ])('normalises %s to %s', (text, expected) => {
    expect(parseNetwork(text)).toBe(expected);
  });

  it.each([
    '',
    'x',
    '1.2.3/8',
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3.4/-1',
    '256.1.1.1',
    '::1/129',
    'fe80::1%eth0',
    '1.2.3.4/8/8',
  ])('refuses %j', (text) => {
    expect(parseNetwork(text)).toBeNull();
  });
});

describe('parseNetworkList', () => {
  it('normalises every entry and drops duplicates', () => {
    expect(parseNetworkList('10.0.0.0/8, 10.9.0.0/8,::1')).toEqual({ networks: ['10.0.0.0/8', '::1/128'] });
  });
  it('names the first bad entry', () => {
    expect(parseNetworkList('10.0.0.0/8,nope,also')).toEqual({ invalid: 'nope' });
    expect(parseNetworkList(' , ')).toEqual({ invalid: ' , ' });
  });
});

describe('networkMatcher', () => {
  it('matches IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    const inside = networkMatcher(['127.0.0.1/32', '2001:db8::/32']);
    expect(inside('127.0.0.1')).toBe(true);
    expect(inside('::ffff:127.0.0.1')).toBe(true);
    expect(inside('127.0.0.2')).toBe(false);
    expect(inside('2001:db8:1::5')).toBe(true);
    expect(inside('2001:db9::1')).toBe(false);
    expect(inside('not an address')).toBe(false);
  });
  it('lets every address through when the client has no list', () => {
    expect(fromAllowedNetwork(null, '198.51.100.1')).toBe(true);
    expect(fromAllowedNetwork(['10.0.0.0/8'], '10.200.0.1')).toBe(true);
    expect(fromAllowedNetwork(['10.0.0.0/8'], '11.0.0.1')).toBe(false);
  });
});

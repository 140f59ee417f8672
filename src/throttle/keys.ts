import { isIPv6 } from 'node:net';

/**
 * The key an IP is counted under. IPv6 by its /64: one subscriber usually holds a whole /64 and can
 * rotate through it freely (RFC 6177 §2, RFC 7934), so counting single addresses would multiply every
 * limit by 2^64. IPv4-mapped IPv6 addresses count as the IPv4 address.
 */
export function throttleKeyOfIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail takes two groups; it lies in the interface half either way.
  const tailLength = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = ip.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailLength).fill('0')]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * The network whose share of a username's cross-IP count is capped: the IP itself for IPv4, the /48 for IPv6.
 * One home connection commonly holds a /56 (256 /64s) and often a /48: keyed by /64, one subscriber could
 * add the per-pair limit once per /64 and lock the user out everywhere.
 */
export function shareKeyOfIpKey(ipKey: string): string {
  const v6 = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):[0-9a-f]+::\/64$/.exec(ipKey);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : ipKey;
}

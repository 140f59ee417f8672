import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Allowed source networks of a client (`oauthd client update --allowed-networks`): CIDR blocks, IPv4 and IPv6.
 * Pure: no I/O, no clock.
 */

/** An IP address as 4 (IPv4) or 16 (IPv6) bytes, or null when it is not one. */
function addressBytes(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return null;
  let source = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(source);
  if (dotted) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) is two 16-bit groups.
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    source = `${source.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = source.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const all = tail === undefined ? front : [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function formatBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // RFC 5952 §4.2: the longest run (the first of equals) of two or more zero groups becomes '::'.
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i >= 2) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

/**
 * A CIDR block (`192.0.2.0/24`, `2001:db8::/32`) or a single address (a /32 or /128), normalised: the
 * address bits beyond the prefix cleared, IPv6 in its RFC 5952 form. Null when it is neither.
 */
export function parseNetwork(text: string): string | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const bytes = addressBytes(address);
  if (!bytes) return null;
  const bits = bytes.length * 8;
  const prefixText = slash < 0 ? String(bits) : trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > bits) return null;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return `${formatBytes(bytes)}/${prefix}`;
}

/**
 * Parses a comma-separated list of networks: the normalised list (duplicates dropped), or the first entry
 * that is not a network.
 */
export function parseNetworkList(text: string): { networks: string[] } | { invalid: string } {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const networks: string[] = [];
  for (const entry of entries) {
    const parsed = parseNetwork(entry);
    if (parsed === null) return { invalid: entry };
    if (!networks.includes(parsed)) networks.push(parsed);
  }
  return entries.length === 0 ? { invalid: text } : { networks };
}

export type NetworkMatcher = (ip: string) => boolean;

/** Whether an address is inside any of these normalised networks (an IPv4-mapped IPv6 address as its IPv4). */
export function networkMatcher(networks: readonly string[]): NetworkMatcher {
  const list = new BlockList();
  for (const network of networks) {
    const slash = network.lastIndexOf('/');
    const address = network.slice(0, slash);
    list.addSubnet(address, Number(network.slice(slash + 1)), isIPv4(address) ? 'ipv4' : 'ipv6');
  }
  return (ip) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return list.check(mapped[1]!, 'ipv4');
    if (isIPv4(ip)) return list.check(ip, 'ipv4');
    return isIPv6(ip) && list.check(ip, 'ipv6');
  };
}

const matchers = new WeakMap<readonly string[], NetworkMatcher>();

/**
 * Whether `ip` may reach the server as a client whose allowed networks are these (null: anywhere). The
 * matcher is built once per list: a client read through the client cache is the same object for a while.
 */
export function fromAllowedNetwork(networks: readonly string[] | null, ip: string): boolean {
  if (networks === null) return true;
  let matcher = matchers.get(networks);
  if (!matcher) {
    matcher = networkMatcher(networks);
    matchers.set(networks, matcher);
  }
  return matcher(ip);
}

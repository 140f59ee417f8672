/**
 * Allowed source networks of a client (`oauthd client update --allowed-networks`): CIDR blocks, IPv4 and IPv6.
 * Pure: no I/O, no clock, no node:net (core/ imports only core/ and node:crypto).
 */

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const GROUP = /^[0-9a-fA-F]{1,4}$/;

function ipv4Bytes(text: string): Uint8Array | null {
  const match = IPV4.exec(text);
  return match ? Uint8Array.from(match.slice(1, 5).map(Number)) : null;
}

/** The 16-bit groups of one side of an IPv6 address's `::`; a dotted IPv4 tail is two groups. */
function groupsOf(part: string, last: boolean): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    const v4 = last && i === pieces.length - 1 ? ipv4Bytes(piece) : null;
    if (v4) groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    else if (GROUP.test(piece)) groups.push(Number.parseInt(piece, 16));
    else return null;
  }
  return groups;
}

/** An IP address as 4 (IPv4) or 16 (IPv6, RFC 4291 §2.2 text forms) bytes, or null when it is not one. */
function addressBytes(text: string): Uint8Array | null {
  const v4 = ipv4Bytes(text);
  if (v4) return v4;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const front = groupsOf(halves[0]!, halves.length === 1);
  const back = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (!front || !back) return null;
  const zeros = 8 - front.length - back.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return null;
  const all = [...front, ...new Array<number>(halves.length === 1 ? 0 : zeros).fill(0), ...back];
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

interface Block {
  bytes: Uint8Array;
  prefix: number;
}

function inBlock(address: Uint8Array, { bytes, prefix }: Block): boolean {
  if (address.length !== bytes.length) return false;
  for (let i = 0; i < bytes.length && i * 8 < prefix; i++) {
    const keep = Math.min(8, prefix - i * 8);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((address[i]! & mask) !== bytes[i]) return false;
  }
  return true;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) as its IPv4 address; others as they are. */
function unmapped(address: Uint8Array): Uint8Array {
  const mapped = address.length === 16 && address.subarray(0, 10).every((b) => b === 0);
  return mapped && address[10] === 0xff && address[11] === 0xff ? address.subarray(12) : address;
}

/** Whether an address is inside any of these normalised networks (an IPv4-mapped IPv6 address as its IPv4). */
export function networkMatcher(networks: readonly string[]): NetworkMatcher {
  const blocks: Block[] = networks.map((network) => {
    const slash = network.lastIndexOf('/');
    return {
      bytes: addressBytes(network.slice(0, slash)) ?? new Uint8Array(0),
      prefix: Number(network.slice(slash + 1)),
    };
  });
  return (ip) => {
    const address = addressBytes(ip);
    if (!address) return false;
    const plain = unmapped(address);
    return blocks.some((block) => inBlock(plain, block) || inBlock(address, block));
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

import { randomBytes } from 'node:crypto';

/**
 * A grant's id: a UUID version 7 (RFC 9562 §5.7), 48 bits of creation time in milliseconds then 74 random bits.
 * Its text form sorts by creation time, so new grants, and the token-table index entries keyed by grant, are
 * appended at the end of their B-trees rather than at a random place (docs/design-notes.md, *Insertion-ordered
 * token keys*). Grant ids are internal (audit trail, admin); the time in them is the grant's `created_at`.
 */
export function newGrantId(nowMs: number): string {
  const b = randomBytes(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10 (RFC 9562 §4.1)
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

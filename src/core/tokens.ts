import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens oauthd mints: 6 bytes of mint time (milliseconds since the epoch, big-endian) followed by 27 random
 * bytes, 33 bytes = 44 URL-safe characters (base64url, no padding).
 *
 * - Entropy: the 27 random bytes are 216 bits, above the 160 bits that RFC 6749 §10.10 ("SHOULD be less than or
 *   equal to 2^(-160)") and RFC 6819 §5.1.4.2.2 ask. The time is not secret: it is the token's `iat`, which
 *   introspection (RFC 7662 §2.2) hands out anyway.
 * - Why the time: the store's key for a token (`tokenKey`) begins with it, so the keys of new tokens grow with
 *   time and every insert lands at the same end of the token tables' B-trees (one hot page, instead of a random
 *   page of a large index per insert: fewer pages written per commit, and the live part of a large store is its
 *   recent end). docs/design-notes.md, *Insertion-ordered token keys*.
 */
const TIME_BYTES = 6;
const RANDOM_BYTES = 27;
const TOKEN_BYTES = TIME_BYTES + RANDOM_BYTES;
/** The length of a minted token; only tokens of exactly this length get a time-prefixed key. */
export const TOKEN_LENGTH = 44;
/** base64url characters that encode the 6 time bytes exactly (6 bytes = 8 characters, no partial group). */
const TIME_CHARS = 8;

/**
 * Random bytes are drawn from the CSPRNG 128 tokens at a time (as Node's randomUUID does): one call into
 * OpenSSL per 128 tokens instead of one per token, a cost that showed in refresh profiles (docs/benchmarks.md).
 * Each token's bytes are zeroed as soon as they are encoded; the pool belongs to this process alone (cluster
 * workers are separate processes, not forks, and worker threads load their own copy of this module).
 */
const POOL_TOKENS = 128;
let pool = Buffer.alloc(0);
let offset = 0;

/** A new opaque token (44 characters, see above), minted at `nowMs` (read from the injected clock). Plaintext. */
export function mintToken(nowMs: number): string {
  if (offset + TOKEN_BYTES > pool.length) {
    pool = randomBytes(TOKEN_BYTES * POOL_TOKENS);
    offset = 0;
  }
  pool.writeUIntBE(nowMs, offset, TIME_BYTES); // over 6 of the pool's random bytes, which go unused
  const token = pool.toString('base64url', offset, offset + TOKEN_BYTES);
  pool.fill(0, offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
}

/** The SHA-256 digest of a string's UTF-8 bytes. */
export function sha256(value: string): Buffer {
  // One-shot crypto.hash (Node ≥ 20.12): no Hash object per call, cheaper than createHash on the hot path.
  return hash('sha256', value, 'buffer');
}

/**
 * The only form in which a token is stored or looked up (RFC 6819 §5.1.4.1.3: never the token itself).
 * - A token of oauthd's own length (44): its first 6 decoded bytes (the mint time), then its SHA-256 digest;
 *   38 bytes, ordered by mint time.
 * - Any other token (oauthd's tokens before the time prefix, 43 characters; tokens imported from
 *   django-oauth-toolkit, 30 by default): its SHA-256 digest, 32 bytes, as it was always stored.
 * A pure function of the token string, used alike where a token is stored and where it is looked up, so a key
 * never depends on where the token came from. The prefix of a 44-character string that was not minted here is
 * whatever its characters decode to; the digest after it still tells every token apart.
 */
export function tokenKey(token: string): Buffer {
  const digest = sha256(token);
  if (token.length !== TOKEN_LENGTH) return digest;
  const key = Buffer.alloc(TIME_BYTES + digest.length); // zeroed: what undecodable characters leave is fixed
  key.write(token.slice(0, TIME_CHARS), 0, TIME_BYTES, 'base64url');
  digest.copy(key, TIME_BYTES);
  return key;
}

/** Compares two strings in time that depends only on their (hashed) length, never on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

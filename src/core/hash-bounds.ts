/**
 * Upper bounds on the cost of verifying a stored password or client-secret hash.
 *
 * A stored hash carries its own cost parameters (iterations, memory, lanes, output length), so a hash that
 * came from elsewhere (`oauthd import django`) or was written into the database directly could make a
 * single login occupy a hashing slot for minutes: `pbkdf2_sha256$9999999$salt$<4 KiB hash>`, argon2 with
 * m = 1 GiB and t = 64, or p = 131072 (one thread per lane). The importer stores such a hash as unusable,
 * and every verifier refuses to run one (it does not match, without being computed); both ask
 * `checkHashBounds`.
 *
 * The bounds keep every default of oauthd (argon2id m = 7 MiB, t = 5, p = 1, and the earlier m = 19 MiB, t = 2),
 * of Django (PBKDF2 with up to 1,200,000 iterations and a 32-byte output in Django 6.0, argon2 m = 100 MiB,
 * t = 2, p = 8, bcrypt cost 12) and of django-oauth-toolkit inside them, with room to spare.
 */
export const HASH_BOUNDS = {
  pbkdf2MaxIterations: 3_000_000,
  /** PBKDF2's cost grows with the output length (one full run of the iterations per digest-sized block). */
  pbkdf2MaxOutputBytes: 64,
  argon2MaxMemoryKiB: 131_072,
  argon2MaxTimeCost: 16,
  /** node-argon2 starts one thread per lane. */
  argon2MaxParallelism: 16,
  argon2MaxOutputBytes: 64,
  /** Each step doubles the cost; bcryptjs runs on the main thread (yielding between rounds). */
  bcryptMaxCost: 14,
  /** Longer than any hash these formats produce; it bounds what the cost parameters do not (salts). */
  maxEncodedLength: 1024,
} as const;

/** The formats oauthd verifies, as `checkHashBounds` names them. */
export type HashFormat =
  | 'sha256' // generated client secrets: sha256$<base64url digest>, one SHA-256
  | 'argon2' // oauthd's own `$argon2id$…` (and `$argon2i$`, `$argon2d$`)
  | 'django_argon2' // `argon2$argon2id$…`
  | 'pbkdf2_sha256'
  | 'pbkdf2_sha1'
  | 'bcrypt_sha256'
  | 'bcrypt';

export type HashBoundsVerdict =
  | { within: true; format: HashFormat }
  /** `reason` is a stable phrase (no per-hash values), fit to count and to show an operator. */
  | { within: false; reason: string };

const PBKDF2 = /^(pbkdf2_sha256|pbkdf2_sha1)\$([1-9]\d{0,9})\$[^$]+\$([A-Za-z0-9+/]+={0,2})$/;
/** PHC parameters come in any order (argon2-cffi writes m,t,p; node-argon2 m,p,t): each of m, t, p once. */
const ARGON2 = new RegExp(
  String.raw`^\$argon2(?:id|i|d)\$(?:v=\d{1,3}\$)?([mtp]=\d{1,10},[mtp]=\d{1,10},[mtp]=\d{1,10})` +
    String.raw`\$[A-Za-z0-9+/]+\$([A-Za-z0-9+/]+)$`,
);
const BCRYPT = /^(bcrypt_sha256|bcrypt)\$\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SHA256 = /^sha256\$[A-Za-z0-9_-]{43}$/;

/** Bytes that `base64` (with or without `=` padding) decodes to. */
const base64Bytes = (base64: string): number => Math.floor((base64.replace(/=+$/, '').length * 6) / 8);

/**
 * Whether verifying `stored` costs at most what HASH_BOUNDS allows, and why not. Pure and cheap: it parses,
 * never hashes. Only a hash of a format oauthd verifies, with every cost parameter within bounds, is
 * `within`; anything else (an unusable `!` marker, an unknown or malformed format) is not, so a caller that
 * runs a hash only when this says `within` never runs an unbounded one.
 */
export function checkHashBounds(stored: string): HashBoundsVerdict {
  const verdict = costVerdict(stored);
  // After the cost parameters, so an operator is told about the iterations or the output length first.
  if (verdict.within && stored.length > HASH_BOUNDS.maxEncodedLength) {
    return { within: false, reason: `hash longer than ${HASH_BOUNDS.maxEncodedLength} characters` };
  }
  return verdict;
}

/** The patterns are linear-time, so parsing an overlong string first costs nothing worth bounding. */
function costVerdict(stored: string): HashBoundsVerdict {
  if (SHA256.test(stored)) return { within: true, format: 'sha256' };

  const pbkdf2 = PBKDF2.exec(stored);
  if (pbkdf2) {
    const algorithm = pbkdf2[1] as 'pbkdf2_sha256' | 'pbkdf2_sha1';
    if (+pbkdf2[2]! > HASH_BOUNDS.pbkdf2MaxIterations) {
      return { within: false, reason: `${algorithm} with more than ${HASH_BOUNDS.pbkdf2MaxIterations} iterations` };
    }
    if (base64Bytes(pbkdf2[3]!) > HASH_BOUNDS.pbkdf2MaxOutputBytes) {
      return {
        within: false,
        reason: `${algorithm} with an output longer than ${HASH_BOUNDS.pbkdf2MaxOutputBytes} bytes`,
      };
    }
    return { within: true, format: algorithm };
  }

  const django = stored.startsWith('argon2$');
  const argon2 = ARGON2.exec(django ? stored.slice('argon2'.length) : stored);
  const parameters = argon2 ? new Map(argon2[1]!.split(',').map((kv) => [kv[0]!, +kv.slice(2)])) : null;
  if (argon2 && parameters!.size === 3) {
    const [m, t, p] = [parameters!.get('m')!, parameters!.get('t')!, parameters!.get('p')!];
    if (m > HASH_BOUNDS.argon2MaxMemoryKiB)
      return { within: false, reason: `argon2 with more than ${HASH_BOUNDS.argon2MaxMemoryKiB} KiB of memory` };
    if (t > HASH_BOUNDS.argon2MaxTimeCost)
      return { within: false, reason: `argon2 with a time cost above ${HASH_BOUNDS.argon2MaxTimeCost}` };
    if (p > HASH_BOUNDS.argon2MaxParallelism)
      return { within: false, reason: `argon2 with a parallelism above ${HASH_BOUNDS.argon2MaxParallelism}` };
    if (base64Bytes(argon2[2]!) > HASH_BOUNDS.argon2MaxOutputBytes) {
      return { within: false, reason: `argon2 with an output longer than ${HASH_BOUNDS.argon2MaxOutputBytes} bytes` };
    }
    return { within: true, format: django ? 'django_argon2' : 'argon2' };
  }

  const bcrypt = BCRYPT.exec(stored);
  if (bcrypt) {
    const algorithm = bcrypt[1] as 'bcrypt_sha256' | 'bcrypt';
    if (+bcrypt[2]! > HASH_BOUNDS.bcryptMaxCost)
      return { within: false, reason: `${algorithm} with a cost above ${HASH_BOUNDS.bcryptMaxCost}` };
    return { within: true, format: algorithm };
  }

  if (stored === '' || stored.startsWith('!')) return { within: false, reason: 'unusable (never verifies)' };
  return { within: false, reason: 'not a hash format oauthd verifies' };
}

/**
 * The most one password or client-secret verification can cost inside core/hash-bounds.ts's bounds, on
 * this machine: each format verified at its bound, through the same code the server uses (a wrong password,
 * so the whole hash runs), `RUNS` times one after another, plus oauthd's own argon2id (the dummy hash every
 * failed login pays) for scale. Wall-clock time depends on what else the machine runs; the CPU time (all
 * of this process's threads: argon2 with p lanes runs p threads) does much less.
 *
 *   npm run build && node dist/bench/hash-worst-case.js [runs]
 *
 * The stored digests are random: verification costs the same whether or not they would match.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HASH_BOUNDS, checkHashBounds } from '../core/hash-bounds.js';
import { createArgon2Hasher, OWASP_ARGON2ID } from '../crypto/argon2-hasher.js';
import { verifyDjangoHash } from '../crypto/django-hashers.js';

const RUNS = Number(process.argv[2] ?? 3);
const b = HASH_BOUNDS;
const phc64 = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
const BCRYPT_SALT_AND_HASH = 'QG6SCf.6y71ZuiCADSm2yubgKt.aVVA96YqDIsYRoIvR6z5hwh25S';
const salt = 'Dj4ngoSaltOfTwentyTwo1';

const cases: { label: string; stored: string; verify: (stored: string) => Promise<unknown> }[] = [
  {
    label: `pbkdf2_sha256, ${b.pbkdf2MaxIterations} iterations, ${b.pbkdf2MaxOutputBytes}-byte output`,
    stored: `pbkdf2_sha256$${b.pbkdf2MaxIterations}$${salt}$${randomBytes(b.pbkdf2MaxOutputBytes).toString('base64')}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: `pbkdf2_sha1, ${b.pbkdf2MaxIterations} iterations, ${b.pbkdf2MaxOutputBytes}-byte output`,
    stored: `pbkdf2_sha1$${b.pbkdf2MaxIterations}$${salt}$${randomBytes(b.pbkdf2MaxOutputBytes).toString('base64')}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: 'pbkdf2_sha256, Django 6.0 default (1200000 iterations, 32 bytes)',
    stored: `pbkdf2_sha256$1200000$${salt}$${randomBytes(32).toString('base64')}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label:
      `argon2id, m=${b.argon2MaxMemoryKiB} KiB, t=${b.argon2MaxTimeCost}, p=${b.argon2MaxParallelism}, ` +
      `${b.argon2MaxOutputBytes}-byte output`,
    stored:
      `argon2$argon2id$v=19$m=${b.argon2MaxMemoryKiB},t=${b.argon2MaxTimeCost},p=${b.argon2MaxParallelism}$` +
      `${phc64(16)}$${phc64(b.argon2MaxOutputBytes)}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: `argon2id, m=${b.argon2MaxMemoryKiB} KiB, t=${b.argon2MaxTimeCost}, p=1`,
    stored: `argon2$argon2id$v=19$m=${b.argon2MaxMemoryKiB},t=${b.argon2MaxTimeCost},p=1$${phc64(16)}$${phc64(32)}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: 'argon2id, Django default (m=102400 KiB, t=2, p=8)',
    stored: `argon2$argon2id$v=19$m=102400,t=2,p=8$${phc64(16)}$${phc64(32)}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: `bcrypt_sha256, cost ${b.bcryptMaxCost} (bcryptjs, main thread)`,
    stored: `bcrypt_sha256$$2b$${b.bcryptMaxCost}$${BCRYPT_SALT_AND_HASH}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
  {
    label: 'bcrypt_sha256, Django default (cost 12)',
    stored: `bcrypt_sha256$$2b$12$${BCRYPT_SALT_AND_HASH}`,
    verify: (s) => verifyDjangoHash(s, 'wrong password'),
  },
];

async function main(): Promise<void> {
  const own = createArgon2Hasher();
  const ownHash = await own.hash('bench');
  cases.push({
    label:
      `oauthd's argon2id (m=${OWASP_ARGON2ID.memoryCostKiB} KiB, t=${OWASP_ARGON2ID.timeCost}, ` +
      `p=${OWASP_ARGON2ID.parallelism}; the dummy of a failed login)`,
    stored: ownHash,
    verify: (s) => own.verify(s, 'wrong password'),
  });
  console.log(
    `runs per case: ${RUNS}; ms (min / median / max) of wall-clock and CPU time; event loop: the longest stall ` +
      `seen meanwhile`,
  );
  for (const c of cases) {
    const bounds = checkHashBounds(c.stored);
    if (!bounds.within) throw new Error(`${c.label}: not within bounds (${bounds.reason})`);
    const times: number[] = [];
    const cpu: number[] = [];
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const result = await c.verify(c.stored);
      times.push(performance.now() - started);
      const used = process.cpuUsage(cpuStarted);
      cpu.push((used.user + used.system) / 1000);
      if (result === true || (typeof result === 'object' && result !== null && (result as { ok: boolean }).ok))
        throw new Error(`${c.label}: matched`);
    }
    loop.disable();
    const ms = (x: number) => Math.round(x).toString();
    const spread = (xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      return `${ms(sorted[0]!)} / ${ms(sorted[Math.floor(sorted.length / 2)]!)} / ${ms(sorted.at(-1)!)}`;
    };
    console.log(`${c.label}: wall ${spread(times)}; CPU ${spread(cpu)}; event loop ≤ ${ms(loop.max / 1e6)}`);
  }
}

await main();

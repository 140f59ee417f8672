/**
 * The `authorization_code` scenario's codes: each request redeems a code nobody used yet, so the codes are made
 * before the load, straight through the store port a running oauthd writes them with
 * (`createAuthorizationCode`: the key of a random code, bound to the bench client, a user, the redirect URI and
 * an S256 challenge of a random verifier, RFC 7636 §4.2). The sign-in and consent pages are not part of what is
 * measured: the scenario measures the token endpoint's exchange (RFC 6749 §4.1.3) alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '../config/config.js';
import { mintToken, tokenKey } from '../core/tokens.js';
import { createLogger } from '../server.js';
import { createServices } from '../services.js';
import type { Seed } from './target.js';

/** The redirect URI registered for the bench client; the exchange must repeat it (RFC 6749 §4.1.3). */
export const BENCH_REDIRECT_URI = 'https://bench.example/callback';
/** Codes live this long: the whole run, warm-up and top-ups included (oauthd's own live a minute). */
const CODE_LIFETIME_SECONDS = 3600;
/** Writes in flight at once while making codes (SQLite groups them into shared commits). */
const WRITES_AT_ONCE = 64;

/**
 * A guess at the exchanges one server process answers per second, to size the first batch of codes (warm-up and
 * measured run); the warm-up's real rate corrects it before the measured run (Scenarios.authorizationCode).
 */
const GUESSED_RATE_PER_PROCESS = 4000;

export const firstBatchSize = (seconds: number, processes: number): number =>
  Math.max(1000, Math.ceil(seconds * GUESSED_RATE_PER_PROCESS * processes));

export interface BenchCode {
  code: string;
  verifier: string;
}

/** Makes `count` codes for the bench client, spread over its users, with the environment the server runs with. */
export async function makeCodes(env: Record<string, string>, s: Seed, count: number): Promise<BenchCode[]> {
  const config = loadConfig(env);
  const services = await createServices(config, createLogger('silent'));
  const scope = [...config.policy.defaultScopes];
  const codes: BenchCode[] = [];
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(WRITES_AT_ONCE, count) }, async () => {
        while (next < count) {
          const i = next++;
          const code = mintToken(Date.now());
          const verifier = randomBytes(32).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          await services.store.createAuthorizationCode({
            hash: tokenKey(code),
            clientId: s.clientId,
            userId: s.userIds[i % s.userIds.length]!,
            redirectUri: BENCH_REDIRECT_URI,
            scope,
            codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
            codeChallengeMethod: 'S256',
            issuedAt: now,
            expiresAt: now + CODE_LIFETIME_SECONDS,
          });
          codes[i] = { code, verifier };
        }
      }),
    );
  } finally {
    await services.close();
  }
  return codes;
}

/**
 * The unused codes of a run, handed out one per request. Running out is a failure of the bench, not of the
 * server: `exhausted` counts the requests that found none (they are sent with a code that cannot work, so
 * they fail and show in the report).
 */
export class CodeSupply {
  exhausted = 0;
  private next = 0;

  constructor(
    private readonly codes: BenchCode[],
    private readonly make: (count: number) => Promise<BenchCode[]>,
  ) {}

  /** Codes handed out so far. */
  get taken(): number {
    return this.next;
  }

  get left(): number {
    return this.codes.length - this.next;
  }

  take(): BenchCode | null {
    const code = this.codes[this.next];
    if (code === undefined) {
      this.exhausted += 1;
      return null;
    }
    this.next += 1;
    return code;
  }

  /** Makes more codes until at least `count` are left (between the warm-up and the measured run). */
  async ensure(count: number): Promise<void> {
    if (this.left >= count) return;
    for (const code of await this.make(count - this.left)) this.codes.push(code);
  }
}

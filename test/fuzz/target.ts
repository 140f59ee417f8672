/** What the fuzz tests share: the run's size, and the server under fuzz with its real credentials. */
import type { Arbitrary } from 'fast-check';
import { expect } from 'vitest';
import { passwordGrant, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';
import type { FuzzSecrets } from './generators.js';
import type { FuzzCase } from './oracle.js';

const CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
/** Cases per run: OAUTHD_FUZZ_RUNS, else 10,400 with CI set and 1,500 otherwise. */
export const TOTAL_RUNS = Number(process.env.OAUTHD_FUZZ_RUNS ?? (CI ? 10_400 : 1_500));

/** Share of TOTAL_RUNS per property. Properties whose cases may reach argon2id get small shares. */
const SHARES = {
  randomBytes: 0.17,
  percent: 0.12,
  basic: 0.09,
  json: 0.11,
  repeated: 0.09,
  unicode: 0.12,
  headers: 0.12,
  methodsPaths: 0.11,
  bearer: 0.07,
} as const;

export const runsOf = (name: keyof typeof SHARES) => Math.max(25, Math.round(TOTAL_RUNS * SHARES[name]));

/** Generous per property, so that shrinking a counterexample can finish; a whole run normally takes far less. */
export const PROPERTY_TIMEOUT_MS = 120_000;

/** The server under fuzz: its real credentials, and how to send it generated cases. */
export interface FuzzTarget extends FuzzSecrets {
  /** Sends `runs` generated cases, after `examples` (edge cases every run must include); throws on a violation. */
  property(arb: Arbitrary<FuzzCase>, runs: number, examples?: FuzzCase[]): Promise<void>;
}

/**
 * Starts the server to fuzz, with the spec's sample client and user, and fills `secrets` in: a client with a
 * generated secret (cheap to verify, so deep cases do not all pay for argon2id) and the seed user's pair.
 */
export async function startFuzzTarget(secrets: FuzzSecrets): Promise<TestServer> {
  const server = await startTestServer({ OAUTHD_LOG_LEVEL: 'info' });
  await seedSpecSample(server);
  const created = await server.services.admin.createClient({ name: 'fuzz' });
  secrets.fuzzClient.clientId = created.client.clientId;
  secrets.fuzzClient.clientSecret = created.clientSecret!;
  const pair = await passwordGrant(server);
  expect(pair.status).toBe(200);
  secrets.live.access = pair.json.access_token as string;
  secrets.live.refresh = pair.json.refresh_token as string;
  return server;
}

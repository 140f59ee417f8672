/**
 * What each scenario's connections send. Every workload checks its answers (a 200 with the wrong body is a
 * failure too) and keeps what a real client keeps: a refreshing client always uses the refresh token it got
 * last, and the access token that came with it.
 */
import { BENCH_REDIRECT_URI, type CodeSupply } from './codes.js';
import type { PlannedRequest, Workload } from './load.js';
import { BENCH_PASSWORD, type Pair, type Seed } from './target.js';

const FORM = 'application/x-www-form-urlencoded';

/** A connection's tokens. `inFlight`: a refresh was sent and its answer has not come (yet). */
export interface Chain extends Pair {
  inFlight: boolean;
}

/**
 * Chains for `count` connections, with spares: a refresh whose answer never came (a timeout, or the end of a
 * run) may have rotated the token on the server, so that chain cannot go on; a spare takes its place and the
 * loss is counted (`broken`).
 */
export class Chains {
  broken = 0;
  constructor(
    readonly chains: Chain[],
    private readonly spares: Pair[],
  ) {}

  static of(pairs: Pair[], count: number): Chains {
    return new Chains(
      pairs.slice(0, count).map((p) => ({ ...p, inFlight: false })),
      pairs.slice(count),
    );
  }

  get(index: number): Chain {
    return this.chains[index % this.chains.length]!;
  }

  /** Before sending a refresh on `chain`: replace it if its previous refresh was never answered. */
  beforeRefresh(chain: Chain): void {
    if (chain.inFlight) this.replace(chain);
    chain.inFlight = true;
  }

  replace(chain: Chain): void {
    this.broken += 1;
    this.swap(chain);
  }

  private swap(chain: Chain): void {
    const spare = this.spares.pop();
    // Without a spare the chain goes on with its last token; the failures that follow are reported.
    if (spare) Object.assign(chain, spare);
    chain.inFlight = false;
  }

  /** Chains left waiting when a run ended (their answers were dropped), to repair before the next run. */
  unanswered(): Chain[] {
    return this.chains.filter((c) => c.inFlight);
  }

  /** Gives the unanswered chains fresh tokens (not counted as broken: ending a run drops answers). */
  async repair(fresh: (count: number) => Promise<Pair[]>): Promise<void> {
    const lost = this.unanswered();
    if (lost.length === 0) return;
    const pairs = await fresh(lost.length);
    for (const [i, chain] of lost.entries()) Object.assign(chain, pairs[i]!, { inFlight: false });
  }

  /** Takes in the answer to a refresh. */
  answered(chain: Chain, status: number, body: string): boolean {
    chain.inFlight = false;
    if (status !== 200) {
      // The chain is dead (reuse revoked its family, or the store failed): go on with a spare. The failed
      // request is reported as a non-2xx answer.
      this.swap(chain);
      return false;
    }
    const json = JSON.parse(body) as { access_token?: string; refresh_token?: string };
    if (!json.access_token || !json.refresh_token) return false;
    chain.access = json.access_token;
    chain.refresh = json.refresh_token;
    return true;
  }
}

export interface Target {
  seed: Seed;
  /** Access tokens from --preload; when present, validate and introspect draw from them at random. */
  sample: string[] | null;
  /** Unused authorization codes, made before the run; null when the authorization_code scenario is not run. */
  codes?: CodeSupply | null;
}

function tokenRequest(s: Seed, body: string, kind: string): PlannedRequest {
  return {
    kind,
    method: 'POST',
    path: '/o/token/',
    headers: { 'content-type': FORM, authorization: s.authorization },
    body,
  };
}

function passwordRequest(s: Seed, index: number): PlannedRequest {
  const username = s.usernames[index % s.usernames.length]!;
  return tokenRequest(
    s,
    new URLSearchParams({ grant_type: 'password', username, password: BENCH_PASSWORD }).toString(),
    'password',
  );
}

function refreshRequest(s: Seed, chain: Chain): PlannedRequest {
  return tokenRequest(s, `grant_type=refresh_token&refresh_token=${chain.refresh}`, 'refresh');
}

function clientCredentialsRequest(s: Seed): PlannedRequest {
  return tokenRequest(s, 'grant_type=client_credentials', 'client_credentials');
}

function validateRequest(token: string): PlannedRequest {
  return { kind: 'validate', method: 'GET', path: '/o/userinfo/', headers: { authorization: `Bearer ${token}` } };
}

function introspectRequest(s: Seed, token: string): PlannedRequest {
  return {
    kind: 'introspect',
    method: 'POST',
    path: '/o/introspect/',
    headers: { 'content-type': FORM, authorization: s.authorization },
    body: `token=${token}&token_type_hint=access_token`,
  };
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;

const issued = (status: number, body: string) =>
  status === 200 && body.includes('"access_token"') && body.includes('"refresh_token"');

/** `password`: password grants, each connection for its own user. */
export function passwordWorkload(t: Target): Workload<{ index: number }> {
  return {
    connection: (index) => ({ index }),
    next: (state) => passwordRequest(t.seed, state.index),
    answer: (_state, _kind, status, body) => issued(status, body),
  };
}

/** `refresh`: each connection refreshes in a chain, always with the refresh token it got last. */
export function refreshWorkload(t: Target, chains: Chains): Workload<Chain> {
  return {
    connection: (index) => chains.get(index),
    next(chain) {
      chains.beforeRefresh(chain);
      return refreshRequest(t.seed, chain);
    },
    answer: (chain, _kind, status, body) => chains.answered(chain, status, body),
  };
}

/**
 * `client_credentials`: machine clients asking for tokens (RFC 6749 §4.4): client authentication and one grant
 * plus one access token written per request, and no refresh token in the answer (§4.4.3).
 */
export function clientCredentialsWorkload(t: Target): Workload<null> {
  return {
    connection: () => null,
    next: () => clientCredentialsRequest(t.seed),
    answer: (_state, _kind, status, body) =>
      status === 200 && body.includes('"access_token"') && !body.includes('"refresh_token"'),
  };
}

/**
 * `authorization_code`: each request exchanges a fresh code with its PKCE verifier (RFC 6749 §4.1.3, RFC 7636
 * §4.5), the bench client authenticating with Basic: a grant and a token pair written per request.
 */
export function authorizationCodeWorkload(t: Target, codes: CodeSupply): Workload<null> {
  return {
    connection: () => null,
    next() {
      // Out of codes: a code that cannot work, so the request fails and the shortage shows in the report.
      const c = codes.take() ?? { code: 'none-left', verifier: 'none-left' };
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code: c.code,
        redirect_uri: BENCH_REDIRECT_URI,
        code_verifier: c.verifier,
      });
      return tokenRequest(t.seed, body.toString(), 'authorization_code');
    },
    answer: (_state, _kind, status, body) => issued(status, body),
  };
}

/** `validate`: GET /o/userinfo/ with a bearer token (the connection's own, or a preloaded one at random). */
export function validateWorkload(t: Target, chains: Chains): Workload<Chain> {
  return {
    connection: (index) => chains.get(index),
    next: (chain) => validateRequest(t.sample ? pick(t.sample) : chain.access),
    answer: (_chain, _kind, status, body) => status === 200 && body.includes('"username"'),
  };
}

/** `introspect`: RFC 7662 calls by the token's own client, for a live access token. */
export function introspectWorkload(t: Target, chains: Chains): Workload<Chain> {
  return {
    connection: (index) => chains.get(index),
    next: (chain) => introspectRequest(t.seed, t.sample ? pick(t.sample) : chain.access),
    answer: (_chain, _kind, status, body) => status === 200 && body.includes('"active":true'),
  };
}

/**
 * `mixed`: 90 % validate, 9 % refresh, 1 % password, drawn per request. A connection validates with the access
 * token of its latest refresh (a refresh revokes the access token it replaces).
 */
export function mixedWorkload(t: Target, chains: Chains): Workload<Chain & { index: number }> {
  let opened = 0;
  return {
    connection: (index) => Object.assign(chains.get(index), { index: opened++ }),
    next(chain) {
      // An unanswered refresh (dropped at the end of a run, or timed out) leaves the chain unusable.
      if (chain.inFlight) chains.replace(chain);
      const draw = Math.random();
      if (draw < 0.9) return validateRequest(chain.access);
      if (draw < 0.99) {
        chains.beforeRefresh(chain);
        return refreshRequest(t.seed, chain);
      }
      return passwordRequest(t.seed, chain.index);
    },
    answer(chain, kind, status, body) {
      if (kind === 'refresh') return chains.answered(chain, status, body);
      if (kind === 'password') return issued(status, body);
      return status === 200 && body.includes('"username"');
    },
  };
}

/** The password flood of `flood`: like `password`, but 503 and 429 are load shedding, not failures. */
export const floodPasswordWorkload = passwordWorkload;

/** The ceiling: GET / on the bare node:http server. */
export function ceilingWorkload(): Workload<null> {
  return {
    connection: () => null,
    next: () => ({ kind: 'ceiling', method: 'GET', path: '/', headers: {} }),
    answer: (_state, _kind, status) => status === 200,
  };
}

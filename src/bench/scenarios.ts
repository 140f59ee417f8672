import { runLoad, type LoadResult, type Workload } from './load.js';
import { residentMemory, round2 } from './machine.js';
import { mb, type Row, type ScenarioName, type StoreRun } from './report.js';
import { log, running } from './running.js';
import type { Settings } from './settings.js';
import { freshPairs, spawnCeiling, type ServerProcess } from './target.js';
import {
  Chains,
  authorizationCodeWorkload,
  ceilingWorkload,
  clientCredentialsWorkload,
  floodPasswordWorkload,
  introspectWorkload,
  mixedWorkload,
  passwordWorkload,
  refreshWorkload,
  validateWorkload,
  type Target,
} from './workloads.js';

/** Short baseline measurements taken right before and after each scenario (see Scenarios.adjacent). */
export interface Probes {
  ceiling(): Promise<number>;
  kdf(): Promise<number>;
}

export /** Runs oauthd's scenarios against one server and reads the results into rows. */
class Scenarios {
  constructor(
    private readonly settings: Settings,
    private readonly server: ServerProcess,
    private readonly target: Target,
    private readonly probes: Probes,
  ) {}

  /**
   * Runs a scenario between two short baseline probes (the ceiling, or the KDF for password grants) and
   * records the higher of them on the row: its ratio is then against the machine as it was at that moment.
   */
  async adjacent(name: ScenarioName): Promise<Row> {
    // The smoke run (CI) has no figures to compare: it skips the probes.
    const probe = this.settings.smoke
      ? null
      : name === 'password'
        ? this.probes.kdf
        : name === 'flood'
          ? null
          : this.probes.ceiling;
    if (!probe) return this.run(name);
    const before = await probe();
    const row = await this.run(name);
    const after = await probe();
    return { ...row, adjacentBaseline: round2(Math.max(before, after)) };
  }

  private fresh = (count: number) => freshPairs(this.server.url, this.target.seed, count);

  private rssSampler() {
    let peak = 0;
    const sample = () => {
      const memory = residentMemory(this.server.pid);
      if (memory && memory.rssBytes > peak) peak = memory.rssBytes;
    };
    return { sample, peakMb: () => (peak === 0 ? null : mb(peak)) };
  }

  /** A row; its ratio is filled in at the end, against the best ceiling and KDF measurements (applyRatios). */
  private row(scenario: string, r: LoadResult, rssMb: number | null, ratioTo: 'ceiling' | 'kdf' | null): Row {
    return {
      scenario,
      requestsPerSecond: round2(r.requestsPerSecond),
      requests: r.requests,
      latencyMs: r.latencyMs,
      errors: r.errors,
      non2xx: r.non2xx,
      wrongAnswers: r.wrongAnswers,
      statusCodes: r.statusCodes,
      serverRssMb: rssMb,
      ratio: null,
      ratioTo,
    };
  }

  /** Warm-up (answers dropped), `between` (repairs), then the measured run with the server's RSS sampled. */
  private async measure<S>(
    workload: Workload<S>,
    between?: () => Promise<void>,
  ): Promise<{ result: LoadResult; rssMb: number | null }> {
    const base = { url: this.server.url, connections: this.settings.connections };
    if (this.settings.warmup > 0) {
      await runLoad({ ...base, seconds: this.settings.warmup }, workload);
      await between?.();
    }
    const rss = this.rssSampler();
    const result = await runLoad({ ...base, seconds: this.settings.duration, onTick: rss.sample }, workload);
    rss.sample();
    return { result, rssMb: rss.peakMb() };
  }

  async run(name: ScenarioName): Promise<Row> {
    const n = this.settings.connections;
    const t = this.target;
    switch (name) {
      case 'password': {
        const m = await this.measure(passwordWorkload(t));
        return this.row('password', m.result, m.rssMb, 'kdf');
      }
      case 'refresh': {
        const chains = Chains.of(await this.fresh(2 * n), n);
        const m = await this.measure(refreshWorkload(t, chains), () => chains.repair(this.fresh));
        return { ...this.row('refresh', m.result, m.rssMb, 'ceiling'), brokenChains: chains.broken };
      }
      case 'client_credentials': {
        const m = await this.measure(clientCredentialsWorkload(t));
        return this.row('client_credentials', m.result, m.rssMb, 'ceiling');
      }
      case 'authorization_code':
        return this.authorizationCode();
      case 'validate':
      case 'introspect': {
        const chains = Chains.of(await this.fresh(n), n);
        const m = await this.measure(name === 'validate' ? validateWorkload(t, chains) : introspectWorkload(t, chains));
        return this.row(name, m.result, m.rssMb, 'ceiling');
      }
      case 'mixed': {
        const chains = Chains.of(await this.fresh(2 * n), n);
        const m = await this.measure(mixedWorkload(t, chains), () => chains.repair(this.fresh));
        const parts = ['validate', 'refresh', 'password']
          .filter((kind) => m.result.byKind[kind])
          .map((kind) => {
            const k = m.result.byKind[kind]!;
            return {
              scenario: `mixed: ${kind}`,
              requestsPerSecond: round2(k.requests / m.result.seconds),
              requests: k.requests,
              latencyMs: k.latencyMs,
              errors: 0,
              non2xx: k.non2xx,
              wrongAnswers: k.wrongAnswers,
              statusCodes: k.statusCodes,
              serverRssMb: null,
              ratio: null,
              ratioTo: null,
            } satisfies Row;
          });
        return { ...this.row('mixed', m.result, m.rssMb, 'ceiling'), brokenChains: chains.broken, parts };
      }
      case 'flood':
        return this.flood();
    }
  }

  /**
   * `authorization_code`: the codes were made before the server started, for the whole run at a guessed rate;
   * after the warm-up, more are made if the rate it showed would use them up: three times what it used, pro rata,
   * as a warmed-up server answers faster than a cold one.
   */
  private async authorizationCode(): Promise<Row> {
    const codes = this.target.codes;
    if (!codes) throw new Error('the authorization_code scenario needs codes made before the run');
    const { warmup, duration, connections } = this.settings;
    const before = codes.taken;
    const m = await this.measure(authorizationCodeWorkload(this.target, codes), () => {
      const rate = (codes.taken - before) / warmup;
      codes.exhausted = 0; // a shortage in the warm-up is made up for here; only the measured run's counts
      return codes.ensure(Math.ceil(rate * duration * 3) + connections);
    });
    const row = this.row('authorization_code', m.result, m.rssMb, 'ceiling');
    if (codes.exhausted === 0) return row;
    log(`authorization_code: ${codes.exhausted} requests found no unused code left (failures of the bench)`);
    return { ...row, codesExhausted: codes.exhausted };
  }

  /**
   * `flood`: a password flood (closed loop on every connection) saturates hashing while 2 connections refresh
   * in chains and 2 validate, each stream at --flood-rate requests/s. What matters is the others' latency.
   */
  private async flood(): Promise<Row> {
    const { connections, floodRate, warmup, duration } = this.settings;
    const url = this.server.url;
    const refreshChains = Chains.of(await this.fresh(6), 2);
    const validateChains = Chains.of(await this.fresh(2), 2);
    const others = { url, connections: 2, connectionRate: Math.max(1, Math.round(floodRate / 2)) };
    const loads = (seconds: number, onTick?: () => void) =>
      Promise.all([
        runLoad({ url, connections, seconds, ...(onTick ? { onTick } : {}) }, floodPasswordWorkload(this.target)),
        runLoad({ ...others, seconds }, refreshWorkload(this.target, refreshChains)),
        runLoad({ ...others, seconds }, validateWorkload(this.target, validateChains)),
      ]);
    if (warmup > 0) {
      await loads(warmup);
      await refreshChains.repair(this.fresh);
    }
    const rss = this.rssSampler();
    const [password, refresh, validate] = await loads(duration, rss.sample);
    rss.sample();
    const shedCodes = ['503', '429'];
    const shed = shedCodes.reduce((sum, code) => sum + (password.statusCodes[code] ?? 0), 0);
    const passwordRow = { ...this.row('flood: password', password, null, 'kdf'), non2xx: password.non2xx - shed, shed };
    const refreshRow = { ...this.row('flood: refresh', refresh, null, null), brokenChains: refreshChains.broken };
    const validateRow = this.row('flood: validate', validate, null, null);
    const worst = (key: 'p50' | 'p90' | 'p99' | 'max') => Math.max(refresh.latencyMs[key], validate.latencyMs[key]);
    const statusCodes: Record<string, number> = {};
    for (const r of [password, refresh, validate]) {
      for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
    return {
      // The flood's own line: the others (refresh + validate), their worse percentiles; failures of all three.
      scenario: 'flood',
      requestsPerSecond: round2(refresh.requestsPerSecond + validate.requestsPerSecond),
      requests: refresh.requests + validate.requests,
      latencyMs: { p50: worst('p50'), p90: worst('p90'), p99: worst('p99'), max: worst('max') },
      errors: password.errors + refresh.errors + validate.errors,
      non2xx: passwordRow.non2xx + refresh.non2xx + validate.non2xx,
      wrongAnswers: password.wrongAnswers + refresh.wrongAnswers + validate.wrongAnswers,
      statusCodes,
      shed,
      serverRssMb: rss.peakMb(),
      ratio: null,
      ratioTo: null,
      parts: [passwordRow, refreshRow, validateRow],
    };
  }
}

export function applyRatios(stores: StoreRun[], kdfRate: number, ceilingRps: number): void {
  const apply = (row: Row) => {
    if (row.ratioTo !== null)
      row.ratio = Math.round((row.requestsPerSecond / (row.ratioTo === 'kdf' ? kdfRate : ceilingRps)) * 1000) / 1000;
    if (row.ratioTo !== null && row.adjacentBaseline)
      row.adjacentRatio = Math.round((row.requestsPerSecond / row.adjacentBaseline) * 1000) / 1000;
    row.parts?.forEach(apply);
  };
  for (const store of stores) store.scenarios.forEach(apply);
}

export async function measureCeiling(
  settings: Settings,
  workers: number,
  seconds: { warmup: number; duration: number } = { warmup: settings.warmup, duration: settings.duration },
): Promise<Row> {
  const server = await spawnCeiling(workers);
  running.add(server);
  try {
    const base = { url: server.url, connections: settings.connections };
    if (seconds.warmup > 0) await runLoad({ ...base, seconds: seconds.warmup }, ceilingWorkload());
    const r = await runLoad({ ...base, seconds: seconds.duration }, ceilingWorkload());
    return {
      scenario: 'ceiling',
      requestsPerSecond: round2(r.requestsPerSecond),
      requests: r.requests,
      latencyMs: r.latencyMs,
      errors: r.errors,
      non2xx: r.non2xx,
      wrongAnswers: r.wrongAnswers,
      statusCodes: r.statusCodes,
      serverRssMb: null,
      ratio: null,
      ratioTo: null,
    };
  } finally {
    await server.stop();
    running.delete(server);
  }
}

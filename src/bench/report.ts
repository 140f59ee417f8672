import type { DiskFlush } from './disk.js';
import type { KdfRate } from './kdf.js';
import type { Percentiles } from './load.js';
import type { Machine } from './machine.js';
import type { PreloadResult } from './preload.js';

export const SCENARIOS = [
  'password',
  'refresh',
  'client_credentials',
  'authorization_code',
  'validate',
  'introspect',
  'mixed',
  'flood',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One line of the table: a scenario, or a part of one (a kind of request in mixed, a stream in flood). */
export interface Row {
  scenario: string;
  requestsPerSecond: number;
  requests: number;
  latencyMs: Percentiles;
  /** Connection errors and timeouts. */
  errors: number;
  /** Non-2xx answers that are failures (load shedding in flood is counted in `shed` instead). */
  non2xx: number;
  /** 2xx answers with the wrong body; failures too. */
  wrongAnswers: number;
  statusCodes: Record<string, number>;
  /** flood's password stream: 503 (hash queue full) and 429 answers, expected when hashing is saturated. */
  shed?: number;
  /** Refresh chains that lost an answer (timeouts) and went on with a spare. */
  brokenChains?: number;
  /** authorization_code: requests sent without an unused code because the bench made too few (failures). */
  codesExhausted?: number;
  /** Largest resident memory of the server sampled during the measured run, in MiB. */
  serverRssMb: number | null;
  /** Throughput against the run's ceiling, the higher of its two full measurements (password: the raw KDF rate). */
  ratio: number | null;
  ratioTo: 'ceiling' | 'kdf' | null;
  /** The higher of two short probes of the same baseline taken right before and right after this scenario. */
  adjacentBaseline?: number;
  /** Throughput against adjacentBaseline: the machine as it was while this scenario ran. Targets use it. */
  adjacentRatio?: number | null;
  parts?: Row[];
}

export interface StoreRun {
  store: 'sqlite' | 'postgres';
  skipped?: string;
  preload?: Omit<PreloadResult, 'sampleAccessTokens'>;
  /** The server's peak resident memory over the whole run (VmHWM), summed over its processes, in MiB. */
  serverPeakRssMb?: number | null;
  /** How many processes the server ran as (a cluster primary and its workers), and the largest one's peak. */
  serverProcesses?: number | null;
  largestProcessPeakRssMb?: number | null;
  scenarios: Row[];
  profiles?: string[];
}

export interface Target {
  store: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Report {
  command: string;
  settings: {
    durationSeconds: number;
    warmupSeconds: number;
    connections: number;
    scenarios: ScenarioName[];
    preload: number;
    floodRatePerSecond: number;
    workers: { requested: number; used: number };
    hashConcurrency: number;
    /** Hashes in flight at once in the KDF measurement: workers × OAUTHD_HASH_CONCURRENCY. */
    kdfConcurrency: number;
    logLevel: string;
    /** Node.js flags the oauthd process was started with (--node-flags). */
    nodeFlags: string[];
  };
  machine: Machine;
  /** The higher of the KDF measurements (before and after the stores): password ratios are against it. */
  kdf: KdfRate;
  kdfRuns: number[];
  /** The higher of the ceiling measurements: the other ratios are against it. */
  ceiling: Row;
  ceilingRuns: number[];
  /** How long this disk takes to make a write durable: what every durable refresh waits for. */
  disk: DiskFlush;
  stores: StoreRun[];
  targets: Target[];
  notes: string[];
  /** No scenario had an error, a failing non-2xx or a wrong answer. */
  ok: boolean;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
export { mb };

const pct = (r: number | null) => (r === null ? '' : `${(r * 100).toFixed(r < 1 ? 1 : 0)} %`);
const num = (n: number) => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));

/** Failures of a row (its parts included in its own counts). */
export const failures = (row: Row) => row.errors + row.non2xx + row.wrongAnswers;

export function evaluateTargets(store: StoreRun): Target[] {
  const find = (name: string) => store.scenarios.find((r) => r.scenario === name);
  // The ratio against the baseline probed around the scenario when there is one (the machine as it was then),
  // with the run-wide ratio shown beside it.
  const ratioOf = (row: Row): number => row.adjacentRatio ?? row.ratio ?? 0;
  const shown = (row: Row): string =>
    row.adjacentRatio != null ? `${pct(row.adjacentRatio)} (run: ${pct(row.ratio)})` : pct(row.ratio);
  const targets: Target[] = [];
  const add = (target: string, measured: string, met: boolean) =>
    targets.push({ store: store.store, target, measured, met });
  const validate = find('validate');
  if (validate) {
    add('validate ≥ 50 % of the ceiling', shown(validate), ratioOf(validate) >= 0.5);
    add('validate p99 < 10 ms', `${validate.latencyMs.p99} ms`, validate.latencyMs.p99 < 10);
  }
  const introspect = find('introspect');
  if (introspect) add('introspect ≥ 40 % of the ceiling', shown(introspect), ratioOf(introspect) >= 0.4);
  const refresh = find('refresh');
  if (refresh) {
    const on = store.store === 'sqlite' ? '' : ' (set for SQLite)';
    add(`refresh ≥ 20 % of the ceiling${on}`, shown(refresh), ratioOf(refresh) >= 0.2);
    add(`refresh p99 < 15 ms${on}`, `${refresh.latencyMs.p99} ms`, refresh.latencyMs.p99 < 15);
  }
  const password = find('password');
  if (password) add('password ≥ 95 % of the raw KDF rate', shown(password), ratioOf(password) >= 0.95);
  const flood = find('flood');
  for (const part of flood?.parts ?? []) {
    if (part.scenario.endsWith('password')) continue;
    add(`${part.scenario}: p99 < 50 ms during the password flood`, `${part.latencyMs.p99} ms`, part.latencyMs.p99 < 50);
  }
  // Per server process: a cluster of N workers is N servers.
  const rss = store.largestProcessPeakRssMb ?? Math.max(0, ...store.scenarios.map((r) => r.serverRssMb ?? 0));
  const processes = store.serverProcesses ?? 1;
  const label =
    processes > 1
      ? `server RSS < 150 MB (peak of the largest of ${processes} processes)`
      : 'server RSS < 150 MB (peak over the run)';
  if (store.scenarios.length > 0) add(label, `${rss} MiB`, rss < 150);
  return targets;
}

function tableLines(rows: Row[]): string[] {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'errors',
    'non-2xx',
    'server RSS MiB',
    'ratio (run)',
    'ratio (adjacent)',
  ];
  const lines: string[][] = [];
  const push = (row: Row, indent: string) => {
    const non2xx = row.shed ? `${row.non2xx} (+${row.shed} shed)` : String(row.non2xx + row.wrongAnswers);
    lines.push([
      indent + row.scenario,
      num(row.requestsPerSecond),
      String(row.latencyMs.p50),
      String(row.latencyMs.p90),
      String(row.latencyMs.p99),
      String(row.errors),
      non2xx,
      row.serverRssMb === null ? '' : String(row.serverRssMb),
      row.ratio === null ? '' : `${pct(row.ratio)} of ${row.ratioTo === 'kdf' ? 'KDF' : 'ceiling'}`,
      row.adjacentRatio == null || !row.adjacentBaseline
        ? ''
        : `${pct(row.adjacentRatio)} of ${num(row.adjacentBaseline)}`,
    ]);
    for (const part of row.parts ?? []) push(part, `${indent}  `);
  };
  for (const row of rows) push(row, '');
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...lines.map(fmt),
  ];
}

/** The report as text: Markdown tables, so it can be pasted into docs/benchmarks.md as it is. */
export function renderText(report: Report): string {
  const m = report.machine;
  const s = report.settings;
  const out: string[] = [];
  out.push(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}; load average ` +
      `${m.loadAverage.start} at start, ${m.loadAverage.end ?? '?'} at end`,
  );
  out.push(`command: ${report.command}`);
  out.push(
    `settings: ${s.connections} connections, ${s.durationSeconds} s per scenario after ${s.warmupSeconds} s ` +
      `warm-up, closed loop, keep-alive; ` +
      `preload ${s.preload}; flood: others at ${s.floodRatePerSecond} req/s each; ` +
      `OAUTHD_HASH_CONCURRENCY=${s.hashConcurrency}; log level ${s.logLevel}; ` +
      `workers ${s.workers.used}` +
      `${s.workers.requested !== s.workers.used ? ` (${s.workers.requested} requested)` : ''}` +
      (s.nodeFlags.length > 0 ? `; server Node flags ${s.nodeFlags.join(' ')}` : ''),
  );
  const k = report.kdf;
  out.push(
    `KDF (raw, in the bench process): ${k.algorithm} m=${k.parameters.memoryCostKiB} KiB ` +
      `t=${k.parameters.timeCost} p=${k.parameters.parallelism}, ${k.concurrency} at once: ` +
      `${k.hashesPerSecond.toFixed(1)} hashes/s (measured before and after: ${report.kdfRuns.join(', ')}; the ` +
      `higher counts)`,
  );
  const c = report.ceiling;
  out.push(
    `ceiling (bare node:http, fixed JSON): ${num(c.requestsPerSecond)} req/s, p50 ${c.latencyMs.p50} ms, p99 ` +
      `${c.latencyMs.p99} ms (measured before and after: ${report.ceilingRuns.map(num).join(', ')}; the higher ` +
      `counts)`,
  );
  const d = report.disk;
  out.push(
    `disk (${d.directory}): fdatasync after a ${d.writeBytes / 1024} KiB append: p50 ${d.latencyMs.p50} ms, ` +
      `p90 ${d.latencyMs.p90} ms, p99 ${d.latencyMs.p99} ms (${d.flushes} in ${d.seconds.toFixed(1)} s); every ` +
      `durable refresh waits for at least one`,
  );
  for (const store of report.stores) {
    out.push('');
    if (store.skipped) {
      out.push(`${store.store}: skipped: ${store.skipped}`);
      continue;
    }
    const p = store.preload;
    out.push(
      `${store.store}` +
        (p && p.families > 0
          ? ` (preloaded ${p.families} token families in ${p.seconds.toFixed(1)} s: ` +
            `${Math.round(p.familiesPerSecond)}/s)`
          : '') +
        (store.serverPeakRssMb != null ? `, server peak RSS ${store.serverPeakRssMb} MiB` : '') +
        ((store.serverProcesses ?? 1) > 1
          ? ` over ${store.serverProcesses} processes (largest ${store.largestProcessPeakRssMb} MiB)`
          : ''),
    );
    out.push('');
    out.push(...tableLines(store.scenarios));
    for (const file of store.profiles ?? []) out.push(`CPU profile: ${file}`);
  }
  if (report.targets.length > 0) {
    out.push('');
    out.push('| store | target | measured | |');
    out.push('|:--|:--|--:|:--|');
    for (const t of report.targets)
      out.push(`| ${t.store} | ${t.target} | ${t.measured} | ${t.met ? 'met' : '**not met**'} |`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  out.push('');
  out.push(report.ok ? 'no errors, no failing answers' : 'FAILED: some scenario had errors, non-2xx or wrong answers');
  return `${out.join('\n')}\n`;
}

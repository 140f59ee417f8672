/**
 * The load generator: autocannon, closed loop (one request in flight per connection, the next one sent when
 * the answer arrives), keep-alive connections. A Workload decides each connection's next request from that
 * connection's own state and reads each answer back into it, which is what a refresh chain needs: a
 * connection always refreshes with the refresh token it received last.
 *
 * autocannon resets its per-request `context` after every request when there is only one request in the
 * list, so per-connection state lives here instead, bound to each connection in `setupClient`. Latencies are
 * recorded here too, in full resolution (autocannon's own histogram keeps whole milliseconds), per kind of
 * request, so a mixed run reports each kind separately.
 */
import autocannon from 'autocannon';

export interface PlannedRequest {
  /** What this request is, for the per-kind figures (e.g. validate, refresh, password). */
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Workload<S> {
  /** The state of the `index`-th connection of a run, created when autocannon opens it. */
  connection(index: number): S;
  /** The next request of a connection. */
  next(state: S): PlannedRequest;
  /** The answer to the request `next` planned last; false when a 2xx answer is not what was expected. */
  answer(state: S, kind: string, status: number, body: string): boolean;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface KindFigures {
  requests: number;
  latencyMs: Percentiles;
  statusCodes: Record<string, number>;
  non2xx: number;
  /** 2xx answers whose body was wrong (an inactive token at introspection, a grant without tokens…). */
  wrongAnswers: number;
}

export interface LoadResult extends KindFigures {
  seconds: number;
  requestsPerSecond: number;
  /** Connection errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number;
  timeouts: number;
  byKind: Record<string, KindFigures>;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Requests per second per connection; unset: as fast as answers come (closed loop). */
  connectionRate?: number;
  /** Called every 500 ms while the load runs (to sample the server's memory). */
  onTick?: () => void;
}

/** Exact percentiles (nearest rank) of a list of latencies in milliseconds. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const r = (n: number) => Math.round(n * 100) / 100;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(sorted[sorted.length - 1]!) };
}

interface KindRecord {
  latencies: number[];
  statusCodes: Record<string, number>;
  wrong: number;
}

function figures(records: KindRecord[]): KindFigures {
  const latencies = records.flatMap((r) => r.latencies);
  const statusCodes: Record<string, number> = {};
  for (const r of records)
    for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const non2xx = Object.entries(statusCodes).reduce((sum, [code, n]) => (code.startsWith('2') ? sum : sum + n), 0);
  return {
    requests: latencies.length,
    latencyMs: percentiles(latencies),
    statusCodes,
    non2xx,
    wrongAnswers: records.reduce((sum, r) => sum + r.wrong, 0),
  };
}

/** Runs one load and resolves with what was answered while it ran. */
export function runLoad<S>(options: LoadOptions, workload: Workload<S>): Promise<LoadResult> {
  const slots = new Map<unknown, { state: S; kind: string }>();
  const kinds = new Map<string, KindRecord>();
  const record = (kind: string): KindRecord => {
    let r = kinds.get(kind);
    if (!r) {
      r = { latencies: [], statusCodes: {}, wrong: 0 };
      kinds.set(kind, r);
    }
    return r;
  };
  let opened = 0;
  return new Promise<LoadResult>((resolve, reject) => {
    const ticker = options.onTick ? setInterval(options.onTick, 500) : undefined;
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        timeout: 10,
        ...(options.connectionRate ? { connectionRate: options.connectionRate } : {}),
        setupClient(client) {
          const slot = { state: workload.connection(opened++), kind: '' };
          slots.set(client, slot);
          client.setRequests([
            {
              setupRequest(request) {
                const planned = workload.next(slot.state);
                slot.kind = planned.kind;
                return {
                  ...request,
                  method: planned.method,
                  path: planned.path,
                  headers: planned.headers,
                  body: planned.body ?? '',
                };
              },
              onResponse(status, body) {
                const ok = workload.answer(slot.state, slot.kind, status, body);
                if (!ok && status >= 200 && status < 300) record(slot.kind).wrong += 1;
              },
            },
          ]);
        },
      },
      (error, result) => {
        if (ticker) clearInterval(ticker);
        if (error) {
          reject(error as Error);
          return;
        }
        const all = figures([...kinds.values()]);
        const byKind = Object.fromEntries([...kinds.entries()].map(([kind, r]) => [kind, figures([r])]));
        resolve({
          ...all,
          seconds: result.duration,
          requestsPerSecond: all.requests / result.duration,
          errors: result.errors,
          timeouts: result.timeouts,
          byKind,
        });
      },
    );
    instance.on('response', (client, statusCode, _bytes, responseTimeMs) => {
      const slot = slots.get(client);
      const r = record(slot?.kind ?? 'unknown');
      r.latencies.push(responseTimeMs);
      r.statusCodes[statusCode] = (r.statusCodes[statusCode] ?? 0) + 1;
    });
  });
}

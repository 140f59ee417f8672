import { Counter, type Registry } from 'prom-client';
import type { ClientUsage, ClientUsageStore } from '../core/ports.js';
import type { UsageRecorder } from '../core/token-endpoint.js';
import type { EpochSeconds, GrantType } from '../core/types.js';

/** The UTC day (days since the epoch) of an instant, as the store keys usage (store/rows.ts dayOf). */
const dayOf = (at: EpochSeconds): number => Math.floor(at / 86_400);

export interface ClientUsageCounter extends UsageRecorder {
  /** Adds what was counted since the last flush to the store; on failure keeps it for the next one. */
  flush(): Promise<void>;
  /** Stops the timer and flushes one last time (services close). */
  close(): Promise<void>;
}

export interface ClientUsageOptions {
  store: ClientUsageStore;
  registry: Registry;
  /** OAUTHD_USAGE_FLUSH_SECONDS; 0: no timer (a CLI process), only `flush` and `close` write. */
  flushSeconds: number;
  onError: (error: unknown) => void;
}

/**
 * Token requests per (client, grant type, UTC day), counted in memory and added to the store in one batch every
 * `flushSeconds` and at shutdown: no store write per request. Each process (each worker of `--workers N`)
 * flushes its own counts; the store adds them up. A crash loses at most the last interval's counts.
 *
 * Also `oauthd_client_token_requests_total{client_id,grant_type}`: one Prometheus series per client and grant
 * type in use (bounded by the registered clients, never by what a request names).
 */
export function createClientUsageCounter(options: ClientUsageOptions): ClientUsageCounter {
  const { store, flushSeconds, onError } = options;
  const requests = new Counter({
    name: 'oauthd_client_token_requests_total',
    help: 'Token requests of authenticated clients, any outcome, by client and grant type',
    labelNames: ['client_id', 'grant_type'],
    registers: [options.registry],
  });
  // The labelled child per client and grant: prom-client would hash the labels on every increment.
  const series = new Map<string, { inc(): void }>();
  let pending = new Map<string, ClientUsage>();

  const add = (rows: Iterable<ClientUsage>) => {
    for (const row of rows) {
      const key = `${row.clientId} ${row.grantType} ${row.day}`;
      const held = pending.get(key);
      if (!held) pending.set(key, { ...row });
      else {
        held.requests += row.requests;
        held.lastUsedAt = Math.max(held.lastUsedAt, row.lastUsedAt);
      }
    }
  };

  let flushing: Promise<void> = Promise.resolve();
  const flushOnce = async () => {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    try {
      await store.recordClientUsage(batch);
    } catch (error) {
      add(batch); // counted again at the next flush: recordClientUsage adds, nothing was written
      onError(error);
    }
  };
  // One flush at a time, so a slow store never has two batches of the same counts in flight.
  const flush = () => {
    flushing = flushing.then(flushOnce);
    return flushing;
  };

  const timer = flushSeconds > 0 ? setInterval(() => void flush(), flushSeconds * 1000) : undefined;
  timer?.unref();

  return {
    count(clientId: string, grantType: GrantType, at: EpochSeconds) {
      const key = `${clientId} ${grantType}`;
      let child = series.get(key);
      if (!child) {
        child = requests.labels(clientId, grantType);
        series.set(key, child);
      }
      child.inc();
      const day = dayOf(at);
      const held = pending.get(`${key} ${day}`);
      if (held) {
        held.requests += 1;
        held.lastUsedAt = Math.max(held.lastUsedAt, at);
      } else add([{ clientId, grantType, day, requests: 1, lastUsedAt: at }]);
    },
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}

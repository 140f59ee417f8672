import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ClientUsage } from '../core/ports.js';
import { createClientUsageCounter } from './client-usage.js';

/** A store that keeps what it is given, and fails while `failing` is set. */
function memoryUsageStore() {
  const batches: ClientUsage[][] = [];
  const state = { failing: false };
  return {
    batches,
    state,
    async recordClientUsage(usage: readonly ClientUsage[]) {
      if (state.failing) throw new Error('database down');
      batches.push(usage.map((u) => ({ ...u })));
    },
    async listClientUsage() {
      return batches.flat();
    },
  };
}

const DAY = 86_400;

describe('createClientUsageCounter', () => {
  it('adds up requests per client, grant type and UTC day, keeping the latest use, one batch a flush', async () => {
    const store = memoryUsageStore();
    const errors: unknown[] = [];
    const usage = createClientUsageCounter({
      store,
      registry: new Registry(),
      flushSeconds: 0,
      onError: (e) => errors.push(e),
    });
    usage.count('a', 'password', 10 * DAY + 5);
    usage.count('a', 'password', 10 * DAY + 9);
    usage.count('a', 'password', 11 * DAY + 1);
    usage.count('a', 'refresh_token', 10 * DAY + 7);
    usage.count('b', 'password', 10 * DAY + 3);
    expect(store.batches).toEqual([]); // nothing written per request
    await usage.flush();
    expect(store.batches).toHaveLength(1);
    expect(store.batches[0]).toEqual([
      { clientId: 'a', grantType: 'password', day: 10, requests: 2, lastUsedAt: 10 * DAY + 9 },
      { clientId: 'a', grantType: 'password', day: 11, requests: 1, lastUsedAt: 11 * DAY + 1 },
      { clientId: 'a', grantType: 'refresh_token', day: 10, requests: 1, lastUsedAt: 10 * DAY + 7 },
      { clientId: 'b', grantType: 'password', day: 10, requests: 1, lastUsedAt: 10 * DAY + 3 },
    ]);
    await usage.flush();
    expect(store.batches).toHaveLength(1); // an empty flush writes nothing
    expect(errors).toEqual([]);
  });

  it('keeps the counts of a failed flush for the next one, added to what came since', async () => {
    const store = memoryUsageStore();
    const errors: unknown[] = [];
    const usage = createClientUsageCounter({
      store,
      registry: new Registry(),
      flushSeconds: 0,
      onError: (e) => errors.push(e),
    });
    usage.count('a', 'password', 100);
    store.state.failing = true;
    await usage.flush();
    expect(errors).toHaveLength(1);
    usage.count('a', 'password', 200);
    store.state.failing = false;
    await usage.close();
    expect(store.batches).toEqual([[{ clientId: 'a', grantType: 'password', day: 0, requests: 2, lastUsedAt: 200 }]]);
  });

  it('counts oauthd_client_token_requests_total per client and grant type', async () => {
    const registry = new Registry();
    const usage = createClientUsageCounter({
      store: memoryUsageStore(),
      registry,
      flushSeconds: 0,
      onError: () => {},
    });
    usage.count('a', 'password', 1);
    usage.count('a', 'password', 2);
    usage.count('a', 'client_credentials', 3);
    const text = await registry.metrics();
    expect(text).toContain('oauthd_client_token_requests_total{client_id="a",grant_type="password"} 2');
    expect(text).toContain('oauthd_client_token_requests_total{client_id="a",grant_type="client_credentials"} 1');
  });
});

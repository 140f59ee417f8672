import type { Store } from '../core/ports.js';
import type { Client } from '../core/types.js';
import type { StoreOverrides } from './decorate.js';

export interface ClientCacheOptions {
  /** How long a client read from the store is reused; 0: every lookup reads the store. */
  ttlMs: number;
  /** Most clients remembered at once (an attacker sending random client ids cannot grow it: misses are not kept). */
  maxEntries?: number;
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number;
}

/**
 * Every token request, introspection and revocation authenticates its client, and clients change only through
 * the admin CLI, so a client read within the last `ttlMs` (OAUTHD_CLIENT_CACHE_MS) is reused. A change made
 * through this store object drops the entry at once; a change made by another process (the CLI, another
 * instance) is seen within `ttlMs`, which bounds how long a deleted client or a rotated-out secret can still
 * authenticate. Only clients found are kept, never misses. The overrides for decorateStore (store/decorate.ts);
 * null when the cache is off.
 */
export function clientCacheOverrides(options: ClientCacheOptions): StoreOverrides | null {
  if (options.ttlMs <= 0) return null;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const cache = new Map<string, { client: Client; until: number }>();

  const remember = (clientId: string, client: Client, at: number): void => {
    if (cache.size >= maxEntries && !cache.has(clientId)) cache.delete(cache.keys().next().value as string);
    // Shared by every request that hits: frozen, so none can change what the others see.
    Object.freeze(client.scopes);
    Object.freeze(client.grantTypes);
    cache.set(clientId, { client: Object.freeze(client), until: at + options.ttlMs });
  };
  // A write drops the entry before (no request reuses it meanwhile) and after (a read during the write may
  // have put the old row back).
  const dropAround = async <T>(clientId: string, write: () => Promise<T>): Promise<T> => {
    cache.delete(clientId);
    try {
      return await write();
    } finally {
      cache.delete(clientId);
    }
  };

  return (store: Store) => ({
    async findClient(clientId) {
      const hit = cache.get(clientId);
      const t = now();
      if (hit && hit.until > t) return hit.client;
      const client = await store.findClient(clientId);
      if (!client) {
        cache.delete(clientId);
        return null;
      }
      remember(clientId, client, t);
      return client;
    },
    async createClient(client) {
      cache.delete(client.clientId);
      return store.createClient(client);
    },
    deleteClient: (clientId, options) => dropAround(clientId, () => store.deleteClient(clientId, options)),
    updateClient: (clientId, changes, at, options) =>
      dropAround(clientId, () => store.updateClient(clientId, changes, at, options)),
    setClientSecret: (clientId, secretHash, at) =>
      dropAround(clientId, () => store.setClientSecret(clientId, secretHash, at)),
  });
}

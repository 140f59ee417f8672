import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewClient, Store } from '../core/ports.js';
import { clientCacheOverrides, type ClientCacheOptions } from './client-cache.js';
import { decorateStore } from './decorate.js';
import { openStore } from './store.js';

const client = (clientId: string, secretHash = 'sha256$one'): NewClient => ({
  clientId,
  name: clientId,
  secretHash,
  isPublic: false,
  grantTypes: ['password', 'refresh_token'],
  scopes: ['read'],
  createdAt: 1_700_000_000,
});

/** The store as services.ts decorates it, without the metrics advice. */
const withClientCache = (store: Store, options: ClientCacheOptions): Store =>
  decorateStore(store, null, clientCacheOverrides(options));

/** Two stores on one SQLite file: `cached` as the server holds it, `other` as the CLI or another instance. */
describe('clientCacheOverrides', () => {
  let dir: string;
  let raw: Store;
  let other: Store;
  let clock: number;
  let cached: Store;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-client-cache-'));
    raw = openStore(`sqlite:${join(dir, 'db.sqlite3')}`);
    await raw.migrate();
    other = openStore(`sqlite:${join(dir, 'db.sqlite3')}`);
    clock = 0;
    cached = withClientCache(raw, { ttlMs: 1000, now: () => clock });
  });
  afterEach(async () => {
    await raw.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a change made elsewhere only once the entry is older than the TTL', async () => {
    await other.createClient(client('app'));
    expect((await cached.findClient('app'))?.secretHash).toBe('sha256$one');
    await other.setClientSecret('app', 'sha256$two', 1_700_000_001);
    clock = 999;
    expect((await cached.findClient('app'))?.secretHash).toBe('sha256$one');
    clock = 1000;
    expect((await cached.findClient('app'))?.secretHash).toBe('sha256$two');
    await other.deleteClient('app');
    clock = 2001;
    expect(await cached.findClient('app')).toBeNull();
  });

  it('applies a change made through itself at once', async () => {
    await cached.createClient(client('app'));
    expect(await cached.findClient('app')).not.toBeNull();
    await cached.setClientSecret('app', 'sha256$two', 1_700_000_001);
    expect((await cached.findClient('app'))?.secretHash).toBe('sha256$two');
    await cached.deleteClient('app');
    expect(await cached.findClient('app')).toBeNull();
  });

  it('never remembers a miss: a client created elsewhere is found at once', async () => {
    expect(await cached.findClient('late')).toBeNull();
    await other.createClient(client('late'));
    expect(await cached.findClient('late')).not.toBeNull();
  });

  it('hands out frozen clients, so no request can change what the next one sees', async () => {
    await other.createClient(client('app'));
    const found = (await cached.findClient('app'))!;
    expect(Object.isFrozen(found)).toBe(true);
    expect(() => (found.scopes as string[]).push('write')).toThrow(TypeError);
  });

  it('keeps at most maxEntries clients', async () => {
    const small = withClientCache(raw, { ttlMs: 1000, maxEntries: 2, now: () => clock });
    for (const id of ['a', 'b', 'c']) await other.createClient(client(id));
    for (const id of ['a', 'b', 'c']) await small.findClient(id);
    // 'a' was evicted to make room for 'c': its deletion elsewhere shows at once.
    await other.deleteClient('a');
    await other.deleteClient('c');
    expect(await small.findClient('a')).toBeNull();
    expect(await small.findClient('c')).not.toBeNull();
  });

  it('with a TTL of 0 is the store itself', () => {
    expect(withClientCache(raw, { ttlMs: 0 })).toBe(raw);
  });
});

import { describe, expect, it } from 'vitest';
import { consoleServices, ensureConsoleClientRow, reachableUrl, withConsoleClient } from './console-origin.js';
import { CONSOLE_CLIENT_ID } from './core/console-client.js';
import { openStore } from './store/store.js';

describe("the console's origin", () => {
  it('reaches a wildcard host at the loopback and puts an IPv6 host in brackets', () => {
    expect(reachableUrl('0.0.0.0', 8001)).toBe('http://127.0.0.1:8001');
    expect(reachableUrl('::', 8001)).toBe('http://[::1]:8001');
    expect(reachableUrl('::1', 8001)).toBe('http://[::1]:8001');
    expect(reachableUrl('10.0.0.5', 8001)).toBe('http://10.0.0.5:8001');
  });

  it('is OAUTHD_CONSOLE_URL when set (the bound address does not replace it), else the admin listener', () => {
    const set = consoleServices({ admin: { host: '0.0.0.0', port: 8001, consoleUrl: 'https://ops.example/' } });
    set.setOrigin('http://127.0.0.1:9000');
    expect(set.redirectUri()).toBe('https://ops.example/console/callback');
    const own = consoleServices({ admin: { host: '127.0.0.1', port: 0, consoleUrl: null } });
    own.setOrigin('http://127.0.0.1:41000');
    expect(own.origin()).toBe('http://127.0.0.1:41000');
    expect(own.redirectUri()).toBe('http://127.0.0.1:41000/console/callback');
    expect(own.clientId).toBe(CONSOLE_CLIENT_ID);
  });
});

describe("the console client's row", () => {
  it('is written once, read as the built-in client, and left out of listings and counts', async () => {
    const stored = openStore('sqlite::memory:');
    await stored.migrate();
    await ensureConsoleClientRow(stored);
    await ensureConsoleClientRow(stored);
    const row = await stored.findClient(CONSOLE_CLIENT_ID);
    // On its own the row can do nothing: no redirect URI, no scope.
    expect(row).toMatchObject({ isPublic: true, scopes: [], policy: { redirectUris: null } });
    const store = withConsoleClient(stored, { origin: () => 'http://127.0.0.1:8001' });
    expect(await store.findClient(CONSOLE_CLIENT_ID)).toMatchObject({
      builtIn: true,
      scopes: ['oauthd:admin', 'oauthd:admin:read'],
      policy: { redirectUris: ['http://127.0.0.1:8001/console/callback'], skipConsent: true, pkce: 'S256' },
    });
    expect(await store.listClients()).toEqual([]);
    expect(await store.listClients({ limit: 1 })).toEqual([]);
    expect((await store.counts()).clients).toBe(0);
    await stored.close();
  });
});

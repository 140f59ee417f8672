import type { Config } from './config/config.js';
import { CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID, consoleClient } from './core/console-client.js';
import type { Store } from './core/ports.js';

/**
 * What the console needs to sign in through the authorization code flow: its built-in client's id and the one
 * redirect URI it is registered with, built from the console's origin.
 */
export interface ConsoleServices {
  clientId: string;
  /** `<origin>/console/callback`, the only redirect URI of the console's client (compared exactly). */
  redirectUri(): string;
  /** Where browsers reach the console: OAUTHD_CONSOLE_URL, else the admin listener's address. */
  origin(): string;
  /** The admin listener's address once bound (port 0 is only known then); ignored when OAUTHD_CONSOLE_URL is set. */
  setOrigin(url: string): void;
}

/** `http://host:port` a browser can open: a wildcard host is reached at the loopback, an IPv6 host in brackets. */
export function reachableUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' || host === '[::]' ? '::1' : host;
  const bracketed = reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable;
  return `http://${bracketed}:${port}`;
}

/** The console's origin and callback; `setOrigin` is for server.ts, once the admin listener is bound. */
export function consoleServices(config: Pick<Config, 'admin'>): ConsoleServices {
  const configured = config.admin.consoleUrl;
  let origin = (configured ?? reachableUrl(config.admin.host, config.admin.port)).replace(/\/+$/, '');
  return {
    clientId: CONSOLE_CLIENT_ID,
    redirectUri: () => `${origin}${CONSOLE_CALLBACK_PATH}`,
    origin: () => origin,
    setOrigin(url) {
      if (configured === null) origin = url.replace(/\/+$/, '');
    },
  };
}

const notConsole = (client: { clientId: string }): boolean => client.clientId !== CONSOLE_CLIENT_ID;

/**
 * The store as everyone sees it: `findClient(CONSOLE_CLIENT_ID)` is the console's built-in client, whatever
 * row holds that id (the row exists only so its codes, grants and tokens have a client to reference), and the
 * listings and counts leave that row out: it is no one's client to list, change or delete.
 */
export function withConsoleClient(store: Store, console: Pick<ConsoleServices, 'origin'>): Store {
  return {
    ...store,
    findClient: async (clientId) =>
      clientId === CONSOLE_CLIENT_ID ? consoleClient(console.origin()) : store.findClient(clientId),
    async listClients(query) {
      if (query === undefined) return (await store.listClients()).filter(notConsole);
      // One more than asked, so a page the row was taken out of is still full.
      const rows = await store.listClients({ ...query, limit: query.limit + 1 });
      return rows.filter(notConsole).slice(0, query.limit);
    },
    async counts() {
      const [counts, row] = await Promise.all([store.counts(), store.findClient(CONSOLE_CLIENT_ID)]);
      return { ...counts, clients: counts.clients - (row === null ? 0 : 1) };
    },
  };
}

/**
 * Codes, grants and tokens reference their client's row (a foreign key), so the console's client has one: a
 * public client with no redirect URI and no scope, which nothing can use on its own; `withConsoleClient` lays
 * the real definition over it. Written once; `exists` (another process, or an earlier start) is fine.
 */
export async function ensureConsoleClientRow(store: Pick<Store, 'createClient' | 'findClient'>): Promise<void> {
  if ((await store.findClient(CONSOLE_CLIENT_ID)) !== null) return;
  const placeholder = consoleClient('http://127.0.0.1');
  await store.createClient({
    ...placeholder,
    scopes: [],
    defaultScopes: null,
    policy: { ...placeholder.policy, redirectUris: null, skipConsent: null },
  });
}

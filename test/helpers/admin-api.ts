/**
 * The admin API (/admin/v1/ on the admin listener) as its callers use it: tokens from the public token endpoint
 * (client_credentials for an admin client, the password grant for an admin user), then JSON over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { basic, postToken, type TestServer } from './server.js';

export interface ApiResult {
  status: number;
  headers: Headers;
  /** The JSON body; null for an empty one (204). */
  json: any;
}

/** One admin API request: `body` is sent as JSON unless a string (sent as is, with its own content type). */
export async function api(
  server: TestServer,
  token: string | null,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...(token !== null ? { authorization: `Bearer ${token}` } : {}) };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${server.adminUrl}/admin/v1${path}`, {
    method,
    headers: { ...headers, ...options.headers },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === '' ? null : JSON.parse(text) };
}

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A confidential client allowed client_credentials with `scopes`, registered through the core (the CLI's path). */
export async function registerClient(server: TestServer, scopes: string): Promise<{ id: string; secret: string }> {
  const { client, clientSecret } = await server.services.admin.createClient({
    name: unique('ops'),
    grantTypes: ['client_credentials'],
    scopes,
  });
  return { id: client.clientId, secret: clientSecret! };
}

/** A client_credentials token with `scope` for a new client holding `clientScopes` (default: `scope`). */
export async function clientToken(server: TestServer, scope: string, clientScopes = scope): Promise<string> {
  const client = await registerClient(server, clientScopes);
  return tokenFor(server, client, scope);
}

export async function tokenFor(server: TestServer, client: { id: string; secret: string }, scope: string) {
  const result = await postToken(
    server,
    { grant_type: 'client_credentials', scope },
    { authorization: basic(client.id, client.secret) },
  );
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  return result.json.access_token as string;
}

/**
 * A user (an admin when `isAdmin`) and a password-grant token of it with `scope`, through a client that may be
 * granted the admin scopes: only the user's admin flag decides whether the token carries them.
 */
export async function userToken(
  server: TestServer,
  options: { isAdmin: boolean; scope?: string },
): Promise<{ username: string; clientId: string; token: string; status: number; json: Record<string, unknown> }> {
  const username = unique(options.isAdmin ? 'admin' : 'someone');
  const password = 'a-long-enough-password';
  await server.services.admin.createUser(username, password, { isAdmin: options.isAdmin });
  const { client, clientSecret } = await server.services.admin.createClient({
    name: unique('app'),
    grantTypes: ['password', 'refresh_token'],
    scopes: 'read oauthd:admin oauthd:admin:read',
  });
  const result = await postToken(
    server,
    { grant_type: 'password', username, password, scope: options.scope ?? 'oauthd:admin' },
    { authorization: basic(client.clientId, clientSecret!) },
  );
  const token = String(result.json.access_token ?? '');
  return { username, clientId: client.clientId, token, status: result.status, json: result.json };
}

/** The audit events the API lists for `query`, once the batched writer has written them. */
export async function auditEvents(server: TestServer, token: string, query: string): Promise<any[]> {
  await server.services.audit.flush();
  const result = await api(server, token, 'GET', `/audit-events?${query}`);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  return result.json.items as any[];
}

/**
 * The authorization code flow as a browser walks it, for the page tests: clients with redirect URIs, PKCE
 * pairs, the authorization URL, and sign-in and consent through the real forms.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ClientPolicy, GrantType } from '../../src/core/types.js';
import { type Browser, formsOf, type PageResponse } from './browser.js';
import { SEED, type TestServer } from './server.js';

export const WEB = { clientId: 'web-app', clientSecret: 'web-app-secret', redirectUri: 'https://app.example.com/cb' };

/** A confidential client for the code flow (admin-created, then given redirect URIs in the store). */
export async function createCodeClient(
  server: TestServer,
  client: { clientId: string; clientSecret: string; name?: string },
  policy: Partial<ClientPolicy>,
  grantTypes: GrantType[] = ['authorization_code', 'refresh_token'],
): Promise<void> {
  await server.services.admin.createClient({
    name: client.name ?? client.clientId,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    scopes: 'read write',
  });
  const updated = await server.services.store.updateClient(
    client.clientId,
    { grantTypes, policy },
    Math.floor(Date.now() / 1000),
  );
  expect(updated !== 'version_mismatch' && updated?.policy.redirectUris).toEqual(policy.redirectUris);
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(server: TestServer, params: Record<string, string>): string {
  return `${server.oauthUrl}/authorize/?${new URLSearchParams(params).toString()}`;
}

/** The usual request of WEB: code, read, a state and an S256 challenge. */
export function webRequest(server: TestServer, extra: Record<string, string> = {}) {
  const pkce = pkcePair();
  const state = randomBytes(8).toString('hex');
  const url = authorizeUrl(server, {
    response_type: 'code',
    client_id: WEB.clientId,
    redirect_uri: WEB.redirectUri,
    scope: 'read',
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url, state, pkce };
}

/** The origin-relative action of a page's form, made absolute. */
export const actionUrl = (server: TestServer, action: string) => new URL(action, server.url).toString();

/** Signs in through the login page shown at `url`; returns the answer to the POST (303 on success). */
export async function signInThrough(
  server: TestServer,
  browser: Browser,
  url: string,
  credentials: { username: string; password: string } = { username: SEED.username, password: SEED.password },
): Promise<PageResponse> {
  const page = await browser.get(url);
  expect(page.status).toBe(200);
  const [form] = formsOf(page.body);
  expect(form?.hidden.step).toBe('login');
  return browser.post(actionUrl(server, form!.action), { ...form!.hidden, ...credentials });
}

/** Posts the decision form of a consent page. */
export async function decide(
  server: TestServer,
  browser: Browser,
  consentPage: PageResponse,
  decision: 'allow' | 'deny',
): Promise<PageResponse> {
  const [form] = formsOf(consentPage.body);
  expect(form?.hidden.step).toBe('consent');
  return browser.post(actionUrl(server, form!.action), { ...form!.hidden, decision });
}

/** Exchanges a code at the token endpoint (RFC 6749 §4.1.3) with Basic client authentication. */
export async function exchangeCode(server: TestServer, code: string, verifier: string, client = WEB) {
  const response = await fetch(`${server.oauthUrl}/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The query parameters of a redirect to the client. */
export function redirectParams(location: string | null): Record<string, string> {
  expect(location).not.toBeNull();
  return Object.fromEntries(new URL(location!).searchParams);
}

/**
 * The authorization code grant at the token endpoint (RFC 6749 §4.1.3), for its integration tests: clients
 * created as `oauthd client create` would, codes issued by the authorization endpoint's own core (the request
 * checked, then approved) where the pages are not the point, or through the real pages where they are, and
 * exchanges over real HTTP.
 */
import { expect } from 'vitest';
import type { SignedInUser } from '../../src/core/authorize/api.js';
import { authorizeUrl, decide, pkcePair, redirectParams, signInThrough } from './authorize.js';
import { Browser } from './browser.js';
import { basic, type TestServer } from './server.js';

/** The public descriptions of invalid_grant, one per cause class (src/core/grants/authorization-code.ts). */
export const INVALID_CODE = 'The authorization code is invalid, expired, or was already used.';
export const REDIRECT_MISMATCH = 'The redirect_uri does not match the one of the authorization request.';
export const PKCE_MISMATCH = 'The code_verifier does not match the code_challenge.';

export interface FlowClient {
  clientId: string;
  /** Null for a public client: it sends client_id in the body and no secret. */
  clientSecret: string | null;
  redirectUris: string[];
}

/** Creates the client through the admin service (the CLI's path), with scopes `read write`. */
export async function createFlowClient(
  server: TestServer,
  client: FlowClient,
  options: { pkce?: string; grantTypes?: string[]; accessTokenTtl?: string } = {},
): Promise<void> {
  await server.services.admin.createClient({
    name: client.clientId,
    clientId: client.clientId,
    ...(client.clientSecret === null ? { isPublic: true } : { clientSecret: client.clientSecret }),
    grantTypes: options.grantTypes ?? ['authorization_code', 'refresh_token'],
    scopes: 'read write',
    policy: {
      redirectUris: client.redirectUris,
      ...(options.pkce ? { pkce: options.pkce } : {}),
      ...(options.accessTokenTtl ? { accessTokenTtl: options.accessTokenTtl } : {}),
    },
  });
}

/** A new user, as the pages know it once signed in. */
export async function createSignedInUser(server: TestServer, username: string): Promise<SignedInUser> {
  const user = await server.services.admin.createUser(username, `${username}-password-1`);
  return { userId: user.id, username: user.username };
}

/**
 * A code as the authorization endpoint issues it once the person allowed: `query` (response_type, client_id
 * and scope `read` added) checked by the same core as the pages, then approved for `user`. Returns the code
 * and the URL the browser was sent back to.
 */
export async function issueCode(
  server: TestServer,
  client: Pick<FlowClient, 'clientId'>,
  user: SignedInUser,
  query: Record<string, string>,
): Promise<{ code: string; redirectedTo: string }> {
  const flow = server.services.authorizationFlow;
  const pairs = Object.entries({ response_type: 'code', client_id: client.clientId, scope: 'read', ...query });
  const checked = await flow.check(pairs, server.url);
  if (!checked.ok) throw new Error(`authorization request refused: ${JSON.stringify(checked)}`);
  const redirectedTo = await flow.approve(checked.request, user, {
    issuer: server.url,
    ip: '127.0.0.1',
    consented: false,
  });
  const code = redirectParams(redirectedTo).code;
  expect(code).toEqual(expect.any(String));
  return { code: code!, redirectedTo };
}

/** A code with an S256 challenge for the client's first redirect URI; returns its verifier too. */
export async function issueS256Code(
  server: TestServer,
  client: FlowClient,
  user: SignedInUser,
): Promise<{ code: string; verifier: string }> {
  const pkce = pkcePair();
  const { code } = await issueCode(server, client, user, {
    redirect_uri: client.redirectUris[0]!,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  return { code, verifier: pkce.verifier };
}

/**
 * A code through the real pages: the login form, then consent (Allow) when asked. `scope` is requested with an
 * S256 challenge and the client's first redirect URI.
 */
export async function codeThroughPages(
  server: TestServer,
  client: FlowClient,
  credentials: { username: string; password: string },
  scope = 'read',
): Promise<{ code: string; verifier: string }> {
  const browser = new Browser();
  const pkce = pkcePair();
  const url = authorizeUrl(server, {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUris[0]!,
    scope,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  expect((await signInThrough(server, browser, url, credentials)).status).toBe(303);
  const page = await browser.get(url);
  const back = page.status === 200 ? await decide(server, browser, page, 'allow') : page;
  expect([302, 303]).toContain(back.status);
  const code = redirectParams(back.location).code;
  expect(code).toEqual(expect.any(String));
  return { code: code!, verifier: pkce.verifier };
}

export interface TokenAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

/**
 * POST a form to `{BASE_PATH}/o/{path}` as the client: Basic for a confidential client, client_id in the body
 * for a public one (RFC 6749 §2.3.1, §2.1). Asserts nothing.
 */
export async function postAs(
  server: TestServer,
  client: Pick<FlowClient, 'clientId' | 'clientSecret'>,
  path: string,
  fields: Record<string, string>,
): Promise<TokenAnswer> {
  const isPublic = client.clientSecret === null;
  const response = await fetch(`${server.oauthUrl}/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(isPublic ? {} : { authorization: basic(client.clientId, client.clientSecret!) }),
    },
    body: new URLSearchParams({ ...(isPublic ? { client_id: client.clientId } : {}), ...fields }).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: JSON.parse(text) as Record<string, unknown>,
    text,
  };
}

/** POST grant_type=authorization_code and `fields` to the token endpoint as the client (RFC 6749 §4.1.3). */
export const exchange = (
  server: TestServer,
  client: Pick<FlowClient, 'clientId' | 'clientSecret'>,
  fields: Record<string, string>,
): Promise<TokenAnswer> => postAs(server, client, 'token/', { grant_type: 'authorization_code', ...fields });

/** RFC 6749 §5.2: 400 invalid_grant with exactly this public description, and the code nowhere in the answer. */
export function expectInvalidGrant(answer: TokenAnswer, description: string, code: string): void {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.json).toEqual({ error: 'invalid_grant', error_description: description });
  expect(answer.text).not.toContain(code);
}

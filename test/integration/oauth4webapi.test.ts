/**
 * The authorization code flow with PKCE driven by a real client library, oauth4webapi (panva), as an integrator
 * would use it: discovery from our RFC 8414 metadata (with an issuer that has a path: §3.1 puts the document
 * at /.well-known/oauth-authorization-server/api/secure), PKCE S256 and state made by the library, the
 * authorization response checked by the library (state, and the RFC 9207 `iss`), the code exchanged and the
 * token refreshed by the library. The person's part (sign in, consent) is plain HTTP with a cookie jar,
 * through the pages. Real server, real store (SQLite, or PostgreSQL with OAUTHD_TEST_STORE=postgres).
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_POLICY } from '../../src/core/types.js';
import { FormClient } from '../helpers/form-client.js';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

const BASE_PATH = '/api/secure';
const WEB = { clientId: 'o4w-web', clientSecret: 'o4w-web-secret-0123456789', redirectUri: 'https://web.example/cb' };
/** A native app: public, PKCE only, a loopback redirect URI (RFC 8252 §7.3: any port). */
const NATIVE = { clientId: 'o4w-native', redirectUri: 'http://127.0.0.1:43210/callback' };
/** oauthd runs on plain http on 127.0.0.1 here; the library refuses http unless told. */
const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let issuer: URL;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  server = await startTestServer({
    OAUTHD_BASE_PATH: BASE_PATH,
    OAUTHD_SCOPES: 'read write',
    OAUTHD_DEFAULT_SCOPES: 'read',
  });
  await seedSpecSample(server);
  const { admin, store } = server.services;
  await admin.createClient({ name: 'Web app', clientId: WEB.clientId, clientSecret: WEB.clientSecret });
  await store.updateClient(
    WEB.clientId,
    {
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['read', 'write'],
      policy: { redirectUris: [WEB.redirectUri] },
    },
    Math.floor(Date.now() / 1000),
  );
  await store.createClient({
    clientId: NATIVE.clientId,
    name: 'Native app',
    secretHash: null,
    isPublic: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['read'],
    canIntrospect: false,
    policy: { ...SERVER_POLICY, redirectUris: [NATIVE.redirectUri] },
    createdAt: Math.floor(Date.now() / 1000),
  });
  issuer = new URL(`${server.url}${BASE_PATH}`);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...INSECURE }),
  );
});

afterAll(async () => {
  await server?.stop();
});

interface Authorization {
  /** Where the pages sent the browser in the end: the redirect URI with the response. */
  callback: URL;
  state: string;
  codeVerifier: string;
  /** The pages the person saw on the way. */
  pages: ('login' | 'consent')[];
}

interface Person {
  username: string;
  password: string;
}

let people = 0;
/** A user of its own for a test: no session and no remembered consent yet. */
async function newPerson(): Promise<Person> {
  const person = { username: `o4w-person-${++people}`, password: `o4w-password-${people}-0123456789` };
  await server.services.admin.createUser(person.username, person.password);
  return person;
}

/**
 * The front channel: the library's PKCE pair and state in an authorization URL to the discovered endpoint,
 * then the person signs in and allows (when asked) over plain HTTP.
 */
async function authorize(
  browser: FormClient,
  person: Person,
  client: { clientId: string; redirectUri: string },
  scope: string,
  redirectUri = client.redirectUri,
): Promise<Authorization> {
  const pages: Authorization['pages'] = [];
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');

  let page = await browser.get(url.toString());
  if (page.status === 200 && /name="password"/.test(page.body)) {
    pages.push('login');
    expect(page.body).toContain('Sign in');
    page = await browser.follow(
      await browser.submit(page, { username: person.username, password: person.password }),
      server.url,
    );
  }
  if (page.status === 200) {
    pages.push('consent');
    expect(page.body).toMatch(/value="allow"/);
    page = await browser.submit(page, {}, { button: 'allow' });
    expect(page.status).toBe(303);
  }
  expect([302, 303], page.body).toContain(page.status);
  expect(page.location).not.toBeNull();
  return { callback: new URL(page.location!), state, codeVerifier, pages };
}

describe('oauth4webapi against oauthd (authorization code + PKCE)', () => {
  it('discovers the endpoints from the RFC 8414 metadata at the path-inserted well-known URL', () => {
    expect(as.issuer).toBe(issuer.href.replace(/\/$/, ''));
    expect(as.authorization_endpoint).toBe(`${server.url}${BASE_PATH}/o/authorize/`);
    expect(as.token_endpoint).toBe(`${server.url}${BASE_PATH}/o/token/`);
    expect(as.response_types_supported).toEqual(['code']);
    expect(as.code_challenge_methods_supported).toContain('S256');
    // RFC 9207 §3: announced, so the library insists on `iss` in every authorization response.
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('a confidential web app: sign in, consent, code, tokens, userinfo, refresh', async () => {
    const client: oauth.Client = { client_id: WEB.clientId };
    const clientAuth = oauth.ClientSecretBasic(WEB.clientSecret);
    const browser = new FormClient();
    const seedUser = { username: SEED.username, password: SEED.password };
    const { callback, state, codeVerifier, pages } = await authorize(browser, seedUser, WEB, 'read write');
    expect(pages).toEqual(['login', 'consent']);
    expect(callback.origin + callback.pathname).toBe(WEB.redirectUri);

    const params = oauth.validateAuthResponse(as, client, callback, state);
    expect(params.get('iss')).toBe(as.issuer);
    const exchange = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      WEB.redirectUri,
      codeVerifier,
      { ...INSECURE },
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, exchange);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read write');
    expect(typeof tokens.refresh_token).toBe('string');

    const info = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(as.userinfo_endpoint!),
      undefined,
      undefined,
      { ...INSECURE },
    );
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ username: SEED.username });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, { ...INSECURE }),
    );
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const after = await oauth.protectedResourceRequest(
      refreshed.access_token,
      'GET',
      new URL(as.userinfo_endpoint!),
      undefined,
      undefined,
      { ...INSECURE },
    );
    expect(after.status).toBe(200);

    // The code is single use (RFC 6749 §4.1.2): the library sees the second exchange refused.
    const again = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      WEB.redirectUri,
      codeVerifier,
      { ...INSECURE },
    );
    await expect(oauth.processAuthorizationCodeResponse(as, client, again)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('the consent is remembered: a second authorization goes straight back to the app', async () => {
    const browser = new FormClient();
    const person = await newPerson();
    const first = await authorize(browser, person, WEB, 'read write');
    expect(first.pages).toEqual(['login', 'consent']);
    expect(first.callback.searchParams.get('code')).toBeTruthy();
    // Signed in and consented: the authorization endpoint answers with the redirect at once.
    const second = await authorize(browser, person, WEB, 'read');
    expect(second.pages).toEqual([]);
    // Another browser: sign in again, but no consent page.
    const third = await authorize(new FormClient(), person, WEB, 'write');
    expect(third.pages).toEqual(['login']);
    const params = oauth.validateAuthResponse(as, { client_id: WEB.clientId }, second.callback, second.state);
    expect(params.get('code')).not.toBe(first.callback.searchParams.get('code'));
  });

  it('a public native app on a loopback redirect URI with another port (RFC 8252 §7.3), client auth none', async () => {
    const client: oauth.Client = { client_id: NATIVE.clientId, token_endpoint_auth_method: 'none' };
    const redirectUri = 'http://127.0.0.1:51999/callback';
    const browser = new FormClient();
    const { callback, state, codeVerifier } = await authorize(browser, await newPerson(), NATIVE, 'read', redirectUri);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, codeVerifier, {
        ...INSECURE,
      }),
    );
    expect(tokens.scope).toBe('read');
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { ...INSECURE }),
    );
    expect(refreshed.access_token).toBeTruthy();
  });

  it('the library refuses a response with another iss or state (RFC 9207 §2.4, RFC 6749 §10.12)', async () => {
    const client: oauth.Client = { client_id: WEB.clientId };
    const { callback, state } = await authorize(new FormClient(), await newPerson(), WEB, 'read');
    const mixUp = new URL(callback);
    mixUp.searchParams.set('iss', 'https://attacker.example');
    expect(() => oauth.validateAuthResponse(as, client, mixUp, state)).toThrow(/iss/);
    const noIss = new URL(callback);
    noIss.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, client, noIss, state)).toThrow(/iss/);
    expect(() => oauth.validateAuthResponse(as, client, callback, 'another-state')).toThrow(/state/);
  });

  it('a wrong PKCE verifier is refused with invalid_grant (RFC 7636 §4.6)', async () => {
    const client: oauth.Client = { client_id: WEB.clientId };
    const { callback, state } = await authorize(new FormClient(), await newPerson(), WEB, 'read');
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(WEB.clientSecret),
      params,
      WEB.redirectUri,
      oauth.generateRandomCodeVerifier(),
      { ...INSECURE },
    );
    await expect(oauth.processAuthorizationCodeResponse(as, client, response)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('the person denies: the library reads access_denied from the callback', async () => {
    const browser = new FormClient();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: WEB.clientId,
      redirect_uri: WEB.redirectUri,
      scope: 'write',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    const person = await newPerson();
    let page = await browser.get(url.toString());
    page = await browser.follow(
      await browser.submit(page, { username: person.username, password: person.password }),
      server.url,
    );
    const denied = await browser.submit(page, {}, { button: 'deny' });
    expect(denied.status).toBe(303);
    expect(() => oauth.validateAuthResponse(as, { client_id: WEB.clientId }, new URL(denied.location!), state)).toThrow(
      expect.objectContaining({ error: 'access_denied' }),
    );
  });
});

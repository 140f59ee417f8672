/**
 * The built-in admin scopes (oauthd:admin, oauthd:admin:read) in every grant, over real HTTP against a real
 * store (SQLite, or PostgreSQL with OAUTHD_TEST_STORE=postgres). A token bound to a user carries them only if
 * that user is an admin (RFC 6749 §3.3: the server grants less than asked and says so in `scope`); nothing left
 * is invalid_scope (§5.2, §4.1.2.1) or, for a device, access_denied (RFC 8628 §3.5). client_credentials: the
 * client's own scopes decide. A client with the server's default scopes never gets them. And the console's
 * built-in client: no consent page, its redirect URI compared exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CLIENT_ID } from '../../src/core/console-client.js';
import { DEVICE_CODE_GRANT } from '../../src/core/types.js';
import { authorizeUrl, decide, pkcePair, redirectParams, signInThrough } from '../helpers/authorize.js';
import { Browser } from '../helpers/browser.js';
import { decideDevice, enterCode, poll, startDeviceFlow } from '../helpers/device.js';
import { basic, postToken, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

const ALICE = { username: 'alice', password: 'alice-password-1' };
const ROOT = { username: 'root', password: 'root-password-1' };
/** May be granted the admin scopes: whether a token has them is the user's to decide. */
const APP = { id: 'admin-capable', secret: 'admin-capable-secret' };
/** Created with the server's default scopes only. */
const PLAIN = { id: 'plain-app', secret: 'plain-app-secret' };
const OPS = { id: 'ops-scripts', secret: 'ops-scripts-secret' };
const WEB = { id: 'admin-web', secret: 'admin-web-secret', redirectUri: 'https://web.example/cb' };
const TV = { clientId: 'admin-tv', clientSecret: 'admin-tv-secret' };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' });
  const { admin } = server.services;
  await admin.createUser(ALICE.username, ALICE.password);
  await admin.createUser(ROOT.username, ROOT.password, { isAdmin: true });
  const adminCapable = 'read oauthd:admin oauthd:admin:read';
  await admin.createClient({
    name: 'app',
    clientId: APP.id,
    clientSecret: APP.secret,
    grantTypes: ['password', 'refresh_token'],
    scopes: adminCapable,
  });
  await admin.createClient({
    name: 'plain',
    clientId: PLAIN.id,
    clientSecret: PLAIN.secret,
    grantTypes: ['password', 'client_credentials'],
  });
  await admin.createClient({
    name: 'ops',
    clientId: OPS.id,
    clientSecret: OPS.secret,
    grantTypes: ['client_credentials'],
    scopes: 'oauthd:admin',
    defaultScopes: 'oauthd:admin',
  });
  await admin.createClient({
    name: 'web',
    clientId: WEB.id,
    clientSecret: WEB.secret,
    grantTypes: ['authorization_code'],
    scopes: adminCapable,
    policy: { redirectUris: [WEB.redirectUri] },
  });
  await admin.createClient({
    name: 'tv',
    clientId: TV.clientId,
    clientSecret: TV.clientSecret,
    grantTypes: [DEVICE_CODE_GRANT],
    scopes: adminCapable,
  });
});

afterAll(async () => {
  await server?.stop();
});

const password = (client: { id: string; secret: string }, user: typeof ALICE, scope?: string) =>
  postToken(
    server,
    { grant_type: 'password', ...user, ...(scope !== undefined ? { scope } : {}) },
    { authorization: basic(client.id, client.secret) },
  );

describe('the password grant', () => {
  it('takes the admin scopes out for a user who is no admin, and refuses when nothing is left', async () => {
    const narrowed = await password(APP, ALICE, 'read oauthd:admin');
    expect(narrowed.status).toBe(200);
    expect(narrowed.json.scope).toBe('read');
    const refused = await password(APP, ALICE, 'oauthd:admin oauthd:admin:read');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toBe('invalid_scope');
  });

  it('gives them to an admin user, and a refresh keeps the scope first granted (RFC 6749 §6)', async () => {
    const granted = await password(APP, ROOT, 'read oauthd:admin');
    expect(granted.status).toBe(200);
    expect(granted.json.scope).toBe('read oauthd:admin');
    const own = await postToken(
      server,
      { grant_type: 'refresh_token', refresh_token: granted.json.refresh_token as string },
      { authorization: basic(APP.id, APP.secret) },
    );
    expect(own.status).toBe(200);
    expect(own.json.scope).toBe('read oauthd:admin');
  });

  it('never gives them through a client with the default scopes, even to an admin', async () => {
    const defaults = await password(PLAIN, ROOT);
    expect(defaults.status).toBe(200);
    expect(defaults.json.scope).toBe('read');
    const asked = await password(PLAIN, ROOT, 'oauthd:admin');
    expect(asked.status).toBe(400);
    expect(asked.json.error).toBe('invalid_scope');
  });
});

describe('the client credentials grant', () => {
  const clientCredentials = (client: { id: string; secret: string }, scope?: string) =>
    postToken(
      server,
      { grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) },
      { authorization: basic(client.id, client.secret) },
    );

  it("gives a client created with --scopes oauthd:admin its admin token: the client's own scopes decide", async () => {
    const token = await clientCredentials(OPS);
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('oauthd:admin');
  });

  it('refuses the admin scope to an ordinary client', async () => {
    expect((await clientCredentials(PLAIN)).json.scope).toBe('read');
    const asked = await clientCredentials(PLAIN, 'oauthd:admin');
    expect(asked.status).toBe(400);
    expect(asked.json.error).toBe('invalid_scope');
  });
});

describe('the authorization code flow', () => {
  /** Signs `user` in on a request for `scope`; the page (consent) or redirect that follows. */
  async function signIn(user: typeof ALICE, scope: string) {
    const browser = new Browser();
    const pkce = pkcePair();
    const url = authorizeUrl(server, {
      response_type: 'code',
      client_id: WEB.id,
      redirect_uri: WEB.redirectUri,
      scope,
      state: 'st',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect((await signInThrough(server, browser, url, user)).status).toBe(303);
    return { browser, pkce, next: await browser.get(url) };
  }

  const exchange = (code: string, verifier: string) =>
    postToken(
      server,
      { grant_type: 'authorization_code', code, redirect_uri: WEB.redirectUri, code_verifier: verifier },
      { authorization: basic(WEB.id, WEB.secret) },
    );

  it('never shows an admin scope on the consent page of a user who is no admin, nor grants it', async () => {
    const { browser, pkce, next } = await signIn(ALICE, 'read oauthd:admin');
    expect(next.status).toBe(200);
    expect(next.body).toContain('read');
    expect(next.body).not.toContain('oauthd:admin');
    const allowed = await decide(server, browser, next, 'allow');
    expect(allowed.status).toBe(303);
    const { code } = redirectParams(allowed.headers.get('location'));
    const token = await exchange(code!, pkce.verifier);
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('read');
  });

  it('sends invalid_scope back when a user who is no admin asked for admin scopes alone', async () => {
    const { next } = await signIn(ALICE, 'oauthd:admin');
    expect(next.status).toBe(302);
    const params = redirectParams(next.headers.get('location'));
    expect(params).toMatchObject({ error: 'invalid_scope', state: 'st' });
    expect(params.code).toBeUndefined();
  });

  it('shows and grants them to an admin user', async () => {
    const { browser, pkce, next } = await signIn(ROOT, 'read oauthd:admin');
    expect(next.status).toBe(200);
    expect(next.body).toContain('oauthd:admin');
    const allowed = await decide(server, browser, next, 'allow');
    const { code } = redirectParams(allowed.headers.get('location'));
    expect((await exchange(code!, pkce.verifier)).json.scope).toBe('read oauthd:admin');
  });
});

describe('the device flow', () => {
  /** `user` signs in on the device page, enters the code and approves: the done page. */
  async function approveAs(user: typeof ALICE, userCode: string) {
    const browser = new Browser();
    expect((await signInThrough(server, browser, `${server.oauthUrl}/device/`, user)).status).toBe(303);
    const approval = await enterCode(server, browser, userCode);
    expect(approval.status).toBe(200);
    return { approval, done: await decideDevice(server, browser, approval, 'allow') };
  }

  it('approves the rest for a user who is no admin, and refuses a request for admin scopes alone', async () => {
    const some = await startDeviceFlow(server, TV, { scope: 'read oauthd:admin' });
    const asAlice = await approveAs(ALICE, some.user_code);
    // The approval page shows what she may grant, never the admin scope.
    expect(asAlice.approval.body).not.toContain('oauthd:admin');
    expect(asAlice.done.status).toBe(200);
    const token = await poll(server, TV, some.device_code);
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('read');

    const only = await startDeviceFlow(server, TV, { scope: 'oauthd:admin' });
    expect((await approveAs(ALICE, only.user_code)).done.status).toBe(200);
    const refused = await poll(server, TV, only.device_code);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toBe('access_denied');
  });

  it('grants them when an admin approves', async () => {
    const flow = await startDeviceFlow(server, TV, { scope: 'read oauthd:admin' });
    expect((await approveAs(ROOT, flow.user_code)).done.status).toBe(200);
    expect((await poll(server, TV, flow.device_code)).json.scope).toBe('read oauthd:admin');
  });
});

describe("the console's built-in client", () => {
  const consoleRequest = (redirectUri: string) => {
    const pkce = pkcePair();
    const url = authorizeUrl(server, {
      response_type: 'code',
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: redirectUri,
      state: 'console-state',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    return { url, pkce };
  };

  it('has its callback on the admin listener, skips consent for an admin and gets the admin scopes', async () => {
    const redirectUri = server.services.console.redirectUri();
    expect(redirectUri).toBe(`${server.adminUrl}/console/callback`);
    const { url, pkce } = consoleRequest(redirectUri);
    const browser = new Browser();
    expect((await signInThrough(server, browser, url, ROOT)).status).toBe(303);
    const back = await browser.get(url);
    expect(back.status).toBe(302);
    const { code } = redirectParams(back.headers.get('location'));
    const token = await postToken(server, {
      grant_type: 'authorization_code',
      client_id: CONSOLE_CLIENT_ID,
      code: code!,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
    });
    expect(token.status).toBe(200);
    expect(token.json.scope).toBe('oauthd:admin oauthd:admin:read');
    // The console's sessions last as long as their access token: no refresh token.
    expect(token.json.refresh_token).toBeUndefined();
  });

  it('sends a user who is no admin back with invalid_scope', async () => {
    const { url } = consoleRequest(server.services.console.redirectUri());
    const browser = new Browser();
    expect((await signInThrough(server, browser, url, ALICE)).status).toBe(303);
    const back = await browser.get(url);
    expect(back.status).toBe(302);
    expect(redirectParams(back.headers.get('location')).error).toBe('invalid_scope');
  });

  it('compares its redirect URI exactly: no loopback port freedom (RFC 8252 §7.3)', async () => {
    const port = Number(new URL(server.adminUrl).port);
    const other = `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}/console/callback`;
    const page = await new Browser().get(consoleRequest(other).url);
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
  });

  it('is no stored client anyone can list, show or create', async () => {
    const { admin } = server.services;
    expect((await admin.listClients()).map((c) => c.clientId)).not.toContain(CONSOLE_CLIENT_ID);
    await expect(admin.showClient(CONSOLE_CLIENT_ID)).rejects.toMatchObject({ code: 'not_found' });
    await expect(admin.deleteClient(CONSOLE_CLIENT_ID)).rejects.toMatchObject({ code: 'not_found' });
    await expect(admin.createClient({ name: 'x', clientId: CONSOLE_CLIENT_ID })).rejects.toMatchObject({
      field: 'client_id',
    });
  });
});

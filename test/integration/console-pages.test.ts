/**
 * The console's pages over real HTTP on a real store, signed in through the real flow: every page answers
 * 200 HTML with the console's CSP; every change needs the CSRF field and write access (a read-only token sees
 * no change button and its POSTs are 403); a new client's secret is shown once; a stale policy form changes
 * nothing; deleting names what goes; disabling a user revokes its tokens; the audit log filters; errors are
 * HTML pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, formsOf, type PageResponse } from '../helpers/browser.js';
import {
  ADMIN,
  consoleSignIn,
  consoleUrl,
  createAdminUser,
  csrfOf,
  h1Of,
  PLAIN_USER,
  SESSION_COOKIE,
} from '../helpers/console.js';
import { basic, postToken, startTestServer, type TestServer, userinfo } from '../helpers/server.js';

let server: TestServer;
let admin: Browser;

const PASSWORD_CLIENT = { clientId: 'mobile-app', clientSecret: 'mobile-app-secret-0123456789' };

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write', OAUTHD_DEFAULT_SCOPES: 'read' });
  await createAdminUser(server);
  await server.services.admin.createUser(PLAIN_USER.username, PLAIN_USER.password);
  await server.services.admin.createClient({
    name: 'Mobile app',
    clientId: PASSWORD_CLIENT.clientId,
    clientSecret: PASSWORD_CLIENT.clientSecret,
    grantTypes: ['password', 'refresh_token'],
    scopes: 'read write oauthd:admin:read',
  });
  admin = new Browser();
  expect((await consoleSignIn(server, admin)).status).toBe(200);
});

afterAll(async () => {
  await server.stop();
});

const get = (path: string, browser = admin) => browser.get(consoleUrl(server, path));
const post = (path: string, form: Record<string, string>, browser = admin) =>
  browser.post(consoleUrl(server, path), form);

function expectPage(response: PageResponse, status: number, h1: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('content-security-policy')).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
      `form-action 'self' ${server.url}; frame-ancestors 'none'; base-uri 'none'`,
  );
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(h1Of(response.body)).toBe(h1);
  expect(response.body).not.toMatch(/"error"\s*:|at .*\.ts:\d+|<script>/);
}

function passwordToken(username: string, password: string, scope = 'read') {
  return postToken(
    server,
    { grant_type: 'password', username, password, scope },
    { authorization: basic(PASSWORD_CLIENT.clientId, PASSWORD_CLIENT.clientSecret) },
  );
}

/** A form's fields as the browser would post them: its hidden fields, then `fields`. */
function formAt(page: string, action: string): Record<string, string> {
  const form = formsOf(page).find((f) => f.action === action);
  expect(form, `a form posting to ${action}`).toBeDefined();
  return form!.hidden;
}

describe('every page', () => {
  it('answers 200 with its h1, the navigation and the signed-in admin', async () => {
    const pages: [string, string][] = [
      ['/console/', 'Dashboard'],
      ['/console', 'Dashboard'],
      ['/console/?range=day', 'Dashboard'],
      ['/console/clients', 'Clients'],
      ['/console/clients/new', 'New client'],
      [`/console/clients/${PASSWORD_CLIENT.clientId}`, 'Mobile app'],
      [`/console/clients/${PASSWORD_CLIENT.clientId}/delete`, 'Delete client Mobile app?'],
      ['/console/users', 'Users'],
      ['/console/users/new', 'New user'],
      [`/console/users/${PLAIN_USER.username}`, PLAIN_USER.username],
      ['/console/audit', 'Audit log'],
    ];
    for (const [path, h1] of pages) {
      const response = await get(path);
      expectPage(response, 200, h1);
      for (const label of ['Dashboard', 'Clients', 'Users', 'Audit log'])
        expect(response.body).toContain(`>${label}</a>`);
      expect(response.body).toContain(`Signed in as <strong>${ADMIN.username}</strong>`);
      expect(response.body).toContain('<button type="submit" class="secondary">Sign out</button>');
    }
  });

  it('draws four charts with their totals, and lists the clients still using the password grant', async () => {
    expect((await passwordToken(PLAIN_USER.username, PLAIN_USER.password)).status).toBe(200);
    const dashboard = await get('/console/');
    for (const caption of ['Tokens issued', 'Refreshes', 'Failed logins', 'Lockouts']) {
      expect(dashboard.body).toContain(`<figcaption>${caption}</figcaption>`);
    }
    expect(dashboard.body.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(dashboard.body).toMatch(/<strong>\d+<\/strong> in the last hour/);
    expect(dashboard.body).toContain('Clients still using the password grant');
    expect(dashboard.body).toContain('>Last day</a>');
  });

  it('shows a client whose id holds a slash and other URL characters', async () => {
    await server.services.admin.createClient({
      name: 'Team app',
      clientId: 'team/app?x=1#y',
      grantTypes: ['password'],
    });
    const list = await get('/console/clients?search=team');
    expect(list.body).toContain('href="/console/clients/team%2Fapp%3Fx%3D1%23y"');
    expectPage(await get('/console/clients/team%2Fapp%3Fx%3D1%23y'), 200, 'Team app');
  });

  it('answers an unknown page and an unknown client with the HTML 404 page', async () => {
    expectPage(await get('/console/nowhere'), 404, 'Not found');
    expectPage(await get('/console/clients/no-such-client'), 404, 'Not found');
    expectPage(await get('/console/users/nobody-at-all'), 404, 'Not found');
    expectPage(await get('/console/audit/999999?at=1'), 404, 'Not found');
  });

  it('serves its stylesheet and script from the admin listener', async () => {
    const dashboard = await get('/console/');
    const css = /<link rel="stylesheet" href="([^"]+)">/.exec(dashboard.body)![1]!;
    const js = /<script src="([^"]+)" defer><\/script>/.exec(dashboard.body)![1]!;
    const style = await fetch(consoleUrl(server, css));
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(style.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const script = await fetch(consoleUrl(server, js));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('data-copy');
  });
});

describe('changes', () => {
  it('are refused without the CSRF field, or with the field of another session (403, nothing changed)', async () => {
    const before = await server.services.admin.listUsers();
    const created = { username: 'csrf-victim', password: 'long enough password' };
    expectPage(await post('/console/users/new', created), 403, 'Not allowed');
    const other = new Browser();
    await consoleSignIn(server, other);
    const foreign = csrfOf((await get('/console/users/new', other)).body);
    await post('/console/sign-out', { csrf: foreign }, other);
    expectPage(await post('/console/users/new', { ...created, csrf: foreign }), 403, 'Not allowed');
    expect(await server.services.admin.listUsers()).toHaveLength(before.length);
  });

  it('are not offered to a read-only token, and its POSTs are 403', async () => {
    const token = await passwordToken(ADMIN.username, ADMIN.password, 'oauthd:admin:read');
    expect(token.json.scope).toBe('oauthd:admin:read');
    const reader = new Browser();
    reader.cookies.set(SESSION_COOKIE, token.json.access_token as string);
    const users = await get('/console/users', reader);
    expectPage(users, 200, 'Users');
    expect(users.body).not.toContain('New user');
    const user = await get(`/console/users/${PLAIN_USER.username}`, reader);
    expect(user.body).not.toMatch(/Disable user|Set password|>Revoke</);
    const client = await get(`/console/clients/${PASSWORD_CLIENT.clientId}`, reader);
    expect(client.body).not.toMatch(/>Save<|Rotate secret|Delete client/);
    expectPage(await get('/console/clients/new', reader), 403, 'Not allowed');
    const csrf = csrfOf(users.body);
    const refused = await post(`/console/users/${PLAIN_USER.username}/active`, { csrf, active: 'false' }, reader);
    expectPage(refused, 403, 'Not allowed');
    expect((await server.services.store.findUserByUsername(PLAIN_USER.username))?.isActive).toBe(true);
  });

  it("end at once when the token's client loses the admin scope, as on the admin API", async () => {
    const app = { clientId: 'reader-app', clientSecret: 'reader-app-secret-0123456789' };
    await server.services.admin.createClient({
      name: 'Reader app',
      ...app,
      grantTypes: ['password'],
      scopes: 'read oauthd:admin:read',
    });
    const token = await postToken(
      server,
      { grant_type: 'password', username: ADMIN.username, password: ADMIN.password, scope: 'oauthd:admin:read' },
      { authorization: basic(app.clientId, app.clientSecret) },
    );
    const reader = new Browser();
    reader.cookies.set(SESSION_COOKIE, token.json.access_token as string);
    expectPage(await get('/console/users', reader), 200, 'Users');
    await server.services.admin.updateClient(app.clientId, { scopes: 'read' });
    const after = await get('/console/users', reader);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toContain('/o/authorize/');
  });
});

describe('clients', () => {
  it('creates a client and shows its secret once, which then works at the token endpoint', async () => {
    const form = await get('/console/clients/new');
    const hidden = formAt(form.body, '/console/clients/new');
    const send = () =>
      admin.send(consoleUrl(server, '/console/clients/new'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
    const body = new URLSearchParams([
      ['csrf', hidden.csrf!],
      ['once', hidden.once!],
      ['name', 'Billing service'],
      ['client_id', 'billing'],
      ['type', 'confidential'],
      ['grant_types', 'client_credentials'],
      ['scopes', 'read'],
      ['redirect_uris', ''],
    ]);
    const created = await send();
    expectPage(created, 200, 'Client created');
    expect(created.body).toContain('This secret is shown once');
    const secret = /<output id="client-secret"[^>]*>([^<]+)<\/output>/.exec(created.body)![1]!;
    expect(created.body).toContain('<button type="button" data-copy="client-secret" hidden>Copy</button>');
    const token = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('billing', secret) },
    );
    expect(token.status).toBe(200);
    // A reload posts the form again: nothing is done twice, and the secret is not shown again.
    const again = await send();
    expectPage(again, 409, 'Already done');
    expect(again.body).not.toContain(secret);
    const page = await get('/console/clients/billing');
    expectPage(page, 200, 'Billing service');
    expect(page.body).not.toContain(secret);
    const list = await get('/console/clients?search=BILL');
    expect(list.body).toContain('>billing</a>');
    expect(list.body).not.toContain(`>${PASSWORD_CLIENT.clientId}</a>`);
  });

  it('shows a refused form again with the reason (400), creating nothing', async () => {
    const form = await get('/console/clients/new');
    const refused = await post('/console/clients/new', {
      ...formAt(form.body, '/console/clients/new'),
      name: 'Bad scopes',
      type: 'confidential',
      scopes: 'read admin-everything',
    });
    expectPage(refused, 400, 'New client');
    expect(refused.body).toContain('role="alert"');
    expect(refused.body).toContain('Unknown scope(s): admin-everything');
    expect(refused.body).toContain('value="Bad scopes"');
  });

  it('saves a policy, and refuses a stale form with 409 "Changed by someone else"', async () => {
    const page = await get(`/console/clients/${PASSWORD_CLIENT.clientId}`);
    const action = `/console/clients/${PASSWORD_CLIENT.clientId}`;
    const fields = {
      ...formAt(page.body, action),
      name: 'Mobile app',
      scopes: 'read write oauthd:admin:read',
      grant_types: 'password',
      redirect_uris: '',
      access_token_ttl: '600',
      rate_limit: '',
      allowed_networks: '',
    };
    // Two tabs opened at the same version: the first save wins, the second is stale.
    const saved = await post(action, { ...fields, access_token_ttl: '600' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(consoleUrl(server, `${action}?notice=saved`));
    const client = await server.services.store.findClient(PASSWORD_CLIENT.clientId);
    expect(client?.policy.accessTokenTtlSeconds).toBe(600);
    expect(client?.grantTypes).toEqual(['password']);
    const stale = await post(action, { ...fields, access_token_ttl: '900' });
    expectPage(stale, 409, 'Changed by someone else');
    expect(stale.body).toContain(`href="${action}">Reload</a>`);
    expect((await server.services.store.findClient(PASSWORD_CLIENT.clientId))?.policy.accessTokenTtlSeconds).toBe(600);
  });

  it('rotates a secret, showing the new one once', async () => {
    const page = await get('/console/clients/billing');
    const form = formAt(page.body, '/console/clients/billing/rotate');
    const rotated = await post('/console/clients/billing/rotate', form);
    expectPage(rotated, 200, 'New secret');
    expectPage(await post('/console/clients/billing/rotate', form), 409, 'Already done');
    const secret = /<output id="client-secret"[^>]*>([^<]+)<\/output>/.exec(rotated.body)![1]!;
    const token = await postToken(
      server,
      { grant_type: 'client_credentials' },
      { authorization: basic('billing', secret) },
    );
    expect(token.status).toBe(200);
  });

  it('names what a deletion revokes, then deletes and says so', async () => {
    const confirm = await get('/console/clients/billing/delete');
    expectPage(confirm, 200, 'Delete client Billing service?');
    expect(confirm.body).toContain('revokes every grant and every token');
    expect(confirm.body).toContain('<strong>2 live grants</strong>: their access and refresh tokens');
    const deleted = await post(
      '/console/clients/billing/delete',
      formAt(confirm.body, '/console/clients/billing/delete'),
    );
    expect(deleted.status).toBe(303);
    const list = await admin.get(deleted.location!);
    expect(list.body).toContain('The client was deleted');
    expect(await server.services.store.findClient('billing')).toBeNull();
  });
});

describe('users', () => {
  it('creates a user, and disabling it revokes its tokens', async () => {
    const form = await get('/console/users/new');
    const created = await post('/console/users/new', {
      csrf: csrfOf(form.body),
      username: 'carol',
      password: 'carol has a long password',
    });
    expect(created.status).toBe(303);
    const page = await admin.get(created.location!);
    expectPage(page, 200, 'carol');
    expect(page.body).toContain('The user was created.');
    const token = await passwordToken('carol', 'carol has a long password');
    expect(token.status).toBe(200);
    const access = token.json.access_token as string;
    expect((await userinfo(server, access)).status).toBe(200);
    const fresh = await get('/console/users/carol');
    expect(fresh.body).toContain('<th scope="col">Client</th>');
    const disabled = await post('/console/users/carol/active', formAt(fresh.body, '/console/users/carol/active'));
    expect(disabled.status).toBe(303);
    expect((await userinfo(server, access)).status).toBe(401);
    const after = await admin.get(disabled.location!);
    expect(after.body).toContain('Enable user');
    expect(after.body).toContain('This user has no live session.');
  });

  it('refuses to disable the signed-in admin, or a form that does not say enable or disable', async () => {
    const page = await get(`/console/users/${ADMIN.username}`);
    const action = `/console/users/${ADMIN.username}/active`;
    expectPage(await post(action, formAt(page.body, action)), 400, 'Invalid request');
    const { active: _left, ...rest } = formAt(page.body, action);
    expectPage(await post(action, rest), 400, 'Invalid request');
    expect((await server.services.store.findUserByUsername(ADMIN.username))?.isActive).toBe(true);
  });

  it('revokes one session, and sets a password', async () => {
    const token = await passwordToken(PLAIN_USER.username, PLAIN_USER.password);
    const access = token.json.access_token as string;
    const page = await get(`/console/users/${PLAIN_USER.username}`);
    const revoke = formsOf(page.body).find((f) => f.action.endsWith('/revoke') && f.action.includes('/grants/'));
    expect(revoke).toBeDefined();
    // Revoke every listed session one by one (the earlier tests left some).
    for (const form of formsOf(page.body).filter((f) => f.action.includes('/grants/'))) {
      expect((await post(form.action, form.hidden)).status).toBe(303);
    }
    expect((await userinfo(server, access)).status).toBe(401);
    const again = await get(`/console/users/${PLAIN_USER.username}`);
    const action = `/console/users/${PLAIN_USER.username}/password`;
    const short = await post(action, { ...formAt(again.body, action), new_password: 'short', revoke_tokens: 'yes' });
    expectPage(short, 400, PLAIN_USER.username);
    expect(short.body).toContain('The password must be at least');
    const set = await post(action, { ...formAt(again.body, action), new_password: 'a brand new password' });
    expect(set.status).toBe(303);
    expect((await passwordToken(PLAIN_USER.username, 'a brand new password')).status).toBe(200);
  });
});

describe('paging', () => {
  it('pages the clients by "Next page" and the audit log by "Older events"', async () => {
    for (let i = 0; i < 52; i++) {
      await server.services.admin.createClient({ name: `Bulk ${i}`, clientId: `bulk-${String(i).padStart(2, '0')}` });
    }
    const first = await get('/console/clients?search=bulk-');
    expect(first.body.match(/>bulk-\d\d<\/a>/g)).toHaveLength(50);
    const next = /<a href="([^"]+)">Next page<\/a>/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const second = await get(next);
    expect(second.body.match(/>bulk-\d\d<\/a>/g)).toEqual(['>bulk-50</a>', '>bulk-51</a>']);
    expect(second.body).not.toContain('Next page');
    const audit = await get('/console/audit?event=client.created');
    const older = /<a href="([^"]+)">Older events<\/a>/.exec(audit.body)![1]!.replace(/&amp;/g, '&');
    expect(older).toContain('event=client.created');
    const page2 = await get(older);
    expectPage(page2, 200, 'Audit log');
    expect(page2.body).toContain('>client.created</td>');
    expect(page2.body).not.toContain('>user.created</td>');
  });
});

describe('the audit log', () => {
  it('filters by event and user, and opens one event', async () => {
    const all = await get('/console/audit');
    expectPage(all, 200, 'Audit log');
    expect(all.body).toContain('<option value="user.disabled">user.disabled</option>');
    const filtered = await get('/console/audit?event=user.disabled&username=carol');
    expectPage(filtered, 200, 'Audit log');
    const rows = [...filtered.body.matchAll(/<tr><th scope="row"><a href="([^"]+)">/g)];
    expect(rows).toHaveLength(1);
    expect(filtered.body).toContain(`console:user:${ADMIN.username}`);
    const detail = await get(rows[0]![1]!.replace(/&amp;/g, '&'));
    expectPage(detail, 200, 'Audit event');
    expect(detail.body).toContain('<dt>actor</dt><dd>console:user:ada</dd>');
    expect(detail.body).toContain('<dt>tokens_revoked</dt><dd>true</dd>');
    const none = await get('/console/audit?event=user.disabled&username=nobody');
    expect(none.body).toContain('No event matches.');
  });

  it('filters by time (UTC)', async () => {
    const local = (at: number) => new Date(at * 1000).toISOString().slice(0, 19);
    const now = Math.floor(Date.now() / 1000);
    const recent = await get(`/console/audit?event=user.created&from=${local(now - 600)}&to=${local(now + 600)}`);
    expect(recent.body).toContain('>user.created</td>');
    const later = await get(`/console/audit?event=user.created&from=${local(now + 600)}`);
    expect(later.body).toContain('No event matches.');
  });

  it('refuses a time that is no time, with the reason (400)', async () => {
    const refused = await get('/console/audit?from=yesterday');
    expectPage(refused, 400, 'Audit log');
    expect(refused.body).toContain('must be a date and time');
  });
});

describe('hostile input', () => {
  it('a delete form whose version is no version is a stale form (409): nothing is deleted', async () => {
    await server.services.admin.createClient({ name: 'Target', clientId: 'hostile-target', scopes: 'read' });
    const action = '/console/clients/hostile-target/delete';
    const form = formAt((await get(action)).body, action);
    for (const version of ['abc', '', '1.5', '-1', '99999999999', '2147483648']) {
      expectPage(await post(action, { ...form, version }), 409, 'Changed by someone else');
    }
    expect(await server.services.store.findClient('hostile-target')).not.toBeNull();
  });

  it('a NUL character in a query parameter or a form field is the 400 page, naming it', async () => {
    for (const path of [
      '/console/clients?search=%00',
      '/console/clients?after=a%00',
      '/console/users?search=a%00b',
      '/console/audit?username=%00',
      '/console/audit?client=x%00',
    ]) {
      const refused = await get(path);
      expectPage(refused, 400, 'Invalid request');
      expect(refused.body, path).toContain('must not contain a NUL character');
    }
    const before = await server.services.admin.listUsers();
    const form = await get('/console/users/new');
    const created = { csrf: csrfOf(form.body), username: 'nul\u0000user', password: 'long enough password' };
    expectPage(await post('/console/users/new', created), 400, 'Invalid request');
    expect(await server.services.admin.listUsers()).toHaveLength(before.length);
  });

  it('a NUL character in a path names nothing: the 404 page', async () => {
    for (const path of ['/console/clients/%00', '/console/clients/a%00/delete', '/console/users/%00']) {
      expectPage(await get(path), 404, 'Not found');
    }
    const csrf = csrfOf((await get('/console/users/new')).body);
    expectPage(await post('/console/clients/%00/delete', { csrf, version: '1' }), 404, 'Not found');
  });
});

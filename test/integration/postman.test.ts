/**
 * The Postman collection in docs/postman/ (collection format v2.1), run against a real server: its plain
 * requests in order, with `{{variables}}` substituted and its test scripts executed (a minimal `pm` object:
 * pm.test, pm.expect, pm.response, pm.collectionVariables), so the tokens each response stores are the ones
 * the next request sends. A wrong URL, header, body or script in the collection fails here. The OAuth 2.0
 * helper cannot run outside Postman: its configuration is checked, and the token request Postman makes from
 * it (password credentials, client authentication in the Basic header) is sent as Postman sends it.
 * RFC 6749 §2.3.1, §4.3, §6; RFC 7009; RFC 7662; RFC 6750.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, chai, describe, expect, it } from 'vitest';
import { SEED, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

interface KeyValue {
  key: string;
  value: string;
  type?: string;
}
interface PostmanUrl {
  raw: string;
  host: string[];
  path: string[];
}
interface PostmanRequest {
  method: string;
  header: KeyValue[];
  auth?: { type: string; basic?: KeyValue[]; bearer?: KeyValue[]; oauth2?: KeyValue[] };
  body?: { mode: string; urlencoded?: KeyValue[] };
  url: PostmanUrl;
}
interface PostmanItem {
  name: string;
  item?: PostmanItem[];
  request?: PostmanRequest;
  event?: { listen: string; script: { type: string; exec: string[] } }[];
}
interface Collection {
  info: { name: string; schema: string };
  variable: KeyValue[];
  item: PostmanItem[];
}

const COLLECTION_PATH = fileURLToPath(new URL('../../docs/postman/oauthd.postman_collection.json', import.meta.url));
const collection = JSON.parse(readFileSync(COLLECTION_PATH, 'utf8')) as Collection;

let server: TestServer;
/** The collection variables, as Postman holds them during a run. */
let variables: Map<string, string>;

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_BASE_PATH: '/api/secure' });
  await seedSpecSample(server);
  variables = new Map(collection.variable.map((v) => [v.key, v.value]));
  // What a user types into the collection's variables before a run.
  variables.set('baseUrl', `${server.url}/api/secure`);
  variables.set('clientId', SEED.clientId);
  variables.set('clientSecret', SEED.clientSecret);
  variables.set('username', SEED.username);
  variables.set('password', SEED.password);
});

afterAll(async () => {
  await server.stop();
});

/** `{{name}}` → the variable's value; a variable the collection does not define fails the test. */
function substitute(text: string): string {
  return text.replace(/\{\{([^}]+)\}\}/g, (_match, name: string) => {
    const value = variables.get(name);
    if (value === undefined) throw new Error(`the collection uses {{${name}}}, which it does not define`);
    return value;
  });
}

const pairs = (list: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, value]));

function folder(name: string): PostmanItem[] {
  const found = collection.item.find((i) => i.name === name)?.item;
  if (!found) throw new Error(`no folder "${name}" in the collection`);
  return found;
}

/** The URL Postman sends: its host and path segments must say the same as its raw form. */
function urlOf(request: PostmanRequest): string {
  expect(`${request.url.host.join('.')}/${request.url.path.join('/')}`).toBe(request.url.raw);
  return substitute(request.url.raw);
}

/** Sends a request the way Postman does: auth helper, headers, url-encoded body. */
async function send(request: PostmanRequest): Promise<Response> {
  const headers = new Headers();
  for (const { key, value } of request.header) headers.set(key, substitute(value));
  if (request.auth?.type === 'basic') {
    const { username, password } = pairs(request.auth.basic);
    // Postman's Basic Auth encodes `username:password` as typed, without form-encoding them first.
    headers.set(
      'authorization',
      `Basic ${Buffer.from(`${substitute(username!)}:${substitute(password!)}`).toString('base64')}`,
    );
  } else if (request.auth?.type === 'bearer') {
    headers.set('authorization', `Bearer ${substitute(pairs(request.auth.bearer).token!)}`);
  } else if (request.auth !== undefined) {
    throw new Error(`a plain request with auth type ${request.auth.type}`);
  }
  let body: string | undefined;
  if (request.body !== undefined) {
    expect(request.body.mode).toBe('urlencoded');
    body = new URLSearchParams(
      (request.body.urlencoded ?? []).map(({ key, value }): [string, string] => [key, substitute(value)]),
    ).toString();
  }
  return fetch(urlOf(request), { method: request.method, headers, body });
}

/** Runs an item's test script with a minimal `pm`; its pm.test failures throw. */
function runTestScript(item: PostmanItem, status: number, text: string): string[] {
  const passed: string[] = [];
  const pm = {
    test(name: string, fn: () => void) {
      fn();
      passed.push(name);
    },
    expect: chai.expect,
    response: {
      code: status,
      json: () => JSON.parse(text) as unknown,
      text: () => text,
      to: { have: { status: (expected: number) => expect(status, `${item.name}: status`).toBe(expected) } },
    },
    collectionVariables: {
      get: (key: string) => variables.get(key),
      set: (key: string, value: unknown) => void variables.set(key, String(value)),
    },
  };
  for (const event of item.event ?? []) {
    if (event.listen !== 'test') continue;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the collection's own script, as Postman runs it
    new Function('pm', event.script.exec.join('\n'))(pm);
  }
  return passed;
}

describe('the Postman collection (docs/postman/oauthd.postman_collection.json)', () => {
  it('is a v2.1 collection with the variables the docs name', () => {
    expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
    expect(collection.variable.map((v) => v.key)).toEqual(
      expect.arrayContaining([
        'baseUrl',
        'clientId',
        'clientSecret',
        'username',
        'password',
        'access_token',
        'refresh_token',
      ]),
    );
  });

  it(
    'runs its plain requests in order against a real server: every one answers 200 and the scripts carry the ' +
      'tokens along',
    async () => {
      const items = folder('Plain requests');
      expect(items.map((i) => i.name)).toEqual(['Password grant', 'Refresh', 'Userinfo', 'Introspect', 'Revoke']);
      const seen: Record<string, { access: string | undefined; refresh: string | undefined }> = {};
      for (const item of items) {
        const response = await send(item.request!);
        const text = await response.text();
        expect(response.status, `${item.name}: ${text}`).toBe(200);
        const passed = runTestScript(item, response.status, text);
        expect(passed.length, `${item.name} has a test script`).toBeGreaterThan(0);
        seen[item.name] = { access: variables.get('access_token'), refresh: variables.get('refresh_token') };
      }
      // The password grant stored a 44-character pair, the refresh replaced both (rotation, RFC 6749 §6).
      expect(seen['Password grant']!.access).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(seen['Password grant']!.refresh).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(seen.Refresh!.access).not.toBe(seen['Password grant']!.access);
      expect(seen.Refresh!.refresh).not.toBe(seen['Password grant']!.refresh);
      // The revocation ran on the refreshed pair: its access token no longer works (RFC 7009 §2.1).
      const after = await fetch(`${server.oauthUrl}/userinfo/`, {
        headers: { authorization: `Bearer ${variables.get('access_token')!}` },
      });
      expect(after.status).toBe(401);
    },
  );

  it(
    "gets a token through the OAuth 2.0 helper's settings (password credentials, Basic header) that the request " +
      'then uses',
    async () => {
      const [item] = folder('OAuth 2.0 helper');
      const request = item!.request!;
      expect(request.auth?.type).toBe('oauth2');
      const settings = pairs(request.auth!.oauth2);
      expect(settings).toMatchObject({
        grant_type: 'password_credentials',
        client_authentication: 'header',
        addTokenTo: 'header',
      });

      // What Postman's "Get New Access Token" sends for these settings.
      const tokenResponse = await fetch(substitute(settings.accessTokenUrl!), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(
            `${substitute(settings.clientId!)}:${substitute(settings.clientSecret!)}`,
          ).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: substitute(settings.username!),
          password: substitute(settings.password!),
          scope: substitute(settings.scope!),
        }).toString(),
      });
      const token = (await tokenResponse.json()) as { access_token: string };
      expect(tokenResponse.status).toBe(200);

      // "Use Token", then Send: the access token in the Authorization header.
      const response = await fetch(urlOf(request), {
        method: request.method,
        headers: { authorization: `Bearer ${token.access_token}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ username: SEED.username, client_id: SEED.clientId });
    },
  );
});

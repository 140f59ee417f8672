/**
 * The auth gateway ({BASE_PATH}/o/auth/*) behind a real nginx `auth_request`, over real HTTP: a client
 * talks to nginx, nginx asks oauthd, and an application that knows nothing of OAuth sees only the
 * requests oauthd admitted, with the X-Auth-* headers nginx set.
 * RFC 6750 §2.1 (the token in the Authorization header, forwarded by the proxy), §3 (the WWW-Authenticate
 * challenge the proxy passes back) and §3.1 (no error code without credentials; invalid_token;
 * insufficient_scope with the scope required); RFC 7009 §2 (a revoked token is refused at once);
 * RFC 9700 §2.5 (a token in the URL is never used).
 *
 * The nginx configuration is the ```nginx block of docs/gateway.md, read from the file, so the
 * documented snippet is exactly the one tested. Without nginx (`apt-get install nginx`) the nginx tests
 * skip with a warning, unless OAUTHD_REQUIRE_NGINX=1 (.ci/run installs nginx and sets it); the gateway
 * endpoint's own tests run either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  passwordGrant,
  postToken,
  seedSpecSample,
  startTestServer,
  testClock,
  SEED,
  type TestServer,
} from '../helpers/server.js';
import { NGINX, systemProgram } from '../helpers/tools.js';

const DOC = fileURLToPath(new URL('../../docs/gateway.md', import.meta.url));

/** What the application behind nginx received, as it echoes it back. */
interface Seen {
  method: string;
  path: string;
  user: string | null;
  userId: string | null;
  clientId: string | null;
  scope: string | null;
  expires: string | null;
  authorization: boolean;
  body: string;
}

let server: TestServer;
const clock = testClock();
let app: Server;
let appHits = 0;
let nginx: ChildProcess | undefined;
let nginxDir: string | undefined;
let nginxUrl: string;
let payoutsClient: { clientId: string; clientSecret: string };

const nginxBinary = systemProgram(
  NGINX,
  'the auth gateway behind a real nginx (test/integration/gateway-nginx.test.ts)',
);

// ---------------------------------------------------------------------------------------------- setup

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The application: no OAuth at all; it echoes what it received, and counts the requests. */
function startApp(): Promise<Server> {
  const header = (request: IncomingMessage, name: string): string | null => {
    const value = request.headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  const appServer = createServer((request, response) => {
    appHits += 1;
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const seen: Seen = {
        method: request.method ?? '',
        path: request.url ?? '',
        user: header(request, 'x-auth-user'),
        userId: header(request, 'x-auth-user-id'),
        clientId: header(request, 'x-auth-client-id'),
        scope: header(request, 'x-auth-scope'),
        expires: header(request, 'x-auth-expires'),
        authorization: request.headers.authorization !== undefined,
        body,
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    });
  });
  return new Promise((resolve) => appServer.listen(0, '127.0.0.1', () => resolve(appServer)));
}

/** The ```nginx block of docs/gateway.md, pointed at this test's processes. */
function nginxConf(dir: string, ports: { nginx: number; oauthd: number; app: number }): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'));
  if (!block) throw new Error(`${DOC} has no \`\`\`nginx block`);
  let snippet = block[1]!;
  for (const placeholder of ['listen 80;', 'http://oauthd:8000/', 'http://app:8080']) {
    if (!snippet.includes(placeholder))
      throw new Error(`the nginx block of ${DOC} no longer contains "${placeholder}"`);
  }
  snippet = snippet
    .replace('listen 80;', `listen 127.0.0.1:${ports.nginx};`)
    .replaceAll('http://oauthd:8000/', `http://127.0.0.1:${ports.oauthd}/`)
    .replaceAll('http://app:8080', `http://127.0.0.1:${ports.app}`);
  return [
    'worker_processes 1;',
    `error_log ${dir}/error.log notice;`,
    'events { worker_connections 64; }',
    'http {',
    `    access_log ${dir}/access.log;`,
    `    client_body_temp_path ${dir}/client_body_temp;`,
    `    proxy_temp_path ${dir}/proxy_temp;`,
    `    fastcgi_temp_path ${dir}/fastcgi_temp;`,
    `    uwsgi_temp_path ${dir}/uwsgi_temp;`,
    `    scgi_temp_path ${dir}/scgi_temp;`,
    snippet,
    '}',
    '',
  ].join('\n');
}

const readIfExists = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** Starts nginx in the foreground; resolves once it answers HTTP. */
async function startNginx(
  binary: string,
  dir: string,
  ports: { oauthd: number; app: number },
): Promise<{ child: ChildProcess; url: string }> {
  // A port found free may be taken before nginx binds it: try again with another.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const confPath = join(dir, 'nginx.conf');
    writeFileSync(confPath, nginxConf(dir, { ...ports, nginx: port }));
    const child = spawn(
      binary,
      ['-p', `${dir}/`, '-c', confPath, '-e', join(dir, 'error.log'), '-g', `daemon off; pid ${dir}/nginx.pid;`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let exited = false;
    child.once('exit', () => (exited = true));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 5_000;
    while (!exited && Date.now() < deadline) {
      try {
        await fetch(`${url}/_oauthd_auth`); // an internal location: nginx's own 404, nothing behind it is called
        return { child, url };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    if (!exited) await stopNginx(child);
    const log = `${stderr}${readIfExists(join(dir, 'error.log'))}`;
    if (attempt < 3 && /Address already in use/.test(log)) continue;
    throw new Error(`nginx did not start:\n${log}`);
  }
}

async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM'); // fast shutdown: the master stops its workers and exits
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_SCOPES: 'read write payouts' }, { clock });
  await seedSpecSample(server);
  const created = await server.services.admin.createClient({ name: 'payouts', scopes: 'read write payouts' });
  payoutsClient = { clientId: created.client.clientId, clientSecret: created.clientSecret! };
  app = await startApp();

  if (nginxBinary === null) return;
  nginxDir = mkdtempSync(join(tmpdir(), 'oauthd-nginx-'));
  chmodSync(nginxDir, 0o755); // run as root, nginx's workers run as nobody and use the temp paths here
  const started = await startNginx(nginxBinary, nginxDir, {
    oauthd: Number(new URL(server.url).port),
    app: (app.address() as AddressInfo).port,
  });
  nginx = started.child;
  nginxUrl = started.url;
});

afterAll(async () => {
  if (nginx) await stopNginx(nginx);
  if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
  if (app) {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  }
  if (server) await server.stop();
});

// -------------------------------------------------------------------------------------------- helpers

async function readWriteToken(): Promise<string> {
  const { status, json } = await passwordGrant(server);
  expect(status).toBe(200);
  return json.access_token as string;
}

async function payoutsToken(): Promise<string> {
  const { status, json } = await postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'read write payouts' },
    { authorization: basic(payoutsClient.clientId, payoutsClient.clientSecret) },
  );
  expect(status).toBe(200);
  expect(json.scope).toBe('read write payouts');
  return json.access_token as string;
}

/** A request to nginx; `seen` is the application's echo when the request reached it. */
async function viaNginx(
  path: string,
  options: { token?: string; headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<{ status: number; headers: Headers; seen: Seen | null; hits: number }> {
  const before = appHits;
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${nginxUrl}${path}`, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await response.text();
  const fromApp =
    response.status === 200 && (response.headers.get('content-type') ?? '').startsWith('application/json');
  return {
    status: response.status,
    headers: response.headers,
    seen: fromApp ? (JSON.parse(text) as Seen) : null,
    hits: appHits - before,
  };
}

/** A request straight to oauthd's gateway, as a proxy would send it. */
function gateway(
  subPath: string,
  options: { token?: string; headers?: Record<string, string>; method?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return fetch(`${server.oauthUrl}/auth/${subPath}`, { method: options.method ?? 'GET', headers });
}

async function revoke(token: string): Promise<void> {
  const response = await fetch(`${server.oauthUrl}/revoke_token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status).toBe(200);
}

// ---------------------------------------------------------------------------------------------- tests

describe.skipIf(nginxBinary === null)(
  'nginx auth_request in front of an application without OAuth (RFC 6750 §3)',
  () => {
    it(
      'answers a request without a token with 401 and a bare Bearer ' + 'challenge, and the application never sees it',
      async () => {
        const { status, headers, hits } = await viaNginx('/api/orders/7');
        expect(status).toBe(401);
        expect(headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
        expect(hits).toBe(0);
      },
    );

    it(
      'passes a request with a valid token to the application with the user, user id, client and scope, and ' +
        'without the token',
      async () => {
        const token = await readWriteToken();
        const user = await server.services.admin.listUsers();
        const { status, seen, hits } = await viaNginx('/api/orders/7?page=2', { token });
        expect(status).toBe(200);
        expect(hits).toBe(1);
        expect(seen).toMatchObject({
          method: 'GET',
          path: '/api/orders/7?page=2',
          user: SEED.username,
          clientId: SEED.clientId,
          scope: 'read write',
          authorization: false,
        });
        expect(seen?.userId).toBe(String(user.find((u) => u.username === SEED.username)!.id));
        expect(Number(seen?.expires)).toBe(clock.now() + 3600);
      },
    );

    it('passes a POST and its body to the application (only the check goes without a body)', async () => {
      const token = await readWriteToken();
      const { status, seen } = await viaNginx('/api/orders/', {
        token,
        method: 'POST',
        body: '{"amount":10}',
        headers: { 'content-type': 'application/json' },
      });
      expect(status).toBe(200);
      expect(seen).toMatchObject({ method: 'POST', path: '/api/orders/', body: '{"amount":10}', user: SEED.username });
    });

    it('refuses a forged X-Auth-User without a token with 401, and the application never sees it', async () => {
      const { status, headers, hits } = await viaNginx('/api/orders/7', {
        headers: { 'X-Auth-User': 'admin', 'X-Auth-Scope': 'read write payouts' },
      });
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
      expect(hits).toBe(0);
    });

    it('replaces forged X-Auth-* headers that come with a valid token by the real user, client and scope', async () => {
      const token = await readWriteToken();
      const { status, seen } = await viaNginx('/api/orders/7', {
        token,
        headers: {
          'X-Auth-User': 'admin',
          'x-auth-user-id': '999',
          'X-AUTH-CLIENT-ID': 'other',
          'X-Auth-Scope': 'read write payouts',
          'X-Auth-Expires': '9999999999',
        },
      });
      expect(status).toBe(200);
      expect(seen).toMatchObject({ user: SEED.username, clientId: SEED.clientId, scope: 'read write' });
      expect(seen?.userId).not.toBe('999');
      expect(seen?.expires).not.toBe('9999999999');
    });

    it('answers an unknown token with 401 invalid_token (§3.1), and the application never sees it', async () => {
      const { status, headers, hits } = await viaNginx('/api/orders/7', {
        token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      });
      expect(status).toBe(401);
      expect(headers.get('www-authenticate')).toBe(
        'Bearer realm="oauthd", error="invalid_token", error_description="The access token is invalid."',
      );
      expect(hits).toBe(0);
    });

    it(
      'refuses a token revoked at /o/revoke_token/ with 401 ' + 'invalid_token from the very next request (no cache)',
      async () => {
        const token = await readWriteToken();
        expect((await viaNginx('/api/orders/7', { token })).status).toBe(200);
        await revoke(token);
        const { status, headers, hits } = await viaNginx('/api/orders/7', { token });
        expect(status).toBe(401);
        expect(headers.get('www-authenticate')).toContain('error="invalid_token"');
        expect(hits).toBe(0);
      },
    );

    it('refuses a token with 401 invalid_token once its hour is over', async () => {
      const token = await readWriteToken();
      clock.advance(3599);
      try {
        expect((await viaNginx('/api/orders/7', { token })).status).toBe(200);
        clock.advance(1);
        const { status, headers, hits } = await viaNginx('/api/orders/7', { token });
        expect(status).toBe(401);
        expect(headers.get('www-authenticate')).toBe(
          'Bearer realm="oauthd", error="invalid_token", error_description="The access token expired."',
        );
        expect(hits).toBe(0);
      } finally {
        clock.advance(-3600);
      }
    });

    it(
      'ignores a token in the URL (RFC 9700 §2.5): 401 with the bare ' + 'challenge, and the application never sees it',
      async () => {
        const token = await readWriteToken();
        const { status, headers, hits } = await viaNginx(`/api/orders/7?access_token=${token}`);
        expect(status).toBe(401);
        expect(headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
        expect(hits).toBe(0);
      },
    );

    it(
      'answers a token without payouts on /api/payouts/ with 403 ' + 'insufficient_scope naming scope="payouts"',
      async () => {
        const token = await readWriteToken();
        const { status, headers, hits } = await viaNginx('/api/payouts/42', { token });
        expect(status).toBe(403);
        expect(headers.get('www-authenticate')).toBe(
          'Bearer realm="oauthd", error="insufficient_scope", ' +
            'error_description="The access token does not carry the scope this resource requires.", scope="payouts"',
        );
        expect(hits).toBe(0);
      },
    );

    it('admits a token with read write payouts on /api/payouts/ and tells the application its scope', async () => {
      const token = await payoutsToken();
      const { status, seen } = await viaNginx('/api/payouts/42', { token, method: 'POST', body: 'amount=10' });
      expect(status).toBe(200);
      expect(seen).toMatchObject({
        method: 'POST',
        path: '/api/payouts/42',
        user: SEED.username,
        clientId: payoutsClient.clientId,
        scope: 'read write payouts',
        body: 'amount=10',
      });
    });

    it('does not let a client lower the scope a route requires by sending its own X-Auth-Required-Scope', async () => {
      const token = await readWriteToken();
      const { status, hits } = await viaNginx('/api/payouts/42', {
        token,
        headers: { 'X-Auth-Required-Scope': 'read' },
      });
      expect(status).toBe(403);
      expect(hits).toBe(0);
    });

    it('does not let a client raise the scope a route requires either: the proxy alone decides', async () => {
      const token = await readWriteToken();
      const { status } = await viaNginx('/api/orders/7', { token, headers: { 'X-Auth-Required-Scope': 'payouts' } });
      expect(status).toBe(200);
    });

    it("keeps the internal auth locations out of clients' reach with 404", async () => {
      const token = await readWriteToken();
      expect((await viaNginx('/_oauthd_auth', { token })).status).toBe(404);
      expect((await viaNginx('/_oauthd_auth_payouts', { token })).status).toBe(404);
    });
  },
);

describe('the gateway endpoint itself, as a proxy calls it', () => {
  it(
    'answers X-Auth-Required-Scope: payouts with 403 insufficient_scope for a read write token and 200 for a ' +
      'payouts token',
    async () => {
      const refused = await gateway('check', {
        token: await readWriteToken(),
        headers: { 'X-Auth-Required-Scope': 'payouts' },
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(refused.headers.get('www-authenticate')).toContain('scope="payouts"');
      expect(await refused.json()).toEqual({
        error: 'insufficient_scope',
        error_description: 'The access token does not carry the scope this resource requires.',
      });

      const admitted = await gateway('check', {
        token: await payoutsToken(),
        headers: { 'X-Auth-Required-Scope': 'payouts' },
      });
      expect(admitted.status).toBe(200);
      expect(admitted.headers.get('x-auth-user')).toBe(SEED.username);
      expect(admitted.headers.get('x-auth-client-id')).toBe(payoutsClient.clientId);
      expect(admitted.headers.get('x-auth-scope')).toBe('read write payouts');
      expect(admitted.headers.get('cache-control')).toBe('no-store');
      expect(await admitted.json()).toEqual({ active: true });
    },
  );

  it('takes the required scope from ?scope= too, and refuses a header and ?scope= that disagree with 400', async () => {
    const token = await readWriteToken();
    expect((await gateway('check?scope=payouts', { token })).status).toBe(403);
    expect((await gateway('check?scope=read', { token })).status).toBe(200);
    expect((await gateway('check?scope=payouts', { token, headers: { 'X-Auth-Required-Scope': 'read' } })).status).toBe(
      400,
    );
  });

  it('accepts HEAD and POST on any sub-path, as ext_authz forwards the original method and path', async () => {
    const token = await readWriteToken();
    const head = await gateway('api/orders/7', { token, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-auth-user')).toBe(SEED.username);
    const post = await gateway('api/payouts/42', {
      token: await payoutsToken(),
      method: 'POST',
      headers: { 'X-Auth-Required-Scope': 'payouts' },
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('x-auth-scope')).toBe('read write payouts');
    const refused = await gateway('api/orders/7', { method: 'POST' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="oauthd"');
  });

  it(
    'answers a malformed required scope with 400 invalid_request, never a 5xx (a client can reach the gateway ' +
      'URL)',
    async () => {
      const response = await gateway('check', {
        token: await readWriteToken(),
        headers: { 'X-Auth-Required-Scope': 'pay"outs' },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    },
  );

  it('answers at the bare gateway URL {BASE_PATH}/o/auth/ itself, as at any path below it', async () => {
    const readWrite = await readWriteToken();
    const payouts = await payoutsToken();
    const refused = await gateway('', { token: readWrite, headers: { 'X-Auth-Required-Scope': 'payouts' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="payouts"');
    const admitted = await gateway('', { token: payouts, headers: { 'X-Auth-Required-Scope': 'payouts' } });
    expect(admitted.status).toBe(200);
    expect(admitted.headers.get('x-auth-scope')).toBe('read write payouts');
    expect((await gateway('', { token: readWrite, method: 'HEAD' })).status).toBe(200);
    expect((await gateway('', { token: readWrite, method: 'POST' })).status).toBe(200);
    expect((await gateway('')).status).toBe(401);
  });
});

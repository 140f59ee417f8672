/**
 * examples/device-flow.mjs, the command-line device an integrator can copy (RFC 8628), run as a child process
 * against a real server while the test plays the person on the device page over HTTP (sign in, type the user
 * code, Allow or Deny). Its output is what the person and a pipe would see: the instructions on stderr, the
 * token response as JSON on stdout. Both stores (OAUTHD_TEST_STORE=postgres).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT, SERVER_POLICY } from '../../src/core/types.js';
import { hashGeneratedSecret } from '../../src/core/secrets.js';
import { FormClient } from '../helpers/form-client.js';
import { ROOT } from '../helpers/process.js';
import { SEED, seedSpecSample, startTestServer, testClock, userinfo, type TestServer } from '../helpers/server.js';

const BASE_PATH = '/api/secure';
const TV = 'tv-app';
const BOX = { clientId: 'set-top-box', clientSecret: 'set-top-box-secret-0123456789' };

interface ExampleRun {
  /** The verification URI and user code, once the script printed them. */
  prompt: Promise<{ verificationUri: string; userCode: string }>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const children = new Set<ReturnType<typeof spawn>>();

/** Starts the example as an integrator would, with its settings in the environment. */
function runExample(env: Record<string, string>, args: string[] = []): ExampleRun {
  const child = spawn(process.execPath, ['examples/device-flow.mjs', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let announce: (value: { verificationUri: string; userCode: string }) => void;
  const prompt = new Promise<{ verificationUri: string; userCode: string }>((resolve) => (announce = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const match = /Open (\S+) and enter (\S+)\n/.exec(stderr);
    if (match) announce({ verificationUri: match[1]!, userCode: match[2]! });
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  // A script that exits early never prints the prompt: fail with what it said instead of waiting.
  const failedEarly = done.then((r) => {
    throw new Error(`the example exited (${r.code}) before printing a code:\n${r.stderr}`);
  });
  const prompted = Promise.race([prompt, failedEarly]);
  prompted.catch(() => {}); // a test that expects an early exit awaits `done` only
  return { prompt: prompted, done };
}

/** The person: signs in on the device page, types the code, and answers. */
async function answerOnTheDevicePage(
  verificationUri: string,
  userCode: string,
  decision: 'allow' | 'deny',
): Promise<string> {
  const browser = new FormClient();
  const login = await browser.get(verificationUri);
  expect(login.status, login.body).toBe(200);
  const entry = await browser.follow(
    await browser.submit(login, { username: SEED.username, password: SEED.password }),
    new URL(verificationUri).origin,
  );
  expect(entry.status, entry.body).toBe(200);
  // Typed as a person might: lower case, without the dash (RFC 8628 §6.1).
  const approval = await browser.submit(entry, { user_code: userCode.replace('-', '').toLowerCase() });
  expect(approval.status, approval.body).toBe(200);
  expect(approval.body).toMatch(/value="allow"/);
  const done = await browser.submit(approval, {}, { button: decision });
  expect(done.status, done.body).toBe(200);
  return done.body;
}

let server: TestServer;
let issuer: string;

async function registerDeviceClients(target: TestServer): Promise<void> {
  await seedSpecSample(target);
  const now = Math.floor(Date.now() / 1000);
  const base = { scopes: ['read', 'write'], canIntrospect: false, createdAt: now };
  await target.services.store.createClient({
    ...base,
    clientId: TV,
    name: 'Living-room TV',
    secretHash: null,
    isPublic: true,
    grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
    policy: SERVER_POLICY,
  });
  await target.services.store.createClient({
    ...base,
    clientId: BOX.clientId,
    name: 'Set-top box',
    secretHash: hashGeneratedSecret(BOX.clientSecret),
    isPublic: false,
    grantTypes: [DEVICE_CODE_GRANT],
    policy: SERVER_POLICY,
  });
}

const SERVER_ENV = {
  OAUTHD_BASE_PATH: BASE_PATH,
  OAUTHD_SCOPES: 'read write',
  OAUTHD_DEFAULT_SCOPES: 'read',
  // One second between polls keeps the test short; the example honours whatever the server says.
  OAUTHD_DEVICE_POLL_INTERVAL: '1',
};

beforeAll(async () => {
  server = await startTestServer(SERVER_ENV);
  await registerDeviceClients(server);
  issuer = `${server.url}${BASE_PATH}`;
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await server?.stop();
});

describe('examples/device-flow.mjs', () => {
  it('a public client: prints where to go, waits for the person to allow, prints the tokens', async () => {
    const run = runExample({ OAUTHD_URL: issuer, OAUTHD_CLIENT_ID: TV }, ['read write']);
    const { verificationUri, userCode } = await run.prompt;
    expect(verificationUri).toBe(`${issuer}/o/device/`);
    expect(userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(await answerOnTheDevicePage(verificationUri, userCode, 'allow')).toContain('You may return to your device.');

    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const tokens = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(typeof tokens.refresh_token).toBe('string');
    const info = await userinfo(server, tokens.access_token as string);
    expect(info.status).toBe(200);
    expect(info.json.username).toBe(SEED.username);
    expect(result.stderr).toContain('Signed in.');
  });

  it('a confidential client authenticates with Basic; the person denies: access_denied, exit 1', async () => {
    const run = runExample({
      OAUTHD_URL: issuer,
      OAUTHD_CLIENT_ID: BOX.clientId,
      OAUTHD_CLIENT_SECRET: BOX.clientSecret,
    });
    const { verificationUri, userCode } = await run.prompt;
    expect(await answerOnTheDevicePage(verificationUri, userCode, 'deny')).toContain('Access denied.');
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('access_denied');
  });

  it('a wrong client secret: the device authorization is refused, exit 1', async () => {
    const run = runExample({ OAUTHD_URL: issuer, OAUTHD_CLIENT_ID: BOX.clientId, OAUTHD_CLIENT_SECRET: 'wrong' });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('device authorization refused: invalid_client');
  });

  it('honours slow_down: adds 5 seconds to its interval (RFC 8628 §3.5), then gets its tokens', {
    timeout: 30_000,
  }, async () => {
    // A second poller on the path (the test, in a proxy) polls with the same device code right before the
    // script's first poll, so the server judges the script's poll too soon and answers slow_down.
    const proxy = await startPollingProxy(server.url);
    try {
      const run = runExample({ OAUTHD_URL: `${proxy.url}${BASE_PATH}`, OAUTHD_CLIENT_ID: TV });
      const { verificationUri, userCode } = await run.prompt;
      // Approved only once the script was told to slow down: the proxy's own poll must not get the tokens.
      await proxy.slowedDown;
      await answerOnTheDevicePage(verificationUri, userCode, 'allow');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      expect(proxy.answers()).toContain('slow_down');
      expect(result.stderr).toContain('the server asked to slow down: polling every 6 s');
      expect(JSON.parse(result.stdout)).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    } finally {
      await proxy.close();
    }
  });

  it('stops on expired_token when the code expires before anyone approves it', async () => {
    const clock = testClock();
    const frozen = await startTestServer(SERVER_ENV, { clock });
    try {
      await registerDeviceClients(frozen);
      const run = runExample({ OAUTHD_URL: `${frozen.url}${BASE_PATH}`, OAUTHD_CLIENT_ID: TV });
      await run.prompt;
      clock.advance(frozen.config.authorization.deviceCodeTtlSeconds + 1);
      const result = await run.done;
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('expired_token');
    } finally {
      await frozen.stop();
    }
  });
});

/**
 * An HTTP proxy in front of oauthd that, on the first token request it forwards, first sends the same request
 * itself: the forwarded one then comes within the interval of another poll. Records the `error` of every
 * token-endpoint answer it forwards; `slowedDown` resolves once one was slow_down.
 */
async function startPollingProxy(
  target: string,
): Promise<{ url: string; answers(): string[]; slowedDown: Promise<void>; close(): Promise<void> }> {
  const errors: string[] = [];
  let polledFirst = false;
  let slowedDown: () => void;
  const toldToSlowDown = new Promise<void>((resolve) => (slowedDown = resolve));
  const forward = (path: string, method: string, headers: Record<string, string>, body: Buffer) =>
    fetch(`${target}${path}`, { method, headers, ...(body.length > 0 ? { body } : {}) });
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'authorization', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const isPoll = req.url!.endsWith('/o/token/');
      if (isPoll && !polledFirst) {
        polledFirst = true;
        await (await forward(req.url!, req.method!, headers, body)).arrayBuffer();
      }
      const upstream = await forward(req.url!, req.method!, headers, body);
      const text = await upstream.text();
      if (isPoll) errors.push(String((JSON.parse(text) as { error?: string }).error ?? upstream.status));
      if (errors.includes('slow_down')) slowedDown();
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    answers: () => errors,
    slowedDown: toldToSlowDown,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

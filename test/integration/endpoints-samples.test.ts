/**
 * Every curl and HTTPie command of docs/endpoints.md, run as written against a real server on 127.0.0.1 with
 * a real SQLite file (or PostgreSQL), the server started as the page says (OAUTHD_BASE_PATH=/api/secure,
 * OAUTHD_SCOPES="read write introspection", the spec's sample client and user, a `resource-server` client
 * created with --introspect). Only the placeholders change ({CLIENT_ID}, {ACCESS TOKEN}, …, with fresh tokens
 * for each command) and the ports the test server was given; HTTPie gets --ignore-stdin (no terminal here)
 * and --check-status. Each command must answer 2xx: a sample with a wrong path, header or body fails here.
 * Without curl or HTTPie (`apt-get install curl httpie`) their half skips with a warning, unless
 * OAUTHD_REQUIRE_CURL=1 / OAUTHD_REQUIRE_HTTPIE=1.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  passwordGrant,
  postToken,
  SEED,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';
import { createCodeClient } from '../helpers/authorize.js';
import { createDeviceClient, startDeviceFlow } from '../helpers/device.js';
import { CURL, HTTPIE, systemProgram } from '../helpers/tools.js';

const run = promisify(execFile);
const curl = systemProgram(CURL, 'the curl samples of docs/endpoints.md (test/integration/endpoints-samples.test.ts)');
const httpie = systemProgram(
  HTTPIE,
  'the HTTPie samples of docs/endpoints.md (test/integration/endpoints-samples.test.ts)',
);

const PAGE = fileURLToPath(new URL('../../docs/endpoints.md', import.meta.url));
const RESOURCE_SERVER = 'resource-server';
/** The machine client of the client_credentials samples. */
const MACHINE = { clientId: 'batch', clientSecret: 'batch-secret' };
/** The client of the authorization endpoint's sample, and the device of the device flow's samples. */
const WEB_APP = { clientId: 'web-app', clientSecret: 'web-app-secret' };
const DEVICE = { clientId: 'tv-app', clientSecret: 'tv-app-secret' };

/** The page's indented command lines: a curl command with its `\` continuations joined, or an HTTPie line. */
function samples(program: 'curl' | 'http'): string[] {
  const lines = readFileSync(PAGE, 'utf8').split('\n');
  const found: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith(`    ${program} `)) continue;
    let command = lines[i]!.trim();
    while (command.endsWith('\\')) command = `${command.slice(0, -1).trim()} ${lines[++i]!.trim()}`;
    found.push(command);
  }
  return found;
}

/** Splits a command line as sh would for these samples: spaces, '…' and "…" (no escapes inside). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

let server: TestServer;
let resourceServerSecret: string;

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_BASE_PATH: '/api/secure', OAUTHD_SCOPES: 'read write introspection' });
  await seedSpecSample(server);
  const created = await server.services.admin.createClient({
    name: RESOURCE_SERVER,
    clientId: RESOURCE_SERVER,
    canIntrospect: true,
    scopes: 'introspection',
  });
  resourceServerSecret = created.clientSecret!;
  await server.services.admin.createClient({ name: 'batch', ...MACHINE, grantTypes: ['client_credentials'] });
  await createCodeClient(server, WEB_APP, { redirectUris: ['https://app.example.com/cb'] });
  await createDeviceClient(server, DEVICE);
});

let approvals = 0;

/** A device code the person has already allowed, for the sample of the device's poll. */
async function approvedDeviceCode(): Promise<string> {
  const started = await startDeviceFlow(server, DEVICE);
  const user = await server.services.store.findUserByUsername(SEED.username);
  // Each sample gets its own address, so the per-IP guessing limit of user codes is not what is tested here.
  const ip = `198.51.100.${++approvals}`;
  const person = { userId: user!.id, username: SEED.username };
  expect(await server.services.deviceFlow.decide(started.user_code, true, person, ip)).toEqual({
    ok: true,
    approved: true,
  });
  return started.device_code;
}

afterAll(async () => {
  await server.stop();
});

/** The placeholders of one command, with a fresh token pair (a sample may revoke it). */
async function placeholders(command: string): Promise<Record<string, string>> {
  const pair = await passwordGrant(server);
  const introspector = await postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: SEED.password, scope: 'introspection' },
    { authorization: basic(RESOURCE_SERVER, resourceServerSecret) },
  );
  expect(pair.status).toBe(200);
  expect(introspector.status).toBe(200);
  const access = pair.json.access_token as string;
  const introspection = introspector.json.access_token as string;
  return {
    ...(command.includes('{DEVICE_CODE}') ? { '{DEVICE_CODE}': await approvedDeviceCode() } : {}),
    '{WEB_CLIENT_ID}': WEB_APP.clientId,
    '{DEVICE_CLIENT_ID}': DEVICE.clientId,
    '{DEVICE_CLIENT_SECRET}': DEVICE.clientSecret,
    '{MACHINE_CLIENT_ID}': MACHINE.clientId,
    '{MACHINE_CLIENT_SECRET}': MACHINE.clientSecret,
    '{CLIENT_ID}': SEED.clientId,
    '{CLIENT_SECRET}': SEED.clientSecret,
    '{USERNAME}': SEED.username,
    '{REFRESH TOKEN}': pair.json.refresh_token as string,
    '{REFRESH_TOKEN}': pair.json.refresh_token as string,
    '{ACCESS TOKEN WITH THE INTROSPECTION SCOPE}': introspection,
    '{ACCESS_TOKEN_WITH_THE_INTROSPECTION_SCOPE}': introspection,
    '{ACCESS TOKEN}': access,
    '{ACCESS_TOKEN}': access,
  };
}

/** One word with the placeholders and ports filled in; the password percent-encoded inside a form body. */
function fill(word: string, values: Record<string, string>, formBody: boolean): string {
  let filled = word;
  for (const [placeholder, value] of Object.entries(values)) filled = filled.split(placeholder).join(value);
  const password = formBody ? encodeURIComponent(SEED.password) : SEED.password;
  filled = filled.split('{PASSWORD}').join(password);
  const publicHost = server.url.replace(/^http:\/\//, '');
  const adminHost = server.adminUrl.replace(/^http:\/\//, '');
  filled = filled.split('127.0.0.1:8001').join(adminHost).split('127.0.0.1:8000').join(publicHost);
  expect(filled, `a placeholder left in ${word}`).not.toMatch(/\{[A-Z_ ]+\}/);
  return filled;
}

describe.skipIf(curl === null)('the curl samples of docs/endpoints.md', () => {
  const commands = samples('curl');

  it('finds the curl samples of every endpoint on the page', () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    for (const path of [
      '/o/token/',
      '/o/revoke_token/',
      '/o/introspect/',
      '/o/userinfo/',
      '/o/auth/',
      '/o/authorize/',
      '/o/logout/',
      '/o/device-authorization/',
      '/o/device/',
      '/.well-known/',
      '/o/openapi.json',
      '/healthz',
      '/readyz',
      ':8001/metrics',
    ]) {
      expect(
        commands.some((c) => c.includes(path)),
        path,
      ).toBe(true);
    }
  });

  it('answers every curl sample, run as written, with a 2xx status', async () => {
    for (const command of commands) {
      const values = await placeholders(command);
      const [program, ...args] = words(command);
      expect(program).toBe('curl');
      const json = args.some((a) => /content-type: application\/json/i.test(a));
      const { stdout } = await run(
        curl!,
        args.map((a) => fill(a, values, !json)),
      );
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(stdout)?.[1]);
      expect(status, `${command}\n${stdout.slice(0, 400)}`).toBeGreaterThanOrEqual(200);
      expect(status, `${command}\n${stdout.slice(0, 400)}`).toBeLessThan(300);
    }
  });
});

describe.skipIf(httpie === null)('the HTTPie samples of docs/endpoints.md', () => {
  const commands = samples('http');

  it('finds the HTTPie samples, with http:// URLs', () => {
    expect(commands.length).toBeGreaterThanOrEqual(12);
    for (const command of commands) expect(command, command).not.toContain('https://');
  });

  it('answers every HTTPie sample, run as written (with --ignore-stdin), with a 2xx status', async () => {
    for (const command of commands) {
      const values = await placeholders(command);
      const [program, ...args] = words(command);
      expect(program).toBe('http');
      const options = ['--check-status', ...(args.includes('--ignore-stdin') ? [] : ['--ignore-stdin'])];
      // --check-status: exit status 0 for 2xx, 3/4/5 for the others.
      const result = await run(httpie!, [...options, ...args.map((a) => fill(a, values, false))]).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(
        'code' in result ? result.code : 0,
        `${command}\n${'stdout' in result ? result.stdout.slice(0, 400) : ''}`,
      ).toBe(0);
    }
  });
});

/**
 * The client settings of the authorization code and device flows through the CLI (`oauthd client
 * create|update|show`): redirect URIs (RFC 6749 §3.1.2, RFC 8252, RFC 9700 §4.1), skip-consent, PKCE
 * (RFC 7636, RFC 9700 §2.1.1) and the new grant types. Each refusal is one line on stderr, exit 1, and changes
 * nothing. The built CLI (child processes) on SQLite, or PostgreSQL with OAUTHD_TEST_STORE=postgres.
 *
 * When running this file alone, run `npm run build` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { SEED, TEST_STORE, seedSpecSampleInto } from '../helpers/server.js';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
let dir: string;
let database: TestDatabase | undefined;
let databaseUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-flows-'));
  if (TEST_STORE === 'postgres') database = await createTestDatabase();
  databaseUrl = database ? database.url : `sqlite:${join(dir, 'oauthd.sqlite3')}`;
  await seedSpecSampleInto(databaseUrl);
});

afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(databaseUrl, args);

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  expect(result.stderr, `oauthd ${args.join(' ')}`).toBe('');
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

interface Shown {
  grant_types: string[];
  policy: { redirect_uris: string[]; skip_consent: boolean; pkce: string } & Record<string, unknown>;
}
const show = async (clientId: string) => JSON.parse(await ok(['client', 'show', clientId, '--json'])) as Shown;

async function lastEvent(event: string, clientId: string): Promise<Record<string, unknown>> {
  const events = JSON.parse(await ok(['audit', '--json', '--client', clientId, '--event', event])) as Record<
    string,
    unknown
  >[];
  expect(events.length).toBeGreaterThan(0);
  return events[0]!;
}

/** A refusal: exit 1, one line on stderr naming `expected`, nothing on stdout. */
async function refused(args: string[], expected: string | RegExp): Promise<void> {
  const result = await cli(args);
  expect(result.code, `oauthd ${args.join(' ')}`).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  if (typeof expected === 'string') expect(result.stderr).toContain(expected);
  else expect(result.stderr).toMatch(expected);
}

const WEB_URI = 'https://app.example.com/oauth/callback';
const LOOPBACK_URI = 'http://127.0.0.1/callback';

describe('a web app and a device client', () => {
  it('creates a web app with redirect URIs, skip-consent and PKCE, and shows them as text and JSON', async () => {
    await ok([
      'client',
      'create',
      '--name',
      'web app',
      '--client-id',
      'web',
      '--grant-types',
      'authorization_code,refresh_token',
      '--redirect-uri',
      WEB_URI,
      '--redirect-uri',
      LOOPBACK_URI,
      '--skip-consent',
      '--pkce',
      'S256,plain',
    ]);
    const shown = await show('web');
    expect(shown.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(shown.policy).toMatchObject({
      redirect_uris: [WEB_URI, LOOPBACK_URI],
      skip_consent: true,
      pkce: 'S256 plain',
    });
    const text = await ok(['client', 'show', 'web']);
    expect(text).toContain(`redirect URIs:     ${WEB_URI} ${LOOPBACK_URI}\n`);
    expect(text).toContain('skip consent:      yes (first-party: users are not asked)\n');
    expect(text).toContain('PKCE:              required, S256 or plain\n');
    expect(await lastEvent('client.created', 'web')).toMatchObject({
      grant_types: 'authorization_code refresh_token',
      policy_changed: 'redirectUris skipConsent pkce',
      redirect_uris: `${WEB_URI} ${LOOPBACK_URI}`,
      skip_consent: true,
      pkce: 'S256 plain',
    });
  });

  it('shows a client without them: no redirect URI, consent asked, PKCE S256 required', async () => {
    const shown = await show(SEED.clientId);
    expect(shown.policy).toMatchObject({ redirect_uris: [], skip_consent: false, pkce: 'S256' });
  });

  it('creates a public device client with the device_code alias', async () => {
    await ok(['client', 'create', '--name', 'tv', '--client-id', 'tv', '--public', '--grant-types', 'device_code']);
    expect((await show('tv')).grant_types).toEqual([DEVICE_CODE]);
    await ok(['client', 'update', 'tv', '--grant-types', `${DEVICE_CODE},refresh_token`]);
    expect((await show('tv')).grant_types).toEqual([DEVICE_CODE, 'refresh_token']);
  });
});

describe('client update', () => {
  it('replaces the redirect URIs, turns consent back on and PKCE back to the default, and audits it', async () => {
    await ok(['client', 'update', 'web', '--redirect-uri', 'com.example.app:/oauth2redirect']);
    expect((await show('web')).policy.redirect_uris).toEqual(['com.example.app:/oauth2redirect']);
    await ok(['client', 'update', 'web', '--no-skip-consent', '--pkce', 'default']);
    expect((await show('web')).policy).toMatchObject({ skip_consent: false, pkce: 'S256' });
    expect(await lastEvent('client.updated', 'web')).toMatchObject({
      changed: 'policy',
      policy_changed: 'skipConsent pkce',
      skip_consent: null,
      pkce: null,
    });
    await ok(['client', 'update', 'web', '--pkce', 'optional']);
    expect((await show('web')).policy.pkce).toBe('optional');
    expect(await ok(['client', 'show', 'web'])).toContain('PKCE:              optional');
  });

  it('clears the redirect URIs with `none` once the client no longer uses the code flow', async () => {
    await refused(['client', 'update', 'web', '--redirect-uri', 'none'], 'needs at least one --redirect-uri');
    expect((await show('web')).policy.redirect_uris).toEqual(['com.example.app:/oauth2redirect']);
    await ok(['client', 'update', 'web', '--grant-types', 'refresh_token', '--redirect-uri', 'none']);
    expect((await show('web')).policy.redirect_uris).toEqual([]);
    expect(await lastEvent('client.updated', 'web')).toMatchObject({ redirect_uris: null });
    await refused(['client', 'update', 'web', '--grant-types', 'authorization_code'], 'needs at least one');
    expect((await show('web')).grant_types).toEqual(['refresh_token']);
  });
});

describe('refusals: one line on stderr, exit 1, nothing changed', () => {
  it.each([
    ['not an absolute URI', 'app.example.com/cb'],
    ['fragment', 'https://app.example.com/cb#done'],
    ['user information', 'https://alice:pw@app.example.com/cb'],
    ['loopback', 'http://app.example.com/cb'],
    ['wildcards', 'https://*.example.com/cb'],
    ['reverse-domain', 'myapp:/cb'],
    ['reverse-domain', 'javascript:alert(1)'],
    ['longer than 2000', `https://app.example.com/${'a'.repeat(2001)}`],
  ])('refuses a redirect URI (%s) on create and update', async (reason, uri) => {
    const before = await show('web');
    await refused(['client', 'update', 'web', '--name', 'renamed', '--redirect-uri', uri], reason);
    expect(await show('web')).toEqual(before);
    const create = ['client', 'create', '--name', 'bad', '--client-id', 'bad-uri', '--redirect-uri', uri];
    await refused([...create, '--grant-types', 'authorization_code'], reason);
    expect((await cli(['client', 'show', 'bad-uri'])).code).toBe(1);
  });

  it('refuses more than 20 redirect URIs', async () => {
    const uris = Array.from({ length: 21 }, (_, i) => ['--redirect-uri', `https://app.example.com/cb${i}`]).flat();
    await refused(['client', 'update', 'web', ...uris], 'at most 20 redirect URIs per client; got 21');
    await ok(['client', 'update', 'web', ...uris.slice(0, 40)]);
    expect((await show('web')).policy.redirect_uris).toHaveLength(20);
  });

  it.each(['plain', 's256', 'none', 'S256,optional'])('refuses --pkce %s', async (value) => {
    const before = await show('web');
    await refused(
      ['client', 'update', 'web', '--pkce', value],
      '--pkce must be S256, "S256,plain", optional or default',
    );
    expect(await show('web')).toEqual(before);
  });

  it('refuses authorization_code without a redirect URI on create', async () => {
    await refused(
      ['client', 'create', '--name', 'no-uri', '--client-id', 'no-uri', '--grant-types', 'authorization_code'],
      'the authorization_code grant needs at least one --redirect-uri',
    );
    expect((await cli(['client', 'show', 'no-uri'])).code).toBe(1);
  });

  it('refuses --pkce optional for a public client, on create and on update', async () => {
    const spa = ['client', 'create', '--name', 'spa', '--client-id', 'spa', '--public'];
    const code = ['--grant-types', 'authorization_code', '--redirect-uri', WEB_URI];
    await refused([...spa, ...code, '--pkce', 'optional'], 'a public client must use PKCE (RFC 9700 §2.1.1)');
    expect((await cli(['client', 'show', 'spa'])).code).toBe(1);
    await ok([...spa, ...code]);
    await refused(['client', 'update', 'spa', '--pkce', 'optional'], 'a public client must use PKCE');
    expect((await show('spa')).policy.pkce).toBe('S256');
  });

  it('refuses an unknown grant type, naming the new ones', async () => {
    await refused(
      ['client', 'update', 'web', '--grant-types', 'implicit'],
      `grant types must be among: password, client_credentials, refresh_token, authorization_code, ${DEVICE_CODE}`,
    );
  });
});

/**
 * Secrets never rest in plaintext and never reach a log line: after real traffic, the database (the SQLite
 * file and its WAL, or every value of every PostgreSQL table, bytea raw and as hex) and every log line the
 * server wrote (at debug level) are searched for every token, client secret and password the test used,
 * in plain, Base64 and percent-encoded forms.
 * RFC 6749 §10.3 / §10.4 (token confidentiality), RFC 6819 §5.1.4.1.3 (store hashes of secrets).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  TEST_STORE,
  basic,
  passwordGrant,
  postToken,
  refreshGrant,
  seedSpecSample,
  startTestServer,
  userinfo,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;
const secrets: string[] = [SEED.clientSecret, SEED.password];

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_LOG_LEVEL: 'trace' });
  await seedSpecSample(server);
  const { client, clientSecret } = await server.services.admin.createClient({ name: 'generated' });
  secrets.push(clientSecret!);
  await server.services.admin.createUser('second-user', 'second user p@ss w0rd');
  secrets.push('second user p@ss w0rd');
  await server.services.admin.setPassword('second-user', 'changed p@ss w0rd!', { revokeTokens: false });
  secrets.push('changed p@ss w0rd!');

  // Traffic: logins, refreshes, reuse, bearer calls, and failures that carry secrets.
  for (let i = 0; i < 3; i++) {
    const { json } = await passwordGrant(server);
    secrets.push(json.access_token as string, json.refresh_token as string);
    const refreshed = await refreshGrant(server, json.refresh_token as string);
    secrets.push(refreshed.json.access_token as string, refreshed.json.refresh_token as string);
    await refreshGrant(server, json.refresh_token as string); // reuse
    await userinfo(server, refreshed.json.access_token as string);
  }
  const generated = await postToken(
    server,
    { grant_type: 'password', username: 'second-user', password: 'changed p@ss w0rd!' },
    { authorization: basic(client.clientId, clientSecret!) },
  );
  expect(generated.status).toBe(200);
  secrets.push(generated.json.access_token as string, generated.json.refresh_token as string);

  const wrongPassword = 'wrong-Password-7781';
  const wrongSecret = 'wrong-Secret-9923';
  secrets.push(wrongPassword, wrongSecret);
  await postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: wrongPassword },
    { authorization: basic(SEED.clientId, SEED.clientSecret) },
  );
  await postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: SEED.password },
    { authorization: basic(SEED.clientId, wrongSecret) },
  );
  await postToken(server, {
    grant_type: 'password',
    username: SEED.username,
    password: SEED.password,
    client_id: SEED.clientId,
    client_secret: wrongSecret,
  });
  // A token in the URL (refused) must not be logged either.
  const leaked = secrets[4]!;
  await fetch(`${server.oauthUrl}/userinfo/?access_token=${leaked}`);
  await fetch(`${server.oauthUrl}/token/?client_secret=${encodeURIComponent(SEED.clientSecret)}`, { method: 'POST' });
});

afterAll(async () => {
  await server.stop();
});

/** Every form in which a secret could leak: as is, percent-encoded, and inside a Basic header. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(`${SEED.clientId}:${secret}`).toString('base64')];
}

describe('secrets at rest and in logs', () => {
  it('used enough distinct secrets for the search to mean something', () => {
    expect(new Set(secrets).size).toBeGreaterThanOrEqual(20);
  });

  it(`finds no token, client secret or password in the database (${TEST_STORE}) while the server runs`, async () => {
    const bytes = await server.databaseBytes();
    // A SQLite file is at least a few pages; the PostgreSQL dump is the rows alone.
    expect(bytes.length).toBeGreaterThan(TEST_STORE === 'sqlite' ? 4096 : 2048);
    // Sanity: the search would find a value that is stored in plaintext.
    expect(bytes.includes(Buffer.from(SEED.username))).toBe(true);
    for (const secret of secrets) {
      for (const form of forms(secret))
        expect(bytes.includes(Buffer.from(form)), `found ${form.slice(0, 6)}… in the database`).toBe(false);
    }
  });

  it('writes no token, client secret or password to any log line', () => {
    const logs = server.logs();
    expect(logs).toContain('"msg":"request completed"');
    expect(logs).toContain('refresh_token.reused');
    for (const secret of secrets) {
      for (const form of forms(secret))
        expect(logs.includes(form), `found ${form.slice(0, 6)}… in the logs`).toBe(false);
    }
  });
});

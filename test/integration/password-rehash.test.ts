/**
 * RFC 6819 §5.1.4.1.3 (credentials at rest): a password stored with the former argon2id default
 * (m = 19 MiB, t = 2) keeps working after the default became m = 7 MiB, t = 5, and is rehashed with the new
 * parameters at its next successful login (RFC 6749 §4.3, the password grant).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgon2Hasher, OWASP_ARGON2ID_19MIB } from '../../src/crypto/argon2-hasher.js';
import {
  passwordGrant,
  postToken,
  basic,
  SEED,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

const storedHash = async () => (await server.services.store.findUserByUsername(SEED.username))!.passwordHash!;
/** m, t and p of a PHC argon2id string, in this order whatever order the library wrote them in. */
const parameters = (hash: string) => {
  const fields = Object.fromEntries(
    (/^\$argon2id\$v=19\$([^$]+)\$/.exec(hash)?.[1] ?? '').split(',').map((kv) => kv.split('=')),
  );
  return `m=${fields.m},t=${fields.t},p=${fields.p}`;
};

describe('a password hashed with the former argon2id default', () => {
  it('logs in, and its hash is replaced by one with m=7168, t=5 that logs in too', async () => {
    const user = (await server.services.store.findUserByUsername(SEED.username))!;
    const old = await createArgon2Hasher(OWASP_ARGON2ID_19MIB).hash(SEED.password);
    await server.services.store.replacePasswordHash(user.id, user.passwordHash!, old, Math.floor(Date.now() / 1000));
    expect(parameters(await storedHash())).toBe('m=19456,t=2,p=1');

    const first = await passwordGrant(server);
    expect(first.status).toBe(200);
    const upgraded = await storedHash();
    expect(parameters(upgraded)).toBe('m=7168,t=5,p=1');

    expect((await passwordGrant(server)).status).toBe(200);
    expect(await storedHash()).toBe(upgraded);
  });

  it('is not rehashed by a wrong password, which is refused as invalid_grant', async () => {
    const user = (await server.services.store.findUserByUsername(SEED.username))!;
    const old = await createArgon2Hasher(OWASP_ARGON2ID_19MIB).hash(SEED.password);
    await server.services.store.replacePasswordHash(user.id, user.passwordHash!, old, Math.floor(Date.now() / 1000));
    const wrong = await postToken(
      server,
      { grant_type: 'password', username: SEED.username, password: `${SEED.password}x` },
      { authorization: basic(SEED.clientId, SEED.clientSecret) },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toBe('invalid_grant');
    expect(await storedHash()).toBe(old);
  });
});

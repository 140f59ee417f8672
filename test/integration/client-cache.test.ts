import { afterEach, describe, expect, it } from 'vitest';
import { generateClientSecret, hashGeneratedSecret } from '../../src/core/secrets.js';
import { openStore } from '../../src/store/store.js';
import {
  SEED,
  basic,
  passwordGrant,
  postToken,
  seedSpecSample,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

/**
 * Clients are cached per process for OAUTHD_CLIENT_CACHE_MS (src/store/client-cache.ts). What another
 * process (the CLI, another instance) changes is seen within that bound, and a client deleted meanwhile is
 * refused cleanly (401), never with a server error.
 */
describe('the client cache over HTTP, with changes made by another process', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** The store as the CLI or another instance opens it: another connection, another process's view. */
  const elsewhere = async <T>(run: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> => {
    const store = openStore(server!.config.store.databaseUrl);
    try {
      return await run(store);
    } finally {
      await store.close();
    }
  };

  it(
    'answers 401 invalid_client, not a 5xx, to a password grant by a client deleted elsewhere while it is still ' +
      'cached',
    async () => {
      server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '60000' });
      await seedSpecSample(server);
      expect((await passwordGrant(server)).status).toBe(200); // the client is now cached for a minute
      expect(await elsewhere((store) => store.deleteClient(SEED.clientId))).toBe(true);

      const refused = await passwordGrant(server);
      expect(refused.status).toBe(401);
      expect(refused.json.error).toBe('invalid_client');
      expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await elsewhere((store) => store.counts())).toMatchObject({ clients: 0 });
    },
  );

  it(
    'stops accepting a secret rotated elsewhere within the bound (1 s by default) and accepts the new one from ' +
      'then on',
    async () => {
      server = await startTestServer();
      await seedSpecSample(server);
      expect((await passwordGrant(server)).status).toBe(200);
      const fresh = generateClientSecret();
      await elsewhere((store) =>
        store.setClientSecret(SEED.clientId, hashGeneratedSecret(fresh), Math.floor(Date.now() / 1000)),
      );
      const rotatedAt = performance.now();

      let refusedAfterMs: number | undefined;
      while (refusedAfterMs === undefined && performance.now() - rotatedAt < 3_000) {
        const old = await passwordGrant(server);
        expect([200, 401]).toContain(old.status);
        if (old.status === 401) refusedAfterMs = performance.now() - rotatedAt;
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(refusedAfterMs).toBeDefined();
      // 1000 ms of cache, plus one request's time.
      expect(refusedAfterMs!).toBeLessThan(1_500);
      const withNew = await postToken(
        server,
        { grant_type: 'password', username: SEED.username, password: SEED.password },
        { authorization: basic(SEED.clientId, fresh) },
      );
      expect(withNew.status).toBe(200);
    },
  );

  it('with OAUTHD_CLIENT_CACHE_MS=0, refuses a secret rotated elsewhere on the very next request', async () => {
    server = await startTestServer({ OAUTHD_CLIENT_CACHE_MS: '0' });
    await seedSpecSample(server);
    expect((await passwordGrant(server)).status).toBe(200);
    await elsewhere((store) =>
      store.setClientSecret(SEED.clientId, hashGeneratedSecret(generateClientSecret()), Math.floor(Date.now() / 1000)),
    );
    expect((await passwordGrant(server)).status).toBe(401);
  });
});

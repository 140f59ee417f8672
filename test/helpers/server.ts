import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/config.js';
import { clockOf, type Clock } from '../../src/core/ports.js';
import { createLogger, startServer, type RunningServer } from '../../src/server.js';
import { createServices } from '../../src/services.js';
import { createTestDatabase, dumpDatabase } from './postgres.js';

/** The store the integration tests run on: PostgreSQL with OAUTHD_TEST_STORE=postgres, else SQLite. */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.OAUTHD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** The brute-force limits lifted: tests not about them make many attempts from 127.0.0.1 on purpose. */
export const UNLIMITED_THROTTLE = {
  OAUTHD_MAX_FAILURES_PER_IP: '1000000',
  OAUTHD_MAX_FAILURES_PER_USER: '1000000',
  OAUTHD_MAX_FAILURES_PER_USER_IP: '999999',
  OAUTHD_BACKOFF_AFTER: '1000000',
  OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '1000000',
};

export interface TestServer extends RunningServer {
  config: Config;
  /** The SQLite file the server writes (empty on PostgreSQL). */
  databasePath: string;
  /**
   * Everything the database holds, to search like a file: the SQLite file and its WAL, or every value of
   * every PostgreSQL table (bytea both raw and as hex).
   */
  databaseBytes(): Promise<Buffer>;
  /** Every log line the server wrote, as text. */
  logs(): string;
  /** Stops the server and deletes its directory (and its PostgreSQL database). */
  stop(): Promise<void>;
  /** `${url}${basePath}/o` */
  oauthUrl: string;
  /** The admin listener (/metrics, /healthz, /readyz with detail), e.g. http://127.0.0.1:41235. */
  adminUrl: string;
}

/** A mutable clock for tests that move time. */
export function testClock(start = Math.floor(Date.now() / 1000)): Clock & { advance(seconds: number): void } {
  let now = start;
  return {
    ...clockOf(() => now * 1000),
    advance: (s) => {
      now += s;
    },
  };
}

/**
 * A real oauthd on 127.0.0.1 with a fresh SQLite file (or, with OAUTHD_TEST_STORE=postgres, a fresh
 * PostgreSQL database), configured through the same loadConfig as production (`env` holds OAUTHD_*
 * overrides).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { clock?: Clock; throttleKeyPrefix?: string } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'oauthd-test-'));
  const database = TEST_STORE === 'postgres' ? await createTestDatabase() : null;
  const databasePath = database ? '' : join(dir, 'oauthd.sqlite3');
  // A server that fails to configure or start must not leave its database behind.
  const dropOnFailure = async (error: unknown): Promise<never> => {
    await database?.drop();
    throw error;
  };
  const config = await Promise.resolve()
    .then(() =>
      loadConfig({
        OAUTHD_DATABASE_URL: database ? database.url : `sqlite:${databasePath}`,
        OAUTHD_HOST: '127.0.0.1',
        OAUTHD_PORT: '0',
        OAUTHD_ADMIN_PORT: '0',
        OAUTHD_LOG_LEVEL: 'debug',
        // Tests that are not about brute force make many failed attempts from 127.0.0.1 on purpose:
        // lift the limits unless a test sets them (test/integration/brute-force.test.ts does).
        ...UNLIMITED_THROTTLE,
        ...env,
      }),
    )
    .catch(dropOnFailure);
  let logText = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  const logger = createLogger(config.process.logLevel, sink);
  const overrides = {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.throttleKeyPrefix ? { throttleKeyPrefix: options.throttleKeyPrefix } : {}),
  };
  const server = await startServer(config, { logger, overrides }).catch(dropOnFailure);
  return {
    ...server,
    config,
    databasePath,
    async databaseBytes() {
      if (database) return dumpDatabase(database.url);
      if (!existsSync(databasePath)) throw new Error(`no SQLite file at ${databasePath}`);
      const files = [databasePath, `${databasePath}-wal`].filter((f) => existsSync(f));
      return Buffer.concat(files.map((f) => readFileSync(f)));
    },
    oauthUrl: `${server.url}${config.http.basePath}/o`,
    adminUrl: server.adminUrl!,
    logs: () => logText,
    async stop() {
      await server.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SEED = {
  clientId: '4l9iHGND54sLJILML1xGGkWUDqO77iCda',
  clientSecret: 'qZIuRHN0oKxwGFaJtKhnAcTIcVvvz1AmRCv0RTVOozyoc6eqtOWhEFyUPRbyfRs8uqzDLyLxWVxbDB6TxmhyG78jCTpE',
  username: 'paymob_send_api_checker',
  password: 'H%bRUg^eaOZ@HGabcLs7SOr9D1EL3&',
} as const;

/** Registers the spec's sample client (chosen secret) and user through the admin service (the CLI's path). */
export async function seedSpecSample(server: TestServer): Promise<void> {
  await registerSpecSample(server.services.admin);
}

/** The same, into the database at `databaseUrl` with no server running (as the CLI would, before `serve`). */
export async function seedSpecSampleInto(databaseUrl: string): Promise<void> {
  const services = await createServices(loadConfig({ OAUTHD_DATABASE_URL: databaseUrl }), createLogger('silent'));
  try {
    await registerSpecSample(services.admin);
  } finally {
    await services.close();
  }
}

async function registerSpecSample(admin: TestServer['services']['admin']): Promise<void> {
  await admin.createClient({ name: 'seed', clientId: SEED.clientId, clientSecret: SEED.clientSecret });
  await admin.createUser(SEED.username, SEED.password);
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

/** POST a form body to the token endpoint over real HTTP. */
export async function postToken(
  server: TestServer,
  body: string | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  const response = await fetch(`${server.oauthUrl}/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: text,
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** A password grant for the seed user with Basic client authentication; asserts nothing. */
export function passwordGrant(server: TestServer, extra: Record<string, string> = {}) {
  return postToken(
    server,
    { grant_type: 'password', username: SEED.username, password: SEED.password, ...extra },
    { authorization: basic(SEED.clientId, SEED.clientSecret) },
  );
}

export function refreshGrant(server: TestServer, refreshToken: string, extra: Record<string, string> = {}) {
  return postToken(
    server,
    { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
    { authorization: basic(SEED.clientId, SEED.clientSecret) },
  );
}

export async function userinfo(server: TestServer, accessToken: string) {
  const response = await fetch(`${server.oauthUrl}/userinfo/`, { headers: { authorization: `Bearer ${accessToken}` } });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

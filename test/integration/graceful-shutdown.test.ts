/**
 * Graceful shutdown: SIGTERM to `oauthd serve` in the middle of a burst of refreshes and password grants.
 *
 * What must hold (src/cli/serve.ts, src/server.ts: stop accepting, let in-flight requests finish, then
 * close the store):
 * - every request that got an answer got a complete one: a full token response (RFC 6749 §5.1) or an
 *   RFC-shaped error (§5.2), never a cut-off body, never a 500;
 * - requests in flight when the signal came are finished, not dropped;
 * - the process exits 0;
 * - no rotation is cut in half (RFC 6749 §6, RFC 9700 §4.14.2): after a restart on the same database, every
 *   family has exactly one live refresh token, and it is the one its client last received; it refreshes.
 *
 * On SQLite always; on PostgreSQL too when it is reachable (skipped loudly otherwise, unless
 * OAUTHD_REQUIRE_POSTGRES=1), whatever OAUTHD_TEST_STORE says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/server.js';
import { createServices } from '../../src/services.js';
import {
  isRfcError,
  isTokenResponse,
  passwordGrantAt,
  refreshAt,
  tokenDigest,
  type ClientCredentials,
  type HttpResult,
} from '../helpers/oauth-http.js';
import { createTestDatabase, postgresAvailable, withClient, type TestDatabase } from '../helpers/postgres.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { basic, UNLIMITED_THROTTLE } from '../helpers/server.js';

const USERS = ['ada', 'grace', 'edsger', 'barbara'].map((name) => ({
  username: name,
  password: `${name}-correct-horse-battery`,
}));
const REFRESH_CHAINS = 12;
const PASSWORD_LOOPS = 4;
/** How long the burst runs before SIGTERM. */
const BURST_MS = 400;
/** A loop gives up after this long even if the server still answers (it should have exited long before). */
const LOOP_DEADLINE_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LiveState {
  /** The presented token's own state. */
  used: boolean;
  revoked: boolean;
  /** Live (unused, unrevoked) refresh tokens of its family. */
  liveInFamily: number;
}

const STATE_SQL = (param: string) => `
  SELECT r.used_at IS NOT NULL AS used, coalesce(r.revoked_at, g.revoked_at) IS NOT NULL AS revoked,
    (SELECT count(*) FROM refresh_tokens x WHERE x.grant_id = r.grant_id AND x.used_at IS NULL AND x.revoked_at IS
      NULL) AS live
  FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = ${param}`;

/** The state of each refresh token, read straight from the database (the server is not running). */
async function refreshTokenStates(databaseUrl: string, tokens: string[]): Promise<(LiveState | null)[]> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      const statement = db.prepare(STATE_SQL('?'));
      return tokens.map((t) => {
        const row = statement.get(tokenDigest(t)) as { used: number; revoked: number; live: number } | undefined;
        return row ? { used: row.used === 1, revoked: row.revoked === 1, liveInFamily: row.live } : null;
      });
    } finally {
      db.close();
    }
  }
  return withClient(databaseUrl, async (c) => {
    const states: (LiveState | null)[] = [];
    for (const t of tokens) {
      const { rows } = await c.query<{ used: boolean; revoked: boolean; live: string }>(STATE_SQL('$1'), [
        tokenDigest(t),
      ]);
      states.push(
        rows[0] ? { used: rows[0].used, revoked: rows[0].revoked, liveInFamily: Number(rows[0].live) } : null,
      );
    }
    return states;
  });
}

/**
 * HTTP/1.1 on one TCP connection the test controls byte by byte (fetch would pick its own connections):
 * `next()` resolves with the next complete response (Content-Length framing), or null once the server
 * closed the connection without one.
 */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let buffer = Buffer.alloc(0);
  let closed = false;
  let wake: () => void = () => {};
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  const parse = () => {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers.get('content-length') ?? 0);
    if (buffer.length < end + 4 + length) return null;
    const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    buffer = buffer.subarray(end + 4 + length);
    return { status: Number(statusLine!.split(' ')[1]), headers, body };
  };
  return {
    write: (text: string) => new Promise<void>((resolve) => socket.write(text, () => resolve())),
    async next(): Promise<{ status: number; headers: Map<string, string>; body: string } | null> {
      for (;;) {
        const response = parse();
        if (response) return response;
        if (closed) return null;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close: () => socket.destroy(),
  };
}

const stores: ('sqlite' | 'postgres')[] = ['sqlite'];
if (await postgresAvailable('the PostgreSQL case of test/integration/graceful-shutdown.test.ts'))
  stores.push('postgres');

describe.each(stores)('SIGTERM in the middle of a burst (%s)', (store) => {
  let dir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  let client: ClientCredentials;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oauthd-shutdown-'));
    if (store === 'postgres') database = await createTestDatabase();
    const databaseUrl = database ? database.url : `sqlite:${join(dir, 'shutdown.sqlite3')}`;
    env = { OAUTHD_DATABASE_URL: databaseUrl, OAUTHD_WORKERS: '1', ...UNLIMITED_THROTTLE };
    const services = await createServices(loadConfig({ OAUTHD_DATABASE_URL: databaseUrl }), createLogger('silent'));
    // A generated secret (a fast hash): the burst is rotations, not argon2id (the password grants add that).
    const created = await services.admin.createClient({ name: 'shutdown' });
    client = { clientId: created.client.clientId, clientSecret: created.clientSecret! };
    for (const user of USERS) await services.admin.createUser(user.username, user.password);
    await services.close();
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'finishes the requests in flight, answers each completely, exits 0, and leaves every family with exactly one ' +
      'live refresh token: the one its client holds',
    async () => {
      const server = await spawnServer(env);
      servers.push(server);
      const base = server.url;

      // Families whose client refreshes in a loop, each keeping the last pair it received with a 200.
      const chains = await Promise.all(
        Array.from({ length: REFRESH_CHAINS }, async (_, i) => {
          const r = await passwordGrantAt(base, USERS[i % USERS.length], client);
          expect(isTokenResponse(r), r.text).toBe(true);
          return { refresh: r.json!.refresh_token as string, rotations: 0 };
        }),
      );
      /** Families issued during the burst: their clients never refreshed them. */
      const issued: string[] = [];
      const answers: HttpResult[] = [];
      const transportErrors: string[] = [];
      const started = performance.now();
      let sigtermAt = Number.POSITIVE_INFINITY;

      /** Sends requests until the server stops answering (connection refused or closed), or the deadline. */
      const loop = async (send: () => Promise<HttpResult>, onAnswer: (r: HttpResult) => void) => {
        while (performance.now() - started < LOOP_DEADLINE_MS) {
          let r: HttpResult;
          try {
            r = await send();
          } catch (error) {
            const cause = (error as { cause?: { code?: string } }).cause;
            transportErrors.push(cause?.code ?? (error as Error).message);
            return;
          }
          answers.push(r);
          onAnswer(r);
        }
      };
      const loops = [
        ...chains.map((chain) =>
          loop(
            () => refreshAt(base, chain.refresh, client),
            (r) => {
              if (!isTokenResponse(r)) return;
              chain.refresh = r.json!.refresh_token as string;
              chain.rotations++;
            },
          ),
        ),
        ...Array.from({ length: PASSWORD_LOOPS }, (_, i) =>
          loop(
            () => passwordGrantAt(base, USERS[i]!, client),
            (r) => void (isTokenResponse(r) && issued.push(r.json!.refresh_token as string)),
          ),
        ),
      ];

      await sleep(BURST_MS);
      sigtermAt = performance.now();
      const exitCode = await server.stop();
      const drainedInMs = performance.now() - sigtermAt;
      await Promise.all(loops);

      // Every answer is complete and valid: a full token response or an RFC-shaped error. Every request
      // here is valid, so an error can only be the server declining work while it drains.
      // (Soft, so that the properties below are still checked and reported when this one fails.)
      const bad = answers.filter((r) => !isTokenResponse(r) && !isRfcError(r));
      expect.soft(bad.map((r) => `${r.status} ${r.headers.get('content-type')} ${r.text}`)).toEqual([]);
      expect(answers.filter((r) => r.status >= 500 && r.status !== 503).map((r) => r.text)).toEqual([]);
      // Requests in flight at the signal were finished, not dropped: some were answered after it with 200.
      const inFlightFinished = answers.filter(
        (r) => r.sentAt < sigtermAt && r.answeredAt > sigtermAt && r.status === 200,
      );
      expect(inFlightFinished.length).toBeGreaterThan(0);
      // Once the server is gone, requests fail to connect; nothing else ends a loop.
      expect(transportErrors.length).toBe(loops.length);
      expect(exitCode).toBe(0);
      const answered = (status: number) => answers.filter((r) => r.status === status).length;
      console.info(
        `${store}: ${answers.length} answers before the server went (${answered(200)} × 200, ` +
          `${answers.length - answered(200)} other), ${inFlightFinished.length} in flight at SIGTERM finished with ` +
          `200; exit ${exitCode} after ${Math.round(drainedInMs)} ms; client-side errors afterwards: ` +
          `${[...new Set(transportErrors)].join(', ')}`,
      );

      // The database, with no server running: each family has exactly one live refresh token, the one its
      // client holds (a rotation the client never heard of would have used it; a half-written one would
      // have left none, or two).
      const held = [...chains.map((c) => c.refresh), ...issued];
      const states = await refreshTokenStates(env.OAUTHD_DATABASE_URL!, held);
      for (const [i, state] of states.entries()) {
        expect(state, `token ${i}`).toEqual({ used: false, revoked: false, liveInFamily: 1 });
      }

      // And after a restart on the same database, each of them refreshes.
      const restarted = await spawnServer(env);
      servers.push(restarted);
      const refreshed = await Promise.all(held.map((token) => refreshAt(restarted.url, token, client)));
      for (const [i, r] of refreshed.entries()) {
        expect(isTokenResponse(r), `token ${i}: ${r.status} ${r.text}`).toBe(true);
      }
      expect(await restarted.stop()).toBe(0);
    },
  );

  it(
    'finishes a request that began before SIGTERM, and answers the next one on that keep-alive connection with ' +
      'an RFC-shaped 503 temporarily_unavailable (or serves it), never a bare framework body',
    async () => {
      const server = await spawnServer(env);
      servers.push(server);
      const body = new URLSearchParams({
        grant_type: 'password',
        username: USERS[0]!.username,
        password: USERS[0]!.password,
      }).toString();
      const head = (length: number) =>
        `POST /o/token/ HTTP/1.1\r\nHost: oauthd\r\nConnection: keep-alive\r\nContent-Type: ` +
        `application/x-www-form-urlencoded\r\nAuthorization: ` +
        `${basic(client.clientId, client.clientSecret)}\r\nContent-Length: ${length}\r\n\r\n`;
      const connection = rawConnection(server.url);
      try {
        // A request in progress when the signal comes: its headers are in, half its body is not.
        await connection.write(head(body.length) + body.slice(0, 10));
        await sleep(200);
        const exited = server.stop();
        await sleep(200);
        await connection.write(body.slice(10));
        const first = await connection.next();
        expect(first?.status, first?.body).toBe(200);
        expect(JSON.parse(first!.body)).toMatchObject({
          token_type: 'Bearer',
          expires_in: expect.any(Number),
          refresh_token: expect.any(String),
        });

        // The next request on the same connection, while the server drains.
        await connection.write(head(body.length) + body);
        const second = await connection.next();
        if (second !== null && second.status !== 200) {
          expect(second.status, second.body).toBe(503);
          expect(JSON.parse(second.body), 'RFC 6749 §5.2 error body').toEqual({
            error: 'temporarily_unavailable',
            error_description: expect.any(String),
          });
          expect(second.headers.get('retry-after'), 'Retry-After').toMatch(/^\d+$/);
          expect(second.headers.get('cache-control'), 'Cache-Control').toBe('no-store');
        }
        expect(await exited).toBe(0);
      } finally {
        connection.close();
      }
    },
  );
});

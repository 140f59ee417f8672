/**
 * Crash safety: `kill -9` of a loaded server must lose nothing that was answered and corrupt nothing.
 *
 * RFC 6749 §6 and RFC 9700 §4.14.2 (refresh token rotation: every refresh family has exactly one usable
 * refresh token); docs/design-notes.md (SQLite in WAL mode, `synchronous = FULL`, each rotation one
 * `BEGIN IMMEDIATE` transaction). The real CLI server (`oauthd serve`) runs as a child process on a fresh
 * SQLite file; virtual clients run password grants and chains of refreshes against it, each keeping only
 * the pairs it RECEIVED with 200; the server is SIGKILLed mid-load, the file checked while it is dead,
 * the server restarted on the same file, and every client's state checked against it. Three cycles.
 *
 * SQLite only: the property under test is SQLite's (a PostgreSQL server's durability is PostgreSQL's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { tokenKey } from '../../src/core/tokens.js';
import { createLogger } from '../../src/server.js';
import { createServices } from '../../src/services.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { TEST_STORE, UNLIMITED_THROTTLE, basic } from '../helpers/server.js';

const CYCLES = 3;
const LOAD_MS = 2_000;
const USERS = ['ada', 'grace', 'edsger', 'barbara'].map((name) => ({
  username: name,
  password: `${name}-correct-horse-battery`,
}));
/** Two virtual clients per user. */
const CLIENTS = 8;

let dir: string;
let databasePath: string;
let env: Record<string, string>;
let client: { clientId: string; clientSecret: string };
let server: ServerProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oauthd-crash-'));
  databasePath = join(dir, 'crash.sqlite3');
  env = {
    OAUTHD_DATABASE_URL: `sqlite:${databasePath}`,
    // One process: SIGKILL must take the whole server down (with workers, `serve` is a cluster).
    OAUTHD_WORKERS: '1',
    // No request here fails on purpose; the brute-force defence stays out of the way all the same.
    ...UNLIMITED_THROTTLE,
  };
  const services = await createServices(
    loadConfig({ OAUTHD_DATABASE_URL: env.OAUTHD_DATABASE_URL! }),
    createLogger('silent'),
  );
  // A generated secret (a fast keyed hash), so that the load is refreshes, not argon2id.
  const created = await services.admin.createClient({ name: 'crash' });
  client = { clientId: created.client.clientId, clientSecret: created.clientSecret! };
  for (const user of USERS) await services.admin.createUser(user.username, user.password);
  await services.close();
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Pair {
  access: string;
  refresh: string;
}

interface VirtualClient {
  user: (typeof USERS)[number];
  /** Every pair received with 200, in order. */
  received: Pair[];
  /** The last pair received with 200 (its refresh token is the one the next refresh presents). */
  last: Pair | null;
  /** A refresh whose response never came (the server died under it): the refresh token it presented. */
  lostRefresh: string | null;
  /** Anything but 200 or a dead connection: must stay empty. */
  unexpected: string[];
}

const clients: VirtualClient[] = Array.from({ length: CLIENTS }, (_, i) => ({
  user: USERS[i % USERS.length]!,
  received: [],
  last: null,
  lostRefresh: null,
  unexpected: [],
}));

/** A token request; null when the connection failed (the server is dead or died mid-request). */
async function tokenRequest(
  url: string,
  fields: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> } | null> {
  try {
    const response = await fetch(`${url}/o/token/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.clientId, client.clientSecret),
      },
      body: new URLSearchParams(fields),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/**
 * One virtual client until `stop()` is true: a password grant, then a chain of refreshes with the pair it
 * just received (never a token twice, so reuse detection must never fire), then a new password grant…
 */
async function drive(vc: VirtualClient, url: string, stopped: () => boolean, seed: number): Promise<void> {
  let chain = 0;
  let chainLength = 3 + (seed % 12);
  while (!stopped()) {
    const refreshing = vc.last !== null && chain < chainLength;
    const presented = refreshing ? vc.last!.refresh : null;
    const result = presented
      ? await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: presented })
      : await tokenRequest(url, { grant_type: 'password', username: vc.user.username, password: vc.user.password });
    if (result === null) {
      // No answer: the server died with this request in flight (or before it). Its effect is unknown.
      if (presented) vc.lostRefresh = presented;
      return;
    }
    if (result.status !== 200) {
      vc.unexpected.push(`${presented ? 'refresh' : 'password'} → ${result.status} ${JSON.stringify(result.json)}`);
      return;
    }
    const pair = { access: result.json.access_token as string, refresh: result.json.refresh_token as string };
    vc.received.push(pair);
    vc.last = pair;
    if (refreshing) chain++;
    else {
      chain = 0;
      chainLength = 3 + ((seed + vc.received.length) % 12);
    }
  }
}

interface RefreshRow {
  grant_id: string;
  used_at: number | null;
  revoked_at: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGKILL, then wait until the process is gone. */
async function killHard(target: ServerProcess): Promise<void> {
  const child = target.process;
  const gone = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.kill('SIGKILL');
  await gone;
}

describe.skipIf(TEST_STORE === 'postgres')('kill -9 under load, three times', () => {
  it('keeps the SQLite file intact and every received refresh family usable across SIGKILL and restart', async () => {
    const started = Date.now();
    server = await spawnServer(env);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const url = server.url;
      for (const vc of clients) vc.lostRefresh = null;
      const receivedBefore = clients.reduce((n, vc) => n + vc.received.length, 0);

      // ---- Load, then kill -9 mid-load: no drain, no close of the database, requests in flight ----
      let stopped = false;
      const load = Promise.all(clients.map((vc, i) => drive(vc, url, () => stopped, cycle * 31 + i * 7)));
      const loadStarted = Date.now();
      const receivedNow = () => clients.reduce((n, vc) => n + vc.received.length, 0) - receivedBefore;
      await sleep(LOAD_MS + ((cycle * 137) % 400));
      // On a busy machine, give the load a little longer to build up, so that there is something to lose.
      while (receivedNow() < CLIENTS * 3 && Date.now() - loadStarted < 3 * LOAD_MS) await sleep(100);
      await killHard(server);
      stopped = true;
      server = undefined;
      await load;

      for (const vc of clients) expect(vc.unexpected, `cycle ${cycle}`).toEqual([]);
      const receivedThisCycle = clients.reduce((n, vc) => n + vc.received.length, 0) - receivedBefore;
      expect(receivedThisCycle, 'the load did run').toBeGreaterThanOrEqual(CLIENTS);

      // ---- The file, with the server dead ----
      const lostRotations = new Set<string>();
      const db = new Database(databasePath, { fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);

        // No family is revoked (the load never reuses a token), and every family has exactly one usable
        // refresh token: a rotation is all or nothing, and a grant is written with its first pair.
        const families = db
          .prepare(
            `SELECT g.id, g.revoked_at,
                    (SELECT count(*) FROM refresh_tokens r WHERE r.grant_id = g.id AND r.used_at IS NULL AND
                      r.revoked_at IS NULL) AS usable
               FROM grants g`,
          )
          .all() as { id: string; revoked_at: number | null; usable: number }[];
        expect(families.length).toBeGreaterThan(0);
        expect(
          families.filter((f) => f.revoked_at !== null || f.usable !== 1),
          `cycle ${cycle}: broken families`,
        ).toEqual([]);

        const refreshRow = db.prepare('SELECT grant_id, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?');
        const accessRow = db.prepare('SELECT revoked_at FROM access_tokens WHERE token_hash = ?');
        for (const vc of clients) {
          // Every pair a client received is on disk: a 200 is sent only after its commit.
          for (const pair of vc.received) {
            expect(
              refreshRow.get(tokenKey(pair.refresh)),
              `cycle ${cycle}: a received refresh token is missing`,
            ).toBeDefined();
            expect(
              accessRow.get(tokenKey(pair.access)),
              `cycle ${cycle}: a received access token is missing`,
            ).toBeDefined();
          }
          if (!vc.last) continue;
          const last = refreshRow.get(tokenKey(vc.last.refresh)) as RefreshRow;
          expect(last.revoked_at).toBeNull();
          if (last.used_at !== null) {
            // Rotated, yet the client never got the new pair: only its refresh in flight at the kill may
            // have done that. Its family still has one usable token (above): the one whose answer was lost.
            expect(
              vc.lostRefresh,
              `cycle ${cycle}: the last received refresh token was used, with no refresh in flight`,
            ).toBe(vc.last.refresh);
            expect(
              (accessRow.get(tokenKey(vc.last.access)) as { revoked_at: number | null }).revoked_at,
              'a rotation revokes its access token',
            ).not.toBeNull();
            lostRotations.add(vc.last.refresh);
          }
        }
      } finally {
        db.close();
      }

      console.log(
        `crash cycle ${cycle}: ${receivedThisCycle} pairs received, ` +
          `${clients.filter((vc) => vc.lostRefresh).length} refreshes in flight at the kill, ` +
          `${lostRotations.size} of them committed with the answer lost`,
      );

      // ---- The restarted server, on the same file ----
      server = await spawnServer(env);
      for (const vc of clients) {
        if (!vc.last) continue;
        if (lostRotations.has(vc.last.refresh)) {
          // Presenting it again would be reuse (and rightly revoke the family): this client starts anew.
          vc.last = null;
          continue;
        }
        const info = await fetch(`${server.url}/o/userinfo/`, {
          headers: { authorization: `Bearer ${vc.last.access}` },
        });
        expect(info.status, `cycle ${cycle}: the access token of the last pair`).toBe(200);
        expect(((await info.json()) as { username: string }).username).toBe(vc.user.username);
      }
      // Every access token of a pair whose refresh token is still usable passes userinfo; every other one
      // was revoked, and only by the rotation of its refresh token. (The last 20 pairs of each client.)
      const db2 = new Database(databasePath, { readonly: true, fileMustExist: true });
      try {
        const row = db2.prepare('SELECT used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?');
        for (const vc of clients) {
          for (const pair of vc.received.slice(-20)) {
            const refreshRow = row.get(tokenKey(pair.refresh)) as { used_at: number | null; revoked_at: number | null };
            const info = await fetch(`${server.url}/o/userinfo/`, {
              headers: { authorization: `Bearer ${pair.access}` },
            });
            if (refreshRow.used_at === null && refreshRow.revoked_at === null)
              expect(info.status, `cycle ${cycle}: live pair, dead access token`).toBe(200);
            else expect(info.status, `cycle ${cycle}: a rotated pair's access token`).toBe(401);
          }
        }
      } finally {
        db2.close();
      }
      // And the last refresh token of every client still refreshes; the load of the next cycle goes on from there.
      for (const vc of clients) {
        if (!vc.last) continue;
        const refreshed = await tokenRequest(server.url, {
          grant_type: 'refresh_token',
          refresh_token: vc.last.refresh,
        });
        expect(refreshed?.status, `cycle ${cycle}: refresh with the last pair after the restart`).toBe(200);
        const pair = {
          access: refreshed!.json.access_token as string,
          refresh: refreshed!.json.refresh_token as string,
        };
        vc.received.push(pair);
        vc.last = pair;
      }
    }
    expect(await server.stop()).toBe(0);
    server = undefined;
    console.log(`crash safety: ${CYCLES} kill/restart cycles in ${Date.now() - started} ms`);
    // About 12 s alone on two cores (3 × 2 s of load, 6 process starts); the timeout only catches a hang.
  }, 60_000);
});

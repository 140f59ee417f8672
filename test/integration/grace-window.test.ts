/**
 * Idempotent rotation: a retry with the same refresh token within the grace window gets the same pair,
 * byte for byte, while the store holds only hashes and a sealed copy; outside the window, or once the
 * successor was used, it is reuse. Each row of the concurrency table in docs/security.md is tested here.
 * RFC 6749 §6, RFC 9700 §4.14.2 (reuse detection), RFC 6819 §5.2.2.3 (refresh token rotation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED,
  TEST_STORE,
  basic,
  passwordGrant,
  seedSpecSample,
  startTestServer,
  testClock,
  userinfo,
  type TestServer,
} from '../helpers/server.js';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readStoreText, sealedSuccessors } from '../helpers/store-dump.js';

const GRACE = 10;
let server: TestServer;
const clock = testClock();

beforeAll(async () => {
  server = await startTestServer({ OAUTHD_REFRESH_GRACE_SECONDS: String(GRACE) }, { clock });
  await seedSpecSample(server);
});

afterAll(async () => {
  await server.stop();
});

/** A refresh, returning the raw body text so "byte for byte" means exactly that. */
async function refreshRaw(refreshToken: string) {
  const response = await fetch(`${server.oauthUrl}/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(SEED.clientId, SEED.clientSecret),
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) as Record<string, string> };
}

async function login() {
  const { json } = await passwordGrant(server);
  return json.refresh_token as string;
}

describe('a retry within the grace window', () => {
  it('gets the same pair again, byte for byte, and that pair keeps working', async () => {
    const rt1 = await login();
    const first = await refreshRaw(rt1); // the client never sees this response…
    const retry = await refreshRaw(rt1); // …and retries
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect((await userinfo(server, retry.json.access_token!)).status).toBe(200);
    const next = await refreshRaw(retry.json.refresh_token!);
    expect(next.status).toBe(200);
  });

  it('keeps only hashes and a sealed copy: the new pair is nowhere in the store in plaintext', async () => {
    const rt1 = await login();
    const first = await refreshRaw(rt1);
    await refreshRaw(rt1);
    const text = await readStoreText(server);
    expect(text.includes(SEED.username)).toBe(true); // the search finds what is stored in plaintext
    for (const token of [rt1, first.json.access_token!, first.json.refresh_token!])
      expect(text.includes(token)).toBe(false);
  });
});

describe('reuse outside the window', () => {
  it('revokes the family once the successor has been used', async () => {
    const rt1 = await login();
    const second = await refreshRaw(rt1);
    const third = await refreshRaw(second.json.refresh_token!); // the successor is used
    const replay = await refreshRaw(rt1);
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    expect((await userinfo(server, third.json.access_token!)).status).toBe(401);
    expect((await refreshRaw(third.json.refresh_token!)).status).toBe(400);
  });

  it('revokes the family when the window is over', async () => {
    const rt1 = await login();
    const second = await refreshRaw(rt1);
    clock.advance(GRACE + 1);
    try {
      expect((await refreshRaw(rt1)).status).toBe(400);
      expect((await userinfo(server, second.json.access_token!)).status).toBe(401);
      expect((await refreshRaw(second.json.refresh_token!)).status).toBe(400);
    } finally {
      clock.advance(-(GRACE + 1));
    }
  });

  it('still answers a retry at the last second of the window', async () => {
    const rt1 = await login();
    const first = await refreshRaw(rt1);
    clock.advance(GRACE);
    try {
      expect((await refreshRaw(rt1)).text).toBe(first.text);
    } finally {
      clock.advance(-GRACE);
    }
  });
});

describe('concurrency (docs/security.md, "Refresh rotation under concurrency")', () => {
  it('window on, N parallel presentations of a live token: N identical 200s, and the pair works', async () => {
    const rt1 = await login();
    const results = await Promise.all(Array.from({ length: 10 }, () => refreshRaw(rt1)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect((await userinfo(server, results[0]!.json.access_token!)).status).toBe(200);
    expect((await refreshRaw(results[0]!.json.refresh_token!)).status).toBe(200);
  });

  it('window on, N parallel presentations after the successor was used: N × 400, family revoked', async () => {
    const rt1 = await login();
    const second = await refreshRaw(rt1);
    const third = await refreshRaw(second.json.refresh_token!);
    const results = await Promise.all(Array.from({ length: 10 }, () => refreshRaw(rt1)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(400));
    expect((await userinfo(server, third.json.access_token!)).status).toBe(401);
  });

  it(
    'window on, N parallel presentations of the successor and the old token: every answer is one of the two ' +
      'valid pairs or invalid_grant, never a 500',
    async () => {
      const rt1 = await login();
      const second = await refreshRaw(rt1);
      const mixed = await Promise.all(
        Array.from({ length: 10 }, (_, i) => refreshRaw(i % 2 === 0 ? rt1 : second.json.refresh_token!)),
      );
      for (const r of mixed) expect([200, 400]).toContain(r.status);
      expect(mixed.some((r) => r.status === 200)).toBe(true);
    },
  );

  it('window off, N parallel presentations of a live token: one 200, N−1 × 400, family revoked', async () => {
    const off = await startTestServer();
    try {
      await seedSpecSample(off);
      const { json } = await passwordGrant(off);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${off.oauthUrl}/token/`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: basic(SEED.clientId, SEED.clientSecret),
            },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: json.refresh_token as string }),
          }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, string> })),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(9);
      const winner = results.find((r) => r.status === 200)!;
      expect((await userinfo(off, winner.json.access_token!)).status).toBe(401);
    } finally {
      await off.stop();
    }
  });
});

describe('after the window, the cleanup erases the sealed pair', () => {
  it(
    'the next cleanup run nulls the sealed successor once the window has passed (not before), so the old token ' +
      'opens nothing',
    async () => {
      const ownClock = testClock();
      // The server's own periodic cleanup, every second (± 20 % jitter).
      const own = await startTestServer(
        { OAUTHD_REFRESH_GRACE_SECONDS: String(GRACE), OAUTHD_CLEANUP_INTERVAL_SECONDS: '1' },
        { clock: ownClock },
      );
      let stopped = false;
      try {
        await seedSpecSample(own);
        const rt1 = (await passwordGrant(own)).json.refresh_token as string;
        const refresh = async () => {
          const response = await fetch(`${own.oauthUrl}/token/`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: basic(SEED.clientId, SEED.clientSecret),
            },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt1 }),
          });
          return { status: response.status, text: await response.text() };
        };
        const first = await refresh();
        expect(first.status).toBe(200);
        const sealed = await sealedSuccessors(own);
        expect(sealed).toHaveLength(1);
        expect(sealed[0]!.length).toBeGreaterThan(28);

        // Cleanup runs at the window's last second leave it: the retry still gets the same pair.
        ownClock.advance(GRACE);
        await new Promise((r) => setTimeout(r, 2_500));
        expect(await sealedSuccessors(own)).toHaveLength(1);
        expect((await refresh()).text).toBe(first.text);

        ownClock.advance(1);
        const deadline = Date.now() + 5_000;
        while ((await sealedSuccessors(own)).length > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(await sealedSuccessors(own)).toEqual([]);

        if (TEST_STORE === 'postgres') {
          // Every value of every table, bytea raw and as hex.
          const bytes = await own.databaseBytes();
          expect(bytes.includes(sealed[0]!)).toBe(false);
          expect(bytes.includes(sealed[0]!.toString('hex'))).toBe(false);
        } else {
          // Closing the last connection checkpoints the WAL into the file and removes it; secure_delete (FAST)
          // zeroed the bytes the update freed.
          await own.close();
          stopped = true;
          const file = readFileSync(own.databasePath);
          expect(file.includes(Buffer.from(SEED.username))).toBe(true); // the search finds what is there
          expect(file.includes(sealed[0]!)).toBe(false);
        }
      } finally {
        if (!stopped) await own.stop();
        else rmSync(dirname(own.databasePath), { recursive: true, force: true });
      }
    },
  );
});

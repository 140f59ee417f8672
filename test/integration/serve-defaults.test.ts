/**
 * `oauthd serve` defaults an operator meets on day one: one process unless asked for more (`--workers N`,
 * OAUTHD_WORKERS in the environment or the config file, `auto` for one per core).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envWithoutOauthd, spawnServer } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'oauthd-serve-defaults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts `oauthd serve` with no OAUTHD_* variable but `env`, waits for its announcement, counts its child processes,
 * stops it.
 */
async function childProcessesOf(env: Record<string, string>, args: string[] = []): Promise<number> {
  const database = join(dir, `${Math.random().toString(36).slice(2)}.sqlite3`);
  // No OAUTHD_WORKERS unless `env` sets it: the default is what is tested.
  const baseEnv = envWithoutOauthd({ OAUTHD_PORT: '0', OAUTHD_ADMIN_PORT: '0', OAUTHD_LOG_LEVEL: 'warn' });
  const server = await spawnServer({ OAUTHD_DATABASE_URL: `sqlite:${database}`, ...env }, args, { baseEnv });
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.process.pid)]).toString();
    return out.split('\n').filter((l) => l.trim() !== '').length;
  } catch (error) {
    if ((error as { status?: number }).status === 1) return 0; // ps: no such children
    throw error;
  } finally {
    expect(await server.stop()).toBe(0);
  }
}

describe('oauthd serve process count', () => {
  it('runs one process when nothing asks for more', async () => {
    expect(await childProcessesOf({})).toBe(0);
  });

  it('runs one worker per core with OAUTHD_WORKERS=auto', async () => {
    expect(await childProcessesOf({ OAUTHD_WORKERS: 'auto' })).toBe(availableParallelism());
  });

  it('takes OAUTHD_WORKERS from the config file, and --workers over it', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ OAUTHD_WORKERS: '2' }));
    expect(await childProcessesOf({ OAUTHD_CONFIG_FILE: file })).toBe(2);
    expect(await childProcessesOf({ OAUTHD_CONFIG_FILE: file }, ['--workers', '1'])).toBe(0);
  });
});

describe('OAUTHD_MEMORY_PROFILE', () => {
  /** The new space V8 gave the server after some load, from the admin listener's metrics. */
  async function newSpaceBytes(profile: string): Promise<number> {
    const database = join(dir, `memory-${profile}.sqlite3`);
    const server = await spawnServer({ OAUTHD_DATABASE_URL: `sqlite:${database}`, OAUTHD_MEMORY_PROFILE: profile });
    try {
      for (let i = 0; i < 50; i++)
        await Promise.all(
          Array.from({ length: 10 }, () => fetch(`${server.url}/healthz`).then((r) => r.arrayBuffer())),
        );
      const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('oauthd_nodejs_heap_space_size_total_bytes{space="new"}'));
      return Number(line?.split(' ').pop());
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }

  it('keeps the server thread young generation small by default, and lets V8 grow it with fast', async () => {
    expect(await newSpaceBytes('small')).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(await newSpaceBytes('fast')).toBeGreaterThan(4 * 1024 * 1024);
  });
});

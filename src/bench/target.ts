/**
 * The servers under load, each in its own process (so its memory can be read from /proc and the load
 * generator does not share its event loop): `oauthd serve` from this build, and the bare node:http ceiling.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../server.js';
import { createServices } from '../services.js';
import { BENCH_REDIRECT_URI } from './codes.js';

export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const CEILING = fileURLToPath(new URL('./ceiling-server.js', import.meta.url));

/** The brute-force limits lifted: the bench makes thousands of logins from 127.0.0.1, all of them valid. */
const UNLIMITED_THROTTLE = {
  OAUTHD_MAX_FAILURES_PER_IP: '1000000',
  OAUTHD_MAX_FAILURES_PER_USER: '1000000',
  OAUTHD_MAX_FAILURES_PER_USER_IP: '999999',
  OAUTHD_BACKOFF_AFTER: '1000000',
  OAUTHD_MAX_FAILURES_PER_CLIENT_IP: '1000000',
};

/** The environment oauthd runs with in the bench: the caller's OAUTHD_* settings, then the bench's own. */
export function serverEnv(databaseUrl: string): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return {
    ...inherited,
    ...UNLIMITED_THROTTLE,
    OAUTHD_DATABASE_URL: databaseUrl,
    OAUTHD_HOST: '127.0.0.1',
    OAUTHD_PORT: '0',
    // The admin listener (metrics) on a free port too, so runs side by side never collide on 8001.
    OAUTHD_ADMIN_PORT: '0',
    OAUTHD_LOG_LEVEL: process.env.OAUTHD_LOG_LEVEL ?? 'warn',
  };
}

export interface ServerProcess {
  url: string;
  pid: number;
  stderr(): string;
  /** SIGTERM (oauthd drains and closes its store; a CPU profile is written then), then the exit code. */
  stop(): Promise<number | null>;
}

async function spawnAndWait(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  what: string,
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = ready.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Whether `oauthd serve` knows `--workers` (older builds do not). */
export function serveSupportsWorkers(): boolean {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
  return /--workers\b/.test(`${help.stdout}${help.stderr}`);
}

export function spawnOauthd(
  env: Record<string, string>,
  options: { profileDir?: string; nodeFlags?: string[]; workers?: number | undefined },
): Promise<ServerProcess> {
  const nodeFlags = [
    ...(options.nodeFlags ?? []),
    ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
  ];
  // Always explicit when serve knows the flag: its own default is one worker per core.
  const serveFlags = options.workers !== undefined ? ['--workers', String(options.workers)] : [];
  return spawnAndWait(
    [...nodeFlags, CLI, 'serve', ...serveFlags],
    env,
    /token endpoint at (http:\/\/[^/\s]+)/,
    'oauthd',
  );
}

export function spawnCeiling(workers: number): Promise<ServerProcess> {
  const env = { ...process.env, CEILING_WORKERS: String(workers) } as Record<string, string>;
  return spawnAndWait([CEILING], env, /ceiling at (http:\/\/[^/\s]+)/, 'the ceiling server');
}

export const BENCH_PASSWORD = 'bench-password-0123456789';

export interface Seed {
  clientId: string;
  clientSecret: string;
  /** `Basic …` for the client. */
  authorization: string;
  usernames: string[];
  userIds: number[];
}

/**
 * Registers the bench's client (a generated secret, as `oauthd client create` makes by default; the password,
 * client_credentials, refresh_token and authorization_code grants) and `users`
 * users through the admin services the CLI uses; this also migrates the store.
 */
export async function seed(env: Record<string, string>, users: number): Promise<Seed> {
  const services = await createServices(loadConfig(env), createLogger('silent'));
  try {
    const { client, clientSecret } = await services.admin.createClient({
      name: 'bench',
      grantTypes: ['password', 'client_credentials', 'refresh_token'],
    });
    // The authorization_code scenario's redirect URI (RFC 6749 §3.1.2), written through the store port.
    await services.store.updateClient(
      client.clientId,
      {
        grantTypes: ['password', 'client_credentials', 'refresh_token', 'authorization_code'],
        policy: { redirectUris: [BENCH_REDIRECT_URI] },
      },
      Math.floor(Date.now() / 1000),
    );
    const usernames: string[] = [];
    const userIds: number[] = [];
    for (let i = 0; i < users; i++) {
      const user = await services.admin.createUser(`bench-user-${i}`, BENCH_PASSWORD);
      usernames.push(user.username);
      userIds.push(user.id);
    }
    return {
      clientId: client.clientId,
      clientSecret: clientSecret!,
      authorization: `Basic ${Buffer.from(`${client.clientId}:${clientSecret!}`).toString('base64')}`,
      usernames,
      userIds,
    };
  } finally {
    await services.close();
  }
}

export interface Pair {
  access: string;
  refresh: string;
}

/** One password grant over HTTP. */
export async function passwordGrant(url: string, s: Seed, username: string): Promise<Pair> {
  const response = await fetch(`${url}/o/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: s.authorization },
    body: new URLSearchParams({ grant_type: 'password', username, password: BENCH_PASSWORD }).toString(),
  });
  const json = (await response.json()) as { access_token?: string; refresh_token?: string };
  if (response.status !== 200 || !json.access_token || !json.refresh_token) {
    throw new Error(`password grant for ${username} answered ${response.status}: ${JSON.stringify(json)}`);
  }
  return { access: json.access_token, refresh: json.refresh_token };
}

/** `count` fresh token pairs, a few grants at a time, users taken in turn. */
export async function freshPairs(url: string, s: Seed, count: number): Promise<Pair[]> {
  const pairs: Pair[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(4, count) }, async () => {
      while (next < count) {
        const i = next++;
        pairs[i] = await passwordGrant(url, s, s.usernames[i % s.usernames.length]!);
      }
    }),
  );
  return pairs;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How to run the CLI: the program, the arguments before the command, and where. Default: node dist/cli/main.js. */
export interface Launch {
  command: string;
  args: string[];
  cwd?: string;
}

const NODE_CLI: Launch = { command: process.execPath, args: [CLI], cwd: ROOT };

/** This process's environment without any OAUTHD_* variable (an operator's shell), plus `extra`. */
export function envWithoutOauthd(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OAUTHD_')) env[key] = value;
  return { ...env, ...extra };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/**
 * Runs `oauthd <args>` to completion with exactly `env`; `input` goes to its stdin, which is then closed. A
 * command that should fail fast but starts a server instead is killed after `timeoutMs`.
 */
export function runOauthd(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; launch?: Launch },
): Promise<RunResult> {
  const launch = options.launch ?? NODE_CLI;
  return new Promise((resolve, reject) => {
    const child = spawn(launch.command, [...launch.args, ...args], {
      cwd: launch.cwd ?? ROOT,
      env: options.env,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the command may exit before reading stdin
    child.stdin.end(options.input ?? '');
  });
}

/** What a test server runs with unless the test says otherwise: loopback, free ports, one process, quiet. */
const SERVE_DEFAULTS = {
  OAUTHD_HOST: '127.0.0.1',
  OAUTHD_PORT: '0',
  OAUTHD_ADMIN_PORT: '0',
  OAUTHD_LOG_LEVEL: 'warn',
  OAUTHD_WORKERS: '1',
};

export interface ServerProcess {
  /** The public listener's origin, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The token endpoint URL the server announced (base path included). */
  tokenUrl: string;
  /** The admin listener the server announced (/metrics, /readyz with detail). */
  adminUrl: string;
  process: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<ExitStatus>;
  /** Resolves once its output is read to the end too (after `exited`). */
  closed: Promise<void>;
  /** SIGTERM (unless it has exited), then the exit code. */
  stop(): Promise<number | null>;
}

const ANNOUNCED_TOKEN_ENDPOINT = /token endpoint at (\S+)\n/;
const ANNOUNCED_ADMIN_LISTENER = /admin listener .* at (\S+)\n/;

/**
 * Starts `oauthd serve <args>` as a child process and resolves once it has announced its token endpoint and
 * admin listener (whole lines, on stderr). `env` is laid over `baseEnv`, by default this process's
 * environment with SERVE_DEFAULTS. A server that exits or stays silent for `timeoutMs` fails the start.
 */
export async function spawnServer(
  env: Record<string, string>,
  args: string[] = [],
  options: { baseEnv?: NodeJS.ProcessEnv; launch?: Launch; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const launch = options.launch ?? NODE_CLI;
  const child = spawn(launch.command, [...launch.args, 'serve', ...args], {
    cwd: launch.cwd ?? ROOT,
    env: { ...(options.baseEnv ?? { ...process.env, ...SERVE_DEFAULTS }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const announced = await new Promise<{ tokenUrl: string; adminUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`oauthd serve did not announce itself within ${options.timeoutMs ?? 20_000} ms:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const token = ANNOUNCED_TOKEN_ENDPOINT.exec(stderr);
      const admin = ANNOUNCED_ADMIN_LISTENER.exec(stderr);
      if (token && admin) {
        clearTimeout(timer);
        resolve({ tokenUrl: token[1]!, adminUrl: admin[1]! });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`oauthd serve exited (code ${code}, signal ${signal}) before starting:\n${stderr}`));
    });
  });
  return {
    ...announced,
    url: new URL(announced.tokenUrl).origin,
    process: child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    closed,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}

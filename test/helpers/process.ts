import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  url: string;
  /** The admin listener the server announced (/metrics, /readyz with detail). */
  adminUrl: string;
  process: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `oauthd serve <args>` (the built CLI) as a child process on a free port, its admin listener on
 * another, and waits until it has announced both.
 */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, OAUTHD_HOST: '127.0.0.1', OAUTHD_PORT: '0', OAUTHD_ADMIN_PORT: '0', OAUTHD_LOG_LEVEL: 'warn', OAUTHD_WORKERS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const { url, adminUrl } = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /token endpoint at (http:\/\/[^/\s]+)/.exec(stderr);
      const admin = /admin listener .* at (http:\/\/[^/\s]+)/.exec(stderr);
      if (match && admin) {
        clearTimeout(timer);
        resolve({ url: match[1]!, adminUrl: admin[1]! });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    adminUrl,
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

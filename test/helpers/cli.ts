import { spawn } from 'node:child_process';
import { CLI, ROOT } from './process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: none of the test's own OAUTHD_* settings, the given database, `extra`. */
export function cliEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OAUTHD_')) env[key] = value;
  return { ...env, OAUTHD_DATABASE_URL: databaseUrl, ...extra };
}

/** `oauthd <args>` (the built CLI, a child process, through pipes) against `databaseUrl`; `input` goes to its stdin. */
export function runCli(databaseUrl: string, args: string[], input = '', extra: Record<string, string> = {}): Promise<CliResult> {
  const env = cliEnv(databaseUrl, extra);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** Polls `probe` every 50 ms until it returns true, for at most `ms`; returns how long it took (ms). */
export async function within(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

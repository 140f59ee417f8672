import { envWithoutOauthd, runOauthd } from './process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: none of the test's own OAUTHD_* settings, the given database, `extra`. */
export function cliEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return envWithoutOauthd({ OAUTHD_DATABASE_URL: databaseUrl, ...extra });
}

/** `oauthd <args>` (the built CLI, a child process, through pipes) against `databaseUrl`; `input` goes to its stdin. */
export async function runCli(
  databaseUrl: string,
  args: string[],
  input = '',
  extra: Record<string, string> = {},
): Promise<CliResult> {
  const { code, stdout, stderr } = await runOauthd(args, { env: cliEnv(databaseUrl, extra), input });
  return { code, stdout, stderr };
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

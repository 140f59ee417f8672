import { userInfo } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import { createServices, type Services } from '../services.js';
import { createLogger } from '../server.js';

/** Options every command that touches the store accepts. */
export interface StoreOptions {
  databaseUrl?: string;
}

export function configFrom(options: StoreOptions & { host?: string; port?: string }): Config {
  return loadConfig(process.env, {
    OAUTHD_DATABASE_URL: options.databaseUrl,
    OAUTHD_HOST: options.host,
    OAUTHD_PORT: options.port,
  });
}

/** Opens the services for one CLI command and closes them afterwards, whatever happens. */
export async function withServices<T>(options: StoreOptions, run: (services: Services) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const services = await createServices(config, createLogger('silent'), {
    onStoreWarning: (message) => process.stderr.write(`oauthd: warning: ${message}\n`),
    adminActor: cliActor(),
  });
  try {
    return await run(services);
  } finally {
    await services.close();
  }
}

/**
 * Who runs this command, for the audit trail: `cli:<OS user>` (`cli:uid=<n>` when the uid has no passwd entry,
 * as in some containers). The OS account is what the machine vouches for; under sudo it is the target user.
 */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid=${process.getuid?.() ?? 'unknown'}`;
  }
}

/** Prints a value as JSON (for scripts) or as text lines (for people). */
export function output(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/**
 * Warns on stderr that a secret was given on the command line: every user of the machine sees a process's
 * argv (ps, /proc/<pid>/cmdline) while it runs, and the shell keeps it in its history.
 */
export function warnSecretOnArgv(flag: string, instead: string): void {
  process.stderr.write(`oauthd: warning: ${flag} puts the secret on the command line (visible to every user in ps, kept in shell history); use ${instead}\n`);
}

/** Reads a password (or client secret) from standard input: everything up to EOF, minus one trailing newline. */
export async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

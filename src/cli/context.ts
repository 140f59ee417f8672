import { userInfo } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import type { Services } from '../services.js';
import { AdminError } from '../core/admin.js';

/** Options every command that touches the store accepts. */
export interface StoreOptions {
  databaseUrl?: string;
}

export function configFrom(options: StoreOptions & { host?: string; port?: string; adminHost?: string; adminPort?: string }): Config {
  return loadConfig(process.env, {
    OAUTHD_DATABASE_URL: options.databaseUrl,
    OAUTHD_HOST: options.host,
    OAUTHD_PORT: options.port,
    OAUTHD_ADMIN_HOST: options.adminHost,
    OAUTHD_ADMIN_PORT: options.adminPort,
  });
}

/**
 * Opens the services for one CLI command and closes them afterwards, whatever happens. Every command but
 * `migrate` and `serve` refuses a database that does not exist or holds no oauthd schema, naming the URL
 * it tried and the fix, rather than create an empty store and report success.
 */
export async function withServices<T>(options: StoreOptions, run: (services: Services) => Promise<T>, { requireSchema = true } = {}): Promise<T> {
  const config = configFrom(options);
  if (requireSchema) await assertMigrated(config.databaseUrl);
  // Loaded here, not at the top: `oauthd serve` imports this module on a main thread that never opens a store.
  const [{ createServices }, { createLogger }] = await Promise.all([import('../services.js'), import('../server.js')]);
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

export async function assertMigrated(databaseUrl: string): Promise<void> {
  const { probeSchema, redactUrl } = await import('../services.js');
  const state = await probeSchema(databaseUrl);
  if (state.kind === 'migrated') return;
  const what = state.kind === 'missing' ? 'no database at' : 'no oauthd schema in';
  throw new AdminError(
    `${what} ${redactUrl(databaseUrl)}: run \`oauthd migrate\` to create it, or point --database-url / OAUTHD_DATABASE_URL at the server's database`,
  );
}

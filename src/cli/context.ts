import { loadConfig, type Config } from '../config/config.js';
import { createServices, type Services } from '../services.js';
import { createLogger } from '../server.js';
import { AdminError } from '../core/admin.js';
import { probeSchema, redactUrl } from '../services.js';

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
  const services = await createServices(config, createLogger('silent'));
  try {
    return await run(services);
  } finally {
    await services.close();
  }
}

/** Prints a value as JSON (for scripts) or as text lines (for people). */
export function output(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** Reads a password from standard input: everything up to EOF, minus one trailing newline. */
export async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function assertMigrated(databaseUrl: string): Promise<void> {
  const state = await probeSchema(databaseUrl);
  if (state.kind === 'migrated') return;
  const what = state.kind === 'missing' ? 'no database at' : 'no oauthd schema in';
  throw new AdminError(
    `${what} ${redactUrl(databaseUrl)}: run \`oauthd migrate\` to create it, or point --database-url / OAUTHD_DATABASE_URL at the server's database`,
  );
}

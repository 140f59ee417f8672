import { loadConfig, type Config } from '../config/config.js';
import type { Services } from '../services.js';

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
  // Loaded here, not at the top: `oauthd serve` imports this module on a main thread that never opens a store.
  const [{ createServices }, { createLogger }] = await Promise.all([import('../services.js'), import('../server.js')]);
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

import { userInfo } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import type { Services } from '../services.js';
import { AdminError } from '../core/admin/validation.js';

/** Options every command that touches the store accepts. */
export interface StoreOptions {
  databaseUrl?: string;
}

export function configFrom(
  options: StoreOptions & { host?: string; port?: string; adminHost?: string; adminPort?: string },
): Config {
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
export async function withServices<T>(
  options: StoreOptions,
  run: (services: Services) => Promise<T>,
  { requireSchema = true } = {},
): Promise<T> {
  const config = configFrom(options);
  if (requireSchema) await assertMigrated(config.store.databaseUrl);
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
  process.stderr.write(
    `oauthd: warning: ${flag} puts the secret on the command line (visible to every user in ps, kept in shell ` +
      `history); use ${instead}\n`,
  );
}

/**
 * Reads a password (or client secret) from standard input. From a pipe or file: everything up to EOF, minus
 * one trailing newline. From a terminal: asks for it without echo (`Password: `), then again
 * (`Repeat password: `), and refuses a mismatch, as a typo there would lock the user out.
 */
export async function readStdinPassword(what = 'password', check: (value: string) => void = () => {}): Promise<string> {
  const stdin = process.stdin as NodeJS.ReadStream;
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') {
    const label = what.charAt(0).toUpperCase() + what.slice(1);
    const reader = hiddenLineReader(stdin);
    try {
      const first = await reader.read(`${label}: `);
      // A password the policy refuses is refused before it is typed twice.
      check(first);
      const second = await reader.read(`Repeat ${what}: `);
      if (first !== second) throw new AdminError(`the ${what}s do not match; nothing was changed`);
      return first;
    } finally {
      reader.close();
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function assertMigrated(databaseUrl: string): Promise<void> {
  const { probeSchema, redactUrl } = await import('../services.js');
  const state = await probeSchema(databaseUrl);
  if (state.kind === 'migrated') return;
  const what = state.kind === 'missing' ? 'no database at' : 'no oauthd schema in';
  throw new AdminError(
    `${what} ${redactUrl(databaseUrl)}: run \`oauthd migrate\` to create it, or point --database-url / ` +
      `OAUTHD_DATABASE_URL at the server's database`,
  );
}

/**
 * Lines typed on a terminal, without echo: the terminal is put in raw mode (so it echoes nothing and hands
 * over each key), prompts go to stderr (stdout stays for the result). Backspace and Ctrl-U edit; Ctrl-C
 * stops the command (exit 130); Ctrl-D on an empty line gives up. Keys typed ahead of the next prompt are kept.
 */
function hiddenLineReader(stdin: NodeJS.ReadStream) {
  let pending = '';
  let waiting: ((line: string | null) => void) | null = null;
  let current = '';
  let ended = false;
  const deliver = () => {
    while (waiting && pending.length > 0) {
      const ch = String.fromCodePoint(pending.codePointAt(0)!);
      pending = pending.slice(ch.length);
      if (ch === '\r' || ch === '\n') {
        const line = current;
        current = '';
        const resolve = waiting;
        waiting = null;
        process.stderr.write('\n');
        resolve(line);
      } else if (ch === '\u0003') {
        stdin.setRawMode(false);
        process.stderr.write('\n');
        process.exit(130);
      } else if (ch === '\u0004') {
        if (current === '') {
          const resolve = waiting;
          waiting = null;
          process.stderr.write('\n');
          resolve(null);
        }
      } else if (ch === '\u007f' || ch === '\b') {
        current = [...current].slice(0, -1).join('');
      } else if (ch === '\u0015') {
        current = '';
      } else if (ch >= ' ') {
        current += ch;
      }
    }
  };
  const onData = (chunk: string) => {
    // Arrow and function keys send escape sequences: they move nothing here and are no part of a password.
    pending += chunk.replace(/\x1b(\[[0-9;]*[A-Za-z~]|O.)?/g, '');
    deliver();
  };
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.on('data', onData);
  stdin.resume();
  return {
    read(prompt: string): Promise<string> {
      if (ended) return Promise.reject(new AdminError('no input'));
      process.stderr.write(prompt);
      return new Promise<string>((resolve, reject) => {
        waiting = (line) => {
          if (line !== null) return resolve(line);
          ended = true;
          reject(new AdminError('no password given; nothing was changed'));
        };
        deliver();
      });
    },
    close() {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

/**
 * A value a person or an attacker chose (a username tried at login, a client name), made safe for a
 * terminal: control characters (escape sequences could rewrite the operator's screen or clipboard) are
 * shown as \u escapes.
 */
export function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

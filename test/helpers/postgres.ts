/**
 * PostgreSQL for tests: a throwaway database per test file (or per server), created and dropped through an
 * admin connection to OAUTHD_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * When PostgreSQL is unreachable: with OAUTHD_REQUIRE_POSTGRES=1 (CI sets it) the PostgreSQL tests fail;
 * otherwise they are skipped with a loud warning, so a developer without PostgreSQL can still run the rest.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.OAUTHD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_REQUIRED = process.env.OAUTHD_REQUIRE_POSTGRES === '1';

const redact = (url: string) => url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');

/** Runs `work` on a short-lived connection to `url`. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

let probe: Promise<string | null> | undefined;

/** Why PostgreSQL cannot be used for tests (one line), or null when it can. Asked once per process. */
export function postgresUnavailableReason(): Promise<string | null> {
  probe ??= withClient(POSTGRES_ADMIN_URL, async (client) => {
    await client.query('SELECT 1');
    return null;
  }).catch((error: unknown) => {
    const e = error as { code?: string; message?: string };
    return (
      `PostgreSQL at ${redact(POSTGRES_ADMIN_URL)} is unreachable ` +
      `(${[e.code, e.message].filter(Boolean).join(' ')})`
    );
  });
  return probe;
}

/**
 * Decides whether this file's PostgreSQL tests run: true when PostgreSQL answers. Otherwise, with
 * OAUTHD_REQUIRE_POSTGRES=1 throws (the file fails), else warns loudly and returns false (skip).
 */
export async function postgresAvailable(what: string): Promise<boolean> {
  const reason = await postgresUnavailableReason();
  if (reason === null) return true;
  if (POSTGRES_REQUIRED) throw new Error(`${what}: ${reason}, and OAUTHD_REQUIRE_POSTGRES=1 requires it`);
  console.warn(
    [
      '',
      '!'.repeat(100),
      `!! SKIPPED: ${what}`,
      `!! ${reason}.`,
      '!! Start PostgreSQL or point OAUTHD_TEST_POSTGRES_URL at one; CI sets OAUTHD_REQUIRE_POSTGRES=1 and ' +
        'fails instead.',
      '!'.repeat(100),
      '',
    ].join('\n'),
  );
  return false;
}

export interface TestDatabase {
  name: string;
  /** The database's URL (the admin URL with another database name). */
  url: string;
  /** Drops the database, closing whatever connections are left on it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty, uniquely named database (oauthd_test_<random>). Its commits do not wait for the WAL
 * flush (synchronous_commit = off): that changes what survives a crash of the server, nothing that tests
 * observe (visibility, locks and isolation are the same), and makes each write several milliseconds faster.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `oauthd_test_${randomBytes(8).toString('hex')}`;
  await withClient(POSTGRES_ADMIN_URL, async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
    await client.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withClient(POSTGRES_ADMIN_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Every value of every table of the database, for searching it like a file: text as UTF-8, and bytea
 * both as its raw bytes and as hex, so a secret is found whichever way it was written.
 */
export async function dumpDatabase(url: string): Promise<Buffer> {
  return withClient(url, async (client) => {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const parts: Buffer[] = [];
    for (const { name } of tables) {
      const { rows } = await client.query<Record<string, unknown>>(`SELECT * FROM ${name}`);
      parts.push(Buffer.from(`-- ${name}\n`));
      for (const row of rows) {
        for (const value of Object.values(row)) {
          if (Buffer.isBuffer(value)) parts.push(value, Buffer.from(value.toString('hex')));
          else parts.push(Buffer.from(String(value)));
          parts.push(Buffer.from('\t'));
        }
        parts.push(Buffer.from('\n'));
      }
    }
    return Buffer.concat(parts);
  });
}

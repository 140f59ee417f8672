import pg from 'pg';
import { passwordsOf, type PostgresUrlOptions } from './url.js';

/** How long to wait for a connection (a new one, or a free one of the pool). */
const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * Client-side limit of one query, past the server's statement_timeout: it ends a query whose answer never
 * comes (a dead network, a frozen server), which the server-side timeout cannot.
 */
export const QUERY_TIMEOUT_GRACE_MS = 5_000;

/** int8 (bigint: epoch seconds, ids, counts) as a JS number; every value we store is far below 2^53. */
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

/** One statement, with its parameters. */
export type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** The pool every concern of the store shares. */
export interface PostgresConnection {
  /** One statement on any free pooled connection, in a transaction of its own. */
  query: Query;
  /**
   * Runs `work` in one transaction on one pooled connection: BEGIN … COMMIT, ROLLBACK on error.
   * `timeoutMs` is the client-side limit of each of its queries (default: statement timeout + grace).
   */
  inTransaction<T>(work: (query: Query) => Promise<T>, timeoutMs?: number): Promise<T>;
  /** Ends the pool; a second call does nothing. */
  close(): Promise<void>;
}

/**
 * A node-postgres pool. Atomicity without a lock held across round trips: each intention that can be one
 * statement is one (`query`); the others are one short transaction on one connection (`inTransaction`).
 */
export function connectPostgres(options: PostgresUrlOptions): PostgresConnection {
  const { connectionString, poolMax, statementTimeoutMs, sessionOptions } = options;
  const queryTimeoutMs = statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS;
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs,
    query_timeout: queryTimeoutMs,
    // A transaction left open by a frozen process must not hold row locks for long.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    application_name: 'oauthd',
    options: sessionOptions,
    types,
  });
  // A pooled connection that dies while idle is dropped by the pool, which then emits 'error'; without a
  // listener that would crash the process. The next call reconnects, or fails with StoreUnavailableError.
  pool.on('error', () => {});
  let closed = false;

  const inTransaction = async <T>(work: (query: Query) => Promise<T>, timeoutMs = queryTimeoutMs): Promise<T> => {
    const client = await pool.connect();
    // While checked out, a dead connection errors the running query (or the next one); without this
    // listener, an error between two queries would be an unhandled 'error' event.
    const ignore = () => {};
    client.on('error', ignore);
    const query: Query = (text, values = []) =>
      client.query({ text, values, query_timeout: timeoutMs } as pg.QueryConfig);
    // A connection that failed (or whose rollback failed) is destroyed rather than returned to the pool.
    let broken: Error | undefined;
    try {
      await query('BEGIN');
      const result = await work(query);
      await query('COMMIT');
      return result;
    } catch (error) {
      if (isUnavailable(error)) {
        broken = error as Error; // the server rolls back when the connection closes
      } else {
        await query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError as Error));
      }
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  };

  return {
    query: (text, values = []) => pool.query(text, values),
    inTransaction,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** SQLSTATE classes and codes that mean "the database cannot serve this now", not "the request is wrong". */
const UNAVAILABLE_SQLSTATE = [
  /^08/, // connection exception
  /^28/, // invalid authorization (credentials changed under a running server)
  /^3D000$/, // the database does not exist (dropped, misnamed)
  /^40001$|^40P01$/, // serialization failure, deadlock: transient, nothing was written
  /^53/, // insufficient resources: too many connections, disk full, out of memory
  /^55P03$/, // lock not available
  /^57014$/, // query canceled: statement_timeout
  /^57P0/, // admin or crash shutdown, cannot connect now, database dropped
  /^58/, // system error (I/O)
  /^25006$/, // read-only transaction: a failover left us on a standby
];
/** Socket errors of node:net and node:dns. */
const UNAVAILABLE_ERRNO = new RegExp(
  '^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ENOTFOUND' +
    '|EAI_AGAIN|EPIPE|EADDRNOTAVAIL|ENOENT)$',
);
/** node-postgres's own errors for lost connections and timeouts, which carry no code. */
const UNAVAILABLE_MESSAGE = new RegExp(
  '^(Connection terminated|timeout exceeded when trying to connect|Query read timeout' +
    '|Client has encountered a connection error|Client was closed and is not queryable)',
);

/** Whether `error` is an infrastructure failure (the Store contract's StoreUnavailableError), not a bug. */
function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.some((re) => re.test(code))) return true;
    if (UNAVAILABLE_ERRNO.test(code)) return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  // Happy eyeballs (several addresses for one host name) fails with an AggregateError of socket errors.
  if (error instanceof AggregateError) return error.errors.length > 0 && error.errors.every(isUnavailable);
  return false;
}

/**
 * The fault guard's judge (see guardStore): for an infrastructure failure, `postgres: <code> <first line>`
 * with the URL's password taken out; null for any other error.
 */
export function describeUnavailable(url: string): (error: unknown) => string | null {
  const passwords = passwordsOf(url);
  return (error) => {
    if (!isUnavailable(error)) return null;
    const { code, message } = error as { code?: unknown; message?: unknown };
    let text = `postgres: ${typeof code === 'string' ? `${code} ` : ''}${String(message ?? error)}`.split('\n')[0]!;
    // No driver message we know of holds the password; make sure none ever carries it into a log.
    for (const password of passwords) text = text.split(password).join('***');
    return text;
  };
}

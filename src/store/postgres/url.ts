/** Connections per store (per process) unless the URL says `?max=N`. */
export const DEFAULT_POOL_MAX = 10;
/** Server-side limit of one statement, lock waits included, unless the URL says `?statement_timeout=MS`. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Every session runs READ COMMITTED whatever the server's or the database's default: the single-use
 * argument of rotateRefreshToken relies on it (under REPEATABLE READ or SERIALIZABLE the losers of a race
 * would fail with a serialization error instead of seeing the token used).
 */
const SESSION_OPTIONS = '-c default_transaction_isolation=read\\ committed';

export interface PostgresUrlOptions {
  /** The URL handed to node-postgres, without the parameters below. */
  connectionString: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** The server options of the URL's `options` parameter, if any, then ours (which win). */
  sessionOptions: string;
}

/**
 * Reads oauthd's own query parameters off a `postgres://` URL: `max` (pool size, 1-1000, default 10) and
 * `statement_timeout` (milliseconds, 100-600000, default 5000); `options` (libpq's server options) is kept
 * and extended. Everything else is node-postgres's. Throws a one-line Error that never shows the password.
 */
export function parsePostgresUrl(url: string): PostgresUrlOptions {
  const [base, query = ''] = splitOnce(url, '?');
  const params = new URLSearchParams(query);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const value = params.get(name);
    params.delete(name);
    if (value === null) return fallback;
    if (!/^\d+$/.test(value) || +value < min || +value > max) {
      throw new Error(
        `postgres URL option ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
      );
    }
    return +value;
  };
  const poolMax = number('max', DEFAULT_POOL_MAX, 1, 1000);
  const statementTimeoutMs = number('statement_timeout', DEFAULT_STATEMENT_TIMEOUT_MS, 100, 600_000);
  const sessionOptions = [params.get('options'), SESSION_OPTIONS].filter(Boolean).join(' ');
  params.delete('options');
  const rest = params.toString();
  return { connectionString: rest === '' ? base : `${base}?${rest}`, poolMax, statementTimeoutMs, sessionOptions };
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** The password of a database URL as written and decoded, for redaction. */
export function passwordsOf(url: string): string[] {
  const written = /^[^:]+:\/\/[^:/@]*:([^@/]*)@/.exec(url)?.[1];
  if (!written) return [];
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {
    // not percent-encoded as written: keep it as is
  }
  return [...new Set([written, decoded])];
}

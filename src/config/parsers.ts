import { parseScope } from '../core/scope.js';
import { redactUrl } from '../store/store.js';

/** A configuration value was invalid. The message is one line naming the variable; it holds no secret. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Turns the text of one variable (or its default) into its typed value; throws ConfigError naming `env`. */
export type Parser<T> = (value: string, env: string) => T;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function integer(min: number, max: number): Parser<number> {
  return (value, env) => {
    if (!/^\d+$/.test(value.trim()) || +value < min || +value > max) {
      throw new ConfigError(`${env}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return +value;
  };
}

export const port = integer(0, 65535);

/** Seconds, where 0 means "never expires" (null). */
export const secondsOrNever: Parser<number | null> = (value, env) => {
  const seconds = integer(0, 315_360_000)(value, env);
  return seconds === 0 ? null : seconds;
};

export const scopeList: Parser<string[]> = (value, env) => {
  const parsed = parseScope(value);
  if (parsed === null) {
    throw new ConfigError(
      `${env}: must be a space-separated list of scope names (RFC 6749 §3.3 characters), got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
};

export const hostName: Parser<string> = (value, env) => {
  const host = value.trim();
  if (host === '' || /\s/.test(host)) {
    throw new ConfigError(`${env}: must be a host name or IP address, got ${JSON.stringify(value)}`);
  }
  return host;
};

export const databaseUrl: Parser<string> = (url, env) => {
  if (/^postgres(ql)?:\/\/./.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError(`${env}: not a valid postgres:// URL: ${JSON.stringify(redactUrl(url))}`);
    }
    return url;
  }
  if (!/^sqlite:.+/.test(url)) {
    throw new ConfigError(`${env}: expected sqlite:<path> or postgres://…, got ${JSON.stringify(redactUrl(url))}`);
  }
  return url;
};

export const basePath: Parser<string> = (value, env) => {
  const path = value.trim().replace(/\/+$/, '');
  if (path !== '' && !/^(\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)+$/.test(path)) {
    throw new ConfigError(
      `${env}: must be a URL path starting with "/", e.g. /api/secure (got ${JSON.stringify(value)})`,
    );
  }
  return path;
};

export const logLevel: Parser<string> = (value, env) => {
  const level = value.trim();
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`${env}: must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return level;
};

export const realm: Parser<string> = (value, env) => {
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]{1,100}$/.test(value)) {
    throw new ConfigError(`${env}: must be 1-100 printable ASCII characters without quotes or backslashes`);
  }
  return value;
};

export const issuer: Parser<string | null> = (value, env) => {
  if (value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(
      `${env}: must be an absolute URL such as https://auth.example.com (got ${JSON.stringify(value)})`,
    );
  }
  // RFC 8414 §2: https, no query or fragment.
  if (!['https:', 'http:'].includes(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(`${env}: must be an http(s) URL without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
};

/** An absolute http(s) URL, or empty for none (the target of a `Link` header, RFC 8288 §3). */
export const linkUrl: Parser<string | null> = (value, env) => {
  if (value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(
      `${env}: must be an absolute URL such as https://example.com/migrate (got ${JSON.stringify(value)})`,
    );
  }
  if (!['https:', 'http:'].includes(url.protocol) || url.username !== '' || url.password !== '') {
    throw new ConfigError(`${env}: must be an http(s) URL without credentials`);
  }
  return url.href;
};

export const redisUrl: Parser<string | null> = (value, env) => {
  if (value.trim() === '') return null;
  if (!/^rediss?:\/\//.test(value.trim())) {
    throw new ConfigError(`${env}: expected redis://… or rediss://…, got ${JSON.stringify(redactUrl(value))}`);
  }
  return value.trim();
};

/** Comma-separated IP addresses or CIDR ranges. */
export const addressList: Parser<string[]> = (value, env) => {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const entry of list) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry)) {
      throw new ConfigError(`${env}: ${JSON.stringify(entry)} is not an IP address or CIDR range`);
    }
  }
  return list;
};

export const workerCount: Parser<number | 'auto'> = (value, env) => {
  const trimmed = value.trim();
  return trimmed === 'auto' ? 'auto' : integer(1, 256)(trimmed === '' ? '1' : trimmed, env);
};

export const memoryProfile: Parser<'small' | 'fast'> = (value, env) => {
  const trimmed = value.trim();
  if (trimmed !== 'small' && trimmed !== 'fast') {
    throw new ConfigError(`${env}: must be small or fast (got ${JSON.stringify(value)})`);
  }
  return trimmed;
};

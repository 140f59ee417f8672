import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { isScopeToken } from '../core/scope.js';
import { option } from './option.js';
import { ConfigError, integer, issuer, type Parser } from './parsers.js';

/** A short line of text shown on the pages (no control characters). */
const displayText: Parser<string> = (value, env) => {
  const text = value.trim();
  if (text === '' || [...text].length > 60 || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new ConfigError(`${env}: must be 1 to 60 characters of text on one line`);
  }
  return text;
};

/** The image types a logo may be, with the Content-Type it is served as. */
export const LOGO_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

const logoFile: Parser<string | null> = (value, env) => {
  const path = value.trim();
  if (path === '') return null;
  if (LOGO_TYPES[extname(path).toLowerCase()] === undefined) {
    throw new ConfigError(`${env}: must name a .png, .svg, .jpg or .webp file (got ${JSON.stringify(path)})`);
  }
  if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size > 512 * 1024) {
    throw new ConfigError(`${env}: ${path} must be a readable file of at most 512 KiB`);
  }
  return path;
};

/** `{"scope": "what it lets the client do", …}`: the consent page's words for each scope. */
const scopeDescriptions: Parser<Readonly<Record<string, string>>> = (value, env) => {
  if (value.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`${env}: must be a JSON object such as {"read": "See your payouts"}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${env}: must be a JSON object such as {"read": "See your payouts"}`);
  }
  const out: Record<string, string> = {};
  for (const [scope, text] of Object.entries(parsed)) {
    if (!isScopeToken(scope) || typeof text !== 'string' || text.trim() === '' || text.length > 200) {
      throw new ConfigError(`${env}: ${JSON.stringify(scope)} must be a scope name with 1 to 200 characters of text`);
    }
    out[scope] = text.trim();
  }
  return out;
};

/** The authorization code and device flows, and the pages people see (docs/configuration.md lists them). */
export const AUTHORIZATION_OPTIONS = [
  option('authorization', 'codeTtlSeconds', {
    env: 'OAUTHD_AUTHORIZATION_CODE_TTL',
    default: '60',
    parse: integer(5, 600),
    description:
      'Lifetime of an authorization code, in seconds (RFC 6749 §4.1.2: short, at most 10 minutes recommended). ' +
      'A code is single use; presenting it again revokes the tokens it gave.',
  }),
  option('authorization', 'sessionTtlSeconds', {
    env: 'OAUTHD_SESSION_TTL',
    default: '28800',
    note: '8 hours',
    parse: integer(60, 2_592_000),
    description:
      'How long a person stays signed in on the login page, in seconds from sign-in. The session cookie lives ' +
      'as long; sign-out, `oauthd user revoke` and disabling the user end it sooner.',
  }),
  option('authorization', 'deviceCodeTtlSeconds', {
    env: 'OAUTHD_DEVICE_CODE_TTL',
    default: '600',
    note: '10 minutes',
    parse: integer(60, 3600),
    description: 'Lifetime of a device code and its user code (RFC 8628 §3.2 `expires_in`), in seconds.',
  }),
  option('authorization', 'devicePollIntervalSeconds', {
    env: 'OAUTHD_DEVICE_POLL_INTERVAL',
    default: '5',
    parse: integer(1, 60),
    description:
      'How often a device may poll the token endpoint (RFC 8628 §3.2 `interval`), in seconds; each poll that ' +
      'comes sooner answers slow_down and adds 5 seconds (§3.5).',
  }),
  option('authorization', 'userCodeAttemptsPerMinute', {
    env: 'OAUTHD_USER_CODE_ATTEMPTS_PER_MINUTE',
    default: '10',
    parse: integer(1, 1000),
    description:
      'How many user codes one IP may try on the device page per minute (RFC 8628 §5.1: guessing defence), ' +
      'counted where the brute-force counters are (memory, the cluster primary or Redis).',
  }),
  option('pages', 'productName', {
    env: 'OAUTHD_PRODUCT_NAME',
    default: 'oauthd',
    parse: displayText,
    description: "The name the login, consent and device pages show, e.g. your platform's name.",
  }),
  option('pages', 'logoFile', {
    env: 'OAUTHD_LOGO_FILE',
    default: '',
    unsetMeans: 'no logo',
    parse: logoFile,
    description:
      'An image file (.png, .svg, .jpg, .webp, at most 512 KiB) shown above the product name on the pages, ' +
      'served by oauthd itself (the pages load nothing from elsewhere).',
  }),
  option('pages', 'scopeDescriptions', {
    env: 'OAUTHD_SCOPE_DESCRIPTIONS',
    default: '',
    unsetMeans: 'scope names shown as they are',
    parse: scopeDescriptions,
    description:
      'What each scope means, in the words the consent page shows: a JSON object such as ' +
      '`{"read": "See your payouts", "write": "Send payouts"}`. A scope without a description is shown by its name.',
  }),
  option('admin', 'consoleUrl', {
    env: 'OAUTHD_CONSOLE_URL',
    default: '',
    unsetMeans: "the admin listener's own address",
    parse: issuer,
    description:
      'The origin browsers reach the console at (`/console/` on the admin listener), e.g. ' +
      '`https://oauthd-admin.internal.example.com` behind a proxy: the console signs in through the authorization ' +
      'code flow and its callback must be a fixed URL. With a wildcard OAUTHD_ADMIN_HOST (0.0.0.0, ::) it defaults ' +
      'to 127.0.0.1 and the port.',
  }),
];

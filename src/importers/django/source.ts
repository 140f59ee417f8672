import type { EpochSeconds } from '../../core/types.js';
import { openPostgresSource, openSqliteSource, quote, type Row, type SourceDb } from './source-db.js';

/**
 * Reading a django-oauth-toolkit (DOT) database, read-only: a SQLite file opened with
 * `{ readonly: true, fileMustExist: true }` and `query_only`, or PostgreSQL in one
 * `REPEATABLE READ READ ONLY` transaction. Either way every table is read from one consistent snapshot,
 * all at once into memory, and the source is closed before anything is written to oauthd.
 *
 * Columns are found by name (Django moves altered columns to the end of SQLite tables, and DOT 2.x/3.x add
 * some): DOT 1.x has plaintext `client_secret`; DOT 2.x stores a Django hash there (and later versions say
 * so in `hash_client_secret`); DOT 3.x adds `token_checksum` to access tokens (the token itself is still
 * in `token`). Only the columns below are read; a missing required one stops the import with its name.
 */

export interface DjangoUser {
  id: string;
  username: string;
  password: string;
  isActive: boolean;
  dateJoined: EpochSeconds | null;
}

export interface DjangoApplication {
  id: string;
  clientId: string;
  name: string;
  clientSecret: string;
  /** From DOT's `hash_client_secret` column; null when the column does not exist (DOT 1.x, early 2.x). */
  hashClientSecret: boolean | null;
  clientType: string;
  authorizationGrantType: string;
  /** DOT's `redirect_uris`, split on whitespace (DOT keeps them space-separated). */
  redirectUris: string[];
  /** DOT's `skip_authorization`: its users were not asked to authorize it. */
  skipAuthorization: boolean;
  created: EpochSeconds | null;
}

export interface DjangoAccessToken {
  id: string;
  token: string;
  expires: EpochSeconds;
  scope: string;
  applicationId: string | null;
  userId: string | null;
  created: EpochSeconds | null;
}

export interface DjangoRefreshToken {
  id: string;
  token: string;
  accessTokenId: string | null;
  applicationId: string;
  userId: string;
  revoked: EpochSeconds | null;
  created: EpochSeconds | null;
}

export interface DjangoSnapshot {
  kind: 'sqlite' | 'postgres';
  /** What the column lists say about the DOT version. */
  layout: { hashClientSecretColumn: boolean; tokenChecksumColumn: boolean; applicationCreatedColumn: boolean };
  users: DjangoUser[];
  applications: DjangoApplication[];
  /** Access tokens not expired at `now`, and those paired with a live refresh token (whatever their expiry). */
  accessTokens: DjangoAccessToken[];
  /** Refresh tokens with `revoked IS NULL`. */
  liveRefreshTokens: DjangoRefreshToken[];
  /** Revoked refresh tokens among `askRefreshTokenIds` (imported earlier, revoked since). */
  revokedRefreshTokens: DjangoRefreshToken[];
  /** Which of `askRefreshTokenIds` / `askAccessTokenIds` still exist in the source. */
  presentRefreshTokenIds: Set<string>;
  presentAccessTokenIds: Set<string>;
  totals: {
    users: number;
    applications: number;
    accessTokens: number;
    refreshTokens: number;
    revokedRefreshTokens: number;
  };
}

export interface SnapshotOptions {
  /** Django's user table (AUTH_USER_MODEL), `auth_user` by default; `schema.table` on PostgreSQL. */
  userTable: string;
  /** The login name column (a custom user model's USERNAME_FIELD), `username` by default. */
  usernameColumn: string;
  now: EpochSeconds;
  askRefreshTokenIds: string[];
  askAccessTokenIds: string[];
}

const APPLICATION = 'oauth2_provider_application';
const ACCESS_TOKEN = 'oauth2_provider_accesstoken';
const REFRESH_TOKEN = 'oauth2_provider_refreshtoken';

/** `--from`: a `postgres://` / `postgresql://` URL, or a SQLite path (optionally `sqlite:path`). */
export async function readDjangoSnapshot(from: string, options: SnapshotOptions): Promise<DjangoSnapshot> {
  const db = /^postgres(ql)?:\/\//.test(from)
    ? await openPostgresSource(from)
    : openSqliteSource(from.replace(/^sqlite:/, ''));
  try {
    return await db.snapshot(() => read(db, options));
  } finally {
    await db.close();
  }
}

async function read(db: SourceDb, options: SnapshotOptions): Promise<DjangoSnapshot> {
  // Checked before anything is read: they are spliced into SQL.
  const userTable = identifier(options.userTable, db.kind === 'postgres');
  const usernameColumn = identifier(options.usernameColumn, false);
  const columns = await readColumns(db, options);
  const users = await readUsers(db, { userTable, usernameColumn }, columns.user);
  const applications = await readApplications(db, columns.app);
  const rtCreated = optional(columns.rt, 'created');
  const liveRefreshTokens = (
    await db.all(
      `SELECT id, token, access_token_id, application_id, user_id, revoked, ${rtCreated} AS created
       FROM ${REFRESH_TOKEN} WHERE revoked IS NULL ORDER BY id`,
    )
  ).map(toRefreshToken);
  const accessTokens = await readAccessTokens(db, options, columns.at);
  const asked = await askAboutImported(db, options, rtCreated);

  const count = async (sql: string) => Number((await db.all(sql))[0]!.n);
  const totals = {
    users: users.length,
    applications: applications.length,
    accessTokens: await count(`SELECT count(*) AS n FROM ${ACCESS_TOKEN}`),
    refreshTokens: await count(`SELECT count(*) AS n FROM ${REFRESH_TOKEN}`),
    revokedRefreshTokens: await count(`SELECT count(*) AS n FROM ${REFRESH_TOKEN} WHERE revoked IS NOT NULL`),
  };

  return {
    kind: db.kind,
    layout: {
      hashClientSecretColumn: columns.app.has('hash_client_secret'),
      tokenChecksumColumn: columns.at.has('token_checksum'),
      applicationCreatedColumn: columns.app.has('created'),
    },
    users,
    applications,
    accessTokens,
    liveRefreshTokens,
    ...asked,
    totals,
  };
}

/** The columns of the four tables read, after checking each has those the import needs. */
async function readColumns(db: SourceDb, options: SnapshotOptions) {
  const require = async (table: string, needed: string[]): Promise<Set<string>> => {
    const columns = await db.columns(table);
    if (!columns) throw new Error(`the source has no table ${table}: is it a django-oauth-toolkit database?`);
    const missing = needed.filter((c) => !columns.has(c));
    if (missing.length > 0) throw new Error(`table ${table} has no column ${missing.join(', ')}`);
    return columns;
  };
  return {
    user: await require(options.userTable, ['id', options.usernameColumn, 'password']),
    app: await require(APPLICATION, ['id', 'client_id', 'client_secret', 'client_type', 'authorization_grant_type']),
    at: await require(ACCESS_TOKEN, ['id', 'token', 'expires', 'scope', 'application_id', 'user_id']),
    rt: await require(REFRESH_TOKEN, ['id', 'token', 'access_token_id', 'application_id', 'user_id', 'revoked']),
  };
}

/** A column a DOT or Django version may lack: selected when present, else `fallback`. */
const optional = (columns: Set<string>, name: string, fallback = 'NULL') =>
  columns.has(name) ? quote(name) : fallback;

async function readUsers(
  db: SourceDb,
  { userTable, usernameColumn }: { userTable: string; usernameColumn: string },
  userColumns: Set<string>,
): Promise<DjangoUser[]> {
  const rows = await db.all(
    `SELECT id, ${quote(usernameColumn)} AS username, password, ${optional(userColumns, 'is_active', '1')} AS is_active,
       ${optional(userColumns, 'date_joined')} AS date_joined
     FROM ${userTable} ORDER BY id`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    username: String(r.username ?? ''),
    password: String(r.password ?? ''),
    isActive: bool(r.is_active),
    dateJoined: epochOrNull(r.date_joined),
  }));
}

async function readApplications(db: SourceDb, appColumns: Set<string>): Promise<DjangoApplication[]> {
  const column = (name: string) => `${optional(appColumns, name)} AS ${name}`;
  const rows = await db.all(
    `SELECT id, client_id, client_secret, client_type, authorization_grant_type, ${column('name')},
       ${column('hash_client_secret')}, ${column('created')}, ${column('redirect_uris')},
       ${column('skip_authorization')}
     FROM ${APPLICATION} ORDER BY id`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    clientId: String(r.client_id),
    name: r.name === null || r.name === undefined ? '' : String(r.name),
    clientSecret: String(r.client_secret ?? ''),
    hashClientSecret:
      r.hash_client_secret === null || r.hash_client_secret === undefined ? null : bool(r.hash_client_secret),
    clientType: String(r.client_type),
    authorizationGrantType: String(r.authorization_grant_type),
    redirectUris: String(r.redirect_uris ?? '')
      .split(/\s+/)
      .filter((u) => u !== ''),
    skipAuthorization: bool(r.skip_authorization),
    created: epochOrNull(r.created),
  }));
}

function toRefreshToken(r: Row): DjangoRefreshToken {
  return {
    id: String(r.id),
    token: String(r.token),
    accessTokenId: r.access_token_id === null ? null : String(r.access_token_id),
    applicationId: String(r.application_id),
    userId: String(r.user_id),
    revoked: epochOrNull(r.revoked),
    created: epochOrNull(r.created),
  };
}

async function readAccessTokens(
  db: SourceDb,
  options: SnapshotOptions,
  atColumns: Set<string>,
): Promise<DjangoAccessToken[]> {
  const rows = await db.all(
    `SELECT id, token, expires, scope, application_id, user_id, ${optional(atColumns, 'created')} AS created
     FROM ${ACCESS_TOKEN}
     WHERE ${db.laterThan('expires')}
        OR id IN (SELECT access_token_id FROM ${REFRESH_TOKEN} WHERE revoked IS NULL AND access_token_id IS NOT NULL)
     ORDER BY id`,
    [db.epochParam(options.now)],
  );
  return rows.map((r) => ({
    id: String(r.id),
    token: String(r.token),
    expires: epoch(r.expires),
    scope: String(r.scope ?? ''),
    applicationId: r.application_id === null ? null : String(r.application_id),
    userId: r.user_id === null ? null : String(r.user_id),
    created: epochOrNull(r.created),
  }));
}

/** What became of the tokens earlier imports brought in: revoked since, or still present at all. */
async function askAboutImported(db: SourceDb, options: SnapshotOptions, rtCreated: string) {
  const revokedRefreshTokens: DjangoRefreshToken[] = [];
  const presentRefreshTokenIds = new Set<string>();
  for (const ids of chunks(options.askRefreshTokenIds, 500)) {
    const rows = await db.all(
      `SELECT id, token, access_token_id, application_id, user_id, revoked, ${rtCreated} AS created
       FROM ${REFRESH_TOKEN} WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids.map(Number),
    );
    for (const row of rows) {
      const rt = toRefreshToken(row);
      presentRefreshTokenIds.add(rt.id);
      if (rt.revoked !== null) revokedRefreshTokens.push(rt);
    }
  }
  const presentAccessTokenIds = new Set<string>();
  for (const ids of chunks(options.askAccessTokenIds, 500)) {
    const placeholders = ids.map(() => '?').join(', ');
    const rows = await db.all(`SELECT id FROM ${ACCESS_TOKEN} WHERE id IN (${placeholders})`, ids.map(Number));
    for (const row of rows) presentAccessTokenIds.add(String(row.id));
  }
  return { revokedRefreshTokens, presentRefreshTokenIds, presentAccessTokenIds };
}

/** A table or column name from the command line: letters, digits and `_` (and one `.` for a schema). */
function identifier(name: string, allowSchema: boolean): string {
  const pattern = allowSchema ? /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/ : /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (!pattern.test(name)) throw new Error(`not a plain table or column name: ${JSON.stringify(name)}`);
  return name.split('.').map(quote).join('.');
}

function bool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't' || value === 'true';
}

const DJANGO_SQLITE_DATETIME = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * A timestamp as whole epoch seconds, rounded down (an expiry never moves later): PostgreSQL's timestamptz
 * arrives as a Date; SQLite's is Django's naive UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]` (no fraction when
 * the microseconds are 0), read as UTC, with an offset honoured if one is there.
 */
export function epoch(value: unknown): EpochSeconds {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  const match = typeof value === 'string' ? DJANGO_SQLITE_DATETIME.exec(value) : null;
  if (!match) throw new Error(`not a Django timestamp: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, s, , zone] = match;
  let seconds = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) / 1000;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    seconds -= sign * (+digits.slice(0, 2) * 3600 + +digits.slice(2) * 60);
  }
  return seconds;
}

function epochOrNull(value: unknown): EpochSeconds | null {
  return value === null || value === undefined ? null : epoch(value);
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

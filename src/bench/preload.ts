/**
 * `--preload N`: N live token families (a grant, its access token and its refresh token) put straight into a
 * fresh store before the server starts, in the schema of store/migrations, so that every lookup the bench
 * makes walks indexes of realistic depth. Tokens are keyed as oauthd keys them (core/tokens.ts tokenKey: 6 bytes
 * of mint time, then a 32-byte digest), as a store that has been issuing for a while holds them: each family's
 * pair minted at a random moment of the last hour (so all its access tokens are live, and a store's live tokens
 * are spread over its whole access table), its grant (a UUIDv7) created at a random moment of the last 30 days.
 * It is a bulk load, not the store's code path, so it must be fast: 10 million families in minutes.
 *
 * How: the rows are generated inside the database (SQLite: a recursive CTE and randomblob(32) for the
 * digests; PostgreSQL: generate_series and its built-in sha256()), inserted in key order so every primary key is
 * appended rather than probed at random, with the secondary indexes dropped during the load and rebuilt after
 * (one sort each). A small sample of families is minted in JS with the core's own mintToken/tokenKey, and
 * their plaintext tokens are kept: the validate and introspect scenarios look those up, so each request
 * probes the large tables at a random place.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { newGrantId } from '../core/ids.js';
import { tokenKey, mintToken } from '../core/tokens.js';

const HOUR_MS = 3_600_000;
const GRANT_AGE_MS = 30 * 24 * HOUR_MS;
/**
 * A UUIDv7's text (core/ids.ts) made in the database, without a call into JavaScript per row, from `h`: 12 hex
 * digits of a creation time in the last 30 days, then random hex (made once per row in a step of its own, since
 * the text takes several pieces of it), with the version (7) and variant (a) digits put in place. The same SQL
 * in SQLite and PostgreSQL; only `h` is made differently.
 */
const UUID7_TEXT_SQL =
  `substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(h, 14, 3) || '-a' || substr(h, 18, 3) || '-' || ` +
  `substr(h, 21, 12)`;
const UUID7_HEX_SQLITE = `printf('%012x', @nowMs - abs(random() % ${GRANT_AGE_MS})) || lower(hex(randomblob(10)))`;
const UUID7_HEX_POSTGRES =
  `lpad(to_hex($6::bigint - floor(random() * ${GRANT_AGE_MS})::bigint), 12, '0') || ` +
  `replace(gen_random_uuid()::text, '-', '')`;
/** A random moment of the last `spanMs` milliseconds before `nowMs`. */
const before = (nowMs: number, spanMs: number): number => nowMs - Math.floor(Math.random() * spanMs);

export interface PreloadOwner {
  clientId: string;
  /** The users the families belong to (spread evenly). */
  userIds: number[];
  scope: string;
  /** Access tokens expire this long after the load (they must stay live through the run). */
  accessTtlSeconds: number;
}

export interface PreloadResult {
  families: number;
  seconds: number;
  familiesPerSecond: number;
  /** Plaintext access tokens of the sample, all live and issued to the owner client. */
  sampleAccessTokens: string[];
}

/** How many families get plaintext tokens the load can use: a tenth of them, at most 10 000. */
export const sampleSize = (families: number): number => Math.min(10_000, Math.max(1, Math.floor(families / 10)));

interface SampleFamily {
  grantId: string;
  userId: number;
  access: string;
  refresh: string;
}

function mintSample(count: number, owner: PreloadOwner): SampleFamily[] {
  const nowMs = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const minted = before(nowMs, HOUR_MS);
    return {
      grantId: newGrantId(before(nowMs, GRANT_AGE_MS)),
      userId: owner.userIds[i % owner.userIds.length]!,
      access: mintToken(minted),
      refresh: mintToken(minted),
    };
  });
}

/**
 * Reports each step of a load as it ends, with its rows and the time since the start. Each bulk step is one
 * statement (rows made and inserted in key order inside the database), which reports nothing until it ends:
 * splitting it into chunks to count along would give up the in-order appends that keep a 10 M load fast.
 */
export type PreloadProgress = (line: string) => void;

function stepper(progress: PreloadProgress | undefined, started: number) {
  return (what: string) => progress?.(`${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * A throwaway file: no journal on disk, no fsync, a large page cache for the sorts and index builds. The server
 * opens it afterwards with its own settings (WAL, its own durability, default cache). The file is in WAL mode
 * (the seeding opened it): left in it, the load would go through a WAL as large as the database. SQLite does
 * not go from WAL to OFF directly, and better-sqlite3's defensive mode refuses OFF: a rollback journal in
 * memory instead (the tables are empty at the start, so it holds next to nothing).
 */
function setUpForBulkLoad(db: Database.Database): void {
  db.pragma('journal_mode = DELETE');
  if (db.pragma('journal_mode = MEMORY', { simple: true }) !== 'memory') {
    throw new Error('preload: could not leave WAL mode');
  }
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -2097152'); // 2 GiB
  db.pragma('temp_store = MEMORY');
  db.pragma('threads = 2');
  db.pragma('foreign_keys = OFF');
}

/** The sample, minted like the server mints tokens. */
function insertSampleSqlite(db: Database.Database, sample: SampleFamily[], owner: PreloadOwner, now: number): void {
  const grant = db.prepare('INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES (?, ?, ?, ?, ?)');
  const access = db.prepare(
    'INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)',
  );
  const refresh = db.prepare(
    'INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at) ' +
      'VALUES (?, ?, ?, ?, ?, NULL)',
  );
  for (const f of sample) {
    const accessHash = tokenKey(f.access);
    grant.run(f.grantId, owner.clientId, f.userId, owner.scope, now);
    access.run(accessHash, f.grantId, owner.scope, now, now + owner.accessTtlSeconds);
    refresh.run(tokenKey(f.refresh), f.grantId, accessHash, owner.scope, now);
  }
}

/** Loads `families` families into the SQLite file at `path` (already migrated; no server has it open). */
export function preloadSqlite(
  path: string,
  families: number,
  owner: PreloadOwner,
  progress?: PreloadProgress,
): PreloadResult {
  const started = performance.now();
  const step = stepper(progress, started);
  const now = Math.floor(Date.now() / 1000);
  const sample = mintSample(sampleSize(families), owner);
  const bulk = families - sample.length;
  const db = new Database(path);
  try {
    setUpForBulkLoad(db);
    const nowMs = Date.now();
    // The bulk families' token keys are a mint time then 32 random bytes (SQLite's randomblob): the SHA-256 of
    // a token no one holds is indistinguishable from that, and it spares 2 calls into JavaScript per family.
    // (SQLite's || makes text: the key is put together in hex, then unhex'd into a BLOB.)
    const tables = ['grants', 'access_tokens', 'refresh_tokens'];
    const indexes = db
      .prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ` +
          `(${tables.map(() => '?').join(', ')})`,
      )
      .all(...tables) as { name: string; sql: string }[];
    const userCase =
      `CASE i % ${owner.userIds.length} ` + `${owner.userIds.map((id, k) => `WHEN ${k} THEN ${id}`).join(' ')} END`;

    db.transaction(() => {
      for (const index of indexes) db.exec(`DROP INDEX "${index.name.replace(/"/g, '""')}"`);
      // Grants, in id order (the primary key's index is appended to, not probed).
      db.prepare(
        `INSERT INTO grants (id, client_id, user_id, scope, created_at)
         SELECT id, @clientId, user_id, @scope, @now FROM (
           WITH RECURSIVE n(i) AS (SELECT 0 WHERE @bulk > 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @bulk),
             r AS MATERIALIZED (SELECT ${UUID7_HEX_SQLITE} AS h, ${userCase} AS user_id FROM n)
           SELECT ${UUID7_TEXT_SQL} AS id, user_id FROM r
         ) ORDER BY id`,
      ).run({ clientId: owner.clientId, scope: owner.scope, now, bulk, nowMs });
      step(`${bulk} of ${families} grants written`);
      // One access token per grant, minted in the last hour, in key order.
      db.prepare(
        `INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
         SELECT unhex(printf('%012x', @nowMs - abs(random() % ${HOUR_MS})) || hex(randomblob(32))) AS h, id, scope,
           @now, @expires
         FROM grants ORDER BY h`,
      ).run({ now, nowMs, expires: now + owner.accessTtlSeconds });
      step(`${bulk} of ${families} access tokens written`);
      // One refresh token per grant, minted with that access token (same time) and bound to it, in key order.
      db.prepare(
        `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
         SELECT unhex(hex(substr(token_hash, 1, 6)) || hex(randomblob(32))) AS h, grant_id, token_hash, scope, @now,
           NULL
         FROM access_tokens ORDER BY h`,
      ).run({ now });
      step(`${bulk} of ${families} refresh tokens written`);
      insertSampleSqlite(db, sample, owner, now);
      step(
        `${families} of ${families} families written (${sample.length} with known tokens); rebuilding ` +
          `${indexes.length} indexes`,
      );
      for (const index of indexes) db.exec(index.sql);
      step('indexes rebuilt');
    })();
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  return result(families, started, sample);
}

/** The sample as multi-row INSERTs of 1000 families. */
async function insertSamplePostgres(
  client: pg.Client,
  sample: SampleFamily[],
  owner: PreloadOwner,
  now: number,
): Promise<void> {
  for (let start = 0; start < sample.length; start += 1000) {
    const part = sample.slice(start, start + 1000);
    const g: unknown[] = [];
    const a: unknown[] = [];
    const r: unknown[] = [];
    for (const f of part) {
      const accessHash = tokenKey(f.access);
      g.push(f.grantId, owner.clientId, f.userId, owner.scope, now);
      a.push(accessHash, f.grantId, owner.scope, now, now + owner.accessTtlSeconds);
      r.push(tokenKey(f.refresh), f.grantId, accessHash, owner.scope, now);
    }
    const values = (width: number) =>
      part.map((_, k) => `(${Array.from({ length: width }, (_, c) => `$${k * width + c + 1}`).join(', ')})`).join(', ');
    await client.query(`INSERT INTO grants (id, client_id, user_id, scope, created_at) VALUES ${values(5)}`, g);
    await client.query(
      `INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at) VALUES ${values(5)}`,
      a,
    );
    await client.query(
      `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at) VALUES ${values(5)}`,
      r,
    );
  }
}

/** Loads `families` families into the (migrated, otherwise idle) PostgreSQL database at `url`. */
export async function preloadPostgres(
  url: string,
  families: number,
  owner: PreloadOwner,
  progress?: PreloadProgress,
): Promise<PreloadResult> {
  const started = performance.now();
  const step = stepper(progress, started);
  const now = Math.floor(Date.now() / 1000);
  const sample = mintSample(sampleSize(families), owner);
  const bulk = families - sample.length;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    await client.query(`SET maintenance_work_mem = '1GB'`);
    await client.query(`SET work_mem = '512MB'`);
    // Without foreign-key triggers when allowed (superuser); the rows are consistent by construction.
    await client.query('SET session_replication_role = replica').catch(() => {});
    const { rows: indexes } = await client.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename IN ('grants', 'access_tokens', 'refresh_tokens')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    );
    await client.query('BEGIN');
    for (const index of indexes) await client.query(`DROP INDEX ${pg.escapeIdentifier(index.name)}`);
    const nowMs = Date.now();
    // UUIDv7 text, as for SQLite above.
    await client.query(
      `INSERT INTO grants (id, client_id, user_id, scope, created_at)
       SELECT id, $1, ($2::bigint[])[1 + i % cardinality($2::bigint[])], $3, $4
       FROM (SELECT i, ${UUID7_TEXT_SQL} AS id
             FROM (SELECT i, ${UUID7_HEX_POSTGRES} AS h FROM generate_series(0, $5::bigint - 1) AS i) r) g ORDER BY id`,
      [owner.clientId, owner.userIds, owner.scope, now, bulk, nowMs],
    );
    step(`${bulk} of ${families} grants written`);
    // A mint time in the last hour, then the SHA-256 of 32 random bytes (two random UUIDs: 244 random bits).
    await client.query(
      `INSERT INTO access_tokens (token_hash, grant_id, scope, issued_at, expires_at)
       SELECT decode(lpad(to_hex($3::bigint - floor(random() * ${HOUR_MS})::bigint), 12, '0'), 'hex')
                || sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) AS h, id, scope, $1, $2
       FROM grants ORDER BY h`,
      [now, now + owner.accessTtlSeconds, nowMs],
    );
    step(`${bulk} of ${families} access tokens written`);
    await client.query(
      `INSERT INTO refresh_tokens (token_hash, grant_id, access_token_hash, scope, issued_at, expires_at)
       SELECT substring(token_hash FROM 1 FOR 6) || sha256(uuid_send(gen_random_uuid()) ||
         uuid_send(gen_random_uuid())) AS h,
              grant_id, token_hash, scope, $1, NULL
       FROM access_tokens ORDER BY h`,
      [now],
    );
    step(`${bulk} of ${families} refresh tokens written`);
    await insertSamplePostgres(client, sample, owner, now);
    step(
      `${families} of ${families} families written (${sample.length} with known tokens); rebuilding ` +
        `${indexes.length} indexes`,
    );
    for (const index of indexes) await client.query(index.def);
    await client.query('COMMIT');
    step('indexes rebuilt');
    // Planner statistics, as autovacuum would have them on a store that grew to this size.
    await client.query('ANALYZE grants, access_tokens, refresh_tokens, users, clients');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
  return result(families, started, sample);
}

function result(families: number, started: number, sample: SampleFamily[]): PreloadResult {
  const seconds = (performance.now() - started) / 1000;
  return { families, seconds, familiesPerSecond: families / seconds, sampleAccessTokens: sample.map((f) => f.access) };
}

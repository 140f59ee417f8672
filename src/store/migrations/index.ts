/**
 * Forward-only migrations, one numbering for every backend. A migration is never edited once released;
 * a change is a new migration. Each backend applies the pending ones in order, each in a transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'clients, users, grants and tokens',
    sqlite: `
      CREATE TABLE clients (
        client_id   TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        secret_hash TEXT,                 -- NULL for public clients
        is_public   INTEGER NOT NULL CHECK (is_public IN (0, 1)),
        grant_types TEXT NOT NULL,        -- space-separated
        scopes      TEXT NOT NULL,        -- space-separated
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT,               -- NULL: no usable password
        is_active     INTEGER NOT NULL CHECK (is_active IN (0, 1)),
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      ) STRICT;

      -- A grant is a token family: every access and refresh token descending from one password grant.
      CREATE TABLE grants (
        id         TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        scope      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX grants_client_id ON grants (client_id);
      CREATE INDEX grants_user_id ON grants (user_id);

      -- Tokens are kept only as SHA-256 digests; the digest is the primary key (one index probe).
      CREATE TABLE access_tokens (
        token_hash BLOB PRIMARY KEY,
        grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
        scope      TEXT NOT NULL,
        issued_at  INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id);

      CREATE TABLE refresh_tokens (
        token_hash        BLOB PRIMARY KEY,
        grant_id          TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
        access_token_hash BLOB,           -- the access token issued together with this one
        scope             TEXT NOT NULL,
        issued_at         INTEGER NOT NULL,
        expires_at        INTEGER,        -- NULL: does not expire by time
        used_at           INTEGER,        -- set when exchanged (rotated); a second use is reuse
        revoked_at        INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
    `,
  },
];

import type { Migration } from './index.js';

/**
 * Migration 8: what the authorization code grant (RFC 6749 §4.1, RFC 7636), the device authorization grant
 * (RFC 8628) and the sign-in pages keep. Every secret is a key derived by SHA-256 (core/tokens.ts tokenKey), as
 * tokens are. Rows go with their client or user (ON DELETE CASCADE). Kept in its own file: index.ts holds the
 * released migrations, which are never edited.
 *
 * - authorization_codes: single use (used_at); grant_id names the grant its exchange started, revoked when the
 *   code is presented again (RFC 6749 §4.1.2).
 * - device_codes: user_code_hash is the key of the normalised user code (unique: the user-code page finds the
 *   request by it); last_polled_ms judges the polling interval to the millisecond (RFC 8628 §3.5).
 * - browser_sessions: the login page's sessions; ended_at is set by sign-out, `oauthd user revoke`, or when
 *   the user is disabled.
 * - consents: the scopes a user let a client have, remembered until revoked.
 */
export const v8Authorization: Migration = {
  version: 8,
  name: 'authorization codes, device codes, browser sessions and consents',
  sqlite: `
    CREATE TABLE authorization_codes (
      hash                  BLOB PRIMARY KEY,
      client_id             TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      redirect_uri          TEXT NOT NULL,
      scope                 TEXT NOT NULL,
      code_challenge        TEXT,
      code_challenge_method TEXT CHECK (code_challenge_method IN ('S256', 'plain')),
      issued_at             INTEGER NOT NULL,
      expires_at            INTEGER NOT NULL,
      used_at               INTEGER,
      grant_id              TEXT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
    CREATE INDEX authorization_codes_client_id ON authorization_codes (client_id);
    CREATE INDEX authorization_codes_user_id ON authorization_codes (user_id);

    CREATE TABLE device_codes (
      hash             BLOB PRIMARY KEY,
      user_code_hash   BLOB NOT NULL UNIQUE,
      client_id        TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      scope            TEXT NOT NULL,
      status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'used')),
      user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,
      issued_at        INTEGER NOT NULL,
      expires_at       INTEGER NOT NULL,
      interval_seconds INTEGER NOT NULL,
      last_polled_ms   INTEGER,
      grant_id         TEXT
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX device_codes_expires_at ON device_codes (expires_at);
    CREATE INDEX device_codes_client_id ON device_codes (client_id);
    CREATE INDEX device_codes_user_id ON device_codes (user_id) WHERE user_id IS NOT NULL;

    CREATE TABLE browser_sessions (
      hash       BLOB PRIMARY KEY,
      user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      ended_at   INTEGER
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX browser_sessions_user_id ON browser_sessions (user_id);
    CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

    CREATE TABLE consents (
      user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      scope      TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (user_id, client_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX consents_client_id ON consents (client_id);
  `,
  postgres: `
    CREATE TABLE authorization_codes (
      hash                  bytea PRIMARY KEY,
      client_id             text COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      redirect_uri          text NOT NULL,
      scope                 text NOT NULL,
      code_challenge        text,
      code_challenge_method text CHECK (code_challenge_method IN ('S256', 'plain')),
      issued_at             bigint NOT NULL,
      expires_at            bigint NOT NULL,
      used_at               bigint,
      grant_id              text COLLATE "C"
    );
    CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
    CREATE INDEX authorization_codes_client_id ON authorization_codes (client_id);
    CREATE INDEX authorization_codes_user_id ON authorization_codes (user_id);

    CREATE TABLE device_codes (
      hash             bytea PRIMARY KEY,
      user_code_hash   bytea NOT NULL UNIQUE,
      client_id        text COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      scope            text NOT NULL,
      status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'used')),
      user_id          bigint REFERENCES users (id) ON DELETE CASCADE,
      issued_at        bigint NOT NULL,
      expires_at       bigint NOT NULL,
      interval_seconds integer NOT NULL,
      last_polled_ms   bigint,
      grant_id         text COLLATE "C"
    );
    CREATE INDEX device_codes_expires_at ON device_codes (expires_at);
    CREATE INDEX device_codes_client_id ON device_codes (client_id);
    CREATE INDEX device_codes_user_id ON device_codes (user_id) WHERE user_id IS NOT NULL;

    CREATE TABLE browser_sessions (
      hash       bytea PRIMARY KEY,
      user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      ended_at   bigint
    );
    CREATE INDEX browser_sessions_user_id ON browser_sessions (user_id);
    CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

    CREATE TABLE consents (
      user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      client_id  text COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
      scope      text NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      PRIMARY KEY (user_id, client_id)
    );
    CREATE INDEX consents_client_id ON consents (client_id);
  `,
};

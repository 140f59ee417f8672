import type { Store } from '../../core/ports.js';
import { guardStore } from '../decorate.js';
import { sqliteAudit } from './audit.js';
import { sqliteAuthorizationCodes } from './authorization-codes.js';
import { sqliteBrowserSessions } from './browser-sessions.js';
import { sqliteClients } from './clients.js';
import { describeUnavailable, openConnection, type SqliteStoreOptions } from './connection.js';
import { sqliteDeviceCodes } from './device-codes.js';
import { sqliteLockouts } from './lockouts.js';
import { sqliteMaintenance } from './maintenance.js';
import { sqliteTokens } from './tokens.js';
import { sqliteUsage } from './usage.js';
import { sqliteUsers } from './users.js';

/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3 (connection.ts), one part per
 * concern. Infrastructure failures of any method become StoreUnavailableError (the Store contract).
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const conn = openConnection(path, options);
  const store: Store = {
    ...sqliteTokens(conn),
    ...sqliteClients(conn),
    ...sqliteUsage(conn),
    ...sqliteUsers(conn),
    ...sqliteLockouts(conn),
    ...sqliteAudit(conn),
    ...sqliteMaintenance(conn),
    ...sqliteAuthorizationCodes(conn),
    ...sqliteDeviceCodes(conn),
    ...sqliteBrowserSessions(conn),
  };
  return guardStore(store, describeUnavailable);
}

import type { Store } from '../../core/ports.js';
import { guardStore } from '../decorate.js';
import { postgresAudit } from './audit.js';
import { postgresAuthorizationCodes } from './authorization-codes.js';
import { postgresBrowserSessions } from './browser-sessions.js';
import { postgresClients } from './clients.js';
import { connectPostgres, describeUnavailable } from './connection.js';
import { postgresDeviceCodes } from './device-codes.js';
import { postgresLockouts } from './lockouts.js';
import { postgresMaintenance } from './maintenance.js';
import { postgresTokens } from './tokens.js';
import { parsePostgresUrl } from './url.js';
import { postgresUsage } from './usage.js';
import { postgresUsers } from './users.js';

/**
 * The server store: PostgreSQL through a node-postgres pool (connection.ts), every session READ COMMITTED
 * (url.ts), one file per concern. Infrastructure failures of every method become StoreUnavailableError.
 * docs/design-notes.md, *PostgreSQL*.
 */
export function openPostgresStore(url: string): Store {
  const connection = connectPostgres(parsePostgresUrl(url));
  const store: Store = {
    ...postgresTokens(connection),
    ...postgresClients(connection),
    ...postgresUsage(connection),
    ...postgresUsers(connection),
    ...postgresLockouts(connection),
    ...postgresAudit(connection),
    ...postgresMaintenance(connection),
    ...postgresAuthorizationCodes(connection),
    ...postgresDeviceCodes(connection),
    ...postgresBrowserSessions(connection),
  };
  return guardStore(store, describeUnavailable(url));
}

/**
 * The Store contract (src/core/ports.ts), as a suite every backend runs unchanged: one file per port
 * (tokens.ts, clients.ts, users.ts, maintenance.ts, policy-usage.ts, authorization.ts, admin.ts,
 * admin-safety.ts), plus what holds across them (consistency.ts).
 *
 * Only the Store interface is used: no SQL, no driver (but for `readTable`, which each backend's test file
 * gives, to check that secrets are stored as keys only). A backend's test file calls `runStoreContract` with a
 * factory that opens a fresh, migrated, empty store per test; backend-specific behaviour (locks, connection
 * loss) is tested in that file, not here.
 */
import type { Store } from '../../src/core/ports.js';
import { adminContract } from './admin.js';
import { adminSafetyContract } from './admin-safety.js';
import { authorizationContract } from './authorization.js';
import type { ReadTable } from './authorization-fixtures.js';
import { clientContract } from './clients.js';
import { consistencyContract } from './consistency.js';
import { describeWithFreshStore, type OpenedStore } from './fixtures.js';
import { maintenanceContract } from './maintenance.js';
import { policyAndUsageContract } from './policy-usage.js';
import { tokenContract } from './tokens.js';
import { userContract } from './users.js';

/**
 * Defines the whole Store contract as one vitest `describe`.
 *
 * @param open opens a fresh, migrated, empty store; `cleanup` closes it and removes its data.
 * @param openSecond opens a second, independent store instance on the database of the store most recently
 *   returned by `open` (another connection, as another process would have). The caller closes it. When
 *   omitted, the cross-instance tests are skipped.
 * @param readTable reads every row of a table of the store most recently returned by `open`.
 */
export function runStoreContract(
  name: string,
  open: () => Promise<OpenedStore>,
  openSecond: (() => Promise<Store>) | undefined,
  readTable: ReadTable,
): void {
  describeWithFreshStore(`Store contract: ${name}`, open, (store) => {
    const subject = { store, ...(openSecond ? { openSecond } : {}) };
    maintenanceContract(subject);
    clientContract(subject);
    userContract(subject);
    tokenContract(subject);
    consistencyContract(subject);
    policyAndUsageContract(subject);
    authorizationContract({ ...subject, readTable });
    adminContract(subject);
    adminSafetyContract(subject);
  });
}

import type { ImportPlanner, ImportTarget } from './import-types.js';
import { openPostgresImportTarget } from './postgres/import-target.js';
import { openSqliteImportTarget } from './sqlite/import-target.js';
import { openStore, redactUrl } from './store.js';

/**
 * Opens an import target on the database `databaseUrl` names (see store.ts for the URL forms), deciding
 * each row with `planner`. Unless `dryRun`, the schema is migrated first, as every command does; a dry
 * run needs an up-to-date schema and writes nothing.
 */
export async function openImportTarget(
  databaseUrl: string,
  options: { dryRun: boolean; planner: ImportPlanner },
): Promise<ImportTarget> {
  if (!options.dryRun) {
    const store = openStore(databaseUrl);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  }
  if (databaseUrl.startsWith('sqlite:')) return openSqliteImportTarget(databaseUrl.slice('sqlite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresImportTarget(databaseUrl, options);
  throw new Error(`unsupported database URL scheme in ${JSON.stringify(redactUrl(databaseUrl))}`);
}

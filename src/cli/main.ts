#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { AdminError } from '../core/admin/validation.js';
import { cleanupDeadTokens } from '../lifecycle/cleanup.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerClientCommands } from './client-commands.js';
import { registerImportCommands } from './import-commands.js';
import { registerLockoutCommands } from './lockout-commands.js';
import { registerClientUpdateCommand, registerUserOperatorCommands } from './operator-commands.js';
import { serve } from './serve.js';
import { configFrom, output, withServices, type StoreOptions } from './context.js';
import { registerUserCommands } from './user-commands.js';
import { registerUsageCommands } from './usage-commands.js';
import { finishCommands } from './help.js';
import { createProgress } from './progress.js';
import { plural } from '../core/plural.js';

/**
 * package.json's version: it sits two levels above this file, in the repository (src/cli, dist/cli) and in the
 * installed package.
 */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

const program = new Command('oauthd')
  .description('An OAuth 2.0 authorization server (RFC 6749 password and refresh_token grants).')
  .version(packageVersion(), '-V, --version', 'print the version of oauthd')
  .exitOverride();

program
  .command('serve')
  .description('start the server (settings: OAUTHD_* environment variables, see docs/configuration.md)')
  .option('--host <host>', 'overrides OAUTHD_HOST')
  .option('--port <port>', 'overrides OAUTHD_PORT')
  .option('--admin-host <host>', 'overrides OAUTHD_ADMIN_HOST (the admin listener: metrics, health)')
  .option('--admin-port <port>', 'overrides OAUTHD_ADMIN_PORT (0 picks a free port)')
  .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
  .option(
    '--workers <n>',
    'processes serving the public port, or auto for one per core (default: OAUTHD_WORKERS, else 1)',
  )
  .action(serve);

program
  .command('migrate')
  .description('create or upgrade the database schema (serve does this on start too)')
  .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
  .option('--json', 'print JSON')
  .action(async (options: StoreOptions & { json?: boolean }) => {
    const databaseUrl = configFrom(options).store.databaseUrl;
    const { LATEST_SCHEMA_VERSION, probeSchema, redactUrl } = await import('../services.js');
    const before = await probeSchema(databaseUrl);
    const from = before.kind === 'migrated' ? before.version : 0;
    // Opening the services applies every pending migration.
    await withServices(options, async () => undefined, { requireSchema: false });
    const to = LATEST_SCHEMA_VERSION;
    const where = redactUrl(databaseUrl);
    output(options.json, { migrated: true, database: where, from_version: from, version: to }, () =>
      from === 0
        ? `created the database schema (version ${to}) in ${where}`
        : from < to
          ? `upgraded the database schema from version ${from} to ${to} in ${where}`
          : `database schema is up to date (version ${to}) in ${where}`,
    );
  });

program
  .command('cleanup')
  .description(
    'remove dead tokens and erase sealed refresh responses past the grace window now (the server also does it ' +
      'every OAUTHD_CLEANUP_INTERVAL_SECONDS)',
  )
  .option(
    '--retention <seconds>',
    'keep used, revoked and expired refresh tokens this long (default: OAUTHD_TOKEN_RETENTION_SECONDS)',
  )
  .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
  .option('--json', 'print JSON')
  .action(async (options: StoreOptions & { retention?: string; json?: boolean }) => {
    const config = configFrom(options);
    if (options.retention !== undefined && !/^\d+$/.test(options.retention))
      throw new AdminError('--retention takes a whole number of seconds');
    const retentionSeconds = options.retention !== undefined ? +options.retention : config.cleanup.retentionSeconds;
    await withServices(options, async ({ store, clock }) => {
      const progress = createProgress();
      let erased = 0;
      const deleted = await cleanupDeadTokens(store, clock, {
        retentionSeconds,
        auditRetentionSeconds: config.cleanup.auditRetentionSeconds,
        successorGraceSeconds: config.policy.refreshGraceSeconds,
        onProgress: (p) => {
          erased = p.erased;
          progress.tick(
            `cleanup: ${plural(p.deleted, 'dead row')} removed, ${plural(p.erased, 'sealed refresh response')} ` +
              `erased so far…`,
          );
        },
      });
      progress.done();
      output(
        options.json,
        { deleted },
        () =>
          `removed ${plural(deleted, 'dead row')} (expired and retired tokens, their grants, audit events past ` +
          `retention); erased ${plural(erased, 'sealed refresh response')}`,
      );
    });
  });

registerClientCommands(program);
registerUserCommands(program);
registerAuditCommands(program);
registerImportCommands(program);
registerClientUpdateCommand(program);
registerUserOperatorCommands(program);
registerLockoutCommands(program);
registerUsageCommands(program);
registerAdminCommands(program);
finishCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its one-line message (usage errors, see help.ts) or the help text.
    process.exit(error.exitCode);
  }
  process.stderr.write(`oauthd: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
}

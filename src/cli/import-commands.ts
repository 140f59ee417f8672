import type { Command } from 'commander';
import { isAdminScope } from '../core/admin-scopes.js';
import { parseScope } from '../core/scope.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatSummary } from '../importers/django/summary.js';
import { createProgress } from './progress.js';
import { assertMigrated, configFrom, output, type StoreOptions } from './context.js';

interface DjangoImportCliOptions extends StoreOptions {
  from: string;
  userTable: string;
  usernameColumn: string;
  scopes?: string;
  orphanScope?: string;
  skipOrphans?: boolean;
  refreshTokenExpireSeconds?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Scopes given on the command line: known to this server (OAUTHD_SCOPES), in its order. */
function knownScopes(value: string, known: readonly string[], flag: string): string[] {
  const parsed = parseScope(value);
  if (parsed === null) throw new Error(`${flag} must be a space-separated list of scope names`);
  const admin = parsed.filter(isAdminScope);
  if (admin.length > 0) {
    throw new Error(
      `${flag}: ${admin.join(' ')} is never imported: give an admin scope to one client, by name, once it is here ` +
        '(`oauthd client update ID --scopes …`)',
    );
  }
  const unknown = parsed.filter((s) => !known.includes(s));
  if (unknown.length > 0)
    throw new Error(`${flag}: unknown scope(s) ${unknown.join(', ')} (known: ${known.join(' ')}; see OAUTHD_SCOPES)`);
  return known.filter((s) => parsed.includes(s));
}

export function registerImportCommands(program: Command): void {
  const imports = program
    .command('import')
    .description('bring users, clients and tokens over from another authorization server');

  imports
    .command('django')
    .description(
      'import users, applications and live tokens from a django-oauth-toolkit database (read-only); idempotent. ' +
        'See docs/migrating-from-django-oauth-toolkit.md',
    )
    .requiredOption('--from <path|url>', 'the DOT database: a SQLite file path, or a postgres://… URL')
    .option('--user-table <table>', "Django's user table (AUTH_USER_MODEL)", 'auth_user')
    .option('--username-column <column>', 'the login name column of the user table (USERNAME_FIELD)', 'username')
    .option(
      '--scopes <scopes>',
      "scopes every imported client may be granted: DOT's SCOPES a client may get (default: OAUTHD_SCOPES)",
    )
    .option(
      '--orphan-scope <scopes>',
      'scope for refresh tokens whose access token DOT deleted (default: OAUTHD_DEFAULT_SCOPES)',
    )
    .option('--skip-orphans', 'do not import refresh tokens whose access token DOT deleted')
    .option(
      '--refresh-token-expire-seconds <n>',
      "DOT's REFRESH_TOKEN_EXPIRE_SECONDS, if set: imported refresh tokens expire that long after their access token",
    )
    .option('--dry-run', 'print what would change; write nothing')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print the summary as JSON')
    .action(async (options: DjangoImportCliOptions) => {
      const config = configFrom(options);
      // The built-in admin scopes are known but never imported: an imported app must not become an admin client.
      const configured = config.policy.knownScopes.filter((s) => !isAdminScope(s));
      const clientScopes =
        options.scopes === undefined ? [...configured] : knownScopes(options.scopes, configured, '--scopes');
      const orphanScope = options.skipOrphans
        ? null
        : options.orphanScope === undefined
          ? [...config.policy.defaultScopes]
          : knownScopes(options.orphanScope, configured, '--orphan-scope');
      let refreshTokenExpireSeconds: number | null = null;
      if (options.refreshTokenExpireSeconds !== undefined) {
        if (!/^\d{1,10}$/.test(options.refreshTokenExpireSeconds))
          throw new Error('--refresh-token-expire-seconds must be a whole number of seconds');
        refreshTokenExpireSeconds = Number(options.refreshTokenExpireSeconds);
      }
      if (!/^postgres(ql)?:\/\//.test(options.from)) {
        const path = options.from.replace(/^sqlite:/, '');
        if (!existsSync(path))
          throw new Error(`cannot open the django-oauth-toolkit database ${path} (${resolve(path)}): no such file`);
      }
      await assertMigrated(config.store.databaseUrl);
      // Loaded here: it brings both database drivers, which `oauthd serve`'s main thread never needs.
      const { importFromDjango } = await import('../importers/django/import.js');
      // On stderr: a terminal sees one line rewritten in place, a pipe or log a line per kind.
      const progress = createProgress();
      const summary = await importFromDjango({
        from: options.from,
        databaseUrl: config.store.databaseUrl,
        userTable: options.userTable,
        usernameColumn: options.usernameColumn,
        clientScopes,
        orphanScope,
        refreshTokenExpireSeconds,
        dryRun: options.dryRun ?? false,
        now: Math.floor(Date.now() / 1000),
        onProgress: ({ kind, done, total }) => {
          if (done === total) {
            if (total > 0) progress.line(`import${options.dryRun ? ' (dry run)' : ''}: ${kind} ${done}/${total}`);
          } else {
            progress.tick(`import${options.dryRun ? ' (dry run)' : ''}: ${kind} ${done}/${total}…`);
          }
        },
      });
      progress.done();
      output(options.json, summary, () => formatSummary(summary));
    });
}

#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { startServer, type RunningServer } from '../server.js';
import { registerClientCommands } from './client-commands.js';
import { configFrom, output, withServices, type StoreOptions } from './context.js';
import { registerUserCommands } from './user-commands.js';

const program = new Command('oauthd')
  .description('An OAuth 2.0 authorization server (RFC 6749 password and refresh_token grants).')
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('start the server (settings: OAUTHD_* environment variables, see docs/configuration.md)')
  .option('--host <host>', 'overrides OAUTHD_HOST')
  .option('--port <port>', 'overrides OAUTHD_PORT')
  .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
  .action(async (options: StoreOptions & { host?: string; port?: string }) => {
    const config = configFrom(options);
    // Signal handlers come first: a SIGTERM during start-up, or the moment readiness is announced, must
    // still drain and close the store, never kill the process mid-write.
    let server: RunningServer | undefined;
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      if (!server) return; // start-up sees `stopping` and shuts down as soon as it can
      server.app.log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          server?.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));

    server = await startServer(config);
    if (stopping) {
      await server.close();
      process.exit(0);
    }
    const counts = await server.services.store.counts();
    if (counts.clients === 0 || counts.users === 0) {
      process.stderr.write(
        [
          '',
          'oauthd: the store has no clients or no users yet. Create them with:',
          '  npx oauthd client create --name my-app',
          '  npx oauthd user create --username alice --password-stdin',
          '',
          '',
        ].join('\n'),
      );
    }
    process.stderr.write(`oauthd: token endpoint at ${server.url}${config.basePath}/o/token/\n`);
  });

program
  .command('migrate')
  .description('create or upgrade the database schema (serve does this on start too)')
  .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
  .option('--json', 'print JSON')
  .action(async (options: StoreOptions & { json?: boolean }) =>
    // Opening the services applies every pending migration.
    withServices(options, async () => output(options.json, { migrated: true }, () => 'database schema is up to date')),
  );

registerClientCommands(program);
registerUserCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its message (usage errors) or the help text.
    process.exit(error.exitCode);
  }
  process.stderr.write(`oauthd: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
}

import type { Command } from 'commander';
import { AdminError } from '../core/admin/validation.js';
import { output, withServices, type StoreOptions } from './context.js';
import { type PasswordOptions, passwordFrom, userView } from './user-commands.js';

interface BootstrapOptions extends PasswordOptions {
  username?: string;
  promote?: boolean;
  client?: string;
  clientId?: string;
}

/**
 * `oauthd admin bootstrap`: the first admin of the admin API and the console, a user (`--username`, created with a
 * password or, with `--promote`, an existing one) or a client (`--client NAME`: client_credentials with the
 * oauthd:admin scope, its secret printed once). Refused, exit 1, once any admin exists: running it twice adds
 * nothing (the core's bootstrapActions).
 */
export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description('the admin API and the console (/admin/v1/, /console/ on the admin listener)');
  admin
    .command('bootstrap')
    .description(
      'create the first admin: a user (--username, for the console and the code flow) or a client (--client, for ' +
        'scripts: client_credentials with the oauthd:admin scope, its secret printed once). Refused, changing ' +
        'nothing, once an admin exists',
    )
    .option('--username <username>', 'the admin user to create (or, with --promote, to make an admin)')
    .option('--password-stdin', 'read its password from standard input (on a terminal: asked twice, not shown)')
    .option('--password <password>', 'its password (visible in the process list and shell history)')
    .option('--promote', 'make the existing user --username the first admin (it keeps its password)')
    .option('--client <name>', 'create an admin client with this name instead of a user')
    .option('--client-id <id>', 'with --client: its client id (default: generated)')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: BootstrapOptions) => {
      if ((options.username === undefined) === (options.client === undefined)) {
        throw new AdminError('give either --username (an admin user) or --client (an admin client)');
      }
      if (options.client !== undefined) return bootstrapClient(options, options.client);
      return bootstrapUser(options, options.username!);
    });
}

async function bootstrapUser(options: BootstrapOptions, username: string): Promise<void> {
  if (options.clientId !== undefined) throw new AdminError('--client-id goes with --client');
  if (options.promote && (options.password !== undefined || options.passwordStdin)) {
    throw new AdminError("--promote keeps the user's own password: give no --password or --password-stdin");
  }
  // The password is read (and checked) before the store is opened, as `user create` does.
  const input = options.promote ? { promote: true as const } : { password: await passwordFrom(options) };
  await withServices(options, async ({ admin }) => {
    const { user, created } = await admin.bootstrapAdminUser(username, input);
    output(options.json, { ...userView(user), created }, () =>
      created
        ? `created admin user ${user.username} (id ${user.id}); sign in to the console with it`
        : `${user.username} is now an admin; sign in to the console with it`,
    );
  });
}

async function bootstrapClient(options: BootstrapOptions & StoreOptions, name: string): Promise<void> {
  if (options.promote || options.password !== undefined || options.passwordStdin) {
    throw new AdminError('--promote, --password and --password-stdin go with --username, not --client');
  }
  await withServices(options, async ({ admin }) => {
    const { client, clientSecret } = await admin.bootstrapAdminClient(name, { clientId: options.clientId });
    output(
      options.json,
      { client_id: client.clientId, client_secret: clientSecret, name: client.name, scopes: client.scopes },
      () =>
        [
          `created admin client ${client.name}`,
          `client_id:     ${client.clientId}`,
          `client_secret: ${clientSecret}`,
          'the secret is shown this once: keep it now. Get a token with',
          '  curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials <issuer>/o/token/',
        ].join('\n'),
    );
  });
}

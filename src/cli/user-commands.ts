import type { Command } from 'commander';
import { AdminError, checkPasswordPolicy } from '../core/admin/validation.js';
import type { User } from '../core/types.js';
import { configFrom, output, readStdinPassword, warnSecretOnArgv, withServices, type StoreOptions } from './context.js';

/** A user as shown: never the password hash. */
export function userView(user: User) {
  return {
    id: user.id,
    username: user.username,
    is_active: user.isActive,
    is_admin: user.isAdmin,
    has_usable_password: user.passwordHash !== null,
    created_at: new Date(user.createdAt * 1000).toISOString(),
  };
}

export interface PasswordOptions extends StoreOptions {
  json?: boolean;
  password?: string;
  passwordStdin?: boolean;
}

export async function passwordFrom(options: PasswordOptions): Promise<string> {
  if (options.passwordStdin && options.password !== undefined) {
    throw new AdminError('give either --password or --password-stdin, not both');
  }
  if (options.passwordStdin) {
    return readStdinPassword('password', (p) => checkPasswordPolicy(p, configFrom(options).passwords));
  }
  if (options.password !== undefined) {
    warnSecretOnArgv('--password', '--password-stdin');
    return options.password;
  }
  throw new AdminError('give the password with --password-stdin (recommended) or --password');
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users (resource owners) of the password grant');
  registerUserPasswordCommands(user);
  registerUserStatusCommands(user);
}

/** `user create | set-password`: the two commands that take a password. */
function registerUserPasswordCommands(user: Command): void {
  user
    .command('create')
    .description('create a user')
    .requiredOption('--username <username>', 'the login name (case-sensitive)')
    .option('--password-stdin', 'read the password from standard input (on a terminal: asked twice, not shown)')
    .option('--password <password>', 'the password (visible in the process list and shell history)')
    .option('--admin', 'an admin: may hold the oauthd:admin scopes (the admin API) and sign in to the console')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: PasswordOptions & { username: string; admin?: boolean }) => {
      const password = await passwordFrom(options);
      await withServices(options, async ({ admin }) => {
        const created = await admin.createUser(options.username, password, { isAdmin: options.admin === true });
        output(
          options.json,
          userView(created),
          () => `created ${created.isAdmin ? 'admin ' : ''}user ${created.username} (id ${created.id})`,
        );
      });
    });

  user
    .command('set-password <username>')
    .description(
      "replace a user's password and revoke every token the user holds (a password is usually changed because it " +
        'leaked)',
    )
    .option('--password-stdin', 'read the password from standard input (on a terminal: asked twice, not shown)')
    .option('--password <password>', 'the password (visible in the process list and shell history)')
    .option(
      '--keep-tokens',
      'keep the tokens issued before the change valid (e.g. a forgotten password, nothing leaked)',
    )
    .option('--revoke-tokens', 'revoke every token the user holds (the default; kept for scripts)')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: PasswordOptions & { keepTokens?: boolean; revokeTokens?: boolean }) => {
      if (options.keepTokens && options.revokeTokens)
        throw new AdminError('give either --keep-tokens or --revoke-tokens, not both');
      const revokeTokens = !options.keepTokens;
      const password = await passwordFrom(options);
      await withServices(options, async ({ admin }) => {
        await admin.setPassword(username, password, { revokeTokens });
        output(
          options.json,
          // Revoking also ends the user's sign-in sessions, in the same transaction (the store's setUserPassword).
          { username, password_changed: true, tokens_revoked: revokeTokens, sign_in_sessions_ended: revokeTokens },
          () =>
            `password changed for ${username}; ` +
            (revokeTokens ? 'their tokens are revoked and their sign-in sessions ended' : 'their tokens stay valid'),
        );
      });
    });
}

/** `user disable | enable | list`. */
function registerUserStatusCommands(user: Command): void {
  for (const [name, active] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    user
      .command(`${name} <username>`)
      .description(
        active
          ? 'allow a disabled user to log in again'
          : "refuse the user's logins, revoke every token they hold and end their sign-in sessions",
      )
      .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
      .option('--json', 'print JSON')
      .action(async (username: string, options: StoreOptions & { json?: boolean }) =>
        withServices(options, async ({ admin }) => {
          await admin.setUserActive(username, active);
          // Disabling also ends the user's sign-in sessions, in the same transaction (the store's setUserActive).
          output(
            options.json,
            { username, is_active: active, ...(active ? {} : { tokens_revoked: true, sign_in_sessions_ended: true }) },
            () =>
              active
                ? `enabled ${username}`
                : `disabled ${username}; their tokens are revoked and their sign-in sessions ended`,
          );
        }),
      );
  }

  user
    .command('list')
    .description('list users')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: StoreOptions & { json?: boolean }) =>
      withServices(options, async ({ admin }) => {
        const users = await admin.listUsers();
        output(options.json, users.map(userView), () =>
          users.length === 0
            ? 'no users'
            : users
                .map(
                  (u) => `${u.id}\t${u.username}\t${u.isActive ? 'active' : 'disabled'}${u.isAdmin ? '\tadmin' : ''}`,
                )
                .join('\n'),
        );
      }),
    );

  user
    .command('update <username>')
    .description(
      'make a user an admin (--admin: the oauthd:admin scopes, the console) or no longer one (--no-admin: its ' +
        'admin API requests are refused at once)',
    )
    .option('--admin', 'make the user an admin')
    .option('--no-admin', 'take the admin flag away')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: StoreOptions & { admin?: boolean; json?: boolean }) => {
      if (options.admin === undefined) throw new AdminError('nothing to change: give --admin or --no-admin');
      const isAdmin = options.admin;
      await withServices(options, async ({ admin }) => {
        const updated = await admin.updateUser(username, { isAdmin });
        output(options.json, userView(updated), () =>
          isAdmin ? `${updated.username} is an admin` : `${updated.username} is no longer an admin`,
        );
      });
    });
}

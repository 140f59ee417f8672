import type { Command } from 'commander';
import type { Lockout } from '../core/types.js';
import { describeClient, clientView } from './client-commands.js';
import { policyInput, type PolicyOptions, withPolicyOptions } from './client-policy-options.js';
import { plural } from '../core/plural.js';
import { output, withServices, type StoreOptions } from './context.js';
import { registerUserSessionCommands } from './user-session-commands.js';

interface JsonOption extends StoreOptions {
  json?: boolean;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** A command group registered by main.ts (`client`, `user`): the commands here join it. */
function group(program: Command, name: string): Command {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`the ${name} command group must be registered first`);
  return found;
}

/** `oauthd client update`: change a client's name, scopes, default scopes or grant types. */
export function registerClientUpdateCommand(program: Command): void {
  const update = group(program, 'client')
    .command('update <client-id>')
    .description(
      'change a client; only the options given change, and a bad value changes nothing. Live tokens keep their ' +
        'scope until they expire; a refresh then narrows them to the new scopes',
    )
    .option('--name <name>', 'a name for people')
    .option('--scopes <scopes>', 'space-separated scopes the client may be granted (replaces the list)')
    .option(
      '--default-scopes <scopes>',
      'space-separated scopes a request without `scope` gets, among the client\'s scopes; "" goes back to ' +
        'OAUTHD_DEFAULT_SCOPES',
    )
    .option('--grant-types <list>', 'comma-separated grant types (replaces the list)');
  withPolicyOptions(update)
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(
      async (
        clientId: string,
        options: JsonOption &
          PolicyOptions & { name?: string; scopes?: string; defaultScopes?: string; grantTypes?: string },
      ) =>
        withServices(options, async ({ admin, clock }) => {
          const updated = await admin.updateClient(clientId, {
            name: options.name,
            scopes: options.scopes,
            defaultScopes: options.defaultScopes,
            grantTypes: options.grantTypes?.split(','),
            policy: policyInput(options),
          });
          // A sunset already past with --revoke-password-grants: its password grants end now, not later.
          const sunset = updated.policy.passwordGrantSunset;
          const revoked =
            options.revokePasswordGrants && sunset !== null && sunset.at <= clock.now()
              ? await admin.revokeClientPasswordGrants(clientId)
              : null;
          output(
            options.json,
            { ...clientView(updated), ...(revoked !== null ? { revoked_password_grants: revoked } : {}) },
            () =>
              describeClient(updated) +
              (revoked !== null ? `\nrevoked ${plural(revoked, 'password grant')} (the sunset date is past)` : ''),
          );
        }),
    );
}

/** `oauthd user show | delete | rename | sessions | revoke`. */
export function registerUserOperatorCommands(program: Command): void {
  const user = group(program, 'user');
  registerUserAccountCommands(user);
  registerUserSessionCommands(user);
}

/** `user show | delete | rename`. */
function registerUserAccountCommands(user: Command): void {
  user
    .command('show <username>')
    .description(
      'show one user: id, whether it is active and has a password, and how many live sessions (grants) it holds',
    )
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const { user: u, liveSessions } = await admin.showUser(username);
        const view = {
          id: u.id,
          username: u.username,
          is_active: u.isActive,
          is_admin: u.isAdmin,
          has_usable_password: u.passwordHash !== null,
          created_at: iso(u.createdAt),
          live_sessions: liveSessions,
        };
        output(options.json, view, () =>
          [
            `id:            ${u.id}`,
            `username:      ${u.username}`,
            `active:        ${u.isActive ? 'yes' : 'no (disabled)'}`,
            `admin:         ${u.isAdmin ? 'yes (the admin API, the console)' : 'no'}`,
            `password:      ${u.passwordHash !== null ? 'set' : 'not set (cannot log in)'}`,
            `created:       ${iso(u.createdAt)}`,
            `live sessions: ${liveSessions}`,
          ].join('\n'),
        );
      }),
    );

  user
    .command('delete <username>')
    .description('delete a user (named exactly) with every grant and token it holds; its tokens stop working at once')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const { user: u, liveGrants } = await admin.deleteUser(username);
        output(
          options.json,
          { deleted: u.username, id: u.id, sessions_deleted: liveGrants },
          () => `deleted user ${u.username} (id ${u.id}) and its ${liveGrants} live session(s)`,
        );
      }),
    );

  user
    .command('rename <username> <new-username>')
    .description('rename a user; its tokens keep working (they name the user by id)')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (username: string, newUsername: string, options: JsonOption) =>
      withServices(options, async ({ admin }) => {
        const renamed = await admin.renameUser(username, newUsername);
        output(
          options.json,
          { id: renamed.id, username: renamed.username, previous_username: username },
          () => `renamed ${username} to ${renamed.username}; their tokens keep working`,
        );
      }),
    );
}

export const lockoutView = (l: Lockout) => ({
  subject: l.kind,
  username: l.username,
  client_id: l.clientId,
  ip: l.ipKey,
  started_at: iso(l.startedAt),
  until: iso(l.until),
});

import { isIP, isIPv6 } from 'node:net';
import type { Command } from 'commander';
import { AdminError } from '../core/admin/validation.js';
import { throttleKeyOfIp } from '../services.js';
import { output, printable, withServices, type StoreOptions } from './context.js';
import { lockoutView } from './operator-commands.js';

interface LockoutOptions extends StoreOptions {
  json?: boolean;
  user?: string;
  ip?: string;
}

/**
 * The throttle's key for `--ip`: an IPv4 address as it is; an IPv6 address by its /64 (throttle/keys.ts
 * throttleKeyOfIp), also when given as the `…::/64` that `lockout list` prints.
 */
export function ipKeyOf(value: string): string {
  const address = value.endsWith('/64') && isIPv6(value.slice(0, -3)) ? value.slice(0, -3) : value;
  if (isIP(address) === 0)
    throw new AdminError(
      `--ip takes an IP address (or the IPv6 /64 that lockout list shows), got ${JSON.stringify(value)}`,
    );
  return throttleKeyOfIp(address);
}

/** `oauthd lockout list | clear`. */
export function registerLockoutCommands(program: Command): void {
  const lockout = program
    .command('lockout')
    .description(
      'brute-force lockouts in force (a username, a username from one IP, an IP, a client from one IP), and ending ' +
        'them early',
    );

  lockout
    .command('list')
    .description('list the lockouts in force, oldest first (IPv6 addresses are counted by their /64)')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: LockoutOptions) =>
      withServices(options, async ({ admin }) => {
        const views = (await admin.listLockouts()).map(lockoutView);
        output(options.json, views, () =>
          views.length === 0
            ? 'no lockouts in force'
            : views
                .map((v) =>
                  [
                    v.subject,
                    `user=${printable(v.username ?? '-')}`,
                    `client=${printable(v.client_id ?? '-')}`,
                    `ip=${v.ip ?? '-'}`,
                    `since=${v.started_at}`,
                    `until=${v.until}`,
                  ].join('  '),
                )
                .join('\n'),
        );
      }),
    );

  lockout
    .command('clear')
    .description(
      'end the lockouts of a username (from every IP) or of an IP (every username and client from it); running ' +
        'servers forget their counters within a second',
    )
    .option('--user <username>', 'the username, exactly')
    .option('--ip <address>', 'an IP address; an IPv6 address clears its /64')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: LockoutOptions) => {
      if ((options.user === undefined) === (options.ip === undefined))
        throw new AdminError('give either --user or --ip');
      const match = options.user !== undefined ? { username: options.user } : { ipKey: ipKeyOf(options.ip!) };
      await withServices(options, async ({ admin }) => {
        const cleared = await admin.clearLockouts(match);
        const what = 'username' in match ? `user ${match.username}` : `ip ${match.ipKey}`;
        output(options.json, { cleared: cleared.length, lockouts: cleared.map(lockoutView) }, () =>
          cleared.length === 0
            ? `no lockout in force for ${what}`
            : `cleared ${cleared.length} lockout(s) of ${what}; running servers let it in again within a second`,
        );
      });
    });
}

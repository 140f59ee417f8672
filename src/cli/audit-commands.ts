import type { Command } from 'commander';
import { AdminError } from '../core/admin/validation.js';
import { AUDIT_EVENTS, isAuditEventName } from '../core/audit-events.js';
import type { AuditEvent } from '../core/ports.js';
import { output, printable, withServices, type StoreOptions } from './context.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** An ISO date (2026-11-25T10:00:00Z) or an age (90s, 15m, 2h, 7d) → epoch seconds. */
export function parseTime(value: string, flag: string, now = Date.now()): number {
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) return Math.floor(now / 1000) - Number(age[1]) * UNITS[age[2]!]!;
  // Date.parse takes almost anything ("1" is the year 2001): only a date that starts YYYY-MM-DD is one.
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new AdminError(
      `${flag} takes an ISO date (2026-11-25T10:00:00Z) or an age (15m, 2h, 7d), got ${JSON.stringify(value)}`,
    );
  return Math.floor(ms / 1000);
}

const view = (e: AuditEvent) => ({
  at: new Date(e.at * 1000).toISOString(),
  event: e.event,
  client_id: e.clientId,
  user_id: e.userId,
  username: e.username,
  grant_id: e.grantId,
  ip: e.ip,
  ...(JSON.parse(e.detail) as Record<string, unknown>),
});

export function registerAuditCommands(program: Command): void {
  program
    .command('audit')
    .description(
      'show the audit trail (token issued, refresh rotated, reuse detected, revoked, login and client ' +
        'authentication failures, lockouts, admin actions with their actor), newest first',
    )
    .option('--user <username>', 'only events of this username')
    .option('--client <client-id>', 'only events of this client')
    .option('--event <name>', `only this event: ${AUDIT_EVENTS.join(', ')}`)
    .option('--since <time>', 'from this time: an ISO date or an age such as 15m, 2h, 7d')
    .option('--until <time>', 'before this time: an ISO date or an age')
    .option('--limit <n>', 'at most this many events', '100')
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(
      async (
        options: StoreOptions & {
          user?: string;
          client?: string;
          event?: string;
          since?: string;
          until?: string;
          limit: string;
          json?: boolean;
        },
      ) => {
        if (!/^\d+$/.test(options.limit) || +options.limit < 1 || +options.limit > 100_000) {
          throw new AdminError(`--limit takes a whole number from 1 to 100000, got ${JSON.stringify(options.limit)}`);
        }
        if (options.event !== undefined && !isAuditEventName(options.event)) {
          throw new AdminError(
            `--event: no event named ${JSON.stringify(options.event)}; the events are ${AUDIT_EVENTS.join(', ')}`,
          );
        }
        const since = options.since !== undefined ? parseTime(options.since, '--since') : undefined;
        const until = options.until !== undefined ? parseTime(options.until, '--until') : undefined;
        if (since !== undefined && until !== undefined && since >= until) {
          throw new AdminError(
            `--since (${new Date(since * 1000).toISOString()}) must be before --until ` +
              `(${new Date(until * 1000).toISOString()})`,
          );
        }
        const query = {
          limit: +options.limit,
          ...(options.user !== undefined ? { username: options.user } : {}),
          ...(options.client !== undefined ? { clientId: options.client } : {}),
          ...(options.event !== undefined ? { event: options.event } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
        };
        await withServices(options, async ({ store }) => {
          const events = (await store.queryAuditEvents(query)).map(view);
          output(options.json, events, () =>
            events.length === 0
              ? 'no events'
              : events
                  .map(({ at, event, client_id, username, ip, user_id: _u, grant_id: _g, ...rest }) =>
                    printable(
                      [
                        at,
                        event,
                        `client=${client_id ?? '-'}`,
                        `user=${username ?? '-'}`,
                        `ip=${ip ?? '-'}`,
                        ...Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`),
                      ].join('  '),
                    ),
                  )
                  .join('\n'),
          );
        });
      },
    );
}

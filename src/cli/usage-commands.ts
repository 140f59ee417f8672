import type { Command } from 'commander';
import type { ClientUsage } from '../core/ports.js';
import type { Client, EpochSeconds } from '../core/types.js';
import { output, withServices, type StoreOptions } from './context.js';

/** The window of "how often": today (UTC) and the 29 days before. */
const WINDOW_DAYS = 30;
/** How far back "last used" looks: as long as the store keeps usage (store/rows.ts USAGE_RETENTION_DAYS). */
const LOOKBACK_DAYS = 90;

const DAY = 86_400;
const dayOf = (at: EpochSeconds): number => Math.floor(at / DAY);
const isoDay = (day: number): string => new Date(day * DAY * 1000).toISOString().slice(0, 10);
const isoTime = (at: EpochSeconds): string => new Date(at * 1000).toISOString().replace('.000Z', 'Z');

interface JsonOption extends StoreOptions {
  json?: boolean;
}

/** One grant type of one client: when last used, and requests per day over the window (days with none left out). */
export interface GrantUsageView {
  grant_type: string;
  last_used_at: string;
  requests_30d: number;
  per_day: { day: string; requests: number }[];
}

/** The usage rows of one client, by grant type, busiest first; per day newest first. */
export function grantUsage(rows: readonly ClientUsage[], today: number): GrantUsageView[] {
  const byGrant = new Map<string, GrantUsageView & { lastAt: number }>();
  for (const row of rows) {
    let view = byGrant.get(row.grantType);
    if (!view) {
      view = { grant_type: row.grantType, last_used_at: '', requests_30d: 0, per_day: [], lastAt: 0 };
      byGrant.set(row.grantType, view);
    }
    view.lastAt = Math.max(view.lastAt, row.lastUsedAt);
    if (row.day > today - WINDOW_DAYS) {
      view.requests_30d += row.requests;
      view.per_day.push({ day: isoDay(row.day), requests: row.requests });
    }
  }
  return [...byGrant.values()]
    .sort((a, b) => b.requests_30d - a.requests_30d || b.lastAt - a.lastAt)
    .map(({ lastAt, ...view }) => ({
      ...view,
      last_used_at: isoTime(lastAt),
      per_day: view.per_day.sort((a, b) => b.day.localeCompare(a.day)),
    }));
}

/** `oauthd client usage [ID]` and `oauthd report password-grant`. */
export function registerUsageCommands(program: Command): void {
  const client = program.commands.find((c) => c.name() === 'client');
  if (!client) throw new Error('the client command group must be registered first');
  client
    .command('usage [client-id]')
    .description(
      'per client and grant type: when last used, and token requests per UTC day over the last 30 days ' +
        '(every answered request of the authenticated client, refusals included; the server adds its counts ' +
        'every OAUTHD_USAGE_FLUSH_SECONDS)',
    )
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (clientId: string | undefined, options: JsonOption) =>
      withServices(options, async ({ admin, store, clock }) => {
        const clients = clientId === undefined ? await admin.listClients() : [await admin.showClient(clientId)];
        const today = dayOf(clock.now());
        const rows = await store.listClientUsage({
          ...(clientId === undefined ? {} : { clientId }),
          sinceDay: today - LOOKBACK_DAYS + 1,
        });
        const views = clients.map((c) => ({
          client_id: c.clientId,
          name: c.name,
          grants: grantUsage(
            rows.filter((r) => r.clientId === c.clientId),
            today,
          ),
        }));
        output(options.json, clientId === undefined ? views : views[0], () => views.map(usageText).join('\n\n'));
      }),
    );

  program
    .command('report')
    .description('reports across clients')
    .command('password-grant')
    .description(
      'the clients that used the password grant in the last 30 days, busiest first, with their sunset date if ' +
        'one is set (see docs/password-grant-sunset.md)',
    )
    .option('--database-url <url>', 'overrides OAUTHD_DATABASE_URL')
    .option('--json', 'print JSON')
    .action(async (options: JsonOption) =>
      withServices(options, async ({ admin, store, clock }) => {
        const now = clock.now();
        const rows = await store.listClientUsage({ sinceDay: dayOf(now) - WINDOW_DAYS + 1 });
        const report = passwordGrantReport(await admin.listClients(), rows, now);
        output(options.json, report, () => reportText(report));
      }),
    );
}

export interface PasswordGrantUser {
  client_id: string;
  name: string;
  requests_30d: number;
  last_used_at: string;
  /** The sunset day (00:00 UTC), or null when none is set. */
  sunset: string | null;
  /** The sunset has come: its password grants are refused. */
  enforced: boolean;
  revoke_grants: boolean;
}

/** The clients with password-grant requests among `rows`, busiest first (then the latest use first). */
export function passwordGrantReport(
  clients: readonly Client[],
  rows: readonly ClientUsage[],
  now: EpochSeconds,
): PasswordGrantUser[] {
  const byClient = new Map<string, { requests: number; lastAt: number }>();
  for (const row of rows) {
    if (row.grantType !== 'password') continue;
    const held = byClient.get(row.clientId) ?? { requests: 0, lastAt: 0 };
    held.requests += row.requests;
    held.lastAt = Math.max(held.lastAt, row.lastUsedAt);
    byClient.set(row.clientId, held);
  }
  const found: (PasswordGrantUser & { lastAt: number })[] = [];
  for (const c of clients) {
    const used = byClient.get(c.clientId);
    if (!used || used.requests === 0) continue;
    const sunset = c.policy.passwordGrantSunset;
    found.push({
      client_id: c.clientId,
      name: c.name,
      requests_30d: used.requests,
      last_used_at: isoTime(used.lastAt),
      sunset: sunset ? isoDay(dayOf(sunset.at)) : null,
      enforced: sunset !== null && now >= sunset.at,
      revoke_grants: sunset?.revokeGrants ?? false,
      lastAt: used.lastAt,
    });
  }
  return found
    .sort((a, b) => b.requests_30d - a.requests_30d || b.lastAt - a.lastAt)
    .map(({ lastAt, ...user }) => user);
}

function usageText(view: { client_id: string; name: string; grants: GrantUsageView[] }): string {
  const lines = [`${view.client_id} (${view.name})`];
  if (view.grants.length === 0) lines.push(`  no token requests in the last ${LOOKBACK_DAYS} days`);
  for (const g of view.grants) {
    lines.push(
      `  ${g.grant_type.padEnd(18)} last used ${g.last_used_at}   ${g.requests_30d} in the last ${WINDOW_DAYS} days`,
    );
    for (const d of g.per_day) lines.push(`    ${d.day}  ${String(d.requests).padStart(9)}`);
  }
  return lines.join('\n');
}

function reportText(report: readonly PasswordGrantUser[]): string {
  if (report.length === 0) return `no client used the password grant in the last ${WINDOW_DAYS} days`;
  const header = ['CLIENT_ID', 'REQUESTS_30D', 'LAST_USED', 'SUNSET', 'NAME'];
  const rows = report.map((u) => [
    u.client_id,
    String(u.requests_30d),
    u.last_used_at,
    u.sunset === null ? '-' : `${u.sunset}${u.enforced ? ' (enforced)' : ''}${u.revoke_grants ? ' +revoke' : ''}`,
    u.name,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

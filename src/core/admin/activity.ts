import { type AuditEventName, isAuditEventName } from '../audit-events.js';
import type { AuditEvent, AuditQuery } from '../ports.js';
import type { EpochSeconds } from '../types.js';
import type { AdminContext } from './context.js';
import { checkLimit, type Page } from './paging.js';
import { AdminError } from './validation.js';

/** A filter of the audit trail as the admin API and the console take it; `before` is a page's `next` cursor. */
export interface AuditEventsQuery {
  event?: string | undefined;
  clientId?: string | undefined;
  username?: string | undefined;
  since?: EpochSeconds | undefined;
  until?: EpochSeconds | undefined;
  before?: string | undefined;
  limit: number;
}

/** What the dashboard charts: the four series, each counted per bucket. */
const SERIES = {
  issued: 'token.issued',
  refreshed: 'refresh_token.rotated',
  failed: 'login.failed',
  locked: 'lockout.started',
} as const satisfies Record<string, AuditEventName>;

export type ActivityName = keyof typeof SERIES;

/** Consecutive buckets of `bucketSeconds`, the first starting at `since`, every one present (zero when idle). */
export interface ActivitySeries {
  bucketSeconds: number;
  since: EpochSeconds;
  /** The start of each bucket, oldest first; the last one holds now. */
  buckets: EpochSeconds[];
  counts: Record<ActivityName, number[]>;
}

/** A client that still used the password grant lately (the clients to move off it before a sunset). */
export interface PasswordGrantClient {
  clientId: string;
  name: string;
  /** Token requests with the password grant over the window. */
  requests: number;
  lastUsedAt: EpochSeconds;
  /** When the client's password-grant sunset is (00:00 UTC of its day), null when none is set. */
  sunsetAt: EpochSeconds | null;
}

/** How far back passwordGrantClients looks, in UTC days (today included), as `oauthd report password-grant`. */
const USAGE_WINDOW_DAYS = 30;
const DAY = 86_400;

/** `<at>.<id>` of the last event of a page: the next page starts after it in the order (at DESC, id DESC). */
const cursorOf = (e: AuditEvent): string => `${e.at}.${e.id ?? 0}`;

function parseCursor(cursor: string): { at: EpochSeconds; id: number } {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(cursor);
  if (!match) throw new AdminError('the cursor is not one this server gave', { field: 'cursor' });
  return { at: Number(match[1]), id: Number(match[2]) };
}

export function activityActions(context: AdminContext) {
  const { store, now } = context;
  return {
    /** A page of the audit trail, newest first, with the cursor of the next (older) page. */
    async auditEvents(query: AuditEventsQuery): Promise<Page<AuditEvent>> {
      const limit = checkLimit(query.limit);
      const filter: AuditQuery = { limit: limit + 1 };
      if (query.event !== undefined) {
        if (!isAuditEventName(query.event)) {
          throw new AdminError(`no event named ${JSON.stringify(query.event)}`, { field: 'event' });
        }
        filter.event = query.event;
      }
      if (query.clientId !== undefined) filter.clientId = query.clientId;
      if (query.username !== undefined) filter.username = query.username;
      if (query.since !== undefined) filter.since = query.since;
      if (query.until !== undefined) filter.until = query.until;
      if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
        throw new AdminError('since must be before until', { field: 'since' });
      }
      if (query.before !== undefined) filter.before = parseCursor(query.before);
      const rows = await store.queryAuditEvents(filter);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next: rows.length > limit && last !== undefined ? cursorOf(last) : null };
    },

    /**
     * Tokens issued (refreshes apart), refreshes, failed logins and lockouts started: over the last hour per
     * minute and over the last day per hour, from the audit trail.
     */
    async activity(): Promise<{ at: EpochSeconds; lastHour: ActivitySeries; lastDay: ActivitySeries }> {
      const at = now();
      const [lastHour, lastDay] = await Promise.all([series(context, at, 60, 60), series(context, at, 3600, 24)]);
      return { at, lastHour, lastDay };
    },

    /** The clients whose token requests over the last 30 days include the password grant, busiest first. */
    async passwordGrantClients(): Promise<PasswordGrantClient[]> {
      const today = Math.floor(now() / DAY);
      const rows = await store.listClientUsage({ sinceDay: today - USAGE_WINDOW_DAYS + 1 });
      const used = new Map<string, { requests: number; lastUsedAt: EpochSeconds }>();
      for (const row of rows) {
        if (row.grantType !== 'password' || row.requests === 0) continue;
        const held = used.get(row.clientId) ?? { requests: 0, lastUsedAt: 0 };
        used.set(row.clientId, {
          requests: held.requests + row.requests,
          lastUsedAt: Math.max(held.lastUsedAt, row.lastUsedAt),
        });
      }
      const found: PasswordGrantClient[] = [];
      for (const [clientId, usage] of used) {
        // A client deleted since is no longer anyone's to move off the grant.
        const client = await store.findClient(clientId);
        if (!client) continue;
        const sunsetAt = client.policy.passwordGrantSunset?.at ?? null;
        found.push({ clientId, name: client.name, ...usage, sunsetAt });
      }
      return found.sort((a, b) => b.requests - a.requests || b.lastUsedAt - a.lastUsedAt);
    },
  };
}

/** `count` buckets of `bucketSeconds` ending with the one that holds `at`, zero-filled. */
async function series(
  context: AdminContext,
  at: EpochSeconds,
  bucketSeconds: number,
  count: number,
): Promise<ActivitySeries> {
  const since = (Math.floor(at / bucketSeconds) - count + 1) * bucketSeconds;
  const names = Object.keys(SERIES) as ActivityName[];
  const rows = await context.store.auditActivity({ since, bucketSeconds, events: Object.values(SERIES) });
  const buckets = Array.from({ length: count }, (_, i) => since + i * bucketSeconds);
  const counts = Object.fromEntries(names.map((n) => [n, new Array<number>(count).fill(0)])) as Record<
    ActivityName,
    number[]
  >;
  for (const row of rows) {
    const name = names.find((n) => SERIES[n] === row.event);
    const index = (row.bucket - since) / bucketSeconds;
    // A bucket past now (a clock a little ahead elsewhere) or not aligned is no bucket of this chart.
    if (name === undefined || !Number.isInteger(index) || index < 0 || index >= count) continue;
    counts[name][index] = (counts[name][index] ?? 0) + row.count;
  }
  return { bucketSeconds, since, buckets, counts };
}

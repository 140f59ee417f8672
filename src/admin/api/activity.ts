import type { ActivitySeries } from '../../core/admin/index.js';
import { AUDIT_EVENTS } from '../../core/audit-events.js';
import { invalidFields } from './errors.js';
import { object } from './input.js';
import { pageSchema } from './clients.js';
import { PAGE_QUERY, decodeCursor, encodeCursor, page } from './paging.js';
import type { ApiRoute } from './route.js';
import { auditEventView, iso } from './views.js';

/** RFC 3339 §5.6 date-time (T, Z case-insensitive; a fraction; an offset). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A time filter: epoch seconds, or an RFC 3339 date-time that names a real instant (no 2026-02-30). */
export function parseTime(value: string, field: string): number {
  if (/^\d{1,11}$/.test(value)) return Number(value);
  const match = RFC3339.exec(value);
  const ms = match ? Date.parse(value.toUpperCase()) : Number.NaN;
  // Date.parse rolls an impossible day over (February 30th is March 2nd): the day must read back as written.
  const date = match ? `${match[1]}-${match[2]}-${match[3]}` : '';
  const day = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms) || Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== date) {
    throw invalidFields([{ field, problem: 'must be epoch seconds or an RFC 3339 date-time (2026-11-25T10:00:00Z)' }]);
  }
  return Math.floor(ms / 1000);
}

const TIME = (description: string) => ({
  type: 'string' as const,
  maxLength: 40,
  description: `${description}: epoch seconds or an RFC 3339 date-time.`,
});

const seriesView = (s: ActivitySeries) => ({
  bucket_seconds: s.bucketSeconds,
  since: iso(s.since),
  buckets: s.buckets.map(iso),
  counts: s.counts,
});

export const ACTIVITY_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    tag: 'audit',
    summary: 'The audit trail, newest first',
    query: {
      event: { type: 'string', enum: [...AUDIT_EVENTS], description: 'Only this event.' },
      client_id: { type: 'string', maxLength: 200, description: 'Only events of this client.' },
      username: { type: 'string', maxLength: 150, description: 'Only events of this username.' },
      since: TIME('From this time on'),
      until: TIME('Before this time'),
      ...PAGE_QUERY,
    },
    responses: { 200: { description: 'A page of events (older ones on the next).', schema: pageSchema('AuditEvent') } },
    async handle({ admin, query }) {
      const before =
        query.cursor === undefined
          ? undefined
          : decodeCursor<{ before: string }>(query.cursor as string, 'audit-events', { before: 'string' }).before;
      const result = await admin.auditEvents({
        limit: (query.limit as number | undefined) ?? 50,
        event: query.event as string | undefined,
        clientId: query.client_id as string | undefined,
        username: query.username as string | undefined,
        since: query.since === undefined ? undefined : parseTime(query.since as string, 'since'),
        until: query.until === undefined ? undefined : parseTime(query.until as string, 'until'),
        before,
      });
      const next = result.next === null ? null : encodeCursor('audit-events', { before: result.next });
      return { status: 200, body: page(result.items.map(auditEventView), next) };
    },
  },
  {
    method: 'GET',
    path: '/activity',
    operationId: 'getActivity',
    tag: 'audit',
    summary: 'Recent activity for dashboards: tokens issued, refreshes, failed logins, lockouts',
    description:
      'Counted from the audit trail: over the last hour per minute and over the last day per hour (every bucket ' +
      'present, zero when idle, the last one holding now), and the clients still using the password grant over ' +
      'the last 30 days, busiest first.',
    responses: { 200: { description: 'The summary.', schema: { $ref: '#/components/schemas/Activity' } } },
    async handle({ admin }) {
      const [{ at, lastHour, lastDay }, clients] = await Promise.all([admin.activity(), admin.passwordGrantClients()]);
      return {
        status: 200,
        body: {
          at: iso(at),
          last_hour: seriesView(lastHour),
          last_day: seriesView(lastDay),
          password_grant_clients: clients.map((c) => ({
            client_id: c.clientId,
            name: c.name,
            requests: c.requests,
            last_used_at: iso(c.lastUsedAt),
            sunset_at: c.sunsetAt === null ? null : iso(c.sunsetAt),
          })),
        },
      };
    },
  },
];

/** The Activity component of the OpenAPI document. */
export const ACTIVITY_SCHEMA = object({
  at: { type: 'string', format: 'date-time' },
  last_hour: { $ref: '#/components/schemas/ActivitySeries' },
  last_day: { $ref: '#/components/schemas/ActivitySeries' },
  password_grant_clients: { type: 'array', items: { type: 'object' } },
});

export const ACTIVITY_SERIES_SCHEMA = object({
  bucket_seconds: { type: 'integer', description: '60 (last hour) or 3600 (last day).' },
  since: { type: 'string', format: 'date-time', description: 'The start of the first bucket.' },
  buckets: { type: 'array', items: { type: 'string', format: 'date-time' }, description: "Each bucket's start." },
  counts: {
    type: 'object',
    description: 'issued, refreshed, failed, locked: one count per bucket each.',
    properties: Object.fromEntries(
      ['issued', 'refreshed', 'failed', 'locked'].map((n) => [n, { type: 'array', items: { type: 'integer' } }]),
    ),
  },
});

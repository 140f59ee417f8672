import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Admin, AuditEventsQuery } from '../../core/admin/index.js';
import { AdminError } from '../../core/admin/validation.js';
import { AUDIT_EVENTS } from '../../core/audit-events.js';
import type { AuditEvent } from '../../core/ports.js';
import { html, type Html } from '../../http/pages/html.js';
import { type ConsoleContext, queryParam, routeParam } from './context.js';
import { badRequest, capitalize, notFound, sendError } from './errors.js';
import { page } from './guard.js';
import { consolePage, timeOf } from './layout.js';
import { type Column, listTable } from './widgets.js';

const PAGE_SIZE = 50;
/** How far back an event is looked for when its link lost its time (a URL typed by hand): 10 000 events. */
const SCAN_PAGES = 20;
const SCAN_PAGE = 500;

/** The filters as typed: event, client, username, and the time range in UTC (datetime-local). */
interface Filters {
  event: string;
  client: string;
  username: string;
  from: string;
  to: string;
}

const FILTER_NAMES = ['event', 'client', 'username', 'from', 'to'] as const;

/** `2026-12-06T11:05` (or with seconds), read as UTC; null when it is not such a time. */
export function parseUtc(value: string): number | null {
  // A browser may send milliseconds too (HTML's "valid normalized local date and time string"): ignored.
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/.exec(value);
  if (!match) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0)) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const back = new Date(ms);
  // Date.UTC rolls 31 February over to March: such a date is no date.
  if (Number.isNaN(ms) || back.getUTCDate() !== d || back.getUTCMonth() !== mo! - 1 || h! > 23 || mi! > 59) {
    return null;
  }
  return ms / 1000;
}

function queryOf(filters: Filters, before: string | null): AuditEventsQuery | string {
  const query: AuditEventsQuery = { limit: PAGE_SIZE };
  if (filters.event !== '') query.event = filters.event;
  if (filters.client !== '') query.clientId = filters.client;
  if (filters.username !== '') query.username = filters.username;
  for (const [name, key] of [
    ['from', 'since'],
    ['to', 'until'],
  ] as const) {
    if (filters[name] === '') continue;
    const at = parseUtc(filters[name]);
    if (at === null) return `"${capitalize(name)}" must be a date and time, like 2026-12-06T11:05 (UTC).`;
    query[key] = at;
  }
  if (before !== null) query.before = before;
  return query;
}

const eventHref = (e: AuditEvent): string => `/console/audit/${e.id ?? 0}?at=${e.at}`;

function actorOf(e: AuditEvent): string {
  try {
    const actor = (JSON.parse(e.detail) as Record<string, unknown>).actor;
    return typeof actor === 'string' ? actor : '';
  } catch {
    return '';
  }
}

function filterForm(filters: Filters): Html {
  const options = ['', ...AUDIT_EVENTS].map(
    (name) =>
      html`<option value="${name}"${filters.event === name ? html` selected` : null}>${
        name === '' ? 'Any event' : name
      }</option>`,
  );
  const text = (id: keyof Filters, label: string, type = 'text') =>
    html`<div><label for="${id}">${label}</label>
<input type="${type}" id="${id}" name="${id}" value="${filters[id]}" spellcheck="false"${
      type === 'datetime-local' ? html` step="1"` : null
    }></div>`;
  return html`<form method="get" action="/console/audit" class="filters" aria-label="Filter the audit log">
<div><label for="event">Event</label><select id="event" name="event">${options}</select></div>
${text('client', 'Client')}${text('username', 'Username')}
${text('from', 'From', 'datetime-local')}${text('to', 'To', 'datetime-local')}
<div><button type="submit">Filter</button></div>
</form>
<p class="hint">Times are UTC.</p>`;
}

function auditList(filters: Filters, events: readonly AuditEvent[], next: string | null, error: string | null): Html {
  const columns: Column<AuditEvent>[] = [
    ['Time', (e) => html`<a href="${eventHref(e)}">${timeOf(e.at)}</a>`],
    ['Event', (e) => e.event],
    ['Client', (e) => html`<span class="mono">${e.clientId ?? ''}</span>`],
    ['User', (e) => e.username ?? ''],
    ['Actor', (e) => actorOf(e)],
  ];
  const kept = Object.fromEntries(FILTER_NAMES.filter((n) => filters[n] !== '').map((n) => [n, filters[n]]));
  const older = new URLSearchParams({ ...kept, before: next ?? '' });
  return html`<h1>Audit log</h1>
${filterForm(filters)}
${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
${listTable('Audit events, newest first', columns, events, 'No event matches.', { showCaption: true })}
${next === null ? null : html`<p class="pager"><a href="/console/audit?${older.toString()}">Older events</a></p>`}`;
}

function eventPage(e: AuditEvent): Html {
  let detail: [string, unknown][] = [];
  try {
    detail = Object.entries(JSON.parse(e.detail) as Record<string, unknown>);
  } catch {
    detail = [['detail', e.detail]];
  }
  const row = (name: string, value: unknown) =>
    html`<dt>${name}</dt><dd>${
      value === null || value === undefined ? html`<span class="muted">none</span>` : String(value)
    }</dd>`;
  return html`<h1>Audit event</h1>
<dl>
<dt>Time</dt><dd>${timeOf(e.at)}</dd>
${row('Event', e.event)}${row('Id', e.id)}${row('Client', e.clientId)}${row('User id', e.userId)}
${row('Username', e.username)}${row('Grant', e.grantId)}${row('IP', e.ip)}
${detail.map(([name, value]) => row(name, value))}
</dl>
<p><a href="/console/audit">Back to the audit log</a></p>`;
}

/** One event by id: at once when its time is known (the links carry it), else among the latest events. */
async function findEvent(admin: Admin, id: number, at: number | null): Promise<AuditEvent | null> {
  if (at !== null) {
    const { items } = await admin.auditEvents({ before: `${at}.${id + 1}`, limit: 1 });
    return items[0]?.id === id ? items[0] : null;
  }
  let before: string | undefined;
  for (let i = 0; i < SCAN_PAGES; i++) {
    const { items, next } = await admin.auditEvents({ limit: SCAN_PAGE, ...(before ? { before } : {}) });
    const found = items.find((e) => e.id === id);
    if (found) return found;
    if (next === null) return null;
    before = next;
  }
  return null;
}

const filtersOf = (request: FastifyRequest): Filters =>
  Object.fromEntries(FILTER_NAMES.map((n) => [n, (queryParam(request, n) ?? '').trim()])) as unknown as Filters;

/** `/console/audit`: the audit trail filtered and paged, and one event in full. */
export function auditRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/audit',
    page(context, async (request, reply, session) => {
      const filters = filtersOf(request);
      const query = queryOf(filters, queryParam(request, 'before'));
      const send = (status: number, content: Html) =>
        context.send(reply, status, consolePage(context, session, { title: 'Audit log', section: 'audit', content }));
      if (typeof query === 'string') return send(400, auditList(filters, [], null, query));
      try {
        // Events are written in batches: what this admin just did belongs on the page it opens next.
        await context.deps.services.audit.flush();
        const { items, next } = await context.adminFor(session).auditEvents(query);
        return send(200, auditList(filters, items, next, null));
      } catch (error) {
        if (!(error instanceof AdminError) || error.code !== 'invalid') throw error;
        return send(400, auditList(filters, [], null, capitalize(`${error.message}.`)));
      }
    }),
  );
  app.get(
    '/audit/:id',
    page(context, async (request, reply, session) => {
      const id = routeParam(request, 'id');
      const at = queryParam(request, 'at');
      if (!/^\d{1,15}$/.test(id) || (at !== null && !/^\d{1,15}$/.test(at))) {
        return sendError(context, reply, session, badRequest('This is not the address of an audit event.'));
      }
      const event = await findEvent(context.adminFor(session), Number(id), at === null ? null : Number(at));
      if (event === null) return sendError(context, reply, session, notFound('No audit event has this id.'));
      const content = eventPage(event);
      return context.send(
        reply,
        200,
        consolePage(context, session, { title: 'Audit event', section: 'audit', content }),
      );
    }),
  );
}

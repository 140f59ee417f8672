import type { FastifyInstance } from 'fastify';
import type { ActivitySeries, PasswordGrantClient } from '../../core/admin/index.js';
import { html, type Html } from '../../http/pages/html.js';
import { barChart } from './charts.js';
import { type ConsoleContext, queryParam } from './context.js';
import { page } from './guard.js';
import { consolePage, timeOf } from './layout.js';

const CHARTS = [
  ['issued', 'Tokens issued'],
  ['refreshed', 'Refreshes'],
  ['failed', 'Failed logins'],
  ['locked', 'Lockouts'],
] as const;

type Range = 'hour' | 'day';

const hhmm = (at: number): string => `${new Date(at * 1000).toISOString().slice(11, 16)}`;

function charts(series: ActivitySeries, range: Range): Html {
  const span = range === 'hour' ? 'in the last hour' : 'in the last day';
  const figures = CHARTS.map(([name, title]) => {
    const counts = series.counts[name];
    const total = counts.reduce((a, b) => a + b, 0);
    return html`<figure>
<figcaption>${title}</figcaption>
${barChart({ id: `chart-${name}`, title: `${title} ${span}`, buckets: series.buckets, counts, labelOf: hhmm, span })}
<p class="total"><strong>${total}</strong> ${span} (UTC, per ${range === 'hour' ? 'minute' : 'hour'})</p>
</figure>`;
  });
  return html`<div class="charts">${figures}</div>`;
}

function rangeLinks(range: Range): Html {
  const link = (value: Range, label: string) =>
    html`<a href="/console/?range=${value}"${value === range ? html` aria-current="true"` : null}>${label}</a>`;
  return html`<p class="pager">Show: ${link('hour', 'Last hour')} ${link('day', 'Last day')}</p>`;
}

function passwordGrantTable(clients: readonly PasswordGrantClient[]): Html {
  const heading = html`<h2 id="password-grant">Clients still using the password grant</h2>`;
  if (clients.length === 0) {
    return html`${heading}<p>No client used the password grant in the last 30 days.</p>`;
  }
  const rows = clients.map(
    (c) => html`<tr><th scope="row"><a href="/console/clients/${encodeURIComponent(c.clientId)}">${c.name}</a>
<span class="muted mono">${c.clientId}</span></th><td>${c.requests}</td><td>${timeOf(c.lastUsedAt)}</td></tr>`,
  );
  return html`${heading}
<div class="table-wrap"><table aria-labelledby="password-grant">
<thead><tr><th scope="col">Client</th><th scope="col">Requests (30 days)</th><th scope="col">Last use</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** `/console/`: what the server did over the last hour or day, and who still uses the password grant. */
export function dashboardRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/',
    page(context, async (request, reply, session) => {
      const range: Range = queryParam(request, 'range') === 'day' ? 'day' : 'hour';
      const admin = context.adminFor(session);
      const [activity, clients] = await Promise.all([admin.activity(), admin.passwordGrantClients()]);
      const content = html`<h1>Dashboard</h1>
${rangeLinks(range)}
${charts(range === 'hour' ? activity.lastHour : activity.lastDay, range)}
${passwordGrantTable(clients)}`;
      return context.send(
        reply,
        200,
        consolePage(context, session, { title: 'Dashboard', section: 'dashboard', content }),
      );
    }),
  );
}

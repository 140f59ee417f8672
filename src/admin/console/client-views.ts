import { type Client, DEVICE_CODE_GRANT, GRANT_TYPES } from '../../core/types.js';
import { plural } from '../../core/plural.js';
import { html, type Html } from '../../http/pages/html.js';
import type { ConsoleSession } from './context.js';
import { buttonForm, csrfInput, timeOf } from './layout.js';
import { type Column, listTable, notice, searchForm, secretBox } from './widgets.js';

/** The short name of a grant type in forms and tables (`device_code` for RFC 8628's URN, as the CLI takes it). */
export const grantName = (grant: string): string => (grant === DEVICE_CODE_GRANT ? 'device_code' : grant);

export const clientHref = (clientId: string): string => `/console/clients/${encodeURIComponent(clientId)}`;

/** What the new-client and policy forms hold, as typed. */
export interface ClientForm {
  name: string;
  clientId: string;
  type: 'confidential' | 'public';
  grantTypes: readonly string[];
  scopes: string;
  redirectUris: string;
  accessTokenTtl: string;
  rateLimit: string;
  allowedNetworks: string;
}

export function clientList(
  session: ConsoleSession,
  view: { clients: readonly Client[]; search: string; next: string | null; notice: string | null },
): Html {
  const columns: Column<Client>[] = [
    ['Client ID', (c) => html`<a class="mono" href="${clientHref(c.clientId)}">${c.clientId}</a>`],
    ['Name', (c) => c.name],
    ['Type', (c) => (c.isPublic ? 'Public' : 'Confidential')],
    ['Grant types', (c) => c.grantTypes.map(grantName).join(', ')],
  ];
  const more = new URLSearchParams({ ...(view.search ? { search: view.search } : {}), after: view.next ?? '' });
  return html`<h1>Clients</h1>
${notice(view.notice)}
${session.access === 'write' ? html`<p><a href="/console/clients/new">New client</a></p>` : null}
${searchForm('/console/clients', view.search)}
${listTable('Clients', columns, view.clients, 'No client matches.')}
${view.next === null ? null : html`<p class="pager"><a href="/console/clients?${more.toString()}">Next page</a></p>`}`;
}

function grantCheckboxes(checked: readonly string[]): Html {
  const boxes = GRANT_TYPES.map((grant) => {
    const name = grantName(grant);
    const on = checked.includes(name) || checked.includes(grant);
    return html`<label><input type="checkbox" name="grant_types" value="${name}"${on ? html` checked` : null}>${
      name
    }</label>`;
  });
  return html`<fieldset><legend>Grant types</legend>${boxes}</fieldset>`;
}

const textField = (id: string, label: string, value: string, extra: Html | null = null): Html =>
  html`<label for="${id}">${label}</label>
<input type="text" id="${id}" name="${id}" value="${value}"${extra}>`;

function uriArea(value: string): Html {
  return html`<label for="redirect_uris">Redirect URIs</label>
<p class="hint" id="redirect_uris_hint">One per line; needed by the authorization_code grant.</p>
<textarea id="redirect_uris" name="redirect_uris" aria-describedby="redirect_uris_hint" rows="3"
 spellcheck="false">${value}</textarea>`;
}

const errorBox = (message: string | null): Html | null =>
  message === null ? null : html`<p class="error" role="alert">${message}</p>`;

const onceInput = (once: string): Html => html`<input type="hidden" name="once" value="${once}">`;

export function newClientForm(session: ConsoleSession, form: ClientForm, error: string | null, once: string): Html {
  const radio = (value: ClientForm['type'], label: string) =>
    html`<label><input type="radio" name="type" value="${value}"${form.type === value ? html` checked` : null}>${
      label
    }</label>`;
  return html`<h1>New client</h1>
${errorBox(error)}
<form method="post" action="/console/clients/new" class="form-narrow">
${csrfInput(session)}${onceInput(once)}
${textField('name', 'Name', form.name, html` required`)}
${textField('client_id', 'Client ID (optional)', form.clientId, html` aria-describedby="client_id_hint"`)}
<p class="hint" id="client_id_hint">Left empty, a random one is chosen.</p>
<fieldset><legend>Type</legend>${radio('confidential', 'Confidential')}${radio('public', 'Public')}</fieldset>
${grantCheckboxes(form.grantTypes)}
<p class="hint">None checked: password and refresh_token, as <code>oauthd client create</code>.</p>
<label for="scopes">Scopes</label>
<p class="hint" id="scopes_hint">Space-separated. Left empty: the server's default scopes.</p>
<input type="text" id="scopes" name="scopes" value="${form.scopes}" spellcheck="false" aria-describedby="scopes_hint">
${uriArea(form.redirectUris)}
<button type="submit">Create client</button>
</form>`;
}

/** The page that shows a secret once: after creating a client, and after rotating its secret. */
export function secretPage(client: Client, secret: string | null, title: string): Html {
  const intro =
    title === 'Client created'
      ? html`<p>The client <strong>${client.name}</strong> (<code>${client.clientId}</code>) was created.</p>`
      : html`<p>The client <strong>${client.name}</strong> has a new secret; the old one no longer works.</p>`;
  return html`<h1>${title}</h1>
${intro}
${secret === null ? html`<p>A public client has no secret.</p>` : secretBox('Client secret', secret)}
<p><a href="${clientHref(client.clientId)}">Go to the client ${client.name}</a></p>`;
}

function details(client: Client): Html {
  const p = client.policy;
  const or = (value: string | number | null | undefined, otherwise: string) =>
    value === null || value === undefined || value === '' ? html`<span class="muted">${otherwise}</span>` : value;
  const ttl = p.accessTokenTtlSeconds === null ? null : `${p.accessTokenTtlSeconds} seconds`;
  const rate = p.rateLimitPerMinute === null ? null : `${p.rateLimitPerMinute} per minute`;
  return html`<dl>
<dt>Client ID</dt><dd class="mono">${client.clientId}</dd>
<dt>Type</dt><dd>${client.isPublic ? 'Public' : 'Confidential'}</dd>
<dt>Grant types</dt><dd>${client.grantTypes.map(grantName).join(', ')}</dd>
<dt>Scopes</dt><dd>${or(client.scopes.join(' '), 'none')}</dd>
<dt>Default scopes</dt><dd>${or(client.defaultScopes?.join(' '), "the server's default scopes")}</dd>
<dt>Redirect URIs</dt><dd>${or(p.redirectUris?.join(' '), 'none')}</dd>
<dt>Access token lifetime</dt><dd>${or(ttl, "the server's")}</dd>
<dt>Rate limit</dt><dd>${or(rate, 'none')}</dd>
<dt>Allowed networks</dt><dd>${or(p.allowedNetworks?.join(', '), 'anywhere')}</dd>
<dt>Introspection</dt><dd>${client.canIntrospect ? 'May introspect every token' : 'No'}</dd>
<dt>Created</dt><dd>${timeOf(client.createdAt)}</dd>
</dl>`;
}

/** The values of the policy form for a client as stored. */
export function formOf(client: Client): ClientForm {
  const p = client.policy;
  return {
    name: client.name,
    clientId: client.clientId,
    type: client.isPublic ? 'public' : 'confidential',
    grantTypes: client.grantTypes.map(grantName),
    scopes: client.scopes.join(' '),
    redirectUris: (p.redirectUris ?? []).join('\n'),
    accessTokenTtl: p.accessTokenTtlSeconds === null ? '' : String(p.accessTokenTtlSeconds),
    rateLimit: p.rateLimitPerMinute === null ? '' : String(p.rateLimitPerMinute),
    allowedNetworks: (p.allowedNetworks ?? []).join(', '),
  };
}

function policyForm(session: ConsoleSession, client: Client, form: ClientForm, error: string | null): Html {
  const number = (id: string, label: string, value: string, hint: string) =>
    html`<label for="${id}">${label}</label>
<p class="hint" id="${id}_hint">${hint}</p>
<input type="number" id="${id}" name="${id}" value="${value}" min="1" aria-describedby="${id}_hint">`;
  return html`<h2 id="policy">Policy</h2>
${errorBox(error)}
<form method="post" action="${clientHref(client.clientId)}" class="form-narrow" aria-labelledby="policy">
${csrfInput(session)}<input type="hidden" name="version" value="${String(client.version ?? 0)}">
${textField('name', 'Name', form.name, html` required`)}
${textField('scopes', 'Scopes', form.scopes, html` spellcheck="false"`)}
${grantCheckboxes(form.grantTypes)}
${uriArea(form.redirectUris)}
${number('access_token_ttl', 'Access token lifetime (seconds)', form.accessTokenTtl, "Empty: the server's setting.")}
${number('rate_limit', 'Rate limit per minute', form.rateLimit, 'Empty: no limit of its own.')}
<label for="allowed_networks">Allowed networks</label>
<p class="hint" id="allowed_networks_hint">CIDR blocks, comma-separated. Empty: anywhere.</p>
<input type="text" id="allowed_networks" name="allowed_networks" value="${form.allowedNetworks}"
 spellcheck="false" aria-describedby="allowed_networks_hint">
<button type="submit">Save</button>
</form>`;
}

export function clientPage(
  session: ConsoleSession,
  client: Client,
  view: { form?: ClientForm; error?: string | null; notice?: string | null; once?: string } = {},
): Html {
  const write = session.access === 'write';
  const rotate = { className: 'secondary', hidden: { once: view.once ?? '' } };
  const actions = write
    ? html`<h2>Actions</h2>
<div class="row-actions">
${client.isPublic ? null : buttonForm(session, `${clientHref(client.clientId)}/rotate`, 'Rotate secret', rotate)}
<a href="${clientHref(client.clientId)}/delete">Delete client</a>
</div>`
    : null;
  return html`<h1>${client.name}</h1>
${notice(view.notice ?? null)}
${details(client)}
${write ? policyForm(session, client, view.form ?? formOf(client), view.error ?? null) : null}
${actions}`;
}

export function deletePage(session: ConsoleSession, client: Client, live: { grants: number; users: number }): Html {
  const users = live.users === 0 ? null : html` (the sessions of ${plural(live.users, 'user')} with this client)`;
  return html`<h1>Delete client ${client.name}?</h1>
<p>Deleting <strong>${client.name}</strong> (<code>${client.clientId}</code>) revokes every grant and every token
issued to it:</p>
<ul>
<li><strong>${plural(live.grants, 'live grant')}</strong>${users}: their access and refresh tokens stop working at
once;</li>
${client.isPublic ? null : html`<li>its secret: whatever uses it can no longer get a token;</li>`}
<li>its usage counters and its policy.</li>
</ul>
<p>This cannot be undone.</p>
<form method="post" action="${clientHref(client.clientId)}/delete">
${csrfInput(session)}<input type="hidden" name="version" value="${String(client.version ?? 0)}">
<div class="row-actions"><button type="submit" class="danger">Delete client</button>
<a href="${clientHref(client.clientId)}">Cancel</a></div>
</form>`;
}

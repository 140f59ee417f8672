import type { UserSessions } from '../../core/admin/sessions.js';
import type { User, UserGrant } from '../../core/types.js';
import { html, type Html } from '../../http/pages/html.js';
import type { ConsoleSession } from './context.js';
import { buttonForm, csrfInput, formatTime, timeOf } from './layout.js';
import { type Column, listTable, notice, searchForm } from './widgets.js';

export const userHref = (username: string): string => `/console/users/${encodeURIComponent(username)}`;

const yesNo = (value: boolean): string => (value ? 'Yes' : 'No');

export function userList(
  session: ConsoleSession,
  view: { users: readonly User[]; search: string; next: string | null; notice: string | null },
): Html {
  const columns: Column<User>[] = [
    ['Username', (u) => html`<a href="${userHref(u.username)}">${u.username}</a>`],
    ['Active', (u) => yesNo(u.isActive)],
    ['Admin', (u) => yesNo(u.isAdmin)],
    ['Created', (u) => timeOf(u.createdAt)],
  ];
  const more = new URLSearchParams({ ...(view.search ? { search: view.search } : {}), after: view.next ?? '' });
  return html`<h1>Users</h1>
${notice(view.notice)}
${session.access === 'write' ? html`<p><a href="/console/users/new">New user</a></p>` : null}
${searchForm('/console/users', view.search)}
${listTable('Users', columns, view.users, 'No user matches.')}
${view.next === null ? null : html`<p class="pager"><a href="/console/users?${more.toString()}">Next page</a></p>`}`;
}

export function newUserForm(
  session: ConsoleSession,
  form: { username: string; isAdmin: boolean },
  error: string | null,
): Html {
  return html`<h1>New user</h1>
${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
<form method="post" action="/console/users/new" class="form-narrow">
${csrfInput(session)}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${form.username}" required autocomplete="off"
 autocapitalize="none" spellcheck="false">
<label for="password">Password</label>
<input type="password" id="password" name="password" required autocomplete="new-password">
<label class="check"><input type="checkbox" name="is_admin" value="yes"${form.isAdmin ? html` checked` : null}>
Administrator</label>
<button type="submit">Create user</button>
</form>`;
}

function details(user: User, liveSessions: number): Html {
  return html`<dl>
<dt>Username</dt><dd>${user.username}</dd>
<dt>Active</dt><dd>${user.isActive ? 'Yes' : 'No: disabled, cannot sign in'}</dd>
<dt>Administrator</dt><dd>${yesNo(user.isAdmin)}</dd>
<dt>Live sessions</dt><dd>${liveSessions}</dd>
<dt>Created</dt><dd>${timeOf(user.createdAt)}</dd>
<dt>Updated</dt><dd>${timeOf(user.updatedAt)}</dd>
</dl>`;
}

function activeForm(session: ConsoleSession, user: User): Html {
  const label = user.isActive ? 'Disable user' : 'Enable user';
  return buttonForm(session, `${userHref(user.username)}/active`, label, {
    className: user.isActive ? 'danger' : 'secondary',
    hidden: { active: user.isActive ? 'false' : 'true', version: String(user.version) },
  });
}

function passwordForm(session: ConsoleSession, user: User, error: string | null): Html {
  return html`<h2 id="reset-password">Reset password</h2>
${error === null ? null : html`<p class="error" role="alert">${error}</p>`}
<form method="post" action="${userHref(user.username)}/password" class="form-narrow" aria-labelledby="reset-password">
${csrfInput(session)}
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" required autocomplete="new-password">
<label class="check"><input type="checkbox" name="revoke_tokens" value="yes" checked>
Sign the user out everywhere</label>
<button type="submit">Set password</button>
</form>`;
}

const danger = { className: 'danger' };

function sessionsTable(session: ConsoleSession, user: User, grants: readonly UserGrant[]): Html {
  const write = session.access === 'write';
  const base = userHref(user.username);
  const columns: Column<UserGrant>[] = [
    ['Client', (g) => html`<span class="mono">${g.clientId}</span>`],
    ['Scope', (g) => g.scope.join(' ')],
    ['Started', (g) => timeOf(g.createdAt)],
    ['Last used', (g) => timeOf(g.lastUsedAt)],
  ];
  if (write) {
    columns.push([
      'Action',
      (g) =>
        buttonForm(session, `${base}/grants/${encodeURIComponent(g.grantId)}/revoke`, 'Revoke', {
          className: 'secondary',
          ariaLabel: `Revoke the session with ${g.clientId} started ${formatTime(g.createdAt)}`,
        }),
    ]);
  }
  const all =
    write && grants.length > 0
      ? html`<div class="row-actions">${buttonForm(session, `${base}/revoke-all`, 'Revoke all', danger)}</div>`
      : null;
  return html`<h2>Sessions</h2>
${listTable('Sessions', columns, grants, 'This user has no live session.')}
${all}`;
}

export function userPage(
  session: ConsoleSession,
  sessions: UserSessions,
  view: { notice?: string | null; passwordError?: string | null } = {},
): Html {
  const { user, grants } = sessions;
  const write = session.access === 'write';
  return html`<h1>${user.username}</h1>
${notice(view.notice ?? null)}
${details(user, grants.length)}
${write ? html`<div class="row-actions">${activeForm(session, user)}</div>` : null}
${write ? passwordForm(session, user, view.passwordError ?? null) : null}
${sessionsTable(session, user, grants)}`;
}

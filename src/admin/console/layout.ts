import { csrfToken } from '../../http/pages/csrf.js';
import { html, type Html } from '../../http/pages/html.js';
import type { ConsoleContext, ConsoleSession } from './context.js';

/** Which navigation entry a page belongs to (marked aria-current). */
export type Section = 'dashboard' | 'clients' | 'users' | 'audit' | null;

const NAV: readonly [Exclude<Section, null>, string, string][] = [
  ['dashboard', 'Dashboard', '/console/'],
  ['clients', 'Clients', '/console/clients'],
  ['users', 'Users', '/console/users'],
  ['audit', 'Audit log', '/console/audit'],
];

/** The hidden CSRF field of every console form: HMAC of the session's token (http/pages/csrf.ts). */
export const csrfInput = (session: ConsoleSession): Html =>
  html`<input type="hidden" name="csrf" value="${csrfToken(session.token)}">`;

/** A form of one button posting to `action` (the CSRF field included). */
export function buttonForm(
  session: ConsoleSession,
  action: string,
  label: string,
  options: { className?: string; hidden?: Record<string, string>; ariaLabel?: string } = {},
): Html {
  const extra = Object.entries(options.hidden ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  const aria = options.ariaLabel === undefined ? null : html` aria-label="${options.ariaLabel}"`;
  return html`<form method="post" action="${action}">${csrfInput(session)}${extra}<button type="submit"${aria}${
    options.className === undefined ? null : html` class="${options.className}"`
  }>${label}</button></form>`;
}

function head(context: ConsoleContext, title: string, extra: Html | null = null): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} – ${context.productName} console</title>
<link rel="stylesheet" href="${context.assets.stylesheet}">
<script src="${context.assets.script}" defer></script>
${extra}
</head>`;
}

/** A page of the signed-in console: the navigation, who is signed in and the sign-out button, then `content`. */
export function consolePage(
  context: ConsoleContext,
  session: ConsoleSession,
  page: { title: string; section: Section; content: Html },
): Html {
  const links = NAV.map(
    ([section, label, href]) =>
      html`<li><a href="${href}"${section === page.section ? html` aria-current="page"` : null}>${label}</a></li>`,
  );
  const readOnly = session.access === 'read' ? html` <span class="muted">(read only)</span>` : null;
  return html`${head(context, page.title)}
<body>
<header class="console-header">
<div class="bar">
<span class="product">${context.productName} console</span>
<nav aria-label="Console"><ul>${links}</ul></nav>
<div class="who"><span>Signed in as <strong>${session.username}</strong>${readOnly}</span>
<form method="post" action="/console/sign-out">${csrfInput(session)}
<button type="submit" class="secondary">Sign out</button></form>
</div>
</div>
</header>
<main class="console">
${page.content}
</main>
</body>
</html>
`;
}

/** A page shown without a session (sign-in steps, signed out, errors before sign-in). */
export function plainPage(context: ConsoleContext, title: string, content: Html, extraHead: Html | null = null): Html {
  return html`${head(context, title, extraHead)}
<body>
<header class="console-header">
<div class="bar"><span class="product">${context.productName} console</span></div>
</header>
<main class="console narrow">
${content}
</main>
</body>
</html>
`;
}

/** `2026-12-06 11:05:29 UTC` (the console shows every time in UTC, as the audit filter takes it). */
export function formatTime(at: number): string {
  return `${new Date(at * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A `<time>` element for an epoch-seconds value. */
export const timeOf = (at: number): Html =>
  html`<time datetime="${new Date(at * 1000).toISOString()}">${formatTime(at)}</time>`;

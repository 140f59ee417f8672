import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { contentVersion } from '../../http/pages/static-routes.js';
import { STYLESHEET } from '../../http/pages/stylesheet.js';

/*
 * The console's two static files, served by oauthd itself (no CDN): the sign-in pages' stylesheet extended for
 * wider pages (navigation, tables, charts), and one small script for what is nice to have (the copy button).
 * Every page works without the script: the copy button is `hidden` until the script shows it.
 */

const CONSOLE_RULES = `body{display:block;padding:0}
.console-header{background:var(--card);border-bottom:1px solid var(--border);padding:.5rem 1rem}
.console-header .bar{max-width:72rem;margin:0 auto;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem}
.console-header .product{display:inline;color:var(--text)}
.console-header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.console-header nav a{color:var(--accent);font-weight:600;text-decoration:none;padding:.25rem 0}
.console-header nav a:hover{text-decoration:underline}
.console-header nav a[aria-current=page]{color:var(--text);border-bottom:3px solid var(--accent)}
.who{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;color:var(--muted)}
.who form{margin:0}
.who button{padding:.3rem .8rem}
main.console{max-width:72rem;margin:1.5rem auto;border-radius:.5rem}
@media (max-width:40rem){main.console{margin:0;border-left:0;border-right:0;border-radius:0;padding:1rem}}
a{color:var(--accent)}
h2{font-size:1.1rem;margin:1.5rem 0 .75rem}
.notice{border:1px solid var(--accent);border-radius:.35rem;padding:.6rem .8rem}
.warning{border:1px solid var(--danger);border-radius:.35rem;padding:.6rem .8rem;color:var(--danger);font-weight:600}
.table-wrap{overflow-x:auto;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:600;padding:0 0 .4rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--border);vertical-align:top}
thead th{border-bottom:2px solid var(--muted)}
td form{margin:0}
td button{padding:.25rem .7rem}
.mono,code,output{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem;margin:0 0 1rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
@media (max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}}
fieldset{border:1px solid var(--border);border-radius:.35rem;margin:0 0 1rem;padding:.5rem .8rem}
legend{font-weight:600;padding:0 .25rem}
fieldset label{display:inline-flex;align-items:center;gap:.4rem;font-weight:400;margin:.2rem 1rem .2rem 0}
label.check{display:flex;align-items:center;gap:.5rem;font-weight:400;margin:0 0 1rem}
input[type=number],input[type=search],input[type=datetime-local],select,textarea{width:100%;font:inherit;
padding:.6rem;margin:0 0 1rem;color:var(--text);background:var(--card);border:1px solid var(--muted);
border-radius:.35rem}
input[type=checkbox],input[type=radio]{width:1.1rem;height:1.1rem;accent-color:var(--accent)}
textarea{min-height:5rem}
main.console.narrow{max-width:36rem}
.form-narrow{max-width:36rem}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:0 1rem;align-items:end}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:0 0 1.25rem}
.search div{flex:1 1 14rem}
.search input{margin:0}
.row-actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:0 0 1rem}
.row-actions form{margin:0}
button.danger{background:var(--danger);border-color:var(--danger);color:var(--card)}
.pager{display:flex;gap:1rem;margin:0 0 1rem}
.pager a[aria-current]{color:var(--text);font-weight:700;text-decoration:none}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem;margin:0 0 1rem}
figure{margin:0;border:1px solid var(--border);border-radius:.35rem;padding:.75rem}
figcaption{font-weight:600;margin:0 0 .25rem}
.chart{display:block;width:100%;height:auto}
.chart .bar{fill:var(--accent)}
.chart .axis{stroke:var(--muted);stroke-width:1}
.chart .tick{fill:var(--muted);font-size:11px}
.total{margin:.25rem 0 0;color:var(--muted)}
.secret{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 1rem}
.secret output{display:block;flex:1 1 16rem;padding:.6rem;border:1px solid var(--border);border-radius:.35rem;
background:var(--bg)}
`;

export const CONSOLE_STYLESHEET = `${STYLESHEET}${CONSOLE_RULES}`;

/** The copy button: shown only when the script runs, copies the text of the element it names. */
export const CONSOLE_SCRIPT = `'use strict';
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      button.textContent = 'Copied';
    }, function () {
      button.textContent = 'Copy failed: select the text';
    });
  });
});
`;

const versions = { stylesheet: contentVersion(CONSOLE_STYLESHEET), script: contentVersion(CONSOLE_SCRIPT) };

/** The assets' URLs with `?v=<content hash>`, so a year of caching is safe (a new version is a new URL). */
export const assetUrls = () => ({
  stylesheet: `/console/assets/console.css?v=${versions.stylesheet}`,
  script: `/console/assets/console.js?v=${versions.script}`,
});

/** `/console/assets/console.css` and `/console/assets/console.js`, cached for a year, revalidated by ETag. */
export function assetRoutes(app: FastifyInstance): void {
  const serve = (body: string, contentType: string) => {
    const etag = `"${contentVersion(body)}"`;
    return async (request: FastifyRequest, reply: FastifyReply) => {
      // After the listener's own no-store hook (onSend runs later): set again in onSend below.
      reply.header('ETag', etag);
      reply.header('X-Content-Type-Options', 'nosniff');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.code(200).type(contentType).send(body);
    };
  };
  app.get('/assets/console.css', { config: { asset: true } }, serve(CONSOLE_STYLESHEET, 'text/css; charset=utf-8'));
  app.get('/assets/console.js', { config: { asset: true } }, serve(CONSOLE_SCRIPT, 'text/javascript; charset=utf-8'));
}

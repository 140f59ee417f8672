import { html, type Html } from '../../http/pages/html.js';

/** A column of a listing: its header and how a row shows in it (the first column is the row's header). */
export type Column<T> = readonly [string, (row: T) => Html | string | number];

/**
 * A listing table with its caption (for screen readers only, unless `showCaption`: the page's heading already
 * says it), `<th scope>` headers, and a row header per row.
 */
export function listTable<T>(
  caption: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  empty: string,
  options: { showCaption?: boolean } = {},
): Html {
  if (rows.length === 0) return html`<p>${empty}</p>`;
  const head = columns.map(([label]) => html`<th scope="col">${label}</th>`);
  const body = rows.map(
    (row) =>
      html`<tr>${columns.map(([, cell], i) =>
        i === 0 ? html`<th scope="row">${cell(row)}</th>` : html`<td>${cell(row)}</td>`,
      )}</tr>`,
  );
  return html`<div class="table-wrap"><table>
<caption${options.showCaption ? null : html` class="visually-hidden"`}>${caption}</caption>
<thead><tr>${head}</tr></thead>
<tbody>${body}</tbody>
</table></div>`;
}

/** A GET form with one search field (the listing's filter), kept in the URL so a page can be shared. */
export function searchForm(action: string, search: string): Html {
  return html`<form method="get" action="${action}" class="search" role="search">
<div><label for="search">Search</label>
<input type="search" id="search" name="search" value="${search}" spellcheck="false"></div>
<button type="submit">Search</button>
</form>`;
}

/** What a change did, said once on the page it leads to (announced politely to screen readers). */
export function notice(text: string | null): Html | null {
  return text === null ? null : html`<p class="notice" role="status">${text}</p>`;
}

/**
 * A secret shown once: in an <output>, with the warning, and a Copy button that the script reveals (without the
 * script the text is selectable as it is).
 */
export function secretBox(label: string, secret: string): Html {
  return html`<p class="warning">This secret is shown once. Copy it now: it cannot be shown again, only replaced.</p>
<p id="client-secret-label"><strong>${label}</strong></p>
<div class="secret">
<output id="client-secret" aria-labelledby="client-secret-label">${secret}</output>
<button type="button" data-copy="client-secret" hidden>Copy</button>
</div>`;
}

import { html, type Html } from './html.js';

/** What every page shows of the operator's product (config.pages), and where our static files are. */
export interface Branding {
  productName: string;
  /** The logo's URL (with its `?v=`), or null when no logo is configured. */
  logoUrl: string | null;
  stylesheetUrl: string;
}

/** The frame of every page: one stylesheet, no script, the product name (and logo) above the content. */
export function layout(branding: Branding, title: string, content: Html): Html {
  const logo = branding.logoUrl === null ? null : html`<img src="${branding.logoUrl}" alt="${branding.productName}">`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} – ${branding.productName}</title>
<link rel="stylesheet" href="${branding.stylesheetUrl}">
</head>
<body>
<main>
<header>${logo}<span class="product">${branding.productName}</span></header>
${content}
</main>
</body>
</html>
`;
}

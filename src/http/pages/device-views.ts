import { decisionForm, signOutForm, userCodeForm } from './forms.js';
import { html, type Html } from './html.js';
import { layout, type Branding } from './layout.js';
import { scopeList } from './views.js';

/** Pure renderers of the device pages (RFC 8628 §3.3): values in, HTML out (escaped by the `html` tag). */

/** RFC 8628 §5.4 (remote phishing): the person must compare the code with the one their own device shows. */
const CHECK_CODE = 'Check that this code matches the one on your device';

interface SignedInView {
  username: string;
  csrfToken: string;
  logoutAction: string;
}

const notYou = (view: SignedInView) =>
  signOutForm({ action: view.logoutAction, csrfToken: view.csrfToken, prompt: 'Not you?' });

export interface UserCodeView extends SignedInView {
  action: string;
  /** What goes in the field: the `?user_code=` of the link, or what was typed before a failure. */
  userCode: string;
  /** The code came in the URL (verification_uri_complete), not from the person: ask them to compare it. */
  fromLink: boolean;
  /** A failed or throttled attempt. */
  message?: string;
}

export function userCodePage(branding: Branding, view: UserCodeView): Html {
  const message = view.message === undefined ? null : html`<p class="error" role="alert">${view.message}</p>`;
  const intro = view.fromLink
    ? html`<p>${CHECK_CODE}. If you did not start this on a device of your own, do not continue.</p>`
    : html`<p>Enter the code shown on your device.</p>`;
  return layout(
    branding,
    'Connect a device',
    html`<h1>Connect a device</h1>
<p>Signed in as <strong>${view.username}</strong>.</p>
${intro}
${message}${userCodeForm(view)}
${notYou(view)}`,
  );
}

export interface DeviceApprovalView extends SignedInView {
  clientName: string;
  /** Each requested scope in words (config.pages.scopeDescriptions, else its name). */
  scopes: readonly string[];
  /** Formatted (`WDJB-MJHT`). */
  userCode: string;
  action: string;
}

/** The decision form is the first form on the page; "Not you? Sign out" after it. */
export function deviceApprovalPage(branding: Branding, view: DeviceApprovalView): Html {
  const scopes = scopeList(view.scopes);
  return layout(
    branding,
    'Allow access?',
    html`<h1>Allow <strong>${view.clientName}</strong> to use your account?</h1>
<p>${CHECK_CODE}: <strong class="code">${view.userCode}</strong></p>
<p>Signed in as <strong>${view.username}</strong>.</p>
${scopes}
${decisionForm({ ...view, step: 'decision', hidden: { user_code: view.userCode } })}
${notYou(view)}`,
  );
}

/** The end of the device flow on the browser's side: the device learns the answer by polling (§3.4). */
export function deviceDonePage(branding: Branding, approved: boolean): Html {
  return approved
    ? layout(
        branding,
        'Device connected',
        html`<h1>Device connected</h1>
<p>You may return to your device.</p>`,
      )
    : layout(
        branding,
        'Access denied',
        html`<h1>Access denied.</h1>
<p>The device was not connected. You can close this page.</p>`,
      );
}

/** A decision on a code that expired, or was decided meanwhile (another tab, another person). */
export function deviceNotPendingPage(branding: Branding): Html {
  return layout(
    branding,
    'Code no longer pending',
    html`<h1>This code is no longer pending</h1>
<p>It has expired, or it was already approved or denied. Start again on your device to get a new code.</p>`,
  );
}

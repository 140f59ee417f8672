import { decisionForm, loginForm, signOutForm } from './forms.js';
import { html, type Html } from './html.js';
import { layout, type Branding } from './layout.js';

/** Pure renderers of the pages: values in, HTML out (escaped by the `html` tag). */

export interface LoginView {
  /** The client the sign-in is for; null on the device page, where the client is known only from the code. */
  clientName: string | null;
  action: string;
  csrfToken: string;
  /** The username to fill in again after a failure (never the password). */
  username?: string;
  /** Shown above the form: a failed or throttled attempt. */
  message?: string;
  /** The client asks for the password at each sign-in (the console): the page says so. */
  freshSignIn?: boolean;
}

export function loginPage(branding: Branding, view: LoginView): Html {
  const message = view.message === undefined ? null : html`<p class="error" role="alert">${view.message}</p>`;
  const fresh =
    view.freshSignIn === true
      ? html`<p>It asks for your password at each sign-in, even when this browser is already signed in.</p>`
      : null;
  return layout(
    branding,
    'Sign in',
    html`<h1>Sign in</h1>
${
  view.clientName === null
    ? html`<p>Sign in to connect a device to your account.</p>`
    : html`<p>Sign in to continue to <strong>${view.clientName}</strong>.</p>`
}
${fresh}${message}${loginForm(view)}`,
  );
}

export interface ConsentView {
  clientName: string;
  username: string;
  /** Each requested scope in words (config.pages.scopeDescriptions, else its name). */
  scopes: readonly string[];
  action: string;
  logoutAction: string;
  csrfToken: string;
}

/** What a client asks for, in the words of OAUTHD_SCOPE_DESCRIPTIONS (the consent and device approval pages). */
export function scopeList(scopes: readonly string[]): Html {
  return scopes.length === 0
    ? html`<p>It asks for no particular permission.</p>`
    : html`<p>It asks to:</p>
<ul class="scopes">${scopes.map((scope) => html`<li>${scope}</li>`)}</ul>`;
}

/** The decision form comes first on the page; "Not you? Sign out" after it. */
export function consentPage(branding: Branding, view: ConsentView): Html {
  const scopes = scopeList(view.scopes);
  return layout(
    branding,
    'Allow access?',
    html`<h1>Allow <strong>${view.clientName}</strong> to use your account?</h1>
<p>Signed in as <strong>${view.username}</strong>.</p>
${scopes}
${decisionForm(view)}
${signOutForm({ action: view.logoutAction, csrfToken: view.csrfToken, prompt: 'Not you?' })}`,
  );
}

export interface ErrorView {
  title: string;
  /** What went wrong, in plain words written by us (never raw request input). */
  message: string;
  /** The OAuth error code, when there is one. */
  code?: string;
  /** The core's description of the error (fixed text, never request input), for the application's developers. */
  detail?: string;
}

export function errorPage(branding: Branding, view: ErrorView): Html {
  const code = view.code === undefined ? null : html`<p class="muted">Error code: <code>${view.code}</code></p>`;
  const detail = view.detail === undefined ? null : html`<p class="muted">${view.detail}</p>`;
  return layout(
    branding,
    view.title,
    html`<h1>${view.title}</h1>
<p>${view.message}</p>
${code}${detail}`,
  );
}

export function logoutPage(branding: Branding, view: { action: string; csrfToken: string; username: string | null }) {
  const who =
    view.username === null
      ? html`<p>You are not signed in.</p>`
      : html`<p>Signed in as <strong>${view.username}</strong>.</p>`;
  return layout(
    branding,
    'Sign out',
    html`<h1>Sign out</h1>
${who}${signOutForm({ action: view.action, csrfToken: view.csrfToken })}`,
  );
}

export function signedOutPage(branding: Branding): Html {
  return layout(
    branding,
    'Signed out',
    html`<h1>You are signed out</h1>
<p>You can close this page.</p>`,
  );
}

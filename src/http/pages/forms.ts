import { html, type Html } from './html.js';

/*
 * The forms of the pages. Their markup (field names, values, labels, order) is relied on by tools and tests:
 * `username`, `password`, `csrf_token`, `step`, and one decision form whose two submit buttons are
 * `name="decision"` `value="allow"` / `value="deny"`.
 */

export const csrfField = (token: string): Html => html`<input type="hidden" name="csrf_token" value="${token}">`;

const stepField = (step: string): Html => html`<input type="hidden" name="step" value="${step}">`;

/** The login form; `action` is the page's own URL (the authorization request stays in its query). */
export function loginForm(input: { action: string; csrfToken: string; username?: string }): Html {
  return html`<form method="post" action="${input.action}">
${stepField('login')}${csrfField(input.csrfToken)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none"
 spellcheck="false" required value="${input.username ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`;
}

const hiddenField = (name: string, value: string): Html => html`<input type="hidden" name="${name}" value="${value}">`;

/** The one decision form: Allow or Deny, posted to `action`; `hidden` carries more fields (the user code). */
export function decisionForm(input: {
  action: string;
  csrfToken: string;
  step?: string;
  hidden?: Readonly<Record<string, string>>;
}): Html {
  const extra = Object.entries(input.hidden ?? {}).map(([name, value]) => hiddenField(name, value));
  return html`<form method="post" action="${input.action}">
${stepField(input.step ?? 'consent')}${csrfField(input.csrfToken)}${extra}
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`;
}

/**
 * The device page's code entry (RFC 8628 §3.3, §6.1): one text field, upper case offered on phones, no
 * autocomplete (a code is used once), prefilled from `?user_code=` (verification_uri_complete).
 */
export function userCodeForm(input: { action: string; csrfToken: string; userCode: string }): Html {
  return html`<form method="post" action="${input.action}">
${stepField('code')}${csrfField(input.csrfToken)}
<label for="user_code">Code</label>
<p class="hint" id="user_code_hint">Eight letters, like BCDF-GHJK.</p>
<input type="text" id="user_code" name="user_code" autocapitalize="characters" autocomplete="off"
 spellcheck="false" required aria-describedby="user_code_hint" value="${input.userCode}">
<button type="submit">Continue</button>
</form>`;
}

/**
 * A POST to the logout page: beside a decision, "Not you? Sign out" as a quiet link-like button; on the logout
 * page itself (no prompt), the page's one action, a full button.
 */
export function signOutForm(input: { action: string; csrfToken: string; prompt?: string }): Html {
  if (input.prompt === undefined) {
    return html`<form method="post" action="${input.action}" class="signout">
${csrfField(input.csrfToken)}<button type="submit">Sign out</button>
</form>`;
  }
  return html`<form method="post" action="${input.action}" class="signout">
${csrfField(input.csrfToken)}<p class="muted">${input.prompt} <button type="submit" class="link">Sign out</button></p>
</form>`;
}

/**
 * The steps a person takes on oauthd's pages, for the browser tests and the screenshots. They rely only on
 * the pages' markup contract: the login form's `username` and `password` fields and its "Sign in" button; ONE
 * decision form, first on the consent and device-approval pages, with "Allow" and "Deny" buttons; the device
 * page's `user_code` field in a form of its own.
 */
import type { Page } from 'playwright-core';
import type { TestServer } from './server.js';

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  codeChallenge: string;
}

/** RFC 6749 §4.1.1 with RFC 7636 §4.3: the URL a client sends the browser to. */
export function authorizeUrl(server: TestServer, request: AuthorizationRequest): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scope,
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  });
  return `${server.oauthUrl}/authorize/?${query}`;
}

/** The RFC 9207 `iss` a redirect from this server carries: no OAUTHD_ISSUER, so derived from the request. */
export const issuerOf = (server: TestServer): string =>
  server.config.http.issuer ?? `${server.url}${server.config.http.basePath}`;

export const loginForm = (page: Page) => page.locator('form').filter({ has: page.locator('input[name="password"]') });

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  const form = loginForm(page);
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForEvent('load'), form.getByRole('button', { name: 'Sign in', exact: true }).click()]);
}

/** True when the page shows the login form (the device pages may ask for it before or after the code). */
export const asksToSignIn = async (page: Page): Promise<boolean> => (await loginForm(page).count()) === 1;

/** The consent or device-approval page's decision form: the first form on the page. */
export const decisionForm = (page: Page) => page.locator('form').first();

/** True when the first form on the page is a decision form (both buttons present). */
export async function asksForDecision(page: Page): Promise<boolean> {
  const form = decisionForm(page);
  const buttons = ['Allow', 'Deny'].map((name) => form.getByRole('button', { name, exact: true }).count());
  return (await Promise.all(buttons)).every((count) => count === 1);
}

export async function decide(page: Page, decision: 'Allow' | 'Deny'): Promise<void> {
  const button = decisionForm(page).getByRole('button', { name: decision, exact: true });
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** The device page's user-code form: types the code as given and submits it with Enter. */
export async function enterUserCode(page: Page, userCode: string): Promise<void> {
  const field = page.locator('form input[name="user_code"]');
  await field.fill(userCode);
  await Promise.all([page.waitForEvent('load'), field.press('Enter')]);
}

/** The horizontal overflow of the page: how many CSS pixels it is wider than the viewport (0 when it fits). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
}

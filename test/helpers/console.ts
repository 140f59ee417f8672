/**
 * The web console as a browser walks it (test/integration/console*.test.ts): an admin user, the sign-in through
 * the authorize endpoint and the login page, and the console's forms with their CSRF field.
 */
import { expect } from 'vitest';
import { signInThrough } from './authorize.js';
import { type Browser, formsOf, type PageResponse } from './browser.js';
import type { TestServer } from './server.js';

export const ADMIN = { username: 'ada', password: 'correct horse battery staple' } as const;
export const PLAIN_USER = { username: 'bob', password: 'another long password' } as const;

/** The console session cookie's name over plain http. */
export const SESSION_COOKIE = 'oauthd_console';

export async function createAdminUser(server: TestServer, user: { username: string; password: string } = ADMIN) {
  return server.services.admin.createUser(user.username, user.password, { isAdmin: true });
}

/**
 * GET /console/ → 303 to the authorize endpoint → the login page → its POST → 303 to the authorize endpoint →
 * 302 to the callback (no consent page: the console's client is built in). Returns the callback's URL.
 */
export async function consoleCallbackUrl(
  server: TestServer,
  browser: Browser,
  user: { username: string; password: string } = ADMIN,
  consoleOrigin = server.adminUrl,
): Promise<string> {
  const start = await browser.get(`${server.adminUrl}/console/`);
  expect(start.status).toBe(303);
  let answer = await signInThrough(server, browser, start.location!, user);
  for (let hops = 0; hops < 3 && answer.location?.startsWith(server.url); hops++) {
    answer = await browser.get(answer.location);
  }
  expect(answer.location!.startsWith(`${consoleOrigin}/console/callback?`)).toBe(true);
  return answer.location!;
}

/** The whole sign-in: returns the callback's answer (200 "Signed in" for an admin). */
export async function consoleSignIn(
  server: TestServer,
  browser: Browser,
  user: { username: string; password: string } = ADMIN,
): Promise<PageResponse> {
  return browser.get(await consoleCallbackUrl(server, browser, user));
}

/** The `csrf` hidden field of the first form of a page that has one. */
export function csrfOf(page: string): string {
  const form = formsOf(page).find((f) => f.hidden.csrf !== undefined);
  expect(form).toBeDefined();
  return form!.hidden.csrf!;
}

/** The h1 of a page, tags stripped. */
export function h1Of(page: string): string {
  return (/<h1>([\s\S]*?)<\/h1>/.exec(page)?.[1] ?? '').replace(/<[^>]+>/g, '');
}

/** The console page at `path` (e.g. `/console/clients`). */
export const consoleUrl = (server: TestServer, path: string): string => `${server.adminUrl}${path}`;

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Admin } from '../../core/admin/index.js';
import { AdminError } from '../../core/admin/validation.js';
import type { Html } from '../../http/pages/html.js';
import type { AdminSurfaceDeps } from '../api/index.js';
import { assetUrls } from './assets.js';
import { type OnceValues, onceValues } from './once.js';

/** Where the console lives on the admin listener. */
export const CONSOLE_PREFIX = '/console';

/** The signed-in administrator of a request (session.ts). */
export interface ConsoleSession {
  /** The access token the session cookie holds (the CSRF token of the forms is derived from it). */
  token: string;
  username: string;
  /** `write` (oauthd:admin) or `read` (oauthd:admin:read only: pages without change buttons). */
  access: 'write' | 'read';
  grantId: string;
  clientId: string;
}

/** What every console route uses: the services, the URLs of the sign-in flow, and sending a page. */
export interface ConsoleContext {
  deps: AdminSurfaceDeps;
  /** `http(s)://host:port` where browsers reach the console (OAUTHD_CONSOLE_URL, else the admin listener). */
  origin(): string;
  /** The public listener's base URL (OAUTHD_ISSUER, else its own address): never from a request's Host. */
  publicBase(): string;
  /** The console's callback, the redirect_uri of its authorization requests. */
  redirectUri(): string;
  clientId: string;
  /** Cookies are `Secure` (and the session's `__Host-`) when the console is reached over https. */
  secure(): boolean;
  /** The admin actions, attributed to `console:user:<username>` in the audit trail. */
  adminFor(session: ConsoleSession): Admin;
  assets: { stylesheet: string; script: string };
  /** The single-use values of the forms that show a secret (once.ts). */
  once: OnceValues;
  productName: string;
  send(reply: FastifyReply, status: number, page: Html): FastifyReply;
  /** 303 See Other (after a POST, and to the authorize endpoint: RFC 9700 §4.12 asks 303 after a POST). */
  redirect(reply: FastifyReply, location: string): FastifyReply;
}

/**
 * The policy of every console page: our stylesheet and script only (no inline script or style), forms post to
 * us and to the public listener (the login page the sign-in leads to), never framed.
 */
export function consoleCsp(publicOrigin: string): string {
  return (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    `form-action 'self' ${publicOrigin}; frame-ancestors 'none'; base-uri 'none'`
  );
}

export function setConsoleHeaders(reply: FastifyReply, publicOrigin: string): void {
  reply.header('Content-Security-Policy', consoleCsp(publicOrigin));
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Cache-Control', 'no-store');
}

/** The origin of a URL, or the URL itself when it does not parse (config checked it at start-up). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function createConsoleContext(deps: AdminSurfaceDeps): ConsoleContext {
  const { services, config } = deps;
  const links = services.console;
  const context: ConsoleContext = {
    deps,
    origin: () => links.origin(),
    publicBase: () => services.publicBaseUrl(),
    redirectUri: () => links.redirectUri(),
    clientId: links.clientId,
    secure: () => links.origin().startsWith('https:'),
    adminFor: (session) => services.adminAs(`console:user:${session.username}`),
    assets: assetUrls(),
    once: onceValues(),
    productName: config.pages.productName,
    send(reply, status, page) {
      setConsoleHeaders(reply, originOf(context.publicBase()));
      return reply.code(status).type('text/html; charset=utf-8').send(page.text);
    },
    redirect(reply, location) {
      setConsoleHeaders(reply, originOf(context.publicBase()));
      return reply.code(303).header('Location', location).send();
    },
  };
  return context;
}

/**
 * The one guard on the text the console reads from a request (queryParam, routeParam, guard.ts field): no id,
 * name or search holds U+0000, and PostgreSQL cannot store it. In a path it names nothing (the 404 page),
 * anywhere else it is refused (the 400 page, naming the parameter).
 */
export function withoutNul(value: string, name: string, where: 'path' | 'input'): string {
  if (!value.includes('\u0000')) return value;
  throw where === 'path'
    ? new AdminError('there is nothing at this address', { code: 'not_found' })
    : new AdminError(`${name} must not contain a NUL character`, { field: name });
}

/** A query parameter given once as a string; null when missing, empty or repeated. */
export function queryParam(request: FastifyRequest, name: string): string | null {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? withoutNul(value, name, 'input') : null;
}

/** A route parameter (Fastify has decoded it). */
export function routeParam(request: FastifyRequest, name: string): string {
  return withoutNul(String((request.params as Record<string, unknown>)[name] ?? ''), name, 'path');
}

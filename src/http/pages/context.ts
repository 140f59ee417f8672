import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSession } from '../../core/authorization-ports.js';
import type { AuthorizationFlow, DeviceFlow, SignIn } from '../../core/authorize/api.js';
import type { ParamPairs } from '../../core/params.js';
import { issuerOf } from '../issuer.js';
import { type CookieKind, cookieName, readCookie, serializeCookie } from './cookies.js';
import { newCsrfSecret } from './csrf.js';
import type { Html } from './html.js';
import type { Branding } from './layout.js';
import { setPageSecurityHeaders } from './security.js';

/** What the page routes are given (app.ts builds it from the services and config.pages). */
export interface PagesOptions {
  basePath: string;
  /** OAUTHD_ISSUER; null derives it from each request. */
  issuer: string | null;
  authorizationFlow: AuthorizationFlow;
  signIn: SignIn;
  /** The device page (RFC 8628 §3.3): user-code lookup and the approval. */
  deviceFlow: DeviceFlow;
  sessionTtlSeconds: number;
  productName: string;
  /** The logo's bytes and Content-Type, read once at start-up; null: no logo. */
  logo: { bytes: Buffer; contentType: string } | null;
  scopeDescriptions: Readonly<Record<string, string>>;
  maxBodyBytes: number;
}

/** The pieces every page route uses: branding, cookies, CSRF secrets, the issuer and sending a page. */
export interface PageContext {
  options: PagesOptions;
  branding: Branding;
  /** `{BASE_PATH}/o` */
  prefix: string;
  issuer(request: FastifyRequest): string;
  /** Cookies are Secure and `__Host-` when the request came over https or the issuer is https. */
  secure(request: FastifyRequest): boolean;
  cookie(request: FastifyRequest, kind: CookieKind): string | null;
  setCookie(request: FastifyRequest, reply: FastifyReply, kind: CookieKind, value: string, maxAge: number): void;
  /** The CSRF cookie's value, set on this reply when the browser has none yet. */
  csrfSecret(request: FastifyRequest, reply: FastifyReply): string;
  /** The signed-in session of this browser, with its token, or null. */
  session(request: FastifyRequest): Promise<{ token: string; session: BrowserSession } | null>;
  /** Sends a page; `redirectUri` widens form-action to the client (pages whose POST ends there). */
  send(reply: FastifyReply, status: number, page: Html, redirectUri?: string): FastifyReply;
  /** A redirect with no body (302 after a GET, 303 after a POST). */
  redirect(reply: FastifyReply, status: 302 | 303, location: string): FastifyReply;
}

export function createPageContext(options: PagesOptions, versions: { stylesheet: string; logo: string | null }) {
  const prefix = `${options.basePath}/o`;
  const secure = (request: FastifyRequest) =>
    request.protocol === 'https' || (options.issuer?.startsWith('https:') ?? false);
  const cookie = (request: FastifyRequest, kind: CookieKind) =>
    readCookie(request.headers.cookie, cookieName(kind, secure(request)));
  const setCookie: PageContext['setCookie'] = (request, reply, kind, value, maxAgeSeconds) => {
    // Several Set-Cookie headers on one reply: Fastify keeps them as an array.
    reply.header('Set-Cookie', serializeCookie(kind, value, { secure: secure(request), maxAgeSeconds }));
  };
  const context: PageContext = {
    options,
    prefix,
    branding: {
      productName: options.productName,
      logoUrl: versions.logo === null ? null : `${prefix}/static/logo?v=${versions.logo}`,
      stylesheetUrl: `${prefix}/static/oauthd.css?v=${versions.stylesheet}`,
    },
    issuer: (request) => issuerOf(request, options),
    secure,
    cookie,
    setCookie,
    csrfSecret(request, reply) {
      const existing = cookie(request, 'csrf');
      if (existing !== null) return existing;
      const fresh = newCsrfSecret();
      // As long as a session: a login form left open that long still posts.
      setCookie(request, reply, 'csrf', fresh, options.sessionTtlSeconds);
      return fresh;
    },
    async session(request) {
      const token = cookie(request, 'session');
      if (token === null) return null;
      const session = await options.signIn.session(token);
      return session === null ? null : { token, session };
    },
    send(reply, status, page, redirectUri) {
      setPageSecurityHeaders(reply, redirectUri);
      return reply.code(status).type('text/html; charset=utf-8').send(page.text);
    },
    redirect(reply, status, location) {
      setPageSecurityHeaders(reply);
      return reply.code(status).header('Location', location).send();
    },
  };
  return context;
}

/** The value of a parameter sent exactly once; null when missing, empty or repeated. */
export function single(pairs: ParamPairs, name: string): string | null {
  let found: string | null = null;
  for (const [key, value] of pairs) {
    if (key !== name) continue;
    if (found !== null) return null;
    found = value;
  }
  return found === '' ? null : found;
}

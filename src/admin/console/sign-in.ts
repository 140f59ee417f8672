import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_SCOPE, ADMIN_READ_SCOPE } from '../../core/admin-scopes.js';
import { OAuthError } from '../../core/errors.js';
import type { ParamPairs } from '../../core/params.js';
import { constantTimeEqual } from '../../core/tokens.js';
import { readCookie } from '../../http/pages/cookies.js';
import { verifyCsrf } from '../../http/pages/csrf.js';
import { html } from '../../http/pages/html.js';
import { type ConsoleContext, queryParam } from './context.js';
import { type ConsoleError, formExpired, sendError } from './errors.js';
import { plainPage } from './layout.js';
import { addCookie, loginCookie, readLoginCookie, sessionCookie, sessionCookieName, sessionOf } from './session.js';

/*
 * Sign-in through oauthd's own authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636): the console is the
 * built-in public client `oauthd-console` (core/console-client.ts), whose code comes back to /console/callback
 * and is exchanged in-process. The public listener's URL comes from OAUTHD_ISSUER or its own address, never from
 * this request's Host header (a forged Host would otherwise send the admin's login elsewhere).
 */

/** 43 base64url characters each: 256 bits of state, and a PKCE verifier of RFC 7636 §4.1's shortest length. */
const PART = 43;
const LOGIN_COOKIE_SECONDS = 600;

const random43 = (): string => randomBytes(32).toString('base64url');

/**
 * A console page to come back to after signing in: a path of ours (never another origin: no `//`, no scheme),
 * of plain characters (it goes into a meta refresh), short enough for the login cookie; else the dashboard.
 */
export function returnPath(path: string | null | undefined): string {
  const plain = /^\/console\/[A-Za-z0-9._~%/?=&-]{0,100}$/;
  return path && plain.test(path) && !path.includes('//') ? path : '/console/';
}
const stripSlash = (url: string): string => url.replace(/\/+$/, '');

/** 303 to the public authorize endpoint, remembering state, verifier and the page asked for in the login cookie. */
export function startSignIn(context: ConsoleContext, reply: FastifyReply, from = '/console/'): FastifyReply {
  const state = random43();
  const verifier = random43();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: context.clientId,
    redirect_uri: context.redirectUri(),
    scope: `${ADMIN_SCOPE} ${ADMIN_READ_SCOPE}`,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const back = Buffer.from(returnPath(from)).toString('base64url');
  addCookie(reply, loginCookie(context, `${state}${verifier}${back}`, LOGIN_COOKIE_SECONDS));
  return context.redirect(reply, `${stripSlash(context.publicBase())}/o/authorize/?${query.toString()}`);
}

const startAgain = { href: '/console/', label: 'Sign in again' };

const signInFailed = (message: string): ConsoleError => ({
  status: 400,
  title: 'Sign-in failed',
  message,
  link: startAgain,
});

export const NOT_AN_ADMIN: ConsoleError = {
  status: 403,
  title: 'Not allowed',
  message: 'This account is not an administrator.',
  link: startAgain,
};

/**
 * The checks of the authorization response before its code is used: the login cookie of this browser (else
 * the response belongs to another browser's sign-in), its state (constant time), and `iss` (RFC 9207 §2.4: the
 * response comes from our own authorization server, not from one an attacker mixed in).
 */
function checkResponse(
  context: ConsoleContext,
  request: FastifyRequest,
): { verifier: string; back: string } | ConsoleError {
  const login = readLoginCookie(request);
  if (login === null || login.length < 2 * PART) {
    return signInFailed('This sign-in expired or was started in another browser. Nothing was changed.');
  }
  const state = queryParam(request, 'state');
  if (state === null || !constantTimeEqual(state, login.slice(0, PART))) {
    return signInFailed('The answer of the sign-in does not belong to the sign-in this browser started.');
  }
  const iss = queryParam(request, 'iss');
  if (iss === null || stripSlash(iss) !== stripSlash(context.publicBase())) {
    return signInFailed('The answer of the sign-in did not come from this server (its iss does not match).');
  }
  const error = queryParam(request, 'error');
  // invalid_scope: the user holds no admin scope (core/admin-scopes.ts scopeForUser left nothing to grant).
  if (error === 'invalid_scope') return NOT_AN_ADMIN;
  if (error === 'access_denied') return signInFailed('The sign-in was cancelled.');
  if (error !== null) return signInFailed(`The sign-in was refused (${error}).`);
  const back = returnPath(Buffer.from(login.slice(2 * PART), 'base64url').toString('utf8'));
  return { verifier: login.slice(PART, 2 * PART), back };
}

async function callback(context: ConsoleContext, request: FastifyRequest, reply: FastifyReply) {
  const checked = checkResponse(context, request);
  // Whatever happens next, this sign-in's state is spent.
  addCookie(reply, loginCookie(context, '', 0));
  if ('status' in checked) return sendError(context, reply, null, checked);
  const code = queryParam(request, 'code');
  if (code === null) return sendError(context, reply, null, signInFailed('The answer of the sign-in has no code.'));
  const { services } = context.deps;
  let accessToken: string;
  let expiresIn: number;
  try {
    const response = await services.tokenEndpoint.handle({
      params: [
        ['grant_type', 'authorization_code'],
        ['code', code],
        ['redirect_uri', context.redirectUri()],
        ['code_verifier', checked.verifier],
        ['client_id', context.clientId],
      ],
      basic: null,
      clientIp: request.ip,
    });
    accessToken = response.access_token;
    expiresIn = response.expires_in;
  } catch (error) {
    if (!(error instanceof OAuthError) || error.code === 'temporarily_unavailable') throw error;
    request.log.info({ error: error.code, detail: error.detail }, 'console sign-in: code exchange refused');
    return sendError(context, reply, null, signInFailed('The sign-in could not be completed: start again.'));
  }
  const session = sessionOf(accessToken, await services.bearer.validate(accessToken));
  if (session === null) {
    // Only an admin's grant carries the admin scopes; should one come without, it is not kept.
    await revoke(context, request, accessToken);
    return sendError(context, reply, null, NOT_AN_ADMIN);
  }
  addCookie(reply, sessionCookie(context, accessToken, expiresIn));
  // 200, not a redirect: a SameSite=Strict cookie set on a cross-site redirect chain is not sent with the
  // request that follows it, so the dashboard is reached from this page of our own origin.
  const page = plainPage(
    context,
    'Signed in',
    html`<h1>Signed in</h1>
<p>You are signed in as <strong>${session.username}</strong>.</p>
<p><a href="${checked.back}">Continue</a></p>`,
    html`<meta http-equiv="refresh" content="0;url=${checked.back}">`,
  );
  return context.send(reply, 200, page);
}

/** Revokes a console token (RFC 7009) as its client would; a token of another client is left as it is. */
async function revoke(context: ConsoleContext, request: FastifyRequest, token: string): Promise<void> {
  try {
    await context.deps.services.revocation.revoke({
      params: [
        ['token', token],
        ['client_id', context.clientId],
      ],
      basic: null,
      clientIp: request.ip,
    });
  } catch (error) {
    if (!(error instanceof OAuthError) || error.code === 'temporarily_unavailable') throw error;
  }
}

/** /console/callback and /console/sign-out. */
export function signInRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get('/callback', (request, reply) => callback(context, request, reply));

  app.post('/sign-out', async (request, reply) => {
    // Bound to the cookie's token even when it no longer works (expired): signing out still clears it.
    const token = readCookie(request.headers.cookie, sessionCookieName(context.secure()));
    const submitted = ((request.body as ParamPairs | undefined) ?? []).find(([name]) => name === 'csrf')?.[1] ?? null;
    if (!verifyCsrf(token, submitted)) return sendError(context, reply, null, formExpired);
    await revoke(context, request, token!);
    addCookie(reply, sessionCookie(context, '', 0));
    const page = plainPage(
      context,
      'Signed out',
      html`<h1>Signed out</h1>
<p>Your console session has ended.</p>
<p><a href="/console/">Sign in again</a></p>
<p class="muted">The sign-in page of this server may still remember you: sign out there too on a shared computer
(<a href="${stripSlash(context.publicBase())}/o/logout/">sign-in page's sign out</a>).</p>`,
    );
    return context.send(reply, 200, page);
  });
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SignedInUser, ValidAuthorizationRequest } from '../../core/authorize/api.js';
import type { ParamPairs } from '../../core/params.js';
import { parseFormBody } from '../body.js';
import { type PageContext, single } from './context.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { errorViewOf, forbiddenView } from './errors.js';
import { consentPage, errorPage, loginPage } from './views.js';

/*
 * The steps of the authorization endpoint's pages: check the request, show the login or consent page, and
 * handle their forms. Each takes the page context, the request and the reply; authorize-routes.ts routes.
 */

const WRONG_CREDENTIALS = 'Wrong username or password.';

/** The raw query string of the request (`a=1&b=2`), kept as sent so the form posts back exactly it. */
export const rawQueryOf = (request: FastifyRequest): string => {
  const at = request.url.indexOf('?');
  return at === -1 ? '' : request.url.slice(at + 1);
};

/** The authorization endpoint with the query of this request: the forms' action and the PRG target. */
export const selfUrl = (context: PageContext, request: FastifyRequest): string => {
  const query = rawQueryOf(request);
  return `${context.prefix}/authorize/${query === '' ? '' : `?${query}`}`;
};

export const userOf = (session: { userId: number; username: string }): SignedInUser => ({
  userId: session.userId,
  username: session.username,
});

/** The valid request, or null when the reply (error page or error redirect) was already sent. */
export async function checkRequest(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  redirectStatus: 302 | 303,
): Promise<ValidAuthorizationRequest | null> {
  const verdict = await context.options.authorizationFlow.check(
    parseFormBody(rawQueryOf(request)),
    context.issuer(request),
  );
  if (verdict.ok) return verdict.request;
  if ('show' in verdict) {
    // RFC 6749 §4.1.2.1: an unknown client or redirect URI is shown, never redirected to.
    request.log.info({ error: verdict.show.error }, 'authorization request refused');
    const view = { ...errorViewOf(verdict.show.error), detail: verdict.show.description };
    context.send(reply, 400, errorPage(context.branding, view));
  } else {
    // RFC 6749 §4.1.2.1: any other error goes back to the client (with state and iss, RFC 9207).
    context.redirect(reply, redirectStatus, verdict.redirect);
  }
  return null;
}

/** The login page; its form-action allows the client's origin, where the sign-in may end (no consent to ask). */
export function showLogin(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  valid: ValidAuthorizationRequest,
  failure?: LoginFailure,
): FastifyReply {
  const page = loginPage(context.branding, {
    clientName: valid.client.name,
    action: selfUrl(context, request),
    csrfToken: csrfToken(context.csrfSecret(request, reply)),
    // The console's built-in client asks for the password at each sign-in: say so, or it looks like a bug.
    freshSignIn: valid.client.builtIn === true,
    ...(failure ? { message: failure.message, username: failure.username } : {}),
  });
  return context.send(reply, failure?.status ?? 200, page, valid.redirectUri);
}

/** GET, signed in: the consent page, or straight back to the client when there is nothing to ask. */
export async function consentOrApprove(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  asked: ValidAuthorizationRequest,
  signedIn: { token: string; session: SignedInUser },
): Promise<FastifyReply> {
  const flow = context.options.authorizationFlow;
  const user = userOf(signedIn.session);
  // The scope this user may hold (the admin scopes only for an admin): what the consent page shows.
  const mine = await flow.forUser(asked, user, context.issuer(request));
  if (!mine.ok) return context.redirect(reply, 302, mine.redirect);
  const valid = mine.request;
  if (await flow.needsConsent(valid, user)) {
    const page = consentPage(context.branding, {
      clientName: valid.client.name,
      username: user.username,
      scopes: valid.scope.map((scope) => context.options.scopeDescriptions[scope] ?? scope),
      action: selfUrl(context, request),
      logoutAction: `${context.prefix}/logout/`,
      csrfToken: csrfToken(signedIn.token),
    });
    return context.send(reply, 200, page, valid.redirectUri);
  }
  // A skip-consent client, or a remembered consent covering the scope: back to the client with a code.
  const approval = { issuer: context.issuer(request), ip: request.ip, consented: false };
  return context.redirect(reply, 302, await flow.approve(valid, user, approval));
}

export const forbidden = (context: PageContext, reply: FastifyReply) =>
  context.send(reply, 403, errorPage(context.branding, forbiddenView));

/** `step=login`: the CSRF cookie's token, then SignIn (which throttles); success: the session cookie and PRG. */
export function postLogin(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  valid: ValidAuthorizationRequest,
  body: ParamPairs,
): Promise<FastifyReply> {
  return handleLoginForm(context, request, reply, body, {
    showFailure: (failure) => showLogin(context, request, reply, valid, failure),
    // Post/Redirect/Get: the GET shows the consent page or goes back to the client.
    next: selfUrl(context, request),
  });
}

/** A failed sign-in as the login page shows it again. */
export interface LoginFailure {
  status: number;
  message: string;
  username: string;
}

/**
 * The login form's POST, wherever the form is (the authorization and device pages): the CSRF cookie's token,
 * then SignIn (which throttles); success sets the session cookie and answers 303 to `next`.
 */
export async function handleLoginForm(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ParamPairs,
  page: { showFailure: (failure: LoginFailure) => FastifyReply; next: string },
): Promise<FastifyReply> {
  if (!verifyCsrf(context.cookie(request, 'csrf'), single(body, 'csrf_token'))) return forbidden(context, reply);
  const username = single(body, 'username');
  const password = single(body, 'password');
  // One message for every failure: never which part was wrong.
  const failed = (status: number, message: string) => page.showFailure({ status, message, username: username ?? '' });
  if (username === null || password === null) return failed(400, WRONG_CREDENTIALS);
  const result = await context.options.signIn.signIn({ username, password, ip: request.ip });
  if (!result.ok) {
    if (result.reason === 'invalid') return failed(400, WRONG_CREDENTIALS);
    reply.header('Retry-After', String(result.retryAfterSeconds));
    return failed(429, 'Too many attempts. Wait a while before you try again.');
  }
  // A new sign-in ends the session this browser held (a planted or leaked token must not outlive it).
  const previous = context.cookie(request, 'session');
  if (previous !== null) await context.options.signIn.signOut(previous, request.ip);
  context.setCookie(request, reply, 'session', result.sessionToken, context.options.sessionTtlSeconds);
  return context.redirect(reply, 303, page.next);
}

/** `step=consent`: needs a live session (else back to the login page) and its token; allow or deny. */
export async function postConsent(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  valid: ValidAuthorizationRequest,
  body: ParamPairs,
): Promise<FastifyReply> {
  const token = context.cookie(request, 'session');
  const backToLogin = () => context.redirect(reply, 303, selfUrl(context, request));
  if (token === null) return backToLogin();
  if (!verifyCsrf(token, single(body, 'csrf_token'))) return forbidden(context, reply);
  const session = await context.options.signIn.session(token);
  const flow = context.options.authorizationFlow;
  // As the GET: no code on a sign-in too old for this client; the GET then shows the login page.
  if (session === null || flow.needsFreshSignIn(valid, session)) return backToLogin();
  const user = userOf(session);
  const decision = single(body, 'decision');
  const issuer = context.issuer(request);
  let location: string;
  if (decision === 'allow') location = await flow.approve(valid, user, { issuer, ip: request.ip, consented: true });
  else if (decision === 'deny') location = flow.deny(valid, user, { issuer, ip: request.ip });
  else return context.send(reply, 400, errorPage(context.branding, errorViewOf('invalid_request')));
  // RFC 9700 §4.12: 303 after a POST, so the browser does not re-post the form (with its fields) to the client.
  return context.redirect(reply, 303, location);
}

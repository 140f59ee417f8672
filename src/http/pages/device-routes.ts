import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SignedInUser } from '../../core/authorize/api.js';
import type { ParamPairs } from '../../core/params.js';
import { parseFormBody } from '../body.js';
import { forbidden, handleLoginForm, type LoginFailure, rawQueryOf, userOf } from './authorize-steps.js';
import { type PageContext, single } from './context.js';
import { csrfToken, verifyCsrf } from './csrf.js';
import { deviceApprovalPage, deviceDonePage, deviceNotPendingPage, userCodePage } from './device-views.js';
import { errorViewOf } from './errors.js';
import { deviceGetSchema, devicePostSchema } from './device-schemas.js';
import { errorPage, loginPage } from './views.js';

/*
 * `GET|POST {BASE_PATH}/o/device/`: the verification URI of the device authorization grant (RFC 8628 §3.3).
 * Sign in, enter (or confirm) the user code, then allow or deny. Every form posts back here with a `step`;
 * nothing redirects to a client, so the pages' form-action stays 'self'.
 */

const INVALID_CODE = 'That code is not valid or has expired.';
/** No user code is longer (core/device/user-code.ts refuses more than 64 characters too). */
const MAX_CODE_LENGTH = 64;

/** The page's URL, keeping the `user_code` of the link (verification_uri_complete) through the sign-in. */
const deviceUrl = (context: PageContext, linkedCode: string | null): string =>
  `${context.prefix}/device/${linkedCode === null ? '' : `?user_code=${encodeURIComponent(linkedCode)}`}`;

/** The `?user_code=` of the request, or null (missing, repeated, or longer than any code). */
function linkedCodeOf(request: FastifyRequest): string | null {
  const code = single(parseFormBody(rawQueryOf(request)), 'user_code');
  return code !== null && code.length <= MAX_CODE_LENGTH ? code : null;
}

function showLogin(context: PageContext, request: FastifyRequest, reply: FastifyReply, failure?: LoginFailure) {
  const page = loginPage(context.branding, {
    clientName: null,
    action: deviceUrl(context, linkedCodeOf(request)),
    csrfToken: csrfToken(context.csrfSecret(request, reply)),
    ...(failure ? { message: failure.message, username: failure.username } : {}),
  });
  return context.send(reply, failure?.status ?? 200, page);
}

interface SignedIn {
  token: string;
  user: SignedInUser;
}

/** The parts every signed-in page of the flow shows: who, the sign-out form, the forms' CSRF token. */
const signedInView = (context: PageContext, signedIn: SignedIn) => ({
  username: signedIn.user.username,
  csrfToken: csrfToken(signedIn.token),
  logoutAction: `${context.prefix}/logout/`,
});

function showCodeEntry(
  context: PageContext,
  reply: FastifyReply,
  signedIn: SignedIn,
  entry: { status: number; userCode: string; fromLink: boolean; message?: string },
): FastifyReply {
  const page = userCodePage(context.branding, {
    ...signedInView(context, signedIn),
    action: deviceUrl(context, null),
    userCode: entry.userCode,
    fromLink: entry.fromLink,
    ...(entry.message === undefined ? {} : { message: entry.message }),
  });
  return context.send(reply, entry.status, page);
}

/**
 * The session a signed-in step needs, with its CSRF token checked; null once the reply is sent (403 for a
 * bad token, back to the sign-in for a missing or ended session).
 */
async function signedInFor(
  context: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ParamPairs,
): Promise<SignedIn | null> {
  const token = context.cookie(request, 'session');
  const backToLogin = () => context.redirect(reply, 303, deviceUrl(context, null));
  if (token === null) {
    backToLogin();
    return null;
  }
  if (!verifyCsrf(token, single(body, 'csrf_token'))) {
    forbidden(context, reply);
    return null;
  }
  const session = await context.options.signIn.session(token);
  if (session === null) {
    backToLogin();
    return null;
  }
  return { token, user: userOf(session) };
}

/** `step=code`: look the code up (a guess, counted per IP: RFC 8628 §5.1) and show what it asks for. */
async function postCode(context: PageContext, request: FastifyRequest, reply: FastifyReply, body: ParamPairs) {
  const signedIn = await signedInFor(context, request, reply, body);
  if (signedIn === null) return reply;
  const typed = single(body, 'user_code');
  const again = (status: number, message: string) =>
    showCodeEntry(context, reply, signedIn, { status, message, userCode: typed ?? '', fromLink: false });
  if (typed === null) return again(400, INVALID_CODE);
  const found = await context.options.deviceFlow.lookup(typed, request.ip, signedIn.user);
  if (!found.ok) {
    if (found.reason === 'invalid') return again(400, INVALID_CODE);
    reply.header('Retry-After', String(found.retryAfterSeconds));
    return again(429, 'Too many attempts. Wait a while before you try again.');
  }
  const { client, scope, userCode } = found.request;
  const page = deviceApprovalPage(context.branding, {
    ...signedInView(context, signedIn),
    clientName: client.name,
    scopes: scope.map((name) => context.options.scopeDescriptions[name] ?? name),
    userCode,
    action: deviceUrl(context, null),
  });
  return context.send(reply, 200, page);
}

/** `step=decision`: allow or deny the code of the approval page (RFC 8628 §3.3); the device learns by polling. */
async function postDecision(context: PageContext, request: FastifyRequest, reply: FastifyReply, body: ParamPairs) {
  const signedIn = await signedInFor(context, request, reply, body);
  if (signedIn === null) return reply;
  const userCode = single(body, 'user_code');
  const decision = single(body, 'decision');
  if (userCode === null || (decision !== 'allow' && decision !== 'deny')) {
    return context.send(reply, 400, errorPage(context.branding, errorViewOf('invalid_request')));
  }
  const approved = decision === 'allow';
  const decided = await context.options.deviceFlow.decide(userCode, approved, signedIn.user, request.ip);
  if (!decided.ok && decided.reason === 'throttled') {
    reply.header('Retry-After', String(decided.retryAfterSeconds));
    return context.send(reply, 429, errorPage(context.branding, errorViewOf('slow_down')));
  }
  if (!decided.ok) return context.send(reply, 400, deviceNotPendingPage(context.branding));
  // Approving a request for admin scopes alone, as no admin, refuses it: the page says what happened.
  return context.send(reply, 200, deviceDonePage(context.branding, decided.approved));
}

export function deviceRoutes(app: FastifyInstance, context: PageContext): void {
  app.get('/device/', { schema: deviceGetSchema }, async (request, reply) => {
    const signedIn = await context.session(request);
    if (signedIn === null) return showLogin(context, request, reply);
    const linked = linkedCodeOf(request);
    // RFC 8628 §5.4: a code that came in a link is shown for the person to compare, never looked up unasked.
    return showCodeEntry(
      context,
      reply,
      { token: signedIn.token, user: userOf(signedIn.session) },
      { status: 200, userCode: linked ?? '', fromLink: linked !== null },
    );
  });

  app.post('/device/', { schema: devicePostSchema }, async (request, reply) => {
    const body = (request.body as ParamPairs | undefined) ?? [];
    switch (single(body, 'step')) {
      case 'login':
        return handleLoginForm(context, request, reply, body, {
          showFailure: (failure) => showLogin(context, request, reply, failure),
          // Post/Redirect/Get: the GET shows the code entry, the link's code still in the URL.
          next: deviceUrl(context, linkedCodeOf(request)),
        });
      case 'code':
        return postCode(context, request, reply, body);
      case 'decision':
        return postDecision(context, request, reply, body);
      default:
        return context.send(reply, 400, errorPage(context.branding, errorViewOf('invalid_request')));
    }
  });
}

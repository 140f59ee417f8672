import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ParamPairs } from '../../core/params.js';
import { verifyCsrf } from '../../http/pages/csrf.js';
import { type ConsoleContext, type ConsoleSession, withoutNul } from './context.js';
import { type ConsoleError, formExpired, readOnly, sendError } from './errors.js';
import { currentSession } from './session.js';
import { startSignIn } from './sign-in.js';

type Handler = (request: FastifyRequest, reply: FastifyReply, session: ConsoleSession) => Promise<FastifyReply>;

const sessionEnded: ConsoleError = {
  status: 403,
  title: 'Not allowed',
  message: 'Your console session has ended (signed out, expired or revoked). Nothing was changed.',
  link: { href: '/console/', label: 'Sign in again' },
};

/** A page: without a session, the sign-in starts (and brings the admin to the dashboard afterwards). */
export function page(context: ConsoleContext, handler: Handler) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const session = await currentSession(context, request);
    if (session === null) return startSignIn(context, reply, request.url);
    return handler(request, reply, session);
  };
}

/** The form fields of a POST, as [name, value] pairs (repeats kept: checkboxes). */
export const formPairs = (request: FastifyRequest): ParamPairs => (request.body as ParamPairs | undefined) ?? [];

/** The value of a field sent once; null when missing or repeated ('' is kept: an emptied field). */
export function field(pairs: ParamPairs, name: string): string | null {
  let found: string | null = null;
  for (const [key, value] of pairs) {
    if (key !== name) continue;
    if (found !== null) return null;
    found = value;
  }
  return found === null ? null : withoutNul(found, name, 'input');
}

/** Every value of a repeated field (checkboxes). */
export const fields = (pairs: ParamPairs, name: string): string[] =>
  pairs.filter(([key]) => key === name).map(([, value]) => withoutNul(value, name, 'input'));

/**
 * A change: a live session, the form's CSRF token (HMAC of the session's token: a page of another origin can
 * neither read nor compute it), and write access (oauthd:admin). Each refusal is a page; nothing changes.
 */
export function change(context: ConsoleContext, handler: Handler) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const session = await currentSession(context, request);
    if (session === null) return sendError(context, reply, null, sessionEnded);
    if (!verifyCsrf(session.token, field(formPairs(request), 'csrf'))) {
      return sendError(context, reply, session, formExpired);
    }
    if (session.access !== 'write') return sendError(context, reply, session, readOnly);
    return handler(request, reply, session);
  };
}

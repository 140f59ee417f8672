import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from '../../core/admin/validation.js';
import { OAuthError } from '../../core/errors.js';
import { StoreUnavailableError } from '../../core/ports.js';
import { html, type Html } from '../../http/pages/html.js';
import type { ConsoleContext, ConsoleSession } from './context.js';
import { consolePage, plainPage } from './layout.js';
import { currentSession } from './session.js';

/** What an error page says: a title (its h1) and a message in plain words, never a stack or raw JSON. */
export interface ConsoleError {
  status: number;
  title: string;
  message: string;
  /** A link that gets the person going again. */
  link?: { href: string; label: string };
}

export const notFound = (message = 'There is nothing at this address.'): ConsoleError => ({
  status: 404,
  title: 'Not found',
  message,
  link: { href: '/console/', label: 'Back to the dashboard' },
});

export const notAllowed = (message: string): ConsoleError => ({
  status: 403,
  title: 'Not allowed',
  message,
  link: { href: '/console/', label: 'Back to the dashboard' },
});

export const badRequest = (message: string): ConsoleError => ({ status: 400, title: 'Invalid request', message });

/** A form posted without its CSRF token, or with one of another session. */
export const formExpired = notAllowed(
  'The form was not sent from this console, or it belongs to an earlier sign-in. Nothing was changed. ' +
    'Go back, reload the page and try again.',
);

export const readOnly = notAllowed('Your access is read-only (oauthd:admin:read): you can look, not change anything.');

export function errorContent(error: ConsoleError): Html {
  const link = error.link === undefined ? null : html`<p><a href="${error.link.href}">${error.link.label}</a></p>`;
  return html`<h1>${error.title}</h1>
<p>${error.message}</p>
${link}`;
}

export function sendError(
  context: ConsoleContext,
  reply: FastifyReply,
  session: ConsoleSession | null,
  error: ConsoleError,
): FastifyReply {
  const content = errorContent(error);
  const page =
    session === null
      ? plainPage(context, error.title, content)
      : consolePage(context, session, { title: error.title, section: null, content });
  return context.send(reply, error.status, page);
}

/** An AdminError as the page it deserves: not found, changed by someone else, refused, or the input at fault. */
export function adminErrorOf(error: AdminError): ConsoleError {
  const code = (error as AdminError & { code?: string }).code;
  if (code === 'not_found') return notFound(capitalize(`${error.message}.`));
  if (code === 'forbidden') return notAllowed(capitalize(`${error.message}.`));
  if (code === 'version_mismatch') return changedElsewhere('/console/');
  return badRequest(capitalize(`${error.message}.`));
}

/** The 409 page of a form posted from a stale copy (its hidden version no longer the stored one). */
export function changedElsewhere(reloadHref: string): ConsoleError {
  return {
    status: 409,
    title: 'Changed by someone else',
    message:
      'Someone changed this since you opened the form, so your changes were not saved (nothing was changed). ' +
      'Reload the page to see the current values, then make your change again.',
    link: { href: reloadHref, label: 'Reload' },
  };
}

export const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A failure nobody handled: an HTML page with its status, never JSON, a stack or the framework's body. */
function consoleErrorOf(error: unknown): ConsoleError {
  if (error instanceof StoreUnavailableError) {
    return { status: 503, title: 'Try again in a moment', message: 'The database is briefly unavailable.' };
  }
  if (error instanceof AdminError) return adminErrorOf(error);
  if (error instanceof OAuthError) return badRequest(error.description);
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, title: 'Too much data', message: 'The form sent more data than allowed.' };
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, title: 'Unexpected form', message: 'The form was sent in a format not accepted.' };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return badRequest('The request is malformed.');
  return { status: 500, title: 'Something went wrong', message: 'The server could not complete this request.' };
}

export function createConsoleErrorHandler(context: ConsoleContext) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const view = consoleErrorOf(error);
    if (view.status >= 500) request.log.error({ err: error }, 'console request failed');
    else request.log.info({ status: view.status }, 'console request refused');
    if (view.status === 503) reply.header('Retry-After', '1');
    const session = view.status === 503 ? null : await currentSession(context, request).catch(() => null);
    return sendError(context, reply, session, view);
  };
}

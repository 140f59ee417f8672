import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../core/errors.js';
import { StoreUnavailableError } from '../../core/ports.js';
import type { PageContext } from './context.js';
import { errorPage, type ErrorView } from './views.js';

/** Plain words for the errors a person may meet on the pages; the code is shown beside them, escaped. */
const WORDS: Readonly<Record<string, Omit<ErrorView, 'code'>>> = {
  invalid_request: {
    title: 'This link does not work',
    message:
      'The application that sent you here made a request this server cannot accept. Go back to the ' +
      'application and try again; if this keeps happening, tell its developers.',
  },
  invalid_client: {
    title: 'Unknown application',
    message: 'The application that sent you here is not registered with this server, or cannot use this page.',
  },
  unauthorized_client: {
    title: 'Unknown application',
    message: 'The application that sent you here is not registered with this server, or cannot use this page.',
  },
  slow_down: {
    title: 'Too many attempts',
    message: 'Too many codes were tried from here. Wait a while, then try again.',
  },
  temporarily_unavailable: {
    title: 'Try again in a moment',
    message: 'The service is briefly unavailable. Wait a moment, then reload the page.',
  },
  server_error: {
    title: 'Something went wrong',
    message: 'The server could not complete this request. Try again later.',
  },
};

/** The error page of an OAuth error code (unknown codes get the generic words). */
export function errorViewOf(code: string): ErrorView {
  return { ...(WORDS[code] ?? WORDS.invalid_request!), code };
}

export const forbiddenView: ErrorView = {
  title: 'This form has expired',
  message:
    'The form was not sent from this page, or it is too old. Go back to the application and start again. ' +
    'Nothing was changed.',
};

/** A failure as a page and status: the pages never answer JSON, a stack trace or the framework's body. */
function pageErrorOf(error: unknown): { status: number; view: ErrorView } {
  if (error instanceof StoreUnavailableError) return { status: 503, view: errorViewOf('temporarily_unavailable') };
  if (error instanceof OAuthError) {
    const status = error.code === 'server_error' ? 500 : error.code === 'temporarily_unavailable' ? 503 : 400;
    return { status, view: errorViewOf(error.code) };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, view: { title: 'Too much data', message: 'The form sent more data than allowed.' } };
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, view: { title: 'Unexpected form', message: 'The form was sent in a format not accepted.' } };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status: 400, view: errorViewOf('invalid_request') };
  }
  return { status: 500, view: errorViewOf('server_error') };
}

export function createPageErrorHandler(context: PageContext) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { status, view } = pageErrorOf(error);
    if (status >= 500) request.log.error({ err: error }, 'page request failed');
    else request.log.info({ error: view.code ?? status }, 'page request refused');
    if (status === 503) reply.header('Retry-After', '1');
    return context.send(reply, status, errorPage(context.branding, view));
  };
}

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, type AdminErrorCode } from '../../core/admin/validation.js';
import { StoreUnavailableError } from '../../core/ports.js';

/** One input at fault: where (`policy.redirect_uris`, `cursor`, `If-Match`) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** The admin API's error body: `error` a stable code, `error_description` for people, `fields` when known. */
export interface ApiErrorBody {
  error: string;
  error_description: string;
  fields?: FieldProblem[];
}

/** A refusal of the admin API, thrown anywhere below a route and answered by `apiErrorHandler`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error_description);
    this.name = 'ApiError';
  }
}

/** 400 invalid_request naming every field at fault (malformed JSON, unknown fields, wrong types, bad cursor). */
export function invalidFields(fields: FieldProblem[], description?: string): ApiError {
  const text =
    description ??
    (fields.length === 1 ? `${fields[0]!.field}: ${fields[0]!.problem}` : 'Some fields of the request are invalid.');
  return new ApiError(400, { error: 'invalid_request', error_description: text, fields });
}

/** How each refusal of the core's admin actions is answered. */
const ADMIN_ERRORS: Record<AdminErrorCode, { status: number; error: string }> = {
  invalid: { status: 400, error: 'invalid_request' },
  not_found: { status: 404, error: 'not_found' },
  exists: { status: 409, error: 'already_exists' },
  // RFC 9110 §13.1.1: If-Match named a version that is no longer the current one (a lost update).
  version_mismatch: { status: 412, error: 'precondition_failed' },
  // RFC 9110 §15.5.10: the change conflicts with the state of things (the last active admin stays one).
  forbidden: { status: 409, error: 'conflict' },
};

/** The answer to an AdminError: its message is one line, safe to show (core/admin/validation.ts). */
export function fromAdminError(error: AdminError): ApiError {
  const { status, error: code } = ADMIN_ERRORS[error.code] ?? ADMIN_ERRORS.invalid;
  // The core speaks the CLI's flags (`--redirect-uri`); the API's fields are the same words in snake_case.
  const message = error.message.replace(/--([a-z][a-z-]*)/g, (_flag, name: string) => name.replaceAll('-', '_'));
  const body: ApiErrorBody = { error: code, error_description: message };
  if (error.code === 'invalid' && error.field !== undefined) {
    body.fields = [{ field: error.field, problem: message }];
  }
  return new ApiError(status, body);
}

/** Fastify's own refusals (body parsing, limits) in the API's terms; anything unknown is a 500. */
function fromFastifyError(error: Partial<FastifyError>): ApiError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, { error: 'invalid_request', error_description: 'The request body is too large.' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidFields(
        [{ field: 'Content-Type', problem: 'must be application/json' }],
        'The request body must be application/json.',
      );
  }
  const status = error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status === 413 ? 413 : 400, {
      error: 'invalid_request',
      error_description: 'The request is malformed.',
    });
  }
  return null;
}

/** Every failure of the admin API as JSON: never a stack trace, never Fastify's default body. */
export function apiErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let answer: ApiError | null = null;
  if (error instanceof ApiError) answer = error;
  else if (error instanceof AdminError) answer = fromAdminError(error);
  else if (error instanceof StoreUnavailableError) {
    answer = new ApiError(
      503,
      { error: 'temporarily_unavailable', error_description: 'The store cannot serve now; retry shortly.' },
      { 'Retry-After': '1' },
    );
  } else answer = fromFastifyError(error as Partial<FastifyError>);
  if (answer === null || answer.status >= 500) {
    request.log.error({ err: error }, 'admin API request failed');
  } else {
    request.log.info({ error: answer.body.error, status: answer.status }, 'admin API request refused');
  }
  const final =
    answer ?? new ApiError(500, { error: 'server_error', error_description: 'The server failed to answer.' });
  return reply
    .code(final.status)
    .headers(final.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(final.body));
}

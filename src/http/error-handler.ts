import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  OAuthError,
  invalidRequest,
  serverError,
  temporarilyUnavailable,
  type OAuthErrorCode,
} from '../core/errors.js';
import { StoreUnavailableError } from '../core/ports.js';
import { quoted } from '../core/bearer-challenge.js';

/** Which challenge a route answers with: client authentication (token endpoint) or bearer (protected APIs). */
export type Challenge = 'basic' | 'bearer';

declare module 'fastify' {
  interface FastifyContextConfig {
    challenge?: Challenge;
  }
  interface FastifyRequest {
    /** Metric labels, set along the way: the grant type of a token request, the OAuth error code sent. */
    metricsGrantType: string;
    metricsError: string;
  }
}

/** RFC 6749 §5.2 and RFC 6750 §3.1: the HTTP status of each error code. */
export function statusFor(code: OAuthErrorCode): number {
  switch (code) {
    case 'invalid_client':
    case 'invalid_token':
      return 401;
    case 'insufficient_scope':
      return 403;
    case 'server_error':
      return 500;
    case 'temporarily_unavailable':
      return 503;
    case 'slow_down':
      return 429;
    default:
      return 400;
  }
}

export interface ErrorReplyOptions {
  realm: string;
  challenge: Challenge | undefined;
  /** Overrides the status of the code, for HTTP-level failures (405, 413). */
  status?: number;
}

/** Writes the RFC-shaped JSON error: `{"error", "error_description"}` with the right status and challenge. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError, options: ErrorReplyOptions): FastifyReply {
  reply.request.metricsError = error.code;
  const status = options.status ?? error.status ?? statusFor(error.code);
  if (error.code === 'invalid_client') {
    // RFC 6749 §5.2: 401 with the scheme the client can use. Sent whichever way the credentials came
    // (RFC 7235 §3.1: a 401 MUST carry a challenge).
    reply.header('WWW-Authenticate', `Basic realm=${quoted(options.realm)}`);
  } else if (options.challenge === 'bearer' || error.code === 'invalid_token' || error.code === 'insufficient_scope') {
    // RFC 6750 §3: every error response of a protected resource carries the Bearer challenge.
    reply.header(
      'WWW-Authenticate',
      `Bearer realm=${quoted(options.realm)}, error=${quoted(error.code)}, ` +
        `error_description=${quoted(error.description)}`,
    );
  }
  if (error.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.retryAfterSeconds));
  else if (status === 503) reply.header('Retry-After', '1');
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: error.code, error_description: error.description }));
}

/** Every failure, whatever threw it, as an OAuthError and an optional HTTP status override. */
export function toOAuthError(error: unknown): { oauth: OAuthError; status?: number } {
  if (error instanceof OAuthError) return { oauth: error };
  if (error instanceof StoreUnavailableError) return { oauth: temporarilyUnavailable(error.message) };
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { oauth: invalidRequest('The request body is too large.'), status: 413 };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // RFC 6749 §3.2 names application/x-www-form-urlencoded; the spec's table adds JSON.
      return {
        oauth: invalidRequest('Unsupported content type: send application/x-www-form-urlencoded or application/json.'),
      };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { oauth: invalidRequest('The request is malformed.', fastifyError.code ?? fastifyError.message) };
  }
  return { oauth: serverError(String((error as Error)?.message ?? error)) };
}

/** The error handler of every route: RFC-shaped JSON, never a stack trace, never Fastify's default body. */
export function createErrorHandler(realm: string) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { oauth, status } = toOAuthError(error);
    const finalStatus = status ?? oauth.status ?? statusFor(oauth.code);
    if (finalStatus >= 500) {
      request.log.error({ err: error, code: oauth.code }, 'request failed');
    } else {
      request.log.info({ error: oauth.code, detail: oauth.detail }, 'request refused');
    }
    return sendOAuthError(reply, oauth, {
      realm,
      challenge: request.routeOptions.config?.challenge,
      ...(status ? { status } : {}),
    });
  };
}

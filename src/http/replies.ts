import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest } from '../core/errors.js';
import type { Refusal } from '../core/bearer-challenge.js';
import { sendOAuthError } from './error-handler.js';

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export function sendRefusal(reply: FastifyReply, refusal: Refusal): FastifyReply {
  reply.request.metricsError = refusal.body.error;
  return sendJson(reply.headers(refusal.headers), refusal.status, refusal.body);
}

/** 405 with `Allow` and an RFC-shaped body. */
export const methodNotAllowed =
  (allow: string, realm: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Allow', allow);
    return sendOAuthError(reply, invalidRequest(`Use ${allow} for this endpoint.`), {
      realm,
      challenge: request.routeOptions.config?.challenge,
      status: 405,
    });
  };

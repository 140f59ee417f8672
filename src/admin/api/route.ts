import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Admin } from '../../core/admin/index.js';
import { type AdminCaller, authenticate } from './auth.js';
import { ApiError } from './errors.js';
import { type Schema, checkBody, checkQuery, object } from './input.js';
import type { AdminSurfaceDeps } from './index.js';
import { type IfMatch, parseIfMatch, preconditionRequired } from './preconditions.js';

/** One call of an admin API operation, in plain values: who calls, as whom the core acts, what was sent. */
export interface ApiCall {
  caller: AdminCaller;
  /** The core's admin actions, every change audited with the caller as `actor`. */
  admin: Admin;
  deps: AdminSurfaceDeps;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  ifMatch: IfMatch | null;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** How a documented response looks: a description, a body schema (a $ref or inline) and headers. */
export interface ResponseDoc {
  description: string;
  schema?: Schema;
  headers?: Record<string, string>;
}

/**
 * An operation of the admin API: how it is routed, checked and documented (openapi.ts builds the document from
 * these same definitions, so it lists exactly what is served), and what it does.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Under /admin/v1, Fastify style: `/clients/:client_id`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  params?: Record<string, string>;
  query?: Record<string, Schema>;
  body?: Schema;
  /** `required`: 428 without If-Match (RFC 6585 §3); `honoured`: evaluated when sent. */
  ifMatch?: 'required' | 'honoured';
  responses: Record<number, ResponseDoc>;
  handle(call: ApiCall): Promise<ApiAnswer>;
}

/** The caller of each request, decided before its body is read. */
const callers = new WeakMap<FastifyRequest, AdminCaller>();

/** Registers one operation: authentication first (onRequest: an unauthenticated body is never parsed). */
export function registerRoute(app: FastifyInstance, route: ApiRoute, deps: AdminSurfaceDeps): void {
  const { services } = deps;
  app.route({
    method: route.method,
    url: route.path,
    onRequest: async (request) => {
      const query = request.query as Record<string, unknown>;
      callers.set(
        request,
        await authenticate(
          { method: request.method, authorization: request.headers.authorization, queryToken: query.access_token },
          { bearer: services.bearer, store: services.store },
        ),
      );
    },
    handler: async (request, reply) => {
      const caller = callers.get(request)!;
      const params = request.params as Record<string, string>;
      // No id or name holds U+0000 (the input checks refuse it; PostgreSQL cannot store it): such a path names
      // nothing, whatever else the request holds.
      if (Object.values(params).some((p) => p.includes('\u0000'))) throw nothingHere();
      const query = checkQuery(request.query as Record<string, unknown>, object(route.query ?? {}));
      const body = checkBody(request.body, route.body ?? object({}));
      const ifMatch = route.ifMatch ? parseIfMatch(request.headers['if-match']) : null;
      if (route.ifMatch === 'required' && ifMatch === null) throw preconditionRequired();
      const answer = await route.handle({
        caller,
        admin: services.adminAs(caller.actor),
        deps,
        params,
        query,
        body,
        ifMatch,
      });
      reply.code(answer.status).headers(answer.headers ?? {});
      if (answer.body === undefined) return reply.send();
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
    },
  });
}

const nothingHere = () =>
  new ApiError(404, { error: 'not_found', error_description: 'There is nothing at this address.' });

import type { FastifyInstance } from 'fastify';
import type { Store } from '../../core/ports.js';

/** How long /readyz waits for the database before it says unavailable. */
const READY_TIMEOUT_MS = 2000;

/**
 * `GET /healthz`: process liveness; `GET /readyz`: can this instance serve tokens now (the database
 * answers)? Both outside OAUTHD_BASE_PATH, for load balancers and orchestrators.
 */
export function healthRoutes(app: FastifyInstance, store: Store): void {
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'readyz',
        summary: 'Readiness',
        description: `Answers 200 when the store answers a trivial query within ${READY_TIMEOUT_MS} ms, else 503. Take an instance out of the load balancer while it answers 503; it comes back by itself when the database does.`,
        response: {
          200: { description: 'Ready.', type: 'object', properties: { status: { type: 'string', enum: ['ready'] }, database: { type: 'string', enum: ['up'] } } },
          503: { description: 'The database does not answer.', type: 'object', properties: { status: { type: 'string', enum: ['unavailable'] }, database: { type: 'string', enum: ['down'] } } },
        },
      },
    },
    async (_request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS)));
      try {
        await Promise.race([store.ping(), timeout]);
        return reply.header('Cache-Control', 'no-store').send({ status: 'ready', database: 'up' });
      } catch {
        return reply.code(503).header('Cache-Control', 'no-store').header('Retry-After', '1').send({ status: 'unavailable', database: 'down' });
      } finally {
        clearTimeout(timer);
      }
    },
  );
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'healthz',
        summary: 'Liveness',
        description: 'Answers 200 while the process serves HTTP. It does not query the store. Always at `/healthz`, whatever OAUTHD_BASE_PATH.',
        response: {
          200: {
            description: 'The process is up.',
            type: 'object',
            properties: { status: { type: 'string', enum: ['ok'] } },
            required: ['status'],
            additionalProperties: false,
          },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );
}

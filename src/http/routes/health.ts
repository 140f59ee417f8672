import type { FastifyInstance } from 'fastify';
import type { StoreMaintenance } from '../../core/ports.js';

/** How long /readyz waits for the database before it says unavailable. */
export const READY_TIMEOUT_MS = 2000;

/** What a readiness probe of the store found: for the admin listener's detail. */
export interface StoreProbe {
  up: boolean;
  /** How long the store took to answer, or to be given up on. */
  latencyMs: number;
  /** Why it is down: `timeout`, or the store's own one-line message (no secret: URLs are redacted). */
  error?: string;
}

/** Pings the store, giving up after READY_TIMEOUT_MS. Never throws. */
export async function probeStore(store: Pick<StoreMaintenance, 'ping'>): Promise<StoreProbe> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS)),
  );
  const latencyMs = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    await Promise.race([store.ping(), timeout]);
    return { up: true, latencyMs: latencyMs() };
  } catch (error) {
    return {
      up: false,
      latencyMs: latencyMs(),
      error: String((error as Error)?.message ?? error)
        .split('\n')[0]!
        .slice(0, 200),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz`: process liveness; `GET /readyz`: can this instance serve tokens now (the database
 * answers)? Both outside OAUTHD_BASE_PATH, for load balancers and orchestrators. The public /readyz says
 * only ready or not; the detail (database, latency, why) is on the admin listener (src/admin/app.ts).
 */
export function healthRoutes(app: FastifyInstance, store: Pick<StoreMaintenance, 'ping'>): void {
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'readyz',
        summary: 'Readiness',
        description:
          `Answers 200 when the store answers a trivial query within ${READY_TIMEOUT_MS} ms, else 503. Take an ` +
          `instance out of the load balancer while it answers 503; it comes back by itself when the database ` +
          `does. The body holds the status only; the admin listener's /readyz says why.`,
        response: {
          200: {
            description: 'Ready.',
            type: 'object',
            properties: { status: { type: 'string', enum: ['ready'] } },
            required: ['status'],
            additionalProperties: false,
          },
          503: {
            description: 'The database does not answer.',
            type: 'object',
            properties: { status: { type: 'string', enum: ['unavailable'] } },
            required: ['status'],
            additionalProperties: false,
          },
        },
      },
    },
    async (_request, reply) => {
      const probe = await probeStore(store);
      reply.header('Cache-Control', 'no-store');
      if (probe.up) return reply.send({ status: 'ready' });
      return reply.code(503).header('Retry-After', '1').send({ status: 'unavailable' });
    },
  );
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'healthz',
        summary: 'Liveness',
        description:
          'Answers 200 while the process serves HTTP. It does not query the store. Always at `/healthz`, ' +
          'whatever OAUTHD_BASE_PATH.',
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

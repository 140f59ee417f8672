import type { FastifyInstance } from 'fastify';

/** `GET /healthz`: process liveness, outside OAUTHD_BASE_PATH (for load balancers and orchestrators). */
export function healthRoutes(app: FastifyInstance): void {
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

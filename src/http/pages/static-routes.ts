import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PageContext } from './context.js';
import { STYLESHEET } from './stylesheet.js';

/** A short content hash: the `?v=` of a static URL and its ETag. */
export const contentVersion = (bytes: string | Buffer): string =>
  createHash('sha256').update(bytes).digest('base64url').slice(0, 12);

/**
 * `{BASE_PATH}/o/static/oauthd.css` and `/o/static/logo`: the pages link them with `?v=<content hash>`, so a
 * year of caching is safe (a new version is a new URL); the ETag answers revalidation with 304.
 */
export function staticRoutes(app: FastifyInstance, context: PageContext): void {
  const serve = (body: string | Buffer, contentType: string) => {
    const etag = `"${contentVersion(body)}"`;
    return async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      reply.header('ETag', etag);
      reply.header('X-Content-Type-Options', 'nosniff');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.code(200).type(contentType).send(body);
    };
  };
  app.get('/static/oauthd.css', { schema: { hide: true } }, serve(STYLESHEET, 'text/css; charset=utf-8'));
  const { logo } = context.options;
  if (logo !== null) {
    // An SVG opened directly runs no script: the Content-Security-Policy of the pages applies to it too.
    app.get('/static/logo', { schema: { hide: true } }, serve(logo.bytes, logo.contentType));
  }
}

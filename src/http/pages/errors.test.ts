import fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AuthorizationFlow, DeviceFlow, SignIn } from '../../core/authorize/api.js';
import { StoreUnavailableError } from '../../core/ports.js';
import { pageContextOf, pageRoutes, sendUnavailablePage } from './plugin.js';

/** The page plugin over a flow whose check fails as given: how each failure reaches the person. */
async function appFailingWith(error: unknown, options: { closing?: boolean } = {}) {
  const failing = async () => {
    throw error;
  };
  const app = fastify();
  // As app.ts answers requests that arrive during shutdown: before any route runs.
  app.addHook('onRequest', (request, reply, done) => {
    if (options.closing && request.routeOptions.config?.page) return void sendUnavailablePage(context, reply);
    done();
  });
  const context = pageContextOf({
    basePath: '/auth',
    issuer: null,
    authorizationFlow: { check: failing } as unknown as AuthorizationFlow,
    signIn: { session: failing } as unknown as SignIn,
    deviceFlow: { lookup: failing, decide: failing } as unknown as DeviceFlow,
    sessionTtlSeconds: 60,
    productName: 'oauthd',
    logo: null,
    scopeDescriptions: {},
    maxBodyBytes: 1024,
  });
  await app.register(pageRoutes, { prefix: '/auth/o', context });
  return app;
}

describe('failures on the pages', () => {
  it('answers an unavailable store with a 503 page and Retry-After, never JSON', async () => {
    const app = await appFailingWith(new StoreUnavailableError('database is locked'));
    const response = await app.inject({ url: '/auth/o/authorize/?client_id=a' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("form-action 'self';");
    expect(response.body).toContain('<code>temporarily_unavailable</code>');
    expect(response.body).not.toContain('database is locked');
  });

  it('marks every page route, so a request arriving during shutdown gets a 503 page', async () => {
    const app = await appFailingWith(new Error('not reached'), { closing: true });
    for (const url of ['/auth/o/authorize/', '/auth/o/logout/', '/auth/o/device/', '/auth/o/static/oauthd.css']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(503);
      expect(response.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('Try again in a moment');
    }
  });

  it('answers an unexpected failure with a 500 page that says nothing of it', async () => {
    const app = await appFailingWith(new Error('secret internals at /src/x.ts:1'));
    const response = await app.inject({
      url: '/auth/o/logout/',
      headers: { cookie: `oauthd_session=${'a'.repeat(43)}` },
    });
    expect(response.statusCode).toBe(500);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('<h1>Something went wrong</h1>');
    expect(response.body).not.toMatch(/secret internals|x\.ts/);
  });
});

import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { BearerValidator } from '../core/bearer.js';
import { guardResource, queryTokenOf, type ResourceOptions } from '../core/protected-resource.js';
import type { Principal } from '../core/types.js';
import { refusalFor } from '../core/bearer-challenge.js';
import { kitRefusalOf, type KitRefusal } from './challenge.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The principal of the request's access token, set by requireToken. */
    oauth: Principal | null;
  }
  interface FastifyInstance {
    /** A preHandler that admits only requests with a valid access token carrying `scopes`. */
    requireToken(options?: ResourceOptions): preHandlerAsyncHookHandler;
  }
}

export interface KitOptions {
  verifier: BearerValidator;
  /** The realm of WWW-Authenticate challenges. Default "api". */
  realm?: string;
  /** Hears every refused request with its private reason (e.g. to log or count it); never the token. */
  onError?: (refusal: KitRefusal, request: FastifyRequest) => void;
}

/**
 * A preHandler guarding a route with RFC 6750: 401 without or with a bad token, 403 insufficient_scope
 * with the required `scope` in the challenge, 400 for a token in the URL (unless allowed).
 */
export function requireToken(kit: KitOptions, options: ResourceOptions = {}): preHandlerAsyncHookHandler {
  const realm = kit.realm ?? 'api';
  return async function requireTokenHook(request: FastifyRequest, reply: FastifyReply) {
    const query = request.query as Record<string, unknown> | undefined;
    const queryToken = queryTokenOf(query?.access_token);
    const decision = await guardResource(
      { authorization: request.headers.authorization, queryToken },
      kit.verifier,
      options,
    );
    if (decision.kind === 'ok') {
      request.oauth = decision.principal;
      return;
    }
    const refusal = refusalFor(decision, realm);
    kit.onError?.(kitRefusalOf(decision, refusal), request);
    await reply
      .code(refusal.status)
      .headers(refusal.headers)
      .type('application/json; charset=utf-8')
      .send(refusal.body);
  };
}

/** Registers `app.requireToken(options)` and `request.oauth` on a Fastify app (and its children). */
export const oauthdKit = fp<KitOptions>(
  async (app: FastifyInstance, kit: KitOptions) => {
    app.decorateRequest('oauth', null);
    app.decorate('requireToken', (options?: ResourceOptions) => requireToken(kit, options));
  },
  { name: 'oauthd-kit', fastify: '5.x' },
);

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerValidator } from '../core/bearer.js';
import { guardResource, type ResourceOptions } from '../core/protected-resource.js';
import type { Principal } from '../core/types.js';
import { refusalFor } from '../core/bearer-challenge.js';
import { kitRefusalOf, type KitRefusal } from './challenge.js';

/** The request as Express and Connect hand it over; `oauth` is set for admitted requests. */
export type KitRequest = IncomingMessage & { oauth?: Principal; originalUrl?: string };
export type NextFunction = (error?: unknown) => void;

export interface ExpressKitOptions extends ResourceOptions {
  verifier: BearerValidator;
  /** The realm of WWW-Authenticate challenges. Default "api". */
  realm?: string;
  /** Hears every refused request with its private reason (e.g. to log or count it); never the token. */
  onError?: (refusal: KitRefusal, request: KitRequest) => void;
}

/**
 * Express/Connect middleware guarding the routes after it with RFC 6750 (see requireToken for Fastify):
 * `app.get('/payouts', requireTokenMiddleware({ verifier, scopes: ['payouts'] }), handler)`.
 */
export function requireTokenMiddleware(options: ExpressKitOptions) {
  const realm = options.realm ?? 'api';
  return (request: KitRequest, response: ServerResponse, next: NextFunction): void => {
    const url = new URL(request.originalUrl ?? request.url ?? '/', 'http://localhost');
    const all = url.searchParams.getAll('access_token');
    const queryToken = all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
    guardResource({ authorization: request.headers.authorization, queryToken }, options.verifier, options).then(
      (decision) => {
        if (decision.kind === 'ok') {
          request.oauth = decision.principal;
          next();
          return;
        }
        const refusal = refusalFor(decision, realm);
        options.onError?.(kitRefusalOf(decision, refusal), request);
        response.writeHead(refusal.status, { ...refusal.headers, 'Content-Type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(refusal.body));
      },
      next,
    );
  };
}

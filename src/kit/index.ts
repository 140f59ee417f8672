/**
 * The resource-server kit: protect an API with oauthd's access tokens.
 *
 * ```ts
 * import { oauthdKit, createIntrospectionVerifier } from 'oauthd/kit';
 * const verifier = createIntrospectionVerifier({ introspectionUrl, clientId, clientSecret });
 * await app.register(oauthdKit, { verifier });
 * app.get('/payouts', { preHandler: app.requireToken({ scopes: ['payouts'] }) }, (req) => req.oauth);
 * ```
 *
 * It loads no database driver and no native module: the database verifier is `oauthd/kit/database`.
 */
export { oauthdKit, requireToken, type KitOptions } from './fastify.js';
export { requireTokenMiddleware, type ExpressKitOptions, type KitRequest } from './express.js';
export {
  createIntrospectionVerifier,
  type TokenVerifier,
  type IntrospectionVerifierOptions,
  type KitLogger,
} from './verifiers.js';
export { cachedVerifier, type CacheOptions } from './cache.js';
export { refusalFor, type Refusal } from '../core/bearer-challenge.js';
export type { KitRefusal } from './challenge.js';
export { guardResource, type ResourceOptions, type ResourceDecision } from '../core/protected-resource.js';
export type { BearerValidator } from '../core/bearer.js';
export type { Principal } from '../core/types.js';

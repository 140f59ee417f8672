/**
 * `oauthd/kit/database`: the kit's database verifier, apart from `oauthd/kit` because it opens a store, and so
 * loads the SQLite or PostgreSQL driver; an API that only introspects never loads either.
 *
 * ```ts
 * import { createDatabaseVerifier } from 'oauthd/kit/database';
 * const verifier = createDatabaseVerifier({ databaseUrl: process.env.OAUTHD_DATABASE_URL, maxStalenessMs: 5000 });
 * ```
 */
import { systemClock } from '../clock.js';
import { createBearerValidator } from '../core/bearer.js';
import { openStore } from '../store/store.js';
import { cachedVerifier, type CacheOptions } from './cache.js';
import type { TokenVerifier } from './verifiers.js';

/**
 * Validates tokens against oauthd's own database (the same `OAUTHD_DATABASE_URL`), in process: one index
 * probe per token, cached within the staleness bound.
 */
export function createDatabaseVerifier(options: { databaseUrl: string } & CacheOptions): TokenVerifier {
  const store = openStore(options.databaseUrl);
  const verifier = cachedVerifier(createBearerValidator({ store, clock: systemClock }), options);
  return { validate: (token) => verifier.validate(token), close: () => store.close() };
}

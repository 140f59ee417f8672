import type { BearerValidator } from '../core/bearer.js';
import { OAuthError, invalidToken, temporarilyUnavailable } from '../core/errors.js';
import type { Principal } from '../core/types.js';
import { cachedVerifier, type CacheOptions } from './cache.js';

/** A verifier that can be closed (it may hold a database connection). */
export interface TokenVerifier extends BearerValidator {
  close(): Promise<void>;
}

export interface IntrospectionVerifierOptions extends CacheOptions {
  /** e.g. https://auth.example.com/o/introspect/ */
  introspectionUrl: string;
  /** Credentials of a client created with `--introspect` (a resource server, so it may see every token). */
  clientId: string;
  clientSecret: string;
  /** Give up on the introspection call after this long (then 503). Default 3000 ms. */
  timeoutMs?: number;
  /**
   * Where an outage of the introspection endpoint is reported: one `warn` when it starts, with its reason,
   * and one `info` when it ends, however many requests were answered 503 meanwhile. Default: the console.
   * A pino or Fastify logger fits.
   */
  logger?: KitLogger;
}

/** The part of a logger the kit uses (console, pino and Fastify's `app.log` all fit). */
export interface KitLogger {
  warn(message: string): void;
  info(message: string): void;
}

/**
 * Validates tokens by RFC 7662 introspection of a remote oauthd, cached within the staleness bound.
 * An unreachable or failing oauthd yields temporarily_unavailable (503), never a false "valid".
 */
export function createIntrospectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  // RFC 6749 §2.3.1: form-urlencode, then Base64.
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;
  const logger = options.logger ?? console;
  // The reason of the outage in progress, or null: reported once when it starts and once when it ends.
  let outage: string | null = null;
  const unavailable = (reason: string): OAuthError => {
    if (outage === null) {
      logger.warn(
        `oauthd kit: introspection at ${options.introspectionUrl} failed (${reason}); answering 503 until it ` +
          `answers again`,
      );
    }
    outage = reason;
    return temporarilyUnavailable(reason);
  };
  const remote: BearerValidator = {
    async validate(token) {
      let response: Response;
      try {
        response = await fetch(options.introspectionUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, accept: 'application/json' },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
          signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        throw unavailable(`introspection unreachable: ${(error as Error).name}${cause ? ` ${cause}` : ''}`);
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw unavailable(`introspection answered ${response.status}`);
      }
      const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
      if (body === null) throw unavailable('introspection answered something other than JSON');
      if (outage !== null) {
        outage = null;
        logger.info(`oauthd kit: introspection at ${options.introspectionUrl} answers again`);
      }
      if (body?.active !== true) throw invalidToken('The access token is invalid, expired or revoked.');
      // Only an access token is a bearer credential (RFC 6750 §1.2): a refresh token is for the token endpoint
      // alone, with the client's credentials (RFC 6749 §1.5, §10.4). oauthd says which kind it is in
      // `token_use` (absent from older oauthd versions) and gives only access tokens a `token_type` (RFC 7662 §2.2):
      // token_type must be Bearer, and token_use, when present, access_token.
      const tokenUse = body.token_use;
      // RFC 6749 §5.1: case-insensitive.
      const tokenType = typeof body.token_type === 'string' ? body.token_type.toLowerCase() : undefined;
      if ((tokenUse !== undefined && tokenUse !== 'access_token') || tokenType !== 'bearer') {
        throw new OAuthError(
          'invalid_token',
          'The access token is invalid, expired or revoked.',
          `introspection: not an access token (${String(tokenUse ?? tokenType ?? 'no token_type')})`,
        );
      }
      const principal: Principal = {
        clientId: String(body.client_id ?? ''),
        // A client_credentials token (RFC 6749 §4.4) has no user: introspection leaves out sub and username.
        userId: body.sub === undefined ? null : Number(body.sub),
        username: body.sub === undefined ? null : String(body.username ?? ''),
        scope: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
        grantId: '',
        issuedAt: Number(body.iat ?? 0),
        expiresAt: Number(body.exp ?? 0),
      };
      if (!Number.isFinite(principal.expiresAt) || principal.expiresAt <= 0) {
        throw new OAuthError(
          'invalid_token',
          'The access token is invalid, expired or revoked.',
          'introspection without exp',
        );
      }
      return principal;
    },
  };
  const verifier = cachedVerifier(remote, options);
  return { validate: (token) => verifier.validate(token), close: async () => {} };
}

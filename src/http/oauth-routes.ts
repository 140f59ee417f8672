import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest } from '../core/errors.js';
import type { ParamPairs } from '../core/params.js';
import type { BearerValidator } from '../core/bearer.js';
import type { TokenEndpoint } from '../core/token-endpoint.js';
import { parseFormBody, parseJsonBody } from './body.js';
import { parseBasicAuthorization, parseBearerAuthorization } from './credentials.js';
import { sendOAuthError } from './error-handler.js';

export interface OAuthRoutesOptions {
  tokenEndpoint: TokenEndpoint;
  bearer: BearerValidator;
  realm: string;
  maxBodyBytes: number;
}

/** Parameters the token endpoint reads: none of them may travel in the URL (RFC 6749 §2.3.1, §3.2). */
const TOKEN_PARAMS = ['grant_type', 'client_id', 'client_secret', 'username', 'password', 'refresh_token', 'scope'];

/**
 * The OAuth endpoints under `{BASE_PATH}/o`, as an encapsulated plugin: its own body parsers (form and
 * JSON only, size-capped), `no-store` on every response, and RFC-shaped errors for everything.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthRoutesOptions): Promise<void> {
  const { tokenEndpoint, bearer, realm, maxBodyBytes } = options;

  app.removeAllContentTypeParsers();
  const parser = (parse: (body: string) => ParamPairs) =>
    (_request: FastifyRequest, body: string, done: (err: Error | null, body?: ParamPairs) => void) => {
      try {
        done(null, parse(body));
      } catch (error) {
        done(error as Error);
      }
    };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: maxBodyBytes }, parser(parseFormBody));
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: maxBodyBytes }, parser(parseJsonBody));

  // RFC 6749 §5.1 (and RFC 6750 for protected resources): responses carrying tokens or credentials
  // MUST NOT be cached. Applied to every response of these routes, errors included.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Cache-Control', 'no-store');
    reply.header('Pragma', 'no-cache');
    return payload;
  });

  const methodNotAllowed = (allow: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('Allow', allow);
    return sendOAuthError(reply, invalidRequest(`Use ${allow} for this endpoint.`), {
      realm,
      challenge: request.routeOptions.config?.challenge,
      status: 405,
    });
  };

  // RFC 6749 §3.2: the token endpoint takes POST only.
  app.post('/token/', { config: { challenge: 'basic' } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (TOKEN_PARAMS.some((name) => name in query)) {
      throw invalidRequest('Send the parameters in the request body, not in the URL.');
    }
    const response = await tokenEndpoint.handle({
      params: (request.body as ParamPairs | undefined) ?? [],
      basic: parseBasicAuthorization(request.headers.authorization),
    });
    return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(response));
  });
  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/token/', config: { challenge: 'basic' }, handler: methodNotAllowed('POST') });

  // A protected resource (RFC 6750): who the bearer token speaks for.
  app.get('/userinfo/', { config: { challenge: 'bearer' } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    // RFC 9700 §2.5 / RFC 6750 §2.3: no access tokens in URLs (they end up in logs and Referer headers).
    if ('access_token' in query) {
      throw invalidRequest('Send the access token in the Authorization header, not in the URL.');
    }
    const token = parseBearerAuthorization(request.headers.authorization);
    if (token === null) {
      // RFC 6750 §3.1: no authentication information → a bare challenge, no error code in it.
      return reply
        .code(401)
        .header('WWW-Authenticate', `Bearer realm="${realm}"`)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: 'invalid_token', error_description: 'Authentication required: send Authorization: Bearer <access token>.' }));
    }
    const principal = await bearer.validate(token);
    return reply.type('application/json; charset=utf-8').send(
      JSON.stringify({
        sub: String(principal.userId),
        username: principal.username,
        client_id: principal.clientId,
        scope: principal.scope.join(' '),
        iat: principal.issuedAt,
        exp: principal.expiresAt,
      }),
    );
  });
  app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url: '/userinfo/', config: { challenge: 'bearer' }, handler: methodNotAllowed('GET') });
}

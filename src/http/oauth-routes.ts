import type { FastifyInstance } from 'fastify';
import type { DeviceFlow } from '../core/authorize/api.js';
import type { BearerValidator } from '../core/bearer.js';
import type { IntrospectionEndpoint } from '../core/introspection.js';
import type { RevocationEndpoint } from '../core/revocation.js';
import type { TokenEndpoint } from '../core/token-endpoint.js';
import { parseFormBody, parseJsonBody, strictBodyParser } from './body.js';
import { deviceAuthorizationRoutes } from './routes/device-authorization.js';
import { gatewayRoutes } from './routes/gateway.js';
import { introspectRoutes } from './routes/introspect.js';
import { revokeRoutes } from './routes/revoke.js';
import { documentOnly } from './routes/schemas.js';
import { tokenRoutes } from './routes/token.js';
import { userinfoRoutes } from './routes/userinfo.js';

export interface OAuthRoutesOptions {
  tokenEndpoint: TokenEndpoint;
  revocation: RevocationEndpoint;
  introspection: IntrospectionEndpoint;
  bearer: BearerValidator;
  deviceFlow: DeviceFlow;
  realm: string;
  maxBodyBytes: number;
  /** OAUTHD_ISSUER (null: derived per request) and OAUTHD_BASE_PATH, for the device flow's verification URI. */
  issuer: string | null;
  basePath: string;
}

/**
 * The OAuth endpoints under `{BASE_PATH}/o`, as an encapsulated plugin: its own body parsers (form and
 * JSON only, size-capped), `no-store` on every response, and RFC-shaped errors for everything.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthRoutesOptions): Promise<void> {
  const { realm, maxBodyBytes } = options;

  // The route schemas feed the OpenAPI document only. The core validates (RFC 6749 §3.2: repeats are an
  // error, empty values count as omitted, and the body arrives as [name, value] pairs, not an object),
  // and the routes send JSON strings they built, whose key order a serializer must not touch.
  app.setValidatorCompiler(documentOnly.validatorCompiler);
  app.setSerializerCompiler(documentOnly.serializerCompiler);

  app.removeAllContentTypeParsers();
  // Bodies arrive as bytes and are decoded strictly (http/body.ts strictBodyParser).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    strictBodyParser(parseFormBody),
  );
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    strictBodyParser(parseJsonBody),
  );

  // RFC 6749 §5.1 (and RFC 6750 for protected resources): responses carrying tokens or credentials
  // MUST NOT be cached. Applied to every response of these routes, errors included.
  // (Callback-style hooks here and in app.ts: an async hook costs a promise and a microtask per request.)
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('Cache-Control', 'no-store');
    reply.header('Pragma', 'no-cache');
    done(null, payload);
  });

  tokenRoutes(app, options.tokenEndpoint, realm);
  deviceAuthorizationRoutes(app, options.deviceFlow, { realm, issuer: options.issuer, basePath: options.basePath });
  revokeRoutes(app, options.revocation, realm);
  introspectRoutes(app, options.introspection, realm);
  userinfoRoutes(app, options.bearer, realm);
  gatewayRoutes(app, options.bearer, realm);
}

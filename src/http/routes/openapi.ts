import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { SHARED_SCHEMAS } from './schemas.js';

/** package.json's version (src/http/routes and dist/http/routes are both three levels below it). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The document's sections, in the order a reader meets them. */
const TAGS = [
  { name: 'token', description: 'RFC 6749: issue and refresh tokens.' },
  { name: 'revocation', description: 'RFC 7009: revoke a token and its grant.' },
  { name: 'introspection', description: 'RFC 7662: is a token active, and for whom.' },
  { name: 'resource', description: 'RFC 6750: resources protected by a bearer token.' },
  {
    name: 'gateway',
    description: 'Auth subrequests of reverse proxies (nginx auth_request, Traefik forwardAuth, Envoy ext_authz).',
  },
  {
    name: 'authorization',
    description: 'RFC 6749 §4.1: the authorization endpoint and the pages people see (HTML, not JSON).',
  },
  {
    name: 'device',
    description: 'RFC 8628: the device authorization endpoint (JSON) and the verification page people see (HTML).',
  },
  { name: 'metadata', description: 'RFC 8414: authorization server metadata.' },
  { name: 'operations', description: 'Health.' },
];

/**
 * Registers @fastify/swagger, which collects every route registered AFTER it (onRoute hook) and builds
 * the OpenAPI 3 document from the route schemas at the first `app.swagger()` call. Call it before any
 * route. The paths are absolute (they carry OAUTHD_BASE_PATH as the routes do, and `/healthz` and the
 * RFC 8414 §3 well-known path sit outside it), so the one server is the origin the document came from.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  options: { issuer: string | null } = { issuer: null },
): Promise<void> {
  // The paths carry OAUTHD_BASE_PATH and the RFC 8414 locations sit at the root, so the server entry is the
  // issuer's origin: an imported document (Postman, Swagger UI) then points at the real server.
  const servers = options.issuer
    ? [
        {
          url: new URL(options.issuer).origin,
          description: 'This server (from OAUTHD_ISSUER); the paths include OAUTHD_BASE_PATH.',
        },
      ]
    : [{ url: '/', description: 'The origin this document was fetched from; the paths include OAUTHD_BASE_PATH.' }];
  await app.register(fastifySwagger, {
    mode: 'dynamic',
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'oauthd',
        version: packageVersion(),
        description:
          'OAuth 2.0 authorization server: the authorization endpoint and its sign-in pages (RFC 6749 §4.1 ' +
          'with PKCE, RFC 7636), the device authorization grant and its verification page (RFC 8628), the ' +
          'token endpoint (RFC 6749: password, client_credentials, refresh_token, authorization_code and ' +
          'device_code grants), ' +
          'revocation (RFC 7009), introspection (RFC 7662), a bearer-protected userinfo resource (RFC 6750), ' +
          'an auth gateway for reverse proxies, and authorization server metadata (RFC 8414). Generated from ' +
          'the route schemas, which document and never validate: the server checks requests itself (RFC 6749 ' +
          '§3.2).',
        license: { name: 'MIT' },
      },
      servers,
      tags: TAGS,
      components: {
        securitySchemes: {
          client_secret_basic: {
            type: 'http',
            scheme: 'basic',
            description:
              'RFC 6749 §2.3.1: `Authorization: Basic base64(client_id:client_secret)`. The id and secret are ' +
              'form-urlencoded before Base64; the raw secret is accepted too (curl -u, HTTPie). Alternatively ' +
              'client_id and client_secret in the body (client_secret_post), or client_id alone for a public ' +
              'client.',
          },
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'RFC 6750 §2.1: `Authorization: Bearer <access token>` from the token endpoint. Never in the URL.',
          },
        },
      },
    },
    // Components are named after the schemas' $id (OAuthError, TokenResponse…), not def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
}

/**
 * `GET {BASE_PATH}/o/openapi.json`: the generated document (RFC 8414 `service_documentation` points here).
 * Hidden from the document itself. Built once, on the first request, when every route is known.
 */
export function openapiRoutes(app: FastifyInstance, basePath: string): void {
  let document: string | undefined;
  app.get(`${basePath}/o/openapi.json`, { schema: { hide: true } }, async (_request, reply) => {
    document ??= JSON.stringify(app.swagger());
    reply.header('Cache-Control', 'public, max-age=300');
    return reply.code(200).type('application/json; charset=utf-8').send(document);
  });
}

/**
 * The OpenAPI 3 document generated from the route schemas, served at `{BASE_PATH}/o/openapi.json`, over
 * real HTTP. OpenAPI 3.0.3 (structure, checked by @apidevtools/swagger-parser); RFC 8414 §2
 * (`service_documentation` points at it); RFC 6749 §5.1 (the token response, whose bytes the schemas
 * must not change); RFC 6749 §3.2 (the core, not the schemas, validates requests).
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED, basic, postToken, seedSpecSample, startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>;

let plain: TestServer;
let prefixed: TestServer;

beforeAll(async () => {
  [plain, prefixed] = await Promise.all([
    startTestServer(),
    startTestServer({ OAUTHD_BASE_PATH: '/api/secure', OAUTHD_SCOPES: 'read write introspection' }),
  ]);
  await Promise.all([seedSpecSample(plain), seedSpecSample(prefixed)]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), prefixed?.stop()]);
});

async function fetchDocument(server: TestServer): Promise<{ response: Response; document: Json }> {
  const response = await fetch(`${server.oauthUrl}/openapi.json`);
  return { response, document: (await response.json()) as Json };
}

/** `{ $ref: '#/components/schemas/X' }` → the component, anything else as is. */
function resolve(document: Json, schema: Json): Json {
  const ref = schema.$ref as string | undefined;
  if (ref === undefined) return schema;
  expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
  const target = document.components.schemas[ref.slice('#/components/schemas/'.length)] as Json | undefined;
  expect(target, ref).toBeDefined();
  return target!;
}

const methodsOf = (pathItem: Json) =>
  Object.keys(pathItem)
    .filter((k) => ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'].includes(k))
    .sort();

describe('the document', () => {
  it('is served as JSON at /o/openapi.json and is OpenAPI 3.0 titled oauthd with the package version', async () => {
    const { response, document } = await fetchDocument(plain);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(document.openapi).toMatch(/^3\.0\.\d+$/);
    expect(document.info.title).toBe('oauthd');
    expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('passes structural validation by swagger-parser, with and without a base path', async () => {
    for (const server of [plain, prefixed]) {
      const { document } = await fetchDocument(server);
      await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    }
  });

  it('lists every endpoint with exactly the methods it serves, and hides the 405 routes and itself', async () => {
    const { document } = await fetchDocument(plain);
    const paths = Object.fromEntries(
      Object.entries(document.paths as Json).map(([path, item]) => [path, methodsOf(item as Json)]),
    );
    expect(paths).toEqual({
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/.well-known/oauth-authorization-server': ['get'],
      '/o/token/': ['post'],
      '/o/device-authorization/': ['post'],
      '/o/revoke_token/': ['post'],
      '/o/introspect/': ['post'],
      '/o/userinfo/': ['get'],
      '/o/auth/{path}': ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'],
      '/o/authorize/': ['get', 'post'],
      '/o/logout/': ['get', 'post'],
      '/o/device/': ['get', 'post'],
    });
  });

  it(
    'names the public origin of OAUTHD_ISSUER as its server, so ' + 'an imported document points at the real server',
    async () => {
      const issued = await startTestServer({
        OAUTHD_BASE_PATH: '/api/secure',
        OAUTHD_ISSUER: 'https://auth.example.com/api/secure',
      });
      try {
        const { document } = await fetchDocument(issued);
        expect(document.servers).toEqual([expect.objectContaining({ url: 'https://auth.example.com' })]);
        expect(Object.keys(document.paths)).toContain('/api/secure/o/token/');
      } finally {
        await issued.stop();
      }
    },
  );

  it('puts OAUTHD_BASE_PATH in the paths, keeps /healthz at the root and serves both RFC 8414 locations', async () => {
    const { document } = await fetchDocument(prefixed);
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/.well-known/oauth-authorization-server/api/secure',
        '/api/secure/.well-known/oauth-authorization-server',
        '/api/secure/o/auth/{path}',
        '/api/secure/o/authorize/',
        '/api/secure/o/logout/',
        '/api/secure/o/device/',
        '/api/secure/o/device-authorization/',
        '/api/secure/o/introspect/',
        '/api/secure/o/revoke_token/',
        '/api/secure/o/token/',
        '/api/secure/o/userinfo/',
        '/healthz',
        '/readyz',
      ].sort(),
    );
    expect((await fetch(`${prefixed.url}/o/openapi.json`)).status).toBe(404);
  });

  it('documents only operations the server really serves (no 404 for any documented path and method)', async () => {
    for (const server of [plain, prefixed]) {
      const { document } = await fetchDocument(server);
      for (const [path, item] of Object.entries(document.paths as Json)) {
        for (const method of methodsOf(item as Json)) {
          const response = await fetch(`${server.url}${path.replace('{path}', 'upstream/resource')}`, {
            method: method.toUpperCase(),
          });
          expect(response.status, `${method.toUpperCase()} ${path}`).not.toBe(404);
        }
      }
    }
  });

  it('is the service_documentation of the RFC 8414 metadata', async () => {
    const metadata = (await (
      await fetch(`${prefixed.url}/.well-known/oauth-authorization-server/api/secure`)
    ).json()) as Json;
    const response = await fetch(metadata.service_documentation as string);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json).openapi).toMatch(/^3\./);
  });
});

describe('the schemas', () => {
  it('describes the token response (RFC 6749 §5.1) with its five properties and expires_in an integer', async () => {
    const { document } = await fetchDocument(plain);
    const operation = document.paths['/o/token/'].post as Json;
    const schema = resolve(document, operation.responses['200'].content['application/json'].schema as Json);
    expect(Object.keys(schema.properties)).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(schema.properties.expires_in.type).toBe('integer');
    expect(schema.properties.token_type.enum).toEqual(['Bearer']);
    // RFC 6749 §4.4.3: the answer to client_credentials has no refresh token.
    expect(schema.required).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(operation.responses['200'].headers['Cache-Control'].schema.enum).toEqual(['no-store']);
  });

  it('takes the token request as a form or JSON body with every documented parameter', async () => {
    const { document } = await fetchDocument(plain);
    const body = document.paths['/o/token/'].post.requestBody as Json;
    expect(Object.keys(body.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
    const schema = resolve(document, body.content['application/x-www-form-urlencoded'].schema as Json);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'client_id',
        'client_secret',
        'code',
        'code_verifier',
        'device_code',
        'grant_type',
        'password',
        'redirect_uri',
        'refresh_token',
        'scope',
        'username',
      ].sort(),
    );
    expect(schema.properties.grant_type.enum).toEqual([
      'password',
      'client_credentials',
      'refresh_token',
      'authorization_code',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
  });

  it('gives every error response of the token endpoint the {error, error_description} shape', async () => {
    const { document } = await fetchDocument(plain);
    const responses = document.paths['/o/token/'].post.responses as Json;
    for (const status of ['400', '401', '405', '413']) {
      const schema = resolve(document, responses[status].content['application/json'].schema as Json);
      expect(schema.required, status).toEqual(['error', 'error_description']);
    }
    expect(responses['401'].headers['WWW-Authenticate']).toBeDefined();
    expect(responses['405'].headers.Allow).toBeDefined();
  });

  it('declares the HTTP Basic and bearer security schemes and uses them per endpoint', async () => {
    const { document } = await fetchDocument(plain);
    expect(document.components.securitySchemes).toMatchObject({
      client_secret_basic: { type: 'http', scheme: 'basic' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    const security = (path: string, method: string) => document.paths[path][method].security as Json[];
    expect(security('/o/token/', 'post')).toContainEqual({ client_secret_basic: [] });
    expect(security('/o/revoke_token/', 'post')).toContainEqual({ client_secret_basic: [] });
    expect(security('/o/introspect/', 'post')).toEqual(
      expect.arrayContaining([{ client_secret_basic: [] }, { bearer: [] }]),
    );
    expect(security('/o/userinfo/', 'get')).toEqual([{ bearer: [] }]);
    expect(security('/o/auth/{path}', 'get')).toEqual([{ bearer: [] }]);
  });

  it('describes the authorization endpoint and the logout page as HTML pages, never JSON', async () => {
    const { document } = await fetchDocument(plain);
    const authorize = document.paths['/o/authorize/'] as Json;
    expect(authorize.get.tags).toEqual(['authorization']);
    expect(Object.keys(authorize.get.responses['200'].content)).toEqual(['text/html']);
    expect(authorize.get.responses['302'].content).toBeUndefined();
    expect(authorize.get.responses['302'].headers.Location).toBeDefined();
    expect(Object.keys(authorize.post.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(Object.keys(authorize.post.responses).sort()).toEqual(['303', '400', '403', '413', '429', '503']);
    const logout = document.paths['/o/logout/'] as Json;
    expect(Object.keys(logout.post.responses['200'].content)).toEqual(['text/html']);
  });

  it('describes the device authorization endpoint as JSON and the device page as HTML (RFC 8628)', async () => {
    const { document } = await fetchDocument(plain);
    const endpoint = document.paths['/o/device-authorization/'].post as Json;
    expect(endpoint.tags).toEqual(['device']);
    expect(endpoint.security).toContainEqual({ client_secret_basic: [] });
    expect(Object.keys(endpoint.requestBody.content).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
    const answer = endpoint.responses['200'].content['application/json'].schema as Json;
    expect(Object.keys(answer.properties)).toEqual([
      'device_code',
      'user_code',
      'verification_uri',
      'verification_uri_complete',
      'expires_in',
      'interval',
    ]);
    for (const status of ['400', '401', '405']) {
      const schema = resolve(document, endpoint.responses[status].content['application/json'].schema as Json);
      expect(schema.required, status).toEqual(['error', 'error_description']);
    }
    const page = document.paths['/o/device/'] as Json;
    expect(Object.keys(page.get.responses['200'].content)).toEqual(['text/html']);
    expect(page.post.requestBody.content['application/x-www-form-urlencoded'].schema.properties.step.enum).toEqual([
      'login',
      'code',
      'decision',
    ]);
    expect(Object.keys(page.post.responses).sort()).toEqual(['200', '303', '400', '403', '413', '429', '503']);
  });

  it("describes both introspection shapes (RFC 7662 §2.2) and the gateway's X-Auth-* headers", async () => {
    const { document } = await fetchDocument(plain);
    const oneOf = document.paths['/o/introspect/'].post.responses['200'].content['application/json'].schema
      .oneOf as Json[];
    const shapes = oneOf.map((s) => resolve(document, s));
    expect(shapes.map((s) => s.properties.active.enum)).toEqual([[true], [false]]);
    expect(Object.keys(document.paths['/o/auth/{path}'].get.responses['200'].headers)).toEqual(
      expect.arrayContaining(['X-Auth-User', 'X-Auth-User-Id', 'X-Auth-Client-Id', 'X-Auth-Scope', 'X-Auth-Expires']),
    );
  });
});

describe('the schemas document and never change a request or a response', () => {
  it(
    'sends the token response byte for byte as before: ' + 'access_token, expires_in, refresh_token, scope, token_type',
    async () => {
      const response = await fetch(`${plain.oauthUrl}/token/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(SEED.clientId, SEED.clientSecret),
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: SEED.username,
          password: SEED.password,
        }).toString(),
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(
        new RegExp(
          String.raw`^\{"access_token":"[A-Za-z0-9_-]{44}","expires_in":3600,` +
            String.raw`"refresh_token":"[A-Za-z0-9_-]{44}","scope":"read write","token_type":"Bearer"\}$`,
        ),
      );
    },
  );

  it("sends an introspection answer in the core's key order, not the schema's", async () => {
    const login = await postToken(prefixed, {
      grant_type: 'password',
      username: SEED.username,
      password: SEED.password,
      client_id: SEED.clientId,
      client_secret: SEED.clientSecret,
    });
    const response = await fetch(`${prefixed.oauthUrl}/introspect/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(SEED.clientId, SEED.clientSecret),
      },
      body: `token=${login.json.access_token as string}`,
    });
    expect(await response.text()).toMatch(
      new RegExp(
        String.raw`^\{"active":true,"scope":"read write","client_id":"[^"]+","username":"[^"]+",` +
          String.raw`"token_type":"Bearer","token_use":"access_token","exp":\d+,"iat":\d+,"sub":"\d+"\}$`,
      ),
    );
  });

  it(
    'leaves validation to the core: a repeated parameter, a missing grant_type and a non-string JSON value get ' +
      "the core's own errors",
    async () => {
      const auth = { authorization: basic(SEED.clientId, SEED.clientSecret) };
      expect((await postToken(plain, 'grant_type=password&grant_type=password', auth)).json).toEqual({
        error: 'invalid_request',
        error_description: 'Duplicate grant_type parameter.',
      });
      expect((await postToken(plain, '', auth)).json).toEqual({
        error: 'invalid_request',
        error_description: 'Request is missing grant_type parameter.',
      });
      const json = await fetch(`${plain.oauthUrl}/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"grant_type":"password","username":1}',
      });
      expect(json.status).toBe(400);
      expect(await json.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Every parameter in the JSON request body must be a string.',
      });
    },
  );

  it('answers the healthz and metadata routes exactly as before', async () => {
    const health = await fetch(`${plain.url}/healthz`);
    expect(await health.text()).toBe('{"status":"ok"}');
    const metadata = await fetch(`${plain.url}/.well-known/oauth-authorization-server`);
    expect(Object.keys((await metadata.json()) as Json)[0]).toBe('issuer');
    expect(metadata.headers.get('cache-control')).toBe('public, max-age=300');
  });
});

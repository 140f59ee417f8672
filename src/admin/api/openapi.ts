import { readFileSync } from 'node:fs';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../core/admin-scopes.js';
import { ACTIVITY_SCHEMA, ACTIVITY_SERIES_SCHEMA } from './activity.js';
import { object, type Schema } from './input.js';
import type { ApiRoute, ResponseDoc } from './route.js';
import { VIEW_SCHEMAS } from './views.js';

/** Where the admin API lives on the admin listener. */
export const API_PREFIX = '/admin/v1';

function packageVersion(): string {
  try {
    // src/admin/api and dist/admin/api are both three levels below package.json.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const ERROR_SCHEMA = object(
  {
    error: {
      type: 'string',
      description:
        'invalid_request, not_found, already_exists, conflict, precondition_failed, precondition_required, ' +
        'temporarily_unavailable, server_error; invalid_token and insufficient_scope (RFC 6750 §3.1).',
    },
    error_description: { type: 'string', description: 'For people; never a secret.' },
    fields: {
      type: 'array',
      description: 'With invalid_request: each input at fault (a body field path, a query parameter, a header).',
      items: object({ field: { type: 'string' }, problem: { type: 'string' } }, ['field', 'problem']),
    },
  },
  ['error', 'error_description'],
);

const CHALLENGE = {
  'WWW-Authenticate':
    'RFC 6750 §3: `Bearer realm="oauthd-admin"`, with error, error_description (and scope for ' +
    'insufficient_scope) unless no credentials were sent (§3.1).',
};

/** The refusals every operation may answer, added to its own responses. */
function commonErrors(route: ApiRoute): Record<number, ResponseDoc> {
  const needed = route.method === 'GET' ? `${ADMIN_READ_SCOPE} (or ${ADMIN_SCOPE})` : ADMIN_SCOPE;
  const errors: Record<number, ResponseDoc> = {
    400: {
      description: 'invalid_request: malformed JSON, wrong content type, unknown fields, wrong types, bad cursor.',
    },
    401: { description: 'invalid_token: no, malformed, unknown, expired or revoked access token.', headers: CHALLENGE },
    403: {
      description: `insufficient_scope: the token lacks ${needed}, or speaks for a user who is not an admin (now).`,
      headers: CHALLENGE,
    },
    503: { description: 'temporarily_unavailable: the store cannot serve now.', headers: { 'Retry-After': '1' } },
  };
  if (route.params) errors[404] = { description: 'not_found: no such resource.' };
  if (route.ifMatch) errors[412] = { description: 'precondition_failed: If-Match names a version no longer current.' };
  if (route.ifMatch === 'required') errors[428] = { description: 'precondition_required: If-Match is missing.' };
  return errors;
}

function responseOf(doc: ResponseDoc, isError: boolean) {
  const headers = Object.fromEntries(
    Object.entries(doc.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
  );
  const schema = doc.schema ?? (isError ? { $ref: '#/components/schemas/Error' } : undefined);
  return {
    description: doc.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(schema ? { content: { 'application/json': { schema } } } : {}),
  };
}

function operationOf(route: ApiRoute) {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string' },
    })),
    ...Object.entries(route.query ?? {}).map(([name, schema]) => {
      const { description, ...rest } = schema as Schema;
      return { name, in: 'query', required: false, description, schema: rest };
    }),
    ...(route.ifMatch
      ? [
          {
            name: 'If-Match',
            in: 'header',
            required: route.ifMatch === 'required',
            description: 'The ETag of the copy changed (RFC 9110 §13.1.1), or * for whatever is current.',
            schema: { type: 'string' },
          },
        ]
      : []),
  ];
  const responses = { ...commonErrors(route), ...route.responses };
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: [{ bearer: [route.method === 'GET' ? ADMIN_READ_SCOPE : ADMIN_SCOPE] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, doc]) => [status, responseOf(doc, Number(status) >= 400)]),
    ),
  };
}

/** The OpenAPI 3.1 document of the admin API, built from the very route definitions that are served. */
export function adminOpenApi(routes: readonly ApiRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = API_PREFIX + route.path.replace(/:([a-z_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'oauthd admin API',
      version: packageVersion(),
      description:
        'Manage clients, users, their grants, lockouts and the audit trail of oauthd, on the admin listener only ' +
        `(OAUTHD_ADMIN_HOST/PORT). Every request needs \`Authorization: Bearer\` with ${ADMIN_SCOPE} (changes) ` +
        `or ${ADMIN_READ_SCOPE} (reads), from the public token endpoint (docs/admin-api.md).`,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The admin listener this document was fetched from.' }],
    tags: [
      { name: 'clients', description: 'OAuth clients (RFC 6749 §2) and their policy.' },
      { name: 'users', description: 'Resource owners and their grants.' },
      { name: 'lockouts', description: 'Brute-force lockouts in force.' },
      { name: 'audit', description: 'The audit trail and the dashboard summary.' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `RFC 6750 §2.1: an access token with ${ADMIN_SCOPE} or ${ADMIN_READ_SCOPE}. Never in the URL.`,
        },
      },
      schemas: {
        ...VIEW_SCHEMAS,
        CreatedClient: {
          allOf: [
            { $ref: '#/components/schemas/Client' },
            object({ client_secret: { type: 'string', description: 'A generated secret, in this answer only.' } }),
          ],
        },
        Activity: ACTIVITY_SCHEMA,
        ActivitySeries: ACTIVITY_SERIES_SCHEMA,
        Error: ERROR_SCHEMA,
      },
    },
  };
}

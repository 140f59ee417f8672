import type { Client } from '../../core/types.js';
import { CLIENT_FIELDS, CREATE_FIELDS, createInputOf, updateInputOf } from './client-input.js';
import { object } from './input.js';
import { PAGE_QUERY, decodeCursor, encodeCursor, page } from './paging.js';
import { checkIfMatch, etagOf, ifVersionOf } from './preconditions.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './route.js';
import { clientView } from './views.js';

const ID = { client_id: 'The client id.' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ETAG = { ETag: 'The strong ETag `"<version>"` (RFC 9110 §8.8.3): send it back in If-Match to change it.' };

/** A client with its ETag, as GET, POST and PATCH answer it. */
const withEtag = (status: number, client: Client, extra: Record<string, unknown> = {}): ApiAnswer => ({
  status,
  headers: { ETag: etagOf(client.version ?? 0) },
  body: { ...clientView(client), ...extra },
});

const clientId = (call: ApiCall): string => call.params.client_id!;

export const CLIENT_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    path: '/clients',
    operationId: 'listClients',
    tag: 'clients',
    summary: 'List clients, by client_id',
    query: {
      search: { type: 'string', maxLength: 200, description: 'Only clients whose id or name contains this.' },
      ...PAGE_QUERY,
    },
    responses: {
      200: {
        description: 'A page of clients and the cursor of the next one (null: the last page).',
        schema: pageSchema('Client'),
      },
    },
    async handle({ admin, query }) {
      const after =
        query.cursor === undefined
          ? undefined
          : decodeCursor<{ after: string }>(query.cursor as string, 'clients', { after: 'string' }).after;
      const result = await admin.listClientsPage({
        limit: (query.limit as number | undefined) ?? 50,
        ...(query.search !== undefined ? { search: query.search as string } : {}),
        ...(after !== undefined ? { after } : {}),
      });
      const next = result.next === null ? null : encodeCursor('clients', { after: result.next });
      return { status: 200, body: page(result.items.map(clientView), next) };
    },
  },
  {
    method: 'POST',
    path: '/clients',
    operationId: 'createClient',
    tag: 'clients',
    summary: 'Register a client; a generated secret is in this answer only',
    body: object(CREATE_FIELDS, ['name']),
    responses: {
      201: {
        description:
          'The client, and for a confidential client with a generated secret `client_secret`: store it now, ' +
          'only its hash is kept.',
        schema: ref('CreatedClient'),
        headers: { ...ETAG, Location: 'The new client: /admin/v1/clients/{client_id}.' },
      },
      409: { description: 'already_exists: a client has this client_id.' },
    },
    async handle({ admin, body }) {
      const { client: created, clientSecret } = await admin.createClient(createInputOf(body));
      // As stored (its version is the store's): the ETag must be one a PATCH can send back.
      const client = await admin.showClient(created.clientId);
      const generated = clientSecret !== null && body.client_secret === undefined;
      const answer = withEtag(201, client, generated ? { client_secret: clientSecret } : {});
      answer.headers!.Location = `/admin/v1/clients/${encodeURIComponent(client.clientId)}`;
      return answer;
    },
  },
  {
    method: 'GET',
    path: '/clients/:client_id',
    operationId: 'getClient',
    tag: 'clients',
    summary: 'Show a client',
    params: ID,
    responses: { 200: { description: 'The client.', schema: ref('Client'), headers: ETAG } },
    handle: async (call) => withEtag(200, await call.admin.showClient(clientId(call))),
  },
  {
    method: 'PATCH',
    path: '/clients/:client_id',
    operationId: 'updateClient',
    tag: 'clients',
    summary: 'Change a client: only the fields given',
    description:
      'Every field is checked before anything changes. Tokens already issued keep their scope until they expire; ' +
      'a refresh narrows them to the new scopes (RFC 6749 §6). Needs If-Match (428 without, 412 when stale).',
    params: ID,
    body: object(CLIENT_FIELDS),
    ifMatch: 'required',
    responses: { 200: { description: 'The client as it is now.', schema: ref('Client'), headers: ETAG } },
    async handle(call) {
      const id = clientId(call);
      const ifVersion = await ifVersionOf(call.ifMatch, async () => (await call.admin.showClient(id)).version);
      const updated = await call.admin.updateClient(id, updateInputOf(call.body), { ifVersion });
      return withEtag(200, updated);
    },
  },
  {
    method: 'DELETE',
    path: '/clients/:client_id',
    operationId: 'deleteClient',
    tag: 'clients',
    summary: 'Delete a client and every grant and token issued to it',
    params: ID,
    ifMatch: 'honoured',
    responses: { 204: { description: 'Deleted; its tokens stop working at once.' } },
    async handle(call) {
      const id = clientId(call);
      const ifVersion = await ifVersionOf(call.ifMatch, async () => (await call.admin.showClient(id)).version);
      await call.admin.deleteClient(id, { ifVersion });
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/clients/:client_id/secret',
    operationId: 'rotateClientSecret',
    tag: 'clients',
    summary: "Replace a confidential client's secret; the old one stops working at once",
    params: ID,
    ifMatch: 'honoured',
    responses: {
      200: {
        description: 'The new secret, shown this once.',
        schema: object({ client_secret: { type: 'string' } }, ['client_secret']),
      },
    },
    async handle(call) {
      const id = clientId(call);
      // The core rotates unconditionally: a condition sent is evaluated just before (RFC 9110 §13.2.2).
      if (call.ifMatch !== null) checkIfMatch(call.ifMatch, (await call.admin.showClient(id)).version);
      return { status: 200, body: { client_secret: await call.admin.rotateClientSecret(id) } };
    },
  },
];

/** `{items, next_cursor}` of the named item schema. */
export function pageSchema(item: string) {
  return object(
    {
      items: { type: 'array', items: ref(item) },
      next_cursor: { type: ['string', 'null'], description: 'Send as `cursor` for the next page; null: no more.' },
    },
    ['items', 'next_cursor'],
  );
}

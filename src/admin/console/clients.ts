import type { FastifyInstance, FastifyReply } from 'fastify';
import type { UpdateClientInput } from '../../core/admin/clients.js';
import { AdminError } from '../../core/admin/validation.js';
import type { ParamPairs } from '../../core/params.js';
import type { Client } from '../../core/types.js';
import {
  type ClientForm,
  clientHref,
  clientList,
  clientPage,
  deletePage,
  formOf,
  newClientForm,
  secretPage,
} from './client-views.js';
import { type ConsoleContext, type ConsoleSession, queryParam, routeParam } from './context.js';
import { adminErrorOf, type ConsoleError, capitalize, changedElsewhere, readOnly, sendError } from './errors.js';
import { change, field, fields, formPairs, page } from './guard.js';
import { consolePage } from './layout.js';

const PAGE_SIZE = 50;

const NOTICES: Readonly<Record<string, string>> = {
  saved: 'The policy was saved.',
  unchanged: 'Nothing was changed: the form held the values already stored.',
  deleted: 'The client was deleted, with every grant and token issued to it.',
};

/** A form that shows a secret, posted a second time (a reload): nothing is done again. */
const alreadySent: ConsoleError = {
  status: 409,
  title: 'Already done',
  message:
    'This form was already sent (reloading its answer sends it again), so nothing was done this time. A secret ' +
    'is shown only once: if it was not copied, rotate it.',
  link: { href: '/console/clients', label: 'Back to the clients' },
};

const noticeOf = (key: string | null): string | null => (key === null ? null : (NOTICES[key] ?? null));

/** The form as typed (a field left out is empty). */
function readForm(pairs: ParamPairs): ClientForm {
  const text = (name: string) => field(pairs, name) ?? '';
  return {
    name: text('name'),
    clientId: text('client_id').trim(),
    type: text('type') === 'public' ? 'public' : 'confidential',
    grantTypes: fields(pairs, 'grant_types'),
    scopes: text('scopes').trim(),
    redirectUris: text('redirect_uris'),
    accessTokenTtl: text('access_token_ttl').trim(),
    rateLimit: text('rate_limit').trim(),
    allowedNetworks: text('allowed_networks').trim(),
  };
}

const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

/** Only what the form changed, so the audit trail names only that (and a form sent as it was changes nothing). */
export function changesOf(client: Client, form: ClientForm): UpdateClientInput {
  const was = formOf(client);
  const input: UpdateClientInput = {};
  const policy: NonNullable<UpdateClientInput['policy']> = {};
  if (form.name.trim() !== was.name) input.name = form.name;
  if (!sameList(form.scopes.split(/\s+/).filter(Boolean), was.scopes.split(/\s+/).filter(Boolean))) {
    input.scopes = form.scopes;
  }
  if (!sameList(form.grantTypes, was.grantTypes)) input.grantTypes = [...form.grantTypes];
  const uris = lines(form.redirectUris);
  if (!sameList(uris, lines(was.redirectUris))) policy.redirectUris = uris.length === 0 ? ['none'] : uris;
  if (form.accessTokenTtl !== was.accessTokenTtl) policy.accessTokenTtl = form.accessTokenTtl || 'default';
  if (form.rateLimit !== was.rateLimit) policy.rateLimit = form.rateLimit || 'default';
  if (form.allowedNetworks.replace(/\s+/g, '') !== was.allowedNetworks.replace(/\s+/g, '')) {
    policy.allowedNetworks = form.allowedNetworks || 'any';
  }
  if (Object.keys(policy).length > 0) input.policy = policy;
  return input;
}

const message = (error: AdminError): string => capitalize(`${error.message}.`);

function sendClientPage(
  context: ConsoleContext,
  reply: FastifyReply,
  session: ConsoleSession,
  client: Client,
  status: number,
  view: Parameters<typeof clientPage>[2],
) {
  const content = clientPage(session, client, { ...view, once: context.once.issue() });
  return context.send(
    reply,
    status,
    consolePage(context, session, { title: client.name, section: 'clients', content }),
  );
}

function listRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/clients',
    page(context, async (request, reply, session) => {
      const search = queryParam(request, 'search') ?? '';
      const after = queryParam(request, 'after');
      const { items, next } = await context
        .adminFor(session)
        .listClientsPage({ ...(search ? { search } : {}), ...(after ? { after } : {}), limit: PAGE_SIZE });
      const content = clientList(session, {
        clients: items,
        search,
        next,
        notice: noticeOf(queryParam(request, 'notice')),
      });
      return context.send(reply, 200, consolePage(context, session, { title: 'Clients', section: 'clients', content }));
    }),
  );
}

function createRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const blank: ClientForm = {
    name: '',
    clientId: '',
    type: 'confidential',
    grantTypes: [],
    scopes: '',
    redirectUris: '',
    accessTokenTtl: '',
    rateLimit: '',
    allowedNetworks: '',
  };
  const show = (reply: FastifyReply, session: ConsoleSession, status: number, form: ClientForm, error: string | null) =>
    context.send(
      reply,
      status,
      consolePage(context, session, {
        title: 'New client',
        section: 'clients',
        content: newClientForm(session, form, error, context.once.issue()),
      }),
    );
  app.get(
    '/clients/new',
    page(context, async (_request, reply, session) =>
      session.access === 'write'
        ? show(reply, session, 200, blank, null)
        : sendError(context, reply, session, readOnly),
    ),
  );
  app.post(
    '/clients/new',
    change(context, async (request, reply, session) => {
      const pairs = formPairs(request);
      if (!context.once.spend(field(pairs, 'once'))) return sendError(context, reply, session, alreadySent);
      const form = readForm(pairs);
      const uris = lines(form.redirectUris);
      try {
        const { client, clientSecret } = await context.adminFor(session).createClient({
          name: form.name,
          clientId: form.clientId === '' ? undefined : form.clientId,
          isPublic: form.type === 'public',
          grantTypes: form.grantTypes.length === 0 ? undefined : [...form.grantTypes],
          scopes: form.scopes === '' ? undefined : form.scopes,
          policy: uris.length === 0 ? {} : { redirectUris: uris },
        });
        // 200, not a redirect: the secret is on this answer only (no-store), never in a URL or a later page.
        const content = secretPage(client, clientSecret, 'Client created');
        return context.send(
          reply,
          200,
          consolePage(context, session, { title: 'Client created', section: 'clients', content }),
        );
      } catch (error) {
        if (!(error instanceof AdminError) || error.code === 'not_found' || error.code === 'forbidden') throw error;
        return show(reply, session, error.code === 'exists' ? 409 : 400, form, message(error));
      }
    }),
  );
}

function clientPageRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/clients/:id',
    page(context, async (request, reply, session) => {
      const client = await context.adminFor(session).showClient(routeParam(request, 'id'));
      return sendClientPage(context, reply, session, client, 200, { notice: noticeOf(queryParam(request, 'notice')) });
    }),
  );
  app.post(
    '/clients/:id',
    change(context, async (request, reply, session) => {
      const admin = context.adminFor(session);
      const client = await admin.showClient(routeParam(request, 'id'));
      const pairs = formPairs(request);
      const href = clientHref(client.clientId);
      // The version the form was read at (If-Match semantics): a stale form changes nothing.
      const version = formVersion(pairs);
      if (version === null || version !== (client.version ?? 0))
        return sendError(context, reply, session, changedElsewhere(href));
      const form = readForm(pairs);
      const input = changesOf(client, form);
      if (Object.keys(input).length === 0) return context.redirect(reply, `${href}?notice=unchanged`);
      try {
        await admin.updateClient(client.clientId, input, { ifVersion: version });
      } catch (error) {
        if (!(error instanceof AdminError) || error.code !== 'invalid') throw error;
        return sendClientPage(context, reply, session, client, 400, { form, error: message(error) });
      }
      return context.redirect(reply, `${href}?notice=saved`);
    }),
  );
  app.post(
    '/clients/:id/rotate',
    change(context, async (request, reply, session) => {
      const admin = context.adminFor(session);
      const clientId = routeParam(request, 'id');
      if (!context.once.spend(field(formPairs(request), 'once'))) {
        const back = { href: clientHref(clientId), label: 'Back to the client' };
        return sendError(context, reply, session, { ...alreadySent, link: back });
      }
      const secret = await admin.rotateClientSecret(clientId);
      const client = await admin.showClient(clientId);
      const content = secretPage(client, secret, 'New secret');
      return context.send(
        reply,
        200,
        consolePage(context, session, { title: 'New secret', section: 'clients', content }),
      );
    }),
  );
}

/**
 * The version a form was read at (its hidden field), or null when it holds none there can be (`abc`, a number
 * beyond the 32-bit version column): such a form is no copy of the client, answered as a stale one.
 */
function formVersion(pairs: ParamPairs): number | null {
  const text = field(pairs, 'version');
  return text !== null && /^\d{1,10}$/.test(text) && Number(text) <= 2 ** 31 - 1 ? Number(text) : null;
}

function deleteRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/clients/:id/delete',
    page(context, async (request, reply, session) => {
      if (session.access !== 'write') return sendError(context, reply, session, readOnly);
      const client = await context.adminFor(session).showClient(routeParam(request, 'id'));
      const { store, clock } = context.deps.services;
      const live = await store.countLiveClientGrants(client.clientId, clock.now());
      const title = `Delete client ${client.name}?`;
      const content = deletePage(session, client, live);
      return context.send(reply, 200, consolePage(context, session, { title, section: 'clients', content }));
    }),
  );
  app.post(
    '/clients/:id/delete',
    change(context, async (request, reply, session) => {
      const clientId = routeParam(request, 'id');
      const version = formVersion(formPairs(request));
      if (version === null)
        return sendError(context, reply, session, changedElsewhere(`${clientHref(clientId)}/delete`));
      try {
        await context.adminFor(session).deleteClient(clientId, { ifVersion: version });
      } catch (error) {
        if (error instanceof AdminError && error.code === 'version_mismatch') {
          return sendError(context, reply, session, changedElsewhere(`${clientHref(clientId)}/delete`));
        }
        if (error instanceof AdminError) return sendError(context, reply, session, adminErrorOf(error));
        throw error;
      }
      return context.redirect(reply, '/console/clients?notice=deleted');
    }),
  );
}

/** `/console/clients…`: the listing, a new client (its secret shown once), one client's policy, rotation, deletion. */
export function clientRoutes(app: FastifyInstance, context: ConsoleContext): void {
  listRoutes(app, context);
  createRoutes(app, context);
  clientPageRoutes(app, context);
  deleteRoutes(app, context);
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import { AdminError } from '../../core/admin/validation.js';
import { type ConsoleContext, type ConsoleSession, queryParam, routeParam } from './context.js';
import { badRequest, capitalize, changedElsewhere, readOnly, sendError } from './errors.js';
import { change, field, formPairs, page } from './guard.js';
import { consolePage } from './layout.js';
import { newUserForm, userHref, userList, userPage } from './user-views.js';

const PAGE_SIZE = 50;

const NOTICES: Readonly<Record<string, string>> = {
  created: 'The user was created.',
  disabled: 'The user was disabled: every token it held is revoked and its sign-in sessions ended.',
  enabled: 'The user was enabled: it can sign in again.',
  password: 'The password was set.',
  password_revoked: 'The password was set, and the user was signed out everywhere.',
  revoked: 'The session was revoked.',
  revoked_all: 'Every session of the user was revoked.',
};

const noticeOf = (key: string | null): string | null => (key === null ? null : (NOTICES[key] ?? null));

const message = (error: AdminError): string => capitalize(`${error.message}.`);

async function sendUserPage(
  context: ConsoleContext,
  reply: FastifyReply,
  session: ConsoleSession,
  username: string,
  status: number,
  view: Parameters<typeof userPage>[2],
) {
  const sessions = await context.adminFor(session).userSessions(username);
  const content = userPage(session, sessions, view);
  const title = sessions.user.username;
  return context.send(reply, status, consolePage(context, session, { title, section: 'users', content }));
}

function listRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/users',
    page(context, async (request, reply, session) => {
      const search = queryParam(request, 'search') ?? '';
      const after = queryParam(request, 'after');
      const { items, next } = await context
        .adminFor(session)
        .listUsersPage({ ...(search ? { search } : {}), ...(after ? { after } : {}), limit: PAGE_SIZE });
      const content = userList(session, {
        users: items,
        search,
        next,
        notice: noticeOf(queryParam(request, 'notice')),
      });
      return context.send(reply, 200, consolePage(context, session, { title: 'Users', section: 'users', content }));
    }),
  );
}

function createRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const show = (
    reply: FastifyReply,
    session: ConsoleSession,
    status: number,
    form: { username: string; isAdmin: boolean },
    error: string | null,
  ) => {
    const content = newUserForm(session, form, error);
    return context.send(reply, status, consolePage(context, session, { title: 'New user', section: 'users', content }));
  };
  app.get(
    '/users/new',
    page(context, async (_request, reply, session) =>
      session.access === 'write'
        ? show(reply, session, 200, { username: '', isAdmin: false }, null)
        : sendError(context, reply, session, readOnly),
    ),
  );
  app.post(
    '/users/new',
    change(context, async (request, reply, session) => {
      const pairs = formPairs(request);
      const form = { username: field(pairs, 'username') ?? '', isAdmin: field(pairs, 'is_admin') === 'yes' };
      try {
        const user = await context
          .adminFor(session)
          .createUser(form.username, field(pairs, 'password') ?? '', { isAdmin: form.isAdmin });
        return context.redirect(reply, `${userHref(user.username)}?notice=created`);
      } catch (error) {
        if (!(error instanceof AdminError) || error.code === 'not_found' || error.code === 'forbidden') throw error;
        return show(reply, session, error.code === 'exists' ? 409 : 400, form, message(error));
      }
    }),
  );
}

function userPageRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get(
    '/users/:username',
    page(context, async (request, reply, session) =>
      sendUserPage(context, reply, session, routeParam(request, 'username'), 200, {
        notice: noticeOf(queryParam(request, 'notice')),
      }),
    ),
  );
  app.post(
    '/users/:username/active',
    change(context, async (request, reply, session) => {
      const username = routeParam(request, 'username');
      const pairs = formPairs(request);
      const active = field(pairs, 'active');
      if (active !== 'true' && active !== 'false') {
        return sendError(context, reply, session, badRequest('The form does not say whether to enable or disable.'));
      }
      const isActive = active === 'true';
      // Locking oneself out (perhaps the last admin) from here would leave nobody to undo it but the CLI.
      if (!isActive && username === session.username) {
        return sendError(context, reply, session, badRequest('You cannot disable the account you are signed in with.'));
      }
      try {
        await context
          .adminFor(session)
          .updateUser(username, { isActive }, { ifVersion: Number(field(pairs, 'version')) });
      } catch (error) {
        if (!(error instanceof AdminError) || error.code !== 'version_mismatch') throw error;
        return sendError(context, reply, session, changedElsewhere(userHref(username)));
      }
      return context.redirect(reply, `${userHref(username)}?notice=${isActive ? 'enabled' : 'disabled'}`);
    }),
  );
  app.post(
    '/users/:username/password',
    change(context, async (request, reply, session) => {
      const username = routeParam(request, 'username');
      const pairs = formPairs(request);
      const revokeTokens = field(pairs, 'revoke_tokens') === 'yes';
      try {
        await context.adminFor(session).setPassword(username, field(pairs, 'new_password') ?? '', { revokeTokens });
      } catch (error) {
        if (!(error instanceof AdminError) || error.code !== 'invalid') throw error;
        return sendUserPage(context, reply, session, username, 400, { passwordError: message(error) });
      }
      return context.redirect(reply, `${userHref(username)}?notice=${revokeTokens ? 'password_revoked' : 'password'}`);
    }),
  );
}

function sessionRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.post(
    '/users/:username/grants/:grantId/revoke',
    change(context, async (request, reply, session) => {
      const username = routeParam(request, 'username');
      await context.adminFor(session).revokeUserGrant(username, routeParam(request, 'grantId'));
      return context.redirect(reply, `${userHref(username)}?notice=revoked`);
    }),
  );
  app.post(
    '/users/:username/revoke-all',
    change(context, async (request, reply, session) => {
      const username = routeParam(request, 'username');
      await context.adminFor(session).revokeUserSessions(username);
      return context.redirect(reply, `${userHref(username)}?notice=revoked_all`);
    }),
  );
}

/** `/console/users…`: the listing, a new user, one user (enable/disable, password, sessions and their revocation). */
export function userRoutes(app: FastifyInstance, context: ConsoleContext): void {
  listRoutes(app, context);
  createRoutes(app, context);
  userPageRoutes(app, context);
  sessionRoutes(app, context);
}

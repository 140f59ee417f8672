import type { User } from '../../core/types.js';
import { object } from './input.js';
import { pageSchema } from './clients.js';
import { PAGE_QUERY, decodeCursor, encodeCursor, page } from './paging.js';
import { checkIfMatch, etagOf, ifVersionOf } from './preconditions.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './route.js';
import { userView } from './views.js';

const NAME = { username: 'The username (percent-encoded in the path).' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ETAG = { ETag: 'The strong ETag `"<version>"` (RFC 9110 §8.8.3): send it back in If-Match to change it.' };

const withEtag = (status: number, user: User, extra: Record<string, unknown> = {}): ApiAnswer => ({
  status,
  headers: { ETag: etagOf(user.version) },
  body: { ...userView(user), ...extra },
});

const username = (call: ApiCall): string => call.params.username!;
const versionOf = (call: ApiCall) => async () => (await call.admin.showUser(username(call))).user.version;

const USERNAME = { type: 'string', minLength: 1, maxLength: 150, description: 'Unique.' } as const;
const PASSWORD = {
  type: 'string',
  minLength: 1,
  description: 'Checked against OAUTHD_PASSWORD_MIN_LENGTH / MAX_LENGTH; stored with argon2id, never shown.',
} as const;

export const USER_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    path: '/users',
    operationId: 'listUsers',
    tag: 'users',
    summary: 'List users, by username',
    query: {
      search: { type: 'string', maxLength: 150, description: 'Only users whose name contains this.' },
      ...PAGE_QUERY,
    },
    responses: { 200: { description: 'A page of users and the cursor of the next one.', schema: pageSchema('User') } },
    async handle({ admin, query }) {
      const after =
        query.cursor === undefined
          ? undefined
          : decodeCursor<{ after: string }>(query.cursor as string, 'users', { after: 'string' }).after;
      const result = await admin.listUsersPage({
        limit: (query.limit as number | undefined) ?? 50,
        ...(query.search !== undefined ? { search: query.search as string } : {}),
        ...(after !== undefined ? { after } : {}),
      });
      const next = result.next === null ? null : encodeCursor('users', { after: result.next });
      return { status: 200, body: page(result.items.map(userView), next) };
    },
  },
  {
    method: 'POST',
    path: '/users',
    operationId: 'createUser',
    tag: 'users',
    summary: 'Create a user',
    body: object(
      {
        username: USERNAME,
        password: PASSWORD,
        is_admin: { type: 'boolean', description: 'May hold the admin scopes and sign in to the console.' },
      },
      ['username', 'password'],
    ),
    responses: {
      201: { description: 'The user.', schema: ref('User'), headers: { ...ETAG, Location: 'The new user.' } },
      409: { description: 'already_exists: a user has this username.' },
    },
    async handle({ admin, body }) {
      const user = await admin.createUser(body.username as string, body.password as string, {
        isAdmin: body.is_admin === true,
      });
      const answer = withEtag(201, user);
      answer.headers!.Location = `/admin/v1/users/${encodeURIComponent(user.username)}`;
      return answer;
    },
  },
  {
    method: 'GET',
    path: '/users/:username',
    operationId: 'getUser',
    tag: 'users',
    summary: 'Show a user and how many live grants it holds',
    params: NAME,
    responses: { 200: { description: 'The user, with `live_grants`.', schema: ref('User'), headers: ETAG } },
    async handle(call) {
      const { user, liveSessions } = await call.admin.showUser(username(call));
      return withEtag(200, user, { live_grants: liveSessions });
    },
  },
  {
    method: 'PATCH',
    path: '/users/:username',
    operationId: 'updateUser',
    tag: 'users',
    summary: 'Rename, disable or enable a user, or grant or take the admin flag',
    description:
      'Disabling refuses further logins, revokes every token of the user and ends its sign-in sessions; a ' +
      'renamed user keeps its tokens. Taking the admin flag ends its admin API access at once. Needs If-Match.',
    params: NAME,
    body: object({
      username: USERNAME,
      is_active: { type: 'boolean', description: 'false: disabled.' },
      is_admin: { type: 'boolean' },
    }),
    ifMatch: 'required',
    responses: { 200: { description: 'The user as it is now.', schema: ref('User'), headers: ETAG } },
    async handle(call) {
      const ifVersion = await ifVersionOf(call.ifMatch, versionOf(call));
      const { body } = call;
      const user = await call.admin.updateUser(
        username(call),
        {
          ...(body.username !== undefined ? { username: body.username as string } : {}),
          ...(body.is_active !== undefined ? { isActive: body.is_active as boolean } : {}),
          ...(body.is_admin !== undefined ? { isAdmin: body.is_admin as boolean } : {}),
        },
        { ifVersion },
      );
      const answer = withEtag(200, user);
      // Renamed: the resource is at a new path now.
      if (user.username !== username(call)) {
        answer.headers!['Content-Location'] = `/admin/v1/users/${encodeURIComponent(user.username)}`;
      }
      return answer;
    },
  },
  {
    method: 'PUT',
    path: '/users/:username/password',
    operationId: 'setUserPassword',
    tag: 'users',
    summary: "Set a user's password",
    params: NAME,
    body: object(
      {
        password: PASSWORD,
        revoke_tokens: {
          type: 'boolean',
          description:
            'Default true: also revoke every token of the user and end its sign-in sessions (after a leak, the ' +
            'sessions the old password opened must end: RFC 6819 §5.1.4.2.2).',
        },
      },
      ['password'],
    ),
    ifMatch: 'honoured',
    responses: { 204: { description: 'Set.' } },
    async handle(call) {
      // The core sets it unconditionally: a condition sent is evaluated just before (RFC 9110 §13.2.2).
      if (call.ifMatch !== null) checkIfMatch(call.ifMatch, await versionOf(call)());
      await call.admin.setPassword(username(call), call.body.password as string, {
        revokeTokens: call.body.revoke_tokens !== false,
      });
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    path: '/users/:username',
    operationId: 'deleteUser',
    tag: 'users',
    summary: 'Delete a user with every grant and token',
    params: NAME,
    ifMatch: 'honoured',
    responses: { 204: { description: 'Deleted; its tokens stop working at once.' } },
    async handle(call) {
      const ifVersion = await ifVersionOf(call.ifMatch, versionOf(call));
      await call.admin.deleteUser(username(call), { ifVersion });
      return { status: 204 };
    },
  },
];

import { object } from './input.js';
import type { ApiCall, ApiRoute } from './route.js';
import { consentView, grantView, signInView } from './views.js';

const NAME = { username: 'The username (percent-encoded in the path).' };
const username = (call: ApiCall): string => call.params.username!;

/** A user's sessions: live grants (one per login, with every token refreshed from it), sign-ins, consents. */
export const GRANT_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    path: '/users/:username/grants',
    operationId: 'listUserGrants',
    tag: 'users',
    summary: "A user's live grants, oldest first, with its sign-in sessions and remembered consents",
    params: NAME,
    responses: {
      200: {
        description: 'Its live grants (`items`), sign-in sessions of the login page and consents.',
        schema: object({
          items: { type: 'array', items: { $ref: '#/components/schemas/Grant' } },
          sign_in_sessions: { type: 'array', items: { type: 'object' } },
          consents: { type: 'array', items: { type: 'object' } },
        }),
      },
    },
    async handle(call) {
      const { grants, browserSessions, consents } = await call.admin.userSessions(username(call));
      return {
        status: 200,
        body: {
          items: grants.map(grantView),
          sign_in_sessions: browserSessions.map(signInView),
          consents: consents.map(consentView),
        },
      };
    },
  },
  {
    method: 'DELETE',
    path: '/users/:username/grants',
    operationId: 'revokeUserGrants',
    tag: 'users',
    summary: "Revoke all of a user's grants, forget its consents and end its sign-in sessions",
    params: NAME,
    responses: {
      200: {
        description: 'What was revoked: grant ids, the clients whose consent was forgotten, sessions ended.',
        schema: object({
          revoked_grants: { type: 'array', items: { type: 'string' } },
          revoked_consents: { type: 'array', items: { type: 'string' } },
          sign_in_sessions_ended: { type: 'integer' },
        }),
      },
    },
    async handle(call) {
      const revoked = await call.admin.revokeUserSessions(username(call));
      return {
        status: 200,
        body: {
          revoked_grants: revoked.grants,
          revoked_consents: revoked.consents,
          sign_in_sessions_ended: revoked.browserSessions,
        },
      };
    },
  },
  {
    method: 'DELETE',
    path: '/users/:username/grants/:grant_id',
    operationId: 'revokeUserGrant',
    tag: 'users',
    summary: "Revoke one of a user's live grants: its refresh and access tokens stop working at once",
    params: { ...NAME, grant_id: 'The grant id (from GET /users/{username}/grants).' },
    responses: { 204: { description: 'Revoked.' }, 404: { description: 'No such user, or no live grant of it.' } },
    async handle(call) {
      await call.admin.revokeUserGrant(username(call), call.params.grant_id!);
      return { status: 204 };
    },
  },
];

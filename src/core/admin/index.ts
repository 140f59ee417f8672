import { activityActions } from './activity.js';
import { bootstrapActions } from './bootstrap.js';
import { clientActions } from './clients.js';
import { type AdminDeps, adminContext } from './context.js';
import { lockoutActions } from './lockouts.js';
import { sessionActions } from './sessions.js';
import { userActions } from './users.js';

export type Admin = ReturnType<typeof createAdmin>;
export type { ActivitySeries, AuditEventsQuery, PasswordGrantClient } from './activity.js';
export type { IfVersion, Page } from './paging.js';
export type { UpdateUserInput } from './users.js';
export type { Admins } from './bootstrap.js';
export { AdminError, type AdminErrorCode } from './validation.js';

/**
 * The administrative actions, one implementation for every surface (the CLI, the admin API, the console): the
 * same store and hashers as the server, never raw SQL; every change audited with `deps.actor`.
 */
export function createAdmin(deps: AdminDeps) {
  const context = adminContext(deps);
  const clients = clientActions(context);
  const users = userActions(context);
  return {
    ...clients,
    ...users,
    ...sessionActions(context),
    ...lockoutActions(context),
    ...activityActions(context),
    ...bootstrapActions(context, { ...users, createClient: clients.createClient }),
  };
}

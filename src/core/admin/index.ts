import { activityActions } from './activity.js';
import { clientActions } from './clients.js';
import { type AdminDeps, adminContext } from './context.js';
import { lockoutActions } from './lockouts.js';
import { sessionActions } from './sessions.js';
import { userActions } from './users.js';

export type Admin = ReturnType<typeof createAdmin>;
export type { ActivitySeries, AuditEventsQuery, PasswordGrantClient } from './activity.js';
export type { IfVersion, Page } from './paging.js';
export type { UpdateUserInput } from './users.js';
export { AdminError, type AdminErrorCode } from './validation.js';

/**
 * The administrative actions, one implementation for every surface (the CLI, the admin API, the console): the
 * same store and hashers as the server, never raw SQL; every change audited with `deps.actor`.
 */
export function createAdmin(deps: AdminDeps) {
  const context = adminContext(deps);
  return {
    ...clientActions(context),
    ...userActions(context),
    ...sessionActions(context),
    ...lockoutActions(context),
    ...activityActions(context),
  };
}

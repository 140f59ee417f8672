import { clientActions } from './clients.js';
import { type AdminDeps, adminContext } from './context.js';
import { lockoutActions } from './lockouts.js';
import { sessionActions } from './sessions.js';
import { userActions } from './users.js';

export type Admin = ReturnType<typeof createAdmin>;

/** The services behind the admin CLI: the same store and hashers as the server, never raw SQL. */
export function createAdmin(deps: AdminDeps) {
  const context = adminContext(deps);
  return { ...clientActions(context), ...userActions(context), ...sessionActions(context), ...lockoutActions(context) };
}

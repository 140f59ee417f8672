/**
 * The Store contract of the operator's intentions (`oauthd client update`, `user show | delete | rename |
 * sessions | revoke`, `lockout list | clear`), run by every backend's test file like contract.ts.
 */
import { clientOperatorContract } from './clients.js';
import { describeWithFreshStore, type OpenedStore } from './fixtures.js';
import { lockoutContract } from './lockouts.js';
import { userOperatorContract } from './users.js';

export function runOperatorContract(name: string, open: () => Promise<OpenedStore>): void {
  describeWithFreshStore(`Store contract (operator intentions): ${name}`, open, (store) => {
    clientOperatorContract({ store });
    userOperatorContract({ store });
    lockoutContract({ store });
  });
}

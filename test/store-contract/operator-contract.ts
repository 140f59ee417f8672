/**
 * The Store contract of the operator's intentions (`oauthd client update`, `user show | delete | rename |
 * sessions | revoke`, `lockout list | clear`), run by every backend's test file like contract.ts.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { clientOperatorContract } from './clients.js';
import type { OpenedStore } from './fixtures.js';
import { lockoutContract } from './lockouts.js';
import { userOperatorContract } from './users.js';

export function runOperatorContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract (operator intentions): ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    const subject = { store: () => store };
    clientOperatorContract(subject);
    userOperatorContract(subject);
    lockoutContract(subject);
  });
}

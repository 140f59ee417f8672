import type { LockoutMatch } from '../ports.js';
import type { Lockout } from '../types.js';
import type { AdminContext } from './context.js';

export function lockoutActions(context: AdminContext) {
  const { store, audit, now } = context;
  return {
    /** Lockouts in force now, oldest first. */
    listLockouts: (): Promise<Lockout[]> => store.listActiveLockouts(now()),

    /**
     * Ends the lockouts in force of a username (from any IP, and across IPs) or of an IP key (the IP alone,
     * every username from it, every client from it). Running servers forget the counters within a second.
     */
    async clearLockouts(match: LockoutMatch): Promise<Lockout[]> {
      const cleared = await store.clearLockouts(match, now());
      for (const l of cleared) {
        audit('lockout.cleared', {
          subject: l.kind,
          username: l.username,
          client_id: l.clientId,
          ip: l.ipKey,
          locked_until: l.until,
        });
      }
      return cleared;
    },
  };
}

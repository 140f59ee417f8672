import { isIP, isIPv6 } from 'node:net';
import { throttleKeyOfIp } from '../../services.js';
import { invalidFields } from './errors.js';
import { object } from './input.js';
import type { ApiRoute } from './route.js';
import { lockoutView } from './views.js';

const LIST = (description: string) =>
  object({ items: { type: 'array', items: { $ref: '#/components/schemas/Lockout' } } }, ['items'], description);

/**
 * The throttle's key of an IP: an IPv4 address as it is, an IPv6 address by its /64 (also when given as the
 * `…::/64` that the listing shows), as `oauthd lockout clear --ip` takes it.
 */
function ipKeyOf(value: string): string {
  const address = value.endsWith('/64') && isIPv6(value.slice(0, -3)) ? value.slice(0, -3) : value;
  if (isIP(address) === 0) {
    throw invalidFields([{ field: 'ip', problem: 'must be an IP address (or the IPv6 /64 the listing shows)' }]);
  }
  return throttleKeyOfIp(address);
}

export const LOCKOUT_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    path: '/lockouts',
    operationId: 'listLockouts',
    tag: 'lockouts',
    summary: 'Brute-force lockouts in force, oldest first',
    responses: { 200: { description: 'The lockouts in force now.', schema: LIST('The lockouts in force.') } },
    async handle({ admin }) {
      return { status: 200, body: { items: (await admin.listLockouts()).map(lockoutView) } };
    },
  },
  {
    method: 'POST',
    path: '/lockouts/clear',
    operationId: 'clearLockouts',
    tag: 'lockouts',
    summary: 'End the lockouts of a username (from every IP) or of an IP (every username and client from it)',
    description: 'Give `username` or `ip`, not both. Running servers forget their counters within a second.',
    body: object({
      username: { type: 'string', minLength: 1, maxLength: 150, description: 'The username, exactly.' },
      ip: { type: 'string', maxLength: 64, description: 'An IP address; an IPv6 address clears its /64.' },
    }),
    responses: { 200: { description: 'The lockouts ended (none: nothing was in force).', schema: LIST('Cleared.') } },
    async handle({ admin, body }) {
      const { username, ip } = body as { username?: string; ip?: string };
      if ((username === undefined) === (ip === undefined)) {
        const problem = 'give either username or ip';
        throw invalidFields([
          { field: 'username', problem },
          { field: 'ip', problem },
        ]);
      }
      const cleared = await admin.clearLockouts(username !== undefined ? { username } : { ipKey: ipKeyOf(ip!) });
      return { status: 200, body: { items: cleared.map(lockoutView) } };
    },
  },
];

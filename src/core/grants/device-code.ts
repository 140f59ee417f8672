import type { DeviceCodeStore } from '../authorization-ports.js';
import { OAuthError, invalidClient, invalidGrant } from '../errors.js';
import { newGrantId } from '../ids.js';
import { required } from '../params.js';
import { epochSeconds, type Clock, type EventSink } from '../ports.js';
import { effectivePolicy, refreshExpiry, type ServerTokenPolicy } from '../policy.js';
import { tokenKey } from '../tokens.js';
import { DEVICE_CODE_GRANT } from '../types.js';
import type { GrantHandler } from './grant.js';
import { mintFlowTokens } from './issue.js';

const INVALID_DEVICE_CODE = 'The device code is invalid or was already used.';

/** What the device authorization grant reads and writes. */
export type DeviceCodeGrantStore = Pick<DeviceCodeStore, 'pollDeviceCode' | 'redeemDeviceCode'>;

export interface DeviceCodeGrantDeps {
  store: DeviceCodeGrantStore;
  clock: Clock;
  events: EventSink;
  policy: ServerTokenPolicy;
}

/**
 * RFC 8628 §3.5 slow_down: the device polled sooner than its interval. Unlike the brute-force slow_down (429
 * with Retry-After), this one is the protocol's own polling answer: HTTP 400 like every other token error
 * (RFC 6749 §5.2), and the new interval is the old one plus 5 seconds, which the device keeps track of itself.
 */
const pollTooSoon = (interval: number): OAuthError =>
  new OAuthError(
    'slow_down',
    `Polling too fast: wait at least ${interval} seconds between requests.`,
    'device polled before its interval',
    undefined,
    400,
  );

/**
 * The device authorization grant's token request, RFC 8628 §3.4–3.5: each poll is recorded atomically by the
 * store, which also grows the interval of a device polling too soon, and is answered by the state of its code.
 */
export function createDeviceCodeGrant(deps: DeviceCodeGrantDeps): GrantHandler {
  const { store, clock, events, policy } = deps;
  return {
    grantType: DEVICE_CODE_GRANT,
    async handle({ client, params, clientIp }) {
      // RFC 8628 §3.4: device_code REQUIRED.
      const deviceCode = required(params, 'device_code');
      const hash = tokenKey(deviceCode);
      const nowMs = clock.nowMs();
      const now = epochSeconds(nowMs);
      // Bound to the client it was issued to: another client's code is not found (RFC 8628 §3.4).
      const poll = await store.pollDeviceCode(hash, client.clientId, nowMs);
      if (!poll) throw invalidGrant(INVALID_DEVICE_CODE, 'unknown device code');
      const { record } = poll;
      if (record.status === 'used') throw invalidGrant(INVALID_DEVICE_CODE, 'device code already used');
      // RFC 8628 §3.5 expired_token: the device must start over with a new device authorization request.
      if (record.expiresAt <= now) {
        throw new OAuthError('expired_token', 'The device code has expired.', 'expired device code');
      }
      if (poll.tooSoon) throw pollTooSoon(record.intervalSeconds);
      switch (record.status) {
        case 'pending':
          throw new OAuthError('authorization_pending', 'The user has not yet approved the request.');
        case 'denied':
          throw new OAuthError('access_denied', 'The user denied the request.', 'device request denied');
        case 'approved':
          break;
      }
      if (record.userId === null) throw invalidGrant(INVALID_DEVICE_CODE, 'approved device code without a user');

      const effective = effectivePolicy(client, policy);
      const tokens = mintFlowTokens(client, effective, nowMs, record.scope, refreshExpiry(effective, now, now));
      const grantId = newGrantId(nowMs);
      const redeemed = await store.redeemDeviceCode({
        hash,
        grant: {
          id: grantId,
          clientId: client.clientId,
          userId: record.userId,
          grantType: DEVICE_CODE_GRANT,
          scope: record.scope,
          createdAt: now,
        },
        access: tokens.access,
        refresh: tokens.refresh,
        now,
      });
      // A concurrent poll redeemed it first: exactly one of them gets tokens.
      if (redeemed === 'not_approved') throw invalidGrant(INVALID_DEVICE_CODE, 'device code redeemed meanwhile');
      // RFC 6749 §5.2: the client no longer exists, so it is not authenticated (not a server error).
      if (redeemed === 'client_gone') throw invalidClient('client deleted while the request was served');
      events.emit('token.issued', {
        grant_type: DEVICE_CODE_GRANT,
        client_id: client.clientId,
        user_id: record.userId,
        grant_id: grantId,
        ip: clientIp,
        scope: record.scope.join(' '),
      });
      return tokens.response;
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { DeviceCodeStore } from '../authorization-ports.js';
import type {
  DeviceAuthorizationResponse,
  DeviceDecision,
  DeviceFlow,
  SignedInUser,
  UserCodeLookup,
} from '../authorize/api.js';
import { authenticateClient, type ClientAuthDeps } from '../client-auth.js';
import { temporarilyUnavailable, unauthorizedClient } from '../errors.js';
import { singleValued } from '../params.js';
import type { ClientStore, UserStore } from '../ports.js';
import type { TokenPolicy } from '../policy.js';
import { grantableScope } from '../scope.js';
import type { ClientRateLimiter } from '../token-endpoint.js';
import { tokenKey } from '../tokens.js';
import { scopeOfUser } from '../authorize/user-scope.js';
import { DEVICE_CODE_GRANT } from '../types.js';
import { formatUserCode, newUserCode, normaliseUserCode } from './user-code.js';

/** What the device flow reads and writes. */
export type DeviceFlowStore = ClientAuthDeps['store'] &
  Pick<ClientStore, 'findClient'> &
  Pick<UserStore, 'findUserByUsername'> &
  Pick<DeviceCodeStore, 'createDeviceCode' | 'findPendingDeviceCode' | 'decideDeviceCode'>;

export interface DeviceFlowDeps extends ClientAuthDeps {
  store: DeviceFlowStore;
  policy: Pick<TokenPolicy, 'knownScopes' | 'defaultScopes'>;
  /** Lifetime of a device code (OAUTHD_DEVICE_CODE_TTL) and the polling interval (OAUTHD_DEVICE_POLL_INTERVAL). */
  deviceCodeTtlSeconds: number;
  pollIntervalSeconds: number;
  /** Counts user-code attempts per IP, in a namespace of its own (not the clients' rate limits). */
  userCodeGuesses: ClientRateLimiter;
  userCodeAttemptsPerMinute: number;
  /** The key an IP is counted under (an IPv6 address by its /64, as the login throttle does); default: itself. */
  guessKeyOf?: (ip: string) => string;
}

/** A fresh user code that collides with a live one is drawn again; this many collisions in a row is an outage. */
const USER_CODE_TRIES = 5;

/** The device authorization grant's endpoint and pages (RFC 8628 §3.1–3.3). */
export function createDeviceFlow(deps: DeviceFlowDeps): DeviceFlow {
  return {
    authorize: (request, verificationUri) => authorizeDevice(deps, request, verificationUri),
    lookup: (userCode, ip, user) => lookupUserCode(deps, userCode, ip, user),
    decide: (userCode, approved, user, ip) => decideUserCode(deps, userCode, approved, user, ip),
  };
}

/** RFC 8628 §3.1–3.2: the device authorization request. */
async function authorizeDevice(
  deps: DeviceFlowDeps,
  { params: pairs, basic, clientIp }: Parameters<DeviceFlow['authorize']>[0],
  verificationUri: string,
): Promise<DeviceAuthorizationResponse> {
  const { store, clock, events } = deps;
  const params = singleValued(pairs);
  const client = await authenticateClient(
    { basic, bodyClientId: params.get('client_id'), bodyClientSecret: params.get('client_secret') },
    deps,
    clientIp,
  );
  // RFC 8628 §3.1 with RFC 6749 §5.2 unauthorized_client: authenticated, but not allowed this grant.
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) throw unauthorizedClient('client may not use device_code');
  // RFC 8628 §3.1: scope OPTIONAL, decided as for the other grants (RFC 6749 §3.3).
  const scope = grantableScope(
    params.get('scope'),
    client.scopes,
    deps.policy.knownScopes,
    client.defaultScopes ?? deps.policy.defaultScopes,
  );
  const now = clock.now();
  // RFC 8628 §3.2 and §5.2: the device code is a bearer secret; 256 random bits, only its hash is kept.
  const deviceCode = randomBytes(32).toString('base64url');
  for (let attempt = 0; attempt < USER_CODE_TRIES; attempt++) {
    const userCode = newUserCode();
    const created = await store.createDeviceCode({
      hash: tokenKey(deviceCode),
      userCodeHash: tokenKey(userCode),
      clientId: client.clientId,
      scope,
      issuedAt: now,
      expiresAt: now + deps.deviceCodeTtlSeconds,
      intervalSeconds: deps.pollIntervalSeconds,
    });
    if (created === 'user_code_taken') continue;
    events.emit('device_code.issued', { client_id: client.clientId, ip: clientIp, scope: scope.join(' ') });
    const shown = formatUserCode(userCode);
    const complete = new URL(verificationUri);
    complete.searchParams.set('user_code', shown);
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      // RFC 8628 §3.3.1: the URI with the user code in it (for a QR code or a link).
      verification_uri_complete: complete.href,
      expires_in: deps.deviceCodeTtlSeconds,
      interval: deps.pollIntervalSeconds,
    };
  }
  throw temporarilyUnavailable('no free user code after several tries');
}

/** RFC 8628 §5.1: user codes are guessable, so attempts are limited per IP, counted before the lookup. */
function guess(deps: DeviceFlowDeps, ip: string) {
  return deps.userCodeGuesses.take(deps.guessKeyOf?.(ip) ?? ip, deps.userCodeAttemptsPerMinute);
}

async function findPending(deps: DeviceFlowDeps, userCode: string) {
  const normalised = normaliseUserCode(userCode);
  if (normalised === null) return null;
  const record = await deps.store.findPendingDeviceCode(tokenKey(normalised), deps.clock.now());
  return record ? { record, normalised } : null;
}

async function lookupUserCode(
  deps: DeviceFlowDeps,
  userCode: string,
  ip: string,
  user?: SignedInUser,
): Promise<UserCodeLookup> {
  const taken = await guess(deps, ip);
  if (!taken.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: taken.retryAfterSeconds };
  const found = await findPending(deps, userCode);
  const client = found ? await deps.store.findClient(found.record.clientId) : null;
  if (!found || !client) return { ok: false, reason: 'invalid' };
  const scope = user ? await scopeOfUser(deps.store, found.record.scope, user) : found.record.scope;
  return { ok: true, request: { client, scope, userCode: formatUserCode(found.normalised) } };
}

async function decideUserCode(
  deps: DeviceFlowDeps,
  userCode: string,
  approved: boolean,
  user: SignedInUser,
  ip: string,
): Promise<DeviceDecision> {
  // A decision names a user code too, so it is a guess like a lookup (a signed-in attacker could otherwise
  // approve codes at random for their own account).
  const taken = await guess(deps, ip);
  if (!taken.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: taken.retryAfterSeconds };
  const found = await findPending(deps, userCode);
  if (!found) return NOT_PENDING;
  const asked = found.record.scope;
  // RFC 6749 §3.3: the admin scopes are granted only by an admin; the rest is approved as asked. Nothing left
  // to grant is refused like a denial: the device's next poll gets access_denied (RFC 8628 §3.5).
  const scope = approved ? await scopeOfUser(deps.store, asked, user) : asked;
  const granted = approved && scope.length > 0;
  const decision = {
    approved: granted,
    userId: user.userId,
    now: deps.clock.now(),
    ...(granted && scope.length < asked.length ? { scope } : {}),
  };
  if (!(await deps.store.decideDeviceCode(found.record.hash, decision))) return NOT_PENDING;
  deps.events.emit(granted ? 'device.approved' : 'device.denied', {
    client_id: found.record.clientId,
    user_id: user.userId,
    username: user.username,
    ip,
    scope: (granted ? scope : asked).join(' '),
  });
  return { ok: true, approved: granted };
}

const NOT_PENDING: DeviceDecision = { ok: false, reason: 'not_pending' };

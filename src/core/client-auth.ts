import { OAuthError, invalidClient, invalidRequest, slowDown } from './errors.js';
import { fromAllowedNetwork } from './networks.js';
import { recordLockouts, type LockoutRecorder } from './lockouts.js';
import type { ClientStore, Clock, EventSink, LoginThrottle, PasswordHasher } from './ports.js';
import { judgeClientSecretAtOnce, verifyClientSecret } from './secrets.js';
import { constantTimeEqual } from './tokens.js';
import type { Client } from './types.js';

/**
 * Credentials from an `Authorization: Basic` header, decoded by the HTTP adapter.
 * RFC 6749 §2.3.1 says the id and secret are form-urlencoded before Base64; many clients (curl -u,
 * HTTPie, most libraries) do not encode them. `secretCandidates` holds the RFC decoding first and the
 * raw value second when the two differ, so both kinds of client work.
 */
export interface BasicCredentials {
  clientId: string;
  secretCandidates: string[];
}

/** What the request presented, before any check. */
export interface PresentedCredentials {
  /** 'malformed': an `Authorization: Basic` header that is not valid Base64 of `id:secret`. */
  basic: BasicCredentials | 'malformed' | null;
  bodyClientId: string | undefined;
  bodyClientSecret: string | undefined;
}

export interface ClientAuthDeps {
  store: Pick<ClientStore, 'findClient'> & LockoutRecorder;
  /** Verifies client secrets a person chose (argon2id); generated ones are checked with SHA-256. */
  clientSecretHasher: PasswordHasher;
  throttle: LoginThrottle;
  events: EventSink;
  /** When a lockout started (it is recorded for `oauthd lockout list`). */
  clock: Clock;
}

/**
 * One authentication decision per request (RFC 6749 §2.3). Throws invalid_client for every failure
 * with the same public text, or invalid_request when the request contradicts itself.
 *
 * Brute force against client secrets (RFC 6819 §5.2.3.3, §5.1.4.2.2) is limited per (client, IP) and per
 * IP. A secret that needs the slow hash, and every wrong one, is counted before its verdict is known
 * (`reserve`): a burst of concurrent guesses cannot all pass a check made before the first failure was
 * counted. A secret already known right at once (a generated secret's SHA-256, a chosen one verified
 * recently) is only checked against the limits (`check`): refused during a lockout like any other, but
 * holding no capacity, so a busy integrator's concurrent refreshes never crowd out each other.
 */
export async function authenticateClient(
  presented: PresentedCredentials,
  deps: ClientAuthDeps,
  ip: string,
): Promise<Client> {
  const { basic } = presented;
  const clientId = basic && basic !== 'malformed' ? basic.clientId : presented.bodyClientId;
  const subjects = { ip, clientId };
  const candidates = presentedSecrets(presented);
  // Basic credentials tried decoded and raw are two guesses, and count as two.
  const weight = Math.max(1, candidates.length);
  let found = await findPresentedClient(presented, deps);
  let refusedNetwork: string | null = null;
  if (!(found instanceof OAuthError) && !fromAllowedNetwork(found.policy.allowedNetworks, ip)) {
    // A client pinned to its networks (`oauthd client update --allowed-networks`): from elsewhere, its client
    // authentication fails, RFC 6749 §5.2 invalid_client (401), with the body of every other failure. Decided
    // before any secret is looked at (no oracle for the secret from outside, no hash spent), and counted like
    // a wrong secret, so a stream of such requests is throttled instead of filling the audit trail.
    refusedNetwork = found.clientId;
    found = invalidClient('request from outside the allowed networks');
  }
  const atOnce = found instanceof OAuthError ? false : judgeAtOnce(found, candidates, deps);
  if (atOnce === true) {
    // A secret known right is no guess: one attempt's room, whatever forms were presented.
    const decision = await deps.throttle.check(subjects, 1);
    if (!decision.allowed) throw slowDown(decision.retryAfterSeconds, 'client authentication throttled');
    return found as Client;
  }

  const decision = await deps.throttle.reserve(subjects, weight);
  if (!decision.allowed) throw slowDown(decision.retryAfterSeconds, 'client authentication throttled');
  let verdict: Client | OAuthError;
  try {
    verdict =
      found instanceof OAuthError
        ? found
        : atOnce === false
          ? invalidClient('wrong client secret')
          : await verifySlowly(found, candidates.slice(0, decision.weight), deps);
  } catch (error) {
    await decision.reservation.succeeded(); // an outage is not a guess
    throw error;
  }
  if (verdict instanceof OAuthError) {
    if (refusedNetwork !== null) deps.events.emit('client.network_refused', { client_id: refusedNetwork, ip });
    deps.events.emit('client_auth.failed', { client_id: clientId ?? null, ip, reason: verdict.detail ?? null });
    const { lockedOut, locked } = await decision.reservation.failed();
    if (lockedOut) deps.events.emit('lockout.started', { client_id: clientId ?? null, ip, subject: 'client' });
    await recordLockouts(deps.store, deps.clock, locked);
    throw verdict;
  }
  await decision.reservation.succeeded();
  return verdict;
}

/** The secret forms the request presented: Basic's candidates (decoded, then raw), or the body's one. */
function presentedSecrets({ basic, bodyClientSecret }: PresentedCredentials): string[] {
  if (basic && basic !== 'malformed') return basic.secretCandidates;
  return bodyClientSecret !== undefined ? [bodyClientSecret] : [];
}

/**
 * The client the request names, or the invalid_client it earns without any secret being checked
 * (malformed header, no identification, unknown client, a confidential client sent no secret).
 * A request that contradicts itself throws invalid_request (not a guess: nothing is counted).
 */
async function findPresentedClient(
  presented: PresentedCredentials,
  deps: ClientAuthDeps,
): Promise<Client | OAuthError> {
  const { basic, bodyClientId, bodyClientSecret } = presented;
  if (basic === 'malformed') return invalidClient('malformed Basic authorization header');

  // RFC 6749 §2.3 says a client MUST NOT use more than one authentication method. The spec's own table
  // lists client_id/client_secret as body fields while its samples use Basic, so integrators send both:
  // we accept that only when both name the same client and the same secret.
  if (basic) {
    if (bodyClientId !== undefined && bodyClientId !== basic.clientId) {
      throw invalidRequest('client_id in the body does not match the Authorization header.');
    }
    if (bodyClientSecret !== undefined && !basic.secretCandidates.some((s) => constantTimeEqual(s, bodyClientSecret))) {
      throw invalidRequest('client_secret in the body does not match the Authorization header.');
    }
  }

  const clientId = basic ? basic.clientId : bodyClientId;
  if (clientId === undefined) return invalidClient('no client identification');

  const client = await deps.store.findClient(clientId);
  if (!client) return invalidClient('unknown client');
  if (!client.isPublic && client.secretHash !== null && presentedSecrets(presented).length === 0) {
    return invalidClient('confidential client sent no secret');
  }
  return client;
}

/** true / false when the verdict costs no slow hash; undefined when it does. */
function judgeAtOnce(client: Client, candidates: string[], deps: ClientAuthDeps): boolean | undefined {
  // RFC 6749 §2.1 / §3.2.1: a public client cannot keep a secret and identifies itself with client_id
  // only. A secret it sends anyway proves nothing and is ignored (django-oauth-toolkit does the same).
  if (client.isPublic || client.secretHash === null) return true;
  let verdict: boolean | undefined = false;
  for (const candidate of candidates) {
    const judged = judgeClientSecretAtOnce(client.secretHash, candidate, deps.clientSecretHasher);
    if (judged === true) return true;
    if (judged === undefined) verdict = undefined;
  }
  return verdict;
}

async function verifySlowly(client: Client, candidates: string[], deps: ClientAuthDeps): Promise<Client | OAuthError> {
  for (const candidate of candidates) {
    if (await verifyClientSecret(client.secretHash!, candidate, deps.clientSecretHasher)) return client;
  }
  return invalidClient('wrong client secret');
}

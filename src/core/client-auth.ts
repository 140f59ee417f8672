import { OAuthError, invalidClient, invalidRequest, slowDown } from './errors.js';
import type { EventSink, LoginThrottle, PasswordHasher, Store } from './ports.js';
import { verifyClientSecret } from './secrets.js';
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
  store: Store;
  /** Verifies client secrets a person chose (argon2id); generated ones are checked with SHA-256. */
  clientSecretHasher: PasswordHasher;
  throttle: LoginThrottle;
  events: EventSink;
}

/**
 * One authentication decision per request (RFC 6749 §2.3). Throws invalid_client for every failure
 * with the same public text, or invalid_request when the request contradicts itself.
 */
export async function authenticateClient(presented: PresentedCredentials, deps: ClientAuthDeps, ip: string): Promise<Client> {
  const { basic, bodyClientId, bodyClientSecret } = presented;
  const clientId = basic && basic !== 'malformed' ? basic.clientId : bodyClientId;
  // Brute force against client secrets is refused before any secret is checked (RFC 6819 §5.2.3.3).
  const wait = await deps.throttle.retryAfterSeconds({ ip, clientId });
  if (wait > 0) throw slowDown(wait, 'client authentication throttled');
  try {
    return await verifyClient(presented, deps);
  } catch (error) {
    if (error instanceof OAuthError && error.code === 'invalid_client') {
      deps.events.emit('client_auth.failed', { client_id: clientId ?? null, ip, reason: error.detail ?? null });
      const { lockedOut } = await deps.throttle.failed({ ip, clientId });
      if (lockedOut) deps.events.emit('lockout.started', { client_id: clientId ?? null, ip, subject: 'client' });
    }
    throw error;
  }
}

async function verifyClient(presented: PresentedCredentials, deps: ClientAuthDeps): Promise<Client> {
  const { basic, bodyClientId, bodyClientSecret } = presented;
  if (basic === 'malformed') throw invalidClient('malformed Basic authorization header');

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
  if (clientId === undefined) throw invalidClient('no client identification');

  const client = await deps.store.findClient(clientId);
  if (!client) throw invalidClient('unknown client');

  // RFC 6749 §2.1 / §3.2.1: a public client cannot keep a secret and identifies itself with client_id
  // only. A secret it sends anyway proves nothing and is ignored (django-oauth-toolkit does the same).
  if (client.isPublic || client.secretHash === null) return client;

  const candidates = basic ? basic.secretCandidates : bodyClientSecret !== undefined ? [bodyClientSecret] : [];
  if (candidates.length === 0) throw invalidClient('confidential client sent no secret');
  for (const candidate of candidates) {
    if (await verifyClientSecret(client.secretHash, candidate, deps.clientSecretHasher)) return client;
  }
  throw invalidClient('wrong client secret');
}

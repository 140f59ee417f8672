import { ADMIN_READ_SCOPE, ADMIN_SCOPE, adminAccess, heldAdminScope } from '../../core/admin-scopes.js';
import type { BearerValidator } from '../../core/bearer.js';
import { refusalFor } from '../../core/bearer-challenge.js';
import { OAuthError } from '../../core/errors.js';
import type { ClientStore } from '../../core/ports.js';
import { guardResource, queryTokenOf } from '../../core/protected-resource.js';
import { ApiError } from './errors.js';

/** The realm of the admin API's challenges (RFC 6750 §3), apart from the public listener's. */
export const ADMIN_REALM = 'oauthd-admin';

/** Who calls, as the audit trail names them, and what they may do. */
export interface AdminCaller {
  /** `api:user:<username>` or `api:client:<client_id>`: the `actor` of every event the call causes. */
  actor: string;
  access: 'read' | 'write';
}

/** GET and HEAD read; every other method changes something. */
export const isReading = (method: string): boolean => method === 'GET' || method === 'HEAD';

function refused(decision: Parameters<typeof refusalFor>[0]): ApiError {
  const refusal = refusalFor(decision, ADMIN_REALM);
  return new ApiError(refusal.status, refusal.body, refusal.headers);
}

/** RFC 6750 §3.1 insufficient_scope, naming the scope the request needs. */
function insufficientScope(reading: boolean, description: string): ApiError {
  const error = new OAuthError('insufficient_scope', description);
  return refused({ kind: 'error', error, requiredScope: reading ? ADMIN_READ_SCOPE : ADMIN_SCOPE });
}

/**
 * Authenticates one admin API request (RFC 6750 §2.1: `Authorization: Bearer`, never in the URL) and decides
 * whether its token may do what the method asks. The admin scopes count only while they still hold:
 * - a token bound to a user counts only while that user is an admin now (a demoted admin's tokens stop at once);
 * - any token only while its client still holds the scope (a client whose admin scope was taken away does not
 *   keep it, nor do the admins who signed in through it, until their tokens expire).
 * Throws the RFC 6750 refusal: 401 without credentials (bare challenge, §3.1) or with a bad token
 * (invalid_token), 403 insufficient_scope with the scope needed.
 */
export async function authenticate(
  request: { method: string; authorization: string | undefined; queryToken: unknown },
  deps: { bearer: BearerValidator; store: Pick<ClientStore, 'findClient'> },
): Promise<AdminCaller> {
  const decision = await guardResource(
    // RFC 9700 §2.5: a token in the URL is refused (invalid_request), never used.
    { authorization: request.authorization, queryToken: queryTokenOf(request.queryToken) },
    deps.bearer,
  );
  if (decision.kind !== 'ok') throw refused(decision);
  const { principal } = decision;
  const reading = isReading(request.method);
  if (principal.userId !== null && principal.userIsAdmin !== true) {
    throw insufficientScope(reading, 'The access token speaks for a user who is not an admin.');
  }
  // Whoever the token speaks for, its client must still hold the scope.
  const scope = heldAdminScope(principal.scope, await deps.store.findClient(principal.clientId));
  const access = adminAccess(scope);
  if (access === null || (access === 'read' && !reading)) {
    throw insufficientScope(
      reading,
      reading
        ? `The access token carries neither ${ADMIN_SCOPE} nor ${ADMIN_READ_SCOPE}.`
        : `Changes need an access token with ${ADMIN_SCOPE}.`,
    );
  }
  const actor =
    principal.userId !== null
      ? `api:user:${principal.username ?? principal.userId}`
      : `api:client:${principal.clientId}`;
  return { actor, access };
}

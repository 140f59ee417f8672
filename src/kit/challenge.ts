import type { Refusal } from '../core/bearer-challenge.js';
import type { ResourceDecision } from '../core/protected-resource.js';

/** Why the kit refused a request, for the operator (never the token itself). */
export interface KitRefusal {
  status: number;
  /** The RFC 6750 error code sent to the client (`invalid_token`, `insufficient_scope`, …). */
  error: string;
  /** The private reason: `unknown token`, `introspection unreachable: TimeoutError`, `no token`… */
  reason: string;
}

/** The refusal as the operator's `onError` hook hears it. */
export function kitRefusalOf(decision: Exclude<ResourceDecision, { kind: 'ok' }>, refusal: Refusal): KitRefusal {
  const reason = decision.kind === 'missing' ? 'no token' : (decision.error.detail ?? decision.error.description);
  return { status: refusal.status, error: refusal.body.error, reason };
}

/**
 * RFC 6750 §3 refusals of a protected resource, shared by the server's own routes (userinfo, the auth gateway)
 * and the resource-server kit, which re-exports them.
 */
import type { ResourceDecision } from './protected-resource.js';

/** Status, headers and JSON body of a refused protected-resource request, framework-free. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** A quoted-string for an auth-param (RFC 7235 §2.1). */
export const quoted = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7E]/g, '')}"`;

const STATUS: Record<string, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

/**
 * RFC 6750 §3: the answer to a refused request, with `WWW-Authenticate: Bearer realm=…` and, when there
 * is an error, its `error`, `error_description` and, for insufficient_scope, the required `scope`.
 */
export function refusalFor(decision: Exclude<ResourceDecision, { kind: 'ok' }>, realm: string): Refusal {
  if (decision.kind === 'missing') {
    // §3.1: a request without authentication information gets no error code in the challenge.
    return {
      status: 401,
      headers: { 'WWW-Authenticate': `Bearer realm=${quoted(realm)}`, 'Cache-Control': 'no-store' },
      body: {
        error: 'invalid_token',
        error_description: 'Authentication required: send Authorization: Bearer <access token>.',
      },
    };
  }
  const { error, requiredScope } = decision;
  const params = [
    `realm=${quoted(realm)}`,
    `error=${quoted(error.code)}`,
    `error_description=${quoted(error.description)}`,
  ];
  if (requiredScope !== undefined) params.push(`scope=${quoted(requiredScope)}`);
  const headers: Record<string, string> = {
    'WWW-Authenticate': `Bearer ${params.join(', ')}`,
    'Cache-Control': 'no-store',
  };
  const status = STATUS[error.code] ?? 500;
  if (status === 503) headers['Retry-After'] = '1';
  return { status, headers, body: { error: error.code, error_description: error.description } };
}

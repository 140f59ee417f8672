import { hash } from 'node:crypto';
import type { PkceMethod } from '../authorization-ports.js';
import { constantTimeEqual } from '../tokens.js';
import type { Client } from '../types.js';

/** RFC 7636 §4.1 and §4.2: 43 to 128 characters of the unreserved set, for the verifier and the challenge alike. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

export function isPkceValue(value: string): boolean {
  return PKCE_VALUE.test(value);
}

/** RFC 7636 §4.2: S256 code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). */
export function s256Challenge(verifier: string): string {
  return hash('sha256', Buffer.from(verifier, 'ascii'), 'base64url');
}

/** RFC 7636 §4.6: does the verifier answer the challenge? Compared in constant time. */
export function verifierMatches(verifier: string, challenge: string, method: PkceMethod): boolean {
  if (!isPkceValue(verifier)) return false;
  return constantTimeEqual(method === 'S256' ? s256Challenge(verifier) : verifier, challenge);
}

export type ChallengeCheck =
  | { ok: true; codeChallenge: string | null; codeChallengeMethod: PkceMethod | null }
  | { ok: false; description: string };

/**
 * The PKCE part of an authorization request (RFC 7636 §4.3, §4.4.1), under the client's policy:
 * - a challenge is required unless the client is confidential with `--pkce optional`; a public client always
 *   needs one (RFC 9700 §2.1.1), whatever its setting;
 * - the method defaults to `plain` when absent (§4.3), and `plain` is accepted only under `S256 plain`, so a
 *   client held to S256 that leaves the method out is refused;
 * - every refusal is invalid_request (§4.4.1), the caller redirects it.
 */
export function checkChallenge(
  client: Pick<Client, 'isPublic' | 'policy'>,
  challenge: string | undefined,
  method: string | undefined,
): ChallengeCheck {
  const setting = client.policy.pkce;
  if (challenge === undefined) {
    if (method !== undefined) return { ok: false, description: 'code_challenge_method without code_challenge.' };
    if (setting === 'optional' && !client.isPublic) return { ok: true, codeChallenge: null, codeChallengeMethod: null };
    return { ok: false, description: 'code_challenge required.' };
  }
  const used = method ?? 'plain';
  if (used !== 'S256' && used !== 'plain') {
    return { ok: false, description: 'Unsupported code_challenge_method: use S256.' };
  }
  if (used === 'plain' && setting !== 'S256 plain') {
    return { ok: false, description: 'code_challenge_method S256 required.' };
  }
  if (!isPkceValue(challenge)) {
    return { ok: false, description: 'The code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~' };
  }
  return { ok: true, codeChallenge: challenge, codeChallengeMethod: used };
}

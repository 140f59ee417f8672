import { decodeFormComponent } from './body.js';
import type { BasicCredentials } from '../core/client-auth.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits `Authorization: <scheme> <credentials>`; the scheme is case-insensitive (RFC 7235 §2.1). */
function schemeAndCredentials(header: string | undefined): { scheme: string; credentials: string } | null {
  if (header === undefined) return null;
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/.exec(header.trim());
  if (!match) return { scheme: '', credentials: header };
  return { scheme: match[1]!.toLowerCase(), credentials: (match[2] ?? '').trim() };
}

/**
 * Client credentials from `Authorization: Basic` (RFC 7617), decoded as RFC 6749 §2.3.1 says: the id and
 * the secret were each form-urlencoded before Base64. Clients that skip that encoding (curl -u, HTTPie's
 * https://id:secret@host) send the raw values; for them the raw secret is the second candidate.
 *
 * Returns null when there is no Basic header (another scheme is not client authentication), 'malformed'
 * when it is not Base64 of UTF-8 `id:secret`.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | 'malformed' | null {
  const parsed = schemeAndCredentials(header);
  if (parsed?.scheme !== 'basic') return null;
  if (!BASE64.test(parsed.credentials)) return 'malformed';
  let decoded: string;
  try {
    decoded = strictUtf8.decode(Buffer.from(parsed.credentials, 'base64'));
  } catch {
    return 'malformed';
  }
  const colon = decoded.indexOf(':');
  if (colon === -1 || decoded.includes('\u0000')) return 'malformed';
  const rawId = decoded.slice(0, colon);
  const rawSecret = decoded.slice(colon + 1);
  const id = formDecodeOrNull(rawId) ?? rawId;
  const secret = formDecodeOrNull(rawSecret);
  const secretCandidates = secret === null || secret === rawSecret ? [rawSecret] : [secret, rawSecret];
  // No client id or secret holds U+0000, and some databases cannot store it (PostgreSQL answers an error).
  if (id.includes('\u0000') || secretCandidates.some((s) => s.includes('\u0000'))) return 'malformed';
  return { clientId: id, secretCandidates };
}

/** RFC 6749 §2.3.1 form-decoding, or null where the escapes are broken (then the raw value is used). */
function formDecodeOrNull(text: string): string | null {
  try {
    return decodeFormComponent(text);
  } catch {
    return null;
  }
}

import type {
  AuthorizationCodeRecord,
  BrowserSession,
  Consent,
  DeviceCodeRecord,
  DeviceCodeStatus,
  ListedBrowserSession,
  PkceMethod,
} from '../core/authorization-ports.js';
import { splitList } from './rows.js';

/** Row → domain for migration 8's tables, shared by both backends (SQLite booleans are 0/1). */

const bool = (value: number | boolean): boolean => value === true || value === 1;

/** An authorization code joined with its user, as both backends select it. */
export interface AuthorizationCodeRow {
  client_id: string;
  user_id: number;
  redirect_uri: string;
  scope: string;
  code_challenge: string | null;
  code_challenge_method: PkceMethod | null;
  issued_at: number;
  expires_at: number;
  used_at: number | null;
  grant_id: string | null;
  username: string;
  is_active: number | boolean;
}

export const toAuthorizationCode = (r: AuthorizationCodeRow): AuthorizationCodeRecord => ({
  clientId: r.client_id,
  userId: r.user_id,
  redirectUri: r.redirect_uri,
  scope: splitList(r.scope),
  codeChallenge: r.code_challenge,
  codeChallengeMethod: r.code_challenge_method,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  username: r.username,
  userIsActive: bool(r.is_active),
  usedAt: r.used_at,
  grantId: r.grant_id,
});

/** What a redemption reads of a code before deciding. */
export interface CodeStateRow {
  client_id: string;
  user_id: number;
  used_at: number | null;
  grant_id: string | null;
  expires_at: number;
}

export interface DeviceCodeRow {
  hash: Buffer;
  client_id: string;
  scope: string;
  status: DeviceCodeStatus;
  user_id: number | null;
  issued_at: number;
  expires_at: number;
  interval_seconds: number;
  last_polled_ms: number | null;
}

export const toDeviceCode = (r: DeviceCodeRow): DeviceCodeRecord => ({
  clientId: r.client_id,
  scope: splitList(r.scope),
  status: r.status,
  userId: r.user_id,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  intervalSeconds: r.interval_seconds,
});

/**
 * RFC 8628 §3.5: a poll is too soon when it comes less than the interval after the previous one (judged to
 * the millisecond); the stored interval then grows by 5 s. Both backends compute it in SQL as well.
 */
export const pollTooSoon = (r: DeviceCodeRow, nowMs: number): boolean =>
  r.last_polled_ms !== null && nowMs - r.last_polled_ms < r.interval_seconds * 1000;

export interface BrowserSessionRow {
  user_id: number;
  username: string;
  created_at: number;
  expires_at: number;
}

export const toBrowserSession = (r: BrowserSessionRow): BrowserSession => ({
  userId: r.user_id,
  username: r.username,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** Characters of the key's hex form that name a session: a label for the CLI, too short to find it by. */
const SESSION_LABEL_HEX = 8;

export const toListedSession = (r: { hash: Buffer; created_at: number; expires_at: number }): ListedBrowserSession => ({
  id: Buffer.from(r.hash).toString('hex').slice(0, SESSION_LABEL_HEX),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export interface ConsentRow {
  client_id: string;
  scope: string;
  created_at: number;
  updated_at: number;
}

export const toConsent = (r: ConsentRow): Consent => ({
  clientId: r.client_id,
  scope: splitList(r.scope),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * A consent's scopes as stored: unique and sorted (by code unit, as PostgreSQL's "C" collation orders the ASCII
 * of scope tokens, RFC 6749 §3.3), so the union of two grants reads the same whatever their order.
 */
export const consentScope = (...lists: readonly string[][]): string[] => [...new Set(lists.flat())].sort();

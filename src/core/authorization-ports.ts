import type { EpochSeconds, Grant, NewAccessToken, NewToken } from './types.js';

/*
 * What the authorization code grant (RFC 6749 §4.1 with RFC 7636), the device authorization grant (RFC 8628) and
 * the sign-in pages keep: codes, device codes, browser sessions and remembered consents. Like every other port,
 * intentions rather than rows: each method is atomic, and secrets (codes, device codes, user codes, session
 * tokens) are passed and kept only as keys derived by SHA-256 (core/tokens.ts tokenKey), never in plaintext.
 */

/** How a code's PKCE challenge was made (RFC 7636 §4.2). */
export type PkceMethod = 'S256' | 'plain';

/** An authorization code to be written (RFC 6749 §4.1.2), bound to everything the token request must repeat. */
export interface NewAuthorizationCode {
  hash: Buffer;
  clientId: string;
  userId: number;
  /** The redirect_uri of the authorization request, exactly as sent (RFC 6749 §4.1.3 compares it). */
  redirectUri: string;
  scope: string[];
  /** Null: the client is allowed to leave PKCE out (`--pkce optional`) and did. */
  codeChallenge: string | null;
  codeChallengeMethod: PkceMethod | null;
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds;
}

/** A code as the token endpoint reads it, joined with its user. */
export interface AuthorizationCodeRecord extends Omit<NewAuthorizationCode, 'hash'> {
  username: string;
  userIsActive: boolean;
  /** Set once the code was exchanged; a second exchange is reuse. */
  usedAt: EpochSeconds | null;
  /** The grant its exchange started (null until then). */
  grantId: string | null;
}

/** The exchange of a code for tokens: the grant and tokens to write if, and only if, the code is still unused. */
export interface RedeemAuthorizationCode {
  codeHash: Buffer;
  grant: Grant;
  access: NewAccessToken;
  /** Null when the client may not refresh. */
  refresh: NewToken | null;
  now: EpochSeconds;
}

/**
 * - `redeemed`: the code was unused and unexpired; it is now used and the grant and tokens are written, atomically.
 * - `reused`: the code was exchanged before. The grant its first exchange started is revoked in the same step
 *   (RFC 6749 §4.1.2: the server SHOULD revoke the tokens issued from it); `grantId` names it.
 * - `expired` / `not_found`: nothing was written.
 * - `client_gone`: the client was deleted meanwhile; nothing was written.
 */
export type RedeemCodeResult =
  | { outcome: 'redeemed' }
  | { outcome: 'reused'; grantId: string | null }
  | { outcome: 'expired' | 'not_found' | 'client_gone' };

export interface AuthorizationCodeStore {
  createAuthorizationCode(code: NewAuthorizationCode): Promise<void>;
  findAuthorizationCode(hash: Buffer): Promise<AuthorizationCodeRecord | null>;
  redeemAuthorizationCode(redemption: RedeemAuthorizationCode): Promise<RedeemCodeResult>;
}

/** A device authorization request (RFC 8628 §3.1–3.2) to be written. */
export interface NewDeviceCode {
  /** tokenKey of the device_code. */
  hash: Buffer;
  /** tokenKey of the normalised user code (upper case, no dash): what the user-code page looks up. */
  userCodeHash: Buffer;
  clientId: string;
  scope: string[];
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds;
  /** The polling interval (RFC 8628 §3.2), in seconds; grows by 5 with each slow_down (§3.5). */
  intervalSeconds: number;
}

/** pending → approved | denied (on the user-code page) → used (its tokens were issued). */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'used';

export interface DeviceCodeRecord {
  clientId: string;
  scope: string[];
  status: DeviceCodeStatus;
  /** Who approved or denied it; null while pending. */
  userId: number | null;
  issuedAt: EpochSeconds;
  expiresAt: EpochSeconds;
  intervalSeconds: number;
}

/**
 * One poll of the token endpoint (RFC 8628 §3.4), recorded atomically: `tooSoon` when it came less than the
 * interval after the previous poll, in which case the stored interval has just grown by 5 s (§3.5) and
 * `record.intervalSeconds` is the new one. Null: no device code with that hash for that client.
 */
export interface DevicePoll {
  record: DeviceCodeRecord;
  tooSoon: boolean;
}

export interface RedeemDeviceCode {
  hash: Buffer;
  grant: Grant;
  access: NewAccessToken;
  refresh: NewToken | null;
  now: EpochSeconds;
}

export interface DeviceCodeStore {
  createDeviceCode(code: NewDeviceCode): Promise<'created' | 'user_code_taken'>;
  /** The pending, unexpired device code with that user code, for the approval page; null otherwise. */
  findPendingDeviceCode(userCodeHash: Buffer, now: EpochSeconds): Promise<(DeviceCodeRecord & { hash: Buffer }) | null>;
  /**
   * Approves or denies a pending, unexpired code, atomically; false when it is no longer pending. `scope`: the
   * scope approved when narrower than asked (the admin scopes taken out for a user who is no admin).
   */
  decideDeviceCode(
    hash: Buffer,
    decision: { approved: boolean; userId: number; now: EpochSeconds; scope?: readonly string[] },
  ): Promise<boolean>;
  /** Records a poll at `nowMs` (milliseconds: the interval is judged to the millisecond). */
  pollDeviceCode(hash: Buffer, clientId: string, nowMs: number): Promise<DevicePoll | null>;
  /**
   * Marks an approved code used and writes the grant and tokens, atomically: exactly one of N concurrent
   * redemptions succeeds. `not_approved`: it was not (or no longer) approved; nothing was written.
   */
  redeemDeviceCode(redemption: RedeemDeviceCode): Promise<'redeemed' | 'not_approved' | 'client_gone'>;
}

/** A signed-in browser (the login page's session), keyed by the hash of its cookie's value. */
export interface NewBrowserSession {
  hash: Buffer;
  userId: number;
  createdAt: EpochSeconds;
  expiresAt: EpochSeconds;
}

export interface BrowserSession {
  userId: number;
  username: string;
  createdAt: EpochSeconds;
  expiresAt: EpochSeconds;
}

/** A session as `oauthd user sessions` lists it: identified by a short, non-secret prefix of its key. */
export interface ListedBrowserSession {
  id: string;
  createdAt: EpochSeconds;
  expiresAt: EpochSeconds;
}

export interface BrowserSessionStore {
  createBrowserSession(session: NewBrowserSession): Promise<void>;
  /** The live session (not ended, not expired at `now`, its user active); null otherwise. */
  findBrowserSession(hash: Buffer, now: EpochSeconds): Promise<BrowserSession | null>;
  /** Ends one session (sign-out). Idempotent. */
  endBrowserSession(hash: Buffer, now: EpochSeconds): Promise<void>;
  listUserBrowserSessions(userId: number, now: EpochSeconds): Promise<ListedBrowserSession[]>;
  /** Ends every live session of the user; returns how many. */
  endUserBrowserSessions(userId: number, now: EpochSeconds): Promise<number>;
}

/** Scopes a user let a client have, remembered until revoked (the consent page is not shown again for them). */
export interface Consent {
  clientId: string;
  scope: string[];
  createdAt: EpochSeconds;
  updatedAt: EpochSeconds;
}

export interface ConsentStore {
  /** The scopes the user consented to for the client; null when none is remembered. */
  findConsent(userId: number, clientId: string): Promise<string[] | null>;
  /** Adds `scope` to what the user consented to for the client (a union), atomically. */
  recordConsent(userId: number, clientId: string, scope: string[], now: EpochSeconds): Promise<void>;
  listUserConsents(userId: number): Promise<Consent[]>;
  /** Forgets the user's consents (for one client when given); returns the clients whose consent went. */
  revokeUserConsents(userId: number, options: { clientId?: string }): Promise<string[]>;
}

/** Everything the authorization code and device flows keep. */
export interface AuthorizationStore
  extends AuthorizationCodeStore,
    DeviceCodeStore,
    BrowserSessionStore,
    ConsentStore {}

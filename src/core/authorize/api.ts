import type { BrowserSession, PkceMethod } from '../authorization-ports.js';
import type { PresentedCredentials } from '../client-auth.js';
import type { ParamPairs } from '../params.js';
import type { Client } from '../types.js';

/*
 * What the HTTP layer (the authorization endpoint, the sign-in, consent and device pages) asks of the core.
 * The core knows nothing of HTTP: it takes parameters, plain values and the issuer, and returns decisions and
 * URLs; the pages render them. Implemented by core/authorize/flow.ts, core/sign-in.ts and core/device/flow.ts.
 */

/** An authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3) that passed every check. */
export interface ValidAuthorizationRequest {
  client: Client;
  /** Exactly as sent (and registered, but for a loopback port: RFC 8252 §7.3). */
  redirectUri: string;
  scope: string[];
  /** Null when the client sent none. */
  state: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: PkceMethod | null;
}

/**
 * The verdict on an authorization request, reached before any page is shown.
 * - `show`: the client or the redirect URI is not known good (RFC 6749 §4.1.2.1): the person sees an error
 *   page (400) and is never redirected.
 * - `redirect`: any other error, once the redirect URI is known good: a 302 to that URL, which carries `error`,
 *   `error_description`, `state` and `iss` (RFC 9207).
 */
export type AuthorizationRequestCheck =
  | { ok: true; request: ValidAuthorizationRequest }
  | { ok: false; show: { error: string; description: string } }
  | { ok: false; redirect: string };

/** Who is signed in on this browser, as the pages need it. */
export interface SignedInUser {
  userId: number;
  username: string;
}

export interface AuthorizationFlow {
  /** Validates the whole request; `issuer` is the RFC 9207 `iss` value for error redirects. */
  check(query: ParamPairs, issuer: string): Promise<AuthorizationRequestCheck>;
  /**
   * The request as this user may have it: the admin scopes only for an admin user (RFC 6749 §3.3: the server may
   * grant less than asked). Nothing left: the invalid_scope error redirect (§4.1.2.1). The pages call it before
   * the consent page, which so never shows an admin scope to anyone else.
   */
  forUser(
    request: ValidAuthorizationRequest,
    user: SignedInUser,
    issuer: string,
  ): Promise<{ ok: true; request: ValidAuthorizationRequest } | { ok: false; redirect: string }>;
  /**
   * True when `session` is too old to sign in to this client (the console's built-in client asks for a password
   * typed within FRESH_SIGN_IN_SECONDS, core/authorize/fresh-sign-in.ts): the pages then show the login page.
   */
  needsFreshSignIn(request: ValidAuthorizationRequest, session: BrowserSession): boolean;
  /** False when the client skips consent (`--skip-consent`) or the user's remembered consent covers the scope. */
  needsConsent(request: ValidAuthorizationRequest, user: SignedInUser): Promise<boolean>;
  /**
   * The person allowed the request (or was not asked): remembers the consent when `consented`, mints a code
   * bound to the request and the user, and returns the redirect URL with `code`, `state` and `iss`. The scope
   * is narrowed for the user as `forUser` does (nothing left: the invalid_scope redirect, and no code).
   */
  approve(
    request: ValidAuthorizationRequest,
    user: SignedInUser,
    context: { issuer: string; ip: string; consented: boolean },
  ): Promise<string>;
  /** The person said no: the redirect URL with `error=access_denied` (RFC 6749 §4.1.2.1), `state` and `iss`. */
  deny(request: ValidAuthorizationRequest, user: SignedInUser, context: { issuer: string; ip: string }): string;
}

export type SignInResult =
  | { ok: true; sessionToken: string; session: BrowserSession }
  /** Wrong username or password, or a disabled user: one answer for all (no oracle). */
  | { ok: false; reason: 'invalid' }
  /** The brute-force limits: locked out or backing off, whatever the password. */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** The login page's sessions. Session tokens are plaintext only here and in the cookie; the store keeps hashes. */
export interface SignIn {
  /**
   * Checks a username and password under the brute-force limits and the timing defence of the password grant
   * (the same counters: a guess on the page and a guess at the token endpoint count alike), and starts a session.
   */
  signIn(input: { username: string; password: string; ip: string }): Promise<SignInResult>;
  /** The live session of this token (not ended, unexpired, user active); null otherwise. */
  session(sessionToken: string): Promise<BrowserSession | null>;
  signOut(sessionToken: string, ip: string): Promise<void>;
}

/** RFC 8628 §3.2: the device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** A pending device request found by its user code: what the approval page shows. */
export interface PendingDeviceRequest {
  client: Client;
  scope: string[];
  /** The user code, normalised and formatted (`WDJB-MJHT`). */
  userCode: string;
}

export type UserCodeLookup =
  | { ok: true; request: PendingDeviceRequest }
  /** Unknown, expired or already decided: one answer for all. */
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export type DeviceDecision =
  /**
   * `approved`: as the person decided, but false when approving left nothing the user may grant (only admin
   * scopes asked, the user no admin): the device is then refused like a denial (RFC 8628 §3.5 access_denied).
   */
  | { ok: true; approved: boolean }
  /** Unknown, expired or already decided. */
  | { ok: false; reason: 'not_pending' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface DeviceFlow {
  /**
   * The device authorization endpoint (RFC 8628 §3.1): authenticates the client like the token endpoint
   * (a public client by client_id), checks it may use the device grant and the scope; throws OAuthError.
   * `verificationUri` is the absolute URL of the device page.
   */
  authorize(
    request: { params: ParamPairs; basic: PresentedCredentials['basic']; clientIp: string },
    verificationUri: string,
  ): Promise<DeviceAuthorizationResponse>;
  /**
   * The user-code page: normalises the typed code (case, dashes, spaces) and finds it, under a guessing limit;
   * with `user`, the scope shown is what that user may grant (the admin scopes only for an admin).
   */
  lookup(userCode: string, ip: string, user?: SignedInUser): Promise<UserCodeLookup>;
  /** Approves or denies the pending request with that user code, under the same guessing limit as `lookup`. */
  decide(userCode: string, approved: boolean, user: SignedInUser, ip: string): Promise<DeviceDecision>;
}

import { randomBytes } from 'node:crypto';
import type { BrowserSessionStore } from './authorization-ports.js';
import type { SignIn } from './authorize/api.js';
import { checkPassword, type PasswordCheckDeps, type PasswordCheckStore } from './password-check.js';
import { tokenKey } from './tokens.js';

/** What the login page reads and writes. */
export type SignInStore = PasswordCheckStore &
  Pick<BrowserSessionStore, 'createBrowserSession' | 'findBrowserSession' | 'endBrowserSession'>;

export interface SignInDeps extends PasswordCheckDeps {
  store: SignInStore;
  /** How long a session lasts from sign-in (OAUTHD_SESSION_TTL). */
  sessionTtlSeconds: number;
}

/** As the token endpoint bounds every parameter (core/params.ts): no NUL, at most 4096 characters. */
const acceptable = (value: string): boolean => value.length <= 4096 && !value.includes('\u0000');

/** A session token of oauthd's own: 43 characters of base64url (256 random bits), none longer. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The login page: a guess at a password here is throttled, timed and audited exactly as one at the token
 * endpoint (core/password-check.ts, the same counters). A success starts a browser session whose token lives in
 * the cookie alone; the store keeps its hash (RFC 6819 §5.1.4.1.3, as for tokens).
 */
export function createSignIn(deps: SignInDeps): SignIn {
  const { store, clock, events } = deps;
  return {
    async signIn({ username, password, ip }) {
      // Input no user could have is refused before it reaches the store or the hasher (it is no guess either).
      if (username === '' || !acceptable(username) || !acceptable(password)) return { ok: false, reason: 'invalid' };
      const checked = await checkPassword(deps, { username, password, ip }, { via: 'page' });
      if (!checked.ok) {
        return checked.reason === 'throttled'
          ? { ok: false, reason: 'throttled', retryAfterSeconds: checked.retryAfterSeconds }
          : { ok: false, reason: 'invalid' };
      }
      const { user } = checked;
      const sessionToken = randomBytes(32).toString('base64url');
      const createdAt = clock.now();
      const expiresAt = createdAt + deps.sessionTtlSeconds;
      await store.createBrowserSession({ hash: tokenKey(sessionToken), userId: user.id, createdAt, expiresAt });
      events.emit('login.succeeded', { username: user.username, user_id: user.id, ip, via: 'page' });
      return { ok: true, sessionToken, session: { userId: user.id, username: user.username, createdAt, expiresAt } };
    },

    async session(sessionToken) {
      // A cookie that cannot be one of ours costs no store call.
      if (!SESSION_TOKEN.test(sessionToken)) return null;
      return store.findBrowserSession(tokenKey(sessionToken), clock.now());
    },

    async signOut(sessionToken, ip) {
      if (!SESSION_TOKEN.test(sessionToken)) return;
      const hash = tokenKey(sessionToken);
      const now = clock.now();
      const live = await store.findBrowserSession(hash, now);
      await store.endBrowserSession(hash, now);
      if (live) events.emit('session.ended', { user_id: live.userId, username: live.username, ip, via: 'page' });
    },
  };
}

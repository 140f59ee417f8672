import type { AuditEventName } from '../audit-events.js';
import type { BrowserSessionStore, ConsentStore } from '../authorization-ports.js';
import type {
  AuditStore,
  ClientStore,
  ClientUsageStore,
  Clock,
  EventSink,
  LockoutStore,
  PasswordHasher,
  TokenStore,
  UserStore,
} from '../ports.js';
import { parseScope } from '../scope.js';
import { DEVICE_CODE_GRANT, GRANT_TYPES, isGrantType } from '../types.js';
import type { Client, EpochSeconds, GrantType, User } from '../types.js';
import { CONSOLE_CLIENT_ID } from '../console-client.js';
import {
  AdminError,
  checkPasswordPolicy,
  DEFAULT_PASSWORD_POLICY,
  noClient,
  noUser,
  type PasswordPolicy,
} from './validation.js';

/** The grant types of a client created without a list (`oauthd client create` without --grant-types). */
const DEFAULT_GRANT_TYPES: readonly GrantType[] = ['password', 'refresh_token'];

/**
 * The directory (clients and users, but the login-time hash upgrade), the operator's lockout actions, and
 * what a user holds of the sign-in pages (listed, forgotten, ended).
 */
export type AdminStore = ClientStore &
  Omit<UserStore, 'replacePasswordHash'> &
  Pick<LockoutStore, 'listActiveLockouts' | 'clearLockouts'> &
  Pick<BrowserSessionStore, 'listUserBrowserSessions' | 'endUserBrowserSessions'> &
  Pick<ConsentStore, 'listUserConsents' | 'revokeUserConsents'> &
  Pick<TokenStore, 'revokeGrant'> &
  Pick<AuditStore, 'queryAuditEvents' | 'auditActivity'> &
  Pick<ClientUsageStore, 'listClientUsage'>;

export interface AdminDeps {
  store: AdminStore;
  passwordHasher: PasswordHasher;
  clock: Clock;
  knownScopes: readonly string[];
  defaultScopes: readonly string[];
  /** The audit trail: every change made here is an event naming `actor`. Never given a secret. */
  events: EventSink;
  /** Who acts, e.g. `cli:root` (the CLI and the OS user running it). */
  actor: string;
  /** Applied whenever a password is set (not to imported hashes); DEFAULT_PASSWORD_POLICY when omitted. */
  passwordPolicy?: PasswordPolicy | undefined;
}

const USERNAME_MAX = 150;

/** What every admin action shares: its dependencies, the audit trail, and the checks of its inputs. */
export type AdminContext = ReturnType<typeof adminContext>;

export function adminContext(deps: AdminDeps) {
  const { store } = deps;
  return {
    deps,
    store,
    now: (): EpochSeconds => deps.clock.now(),
    /** Audit events `noun.verb` (past tense), written only once the change is committed. */
    audit: (event: AuditEventName, fields: Record<string, string | number | boolean | null>): void =>
      deps.events.emit(event, { ...fields, actor: deps.actor }),
    /** The user's id for an audit event (usernames are unique and users are never deleted). */
    userId: async (username: string): Promise<number | null> => (await store.findUserByUsername(username))?.id ?? null,
    /** The stored client; the built-in console client is nobody's to show, change or delete (not_found). */
    async requireClient(clientId: string): Promise<Client> {
      const client = clientId === CONSOLE_CLIENT_ID ? null : await store.findClient(clientId);
      if (!client || client.builtIn === true) throw noClient(clientId);
      return client;
    },
    async requireUser(username: string): Promise<User> {
      const user = await store.findUserByUsername(username);
      if (!user) throw noUser(username);
      return user;
    },
    /** `field`: the input the scopes came from, as the admin API names it. */
    checkScopes(scopes: string | undefined, field = 'scopes'): string[] {
      if (scopes === undefined) return [...deps.defaultScopes];
      const parsed = parseScope(scopes);
      if (parsed === null) throw new AdminError('scopes must be a space-separated list of scope names', { field });
      const unknown = parsed.filter((s) => !deps.knownScopes.includes(s));
      if (unknown.length > 0) {
        const known = deps.knownScopes.join(' ');
        throw new AdminError(`unknown scope(s): ${unknown.join(', ')} (known: ${known}; see OAUTHD_SCOPES)`, {
          field,
        });
      }
      return deps.knownScopes.filter((s) => parsed.includes(s));
    },
    checkGrantTypes(grantTypes: string[] | undefined): GrantType[] {
      // Without a list: today's default, the password and refresh_token grants (client_credentials is asked for).
      if (grantTypes === undefined) return [...DEFAULT_GRANT_TYPES];
      // `device_code` is short for RFC 8628's URN, which nobody types twice.
      const list = grantTypes
        .map((g) => g.trim())
        .filter((g) => g !== '')
        .map((g) => (g === 'device_code' ? DEVICE_CODE_GRANT : g));
      const bad = list.filter((g) => !isGrantType(g));
      if (list.length === 0 || bad.length > 0) {
        throw new AdminError(`grant types must be among: ${GRANT_TYPES.join(', ')} (or device_code for the last)`, {
          field: 'grant_types',
        });
      }
      return [...new Set(list as GrantType[])];
    },
    checkUsername(username: string): void {
      const field = { field: 'username' };
      if (username.length === 0 || username.length > USERNAME_MAX) {
        throw new AdminError(`the username must be 1-${USERNAME_MAX} characters`, field);
      }
      if (/[\x00-\x1F\x7F]/.test(username)) {
        throw new AdminError('the username must not contain control characters', field);
      }
    },
    checkPassword: (password: string): void =>
      checkPasswordPolicy(password, deps.passwordPolicy ?? DEFAULT_PASSWORD_POLICY),
  };
}

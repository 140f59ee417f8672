import { randomBytes } from 'node:crypto';
import type {
  ClientChanges,
  ClientStore,
  Clock,
  EventSink,
  LockoutMatch,
  LockoutStore,
  PasswordHasher,
  UserStore,
} from './ports.js';
import type { AuditEventName } from './audit-events.js';
import { plural } from './plural.js';
import { parseScope } from './scope.js';
import { generateClientSecret, hashChosenSecret, hashGeneratedSecret } from './secrets.js';
import { GRANT_TYPES, isGrantType, SERVER_POLICY } from './types.js';
import type { Client, EpochSeconds, GrantType, Lockout, User, UserGrant } from './types.js';

/** A refused administrative action; its message is one line, safe to print, never containing a secret. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

/** The directory (clients and users, but the login-time hash upgrade) and the operator's lockout actions. */
export type AdminStore = ClientStore &
  Omit<UserStore, 'replacePasswordHash'> &
  Pick<LockoutStore, 'listActiveLockouts' | 'clearLockouts'>;

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

/** Bounds on a password being set, in characters (Unicode code points, as people count them). */
export interface PasswordPolicy {
  /** OAUTHD_PASSWORD_MIN_LENGTH. */
  minLength: number;
  /** OAUTHD_PASSWORD_MAX_LENGTH: argon2 takes any length, but a login re-hashes it each time. */
  maxLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8, maxLength: 1024 };

/**
 * Throws an AdminError naming the rule (and its setting) a password breaks. Exported so that every way a
 * password is set (the CLI reads and checks before it opens the store) applies the same rule.
 */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): void {
  const length = [...password].length;
  if (length < policy.minLength) {
    throw new AdminError(
      `the password must be at least ${plural(policy.minLength, 'character')} (OAUTHD_PASSWORD_MIN_LENGTH)`,
    );
  }
  if (length > policy.maxLength) {
    throw new AdminError(
      `the password must be at most ${plural(policy.maxLength, 'character')} (OAUTHD_PASSWORD_MAX_LENGTH)`,
    );
  }
}

export interface CreateClientInput {
  name: string;
  clientId?: string | undefined;
  /** A secret to keep (e.g. from an existing deployment); otherwise one is generated. */
  clientSecret?: string | undefined;
  grantTypes?: string[] | undefined;
  /** Space-separated; defaults to the server's default scopes. */
  scopes?: string | undefined;
  isPublic?: boolean | undefined;
  /** A resource server: may introspect every client's tokens (RFC 7662). Confidential clients only. */
  canIntrospect?: boolean | undefined;
}

/** What `oauthd client update` may change; a field left out keeps its value. */
export interface UpdateClientInput {
  name?: string | undefined;
  /** Space-separated. */
  scopes?: string | undefined;
  /** Space-separated, among the client's scopes; '' goes back to the server's default scopes. */
  defaultScopes?: string | undefined;
  grantTypes?: string[] | undefined;
}

/** Client ids are sent in Basic headers and form bodies: printable ASCII, no ':' (RFC 6749 §2.3.1), no spaces. */
const CLIENT_ID = /^[\x21-\x39\x3B-\x7E]{1,100}$/;
/** RFC 6749 Appendix A.2: client_secret = *VSCHAR (%x20-7E). */
const CLIENT_SECRET = /^[\x20-\x7E]{1,255}$/;
const USERNAME_MAX = 150;

export type Admin = ReturnType<typeof createAdmin>;

/** The services behind the admin CLI: the same store and hashers as the server, never raw SQL. */
export function createAdmin(deps: AdminDeps) {
  const context = adminContext(deps);
  return { ...clientActions(context), ...userActions(context), ...sessionActions(context), ...lockoutActions(context) };
}

/** What every admin action shares: its dependencies, the audit trail, and the checks of its inputs. */
type AdminContext = ReturnType<typeof adminContext>;

function adminContext(deps: AdminDeps) {
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
    async requireClient(clientId: string): Promise<Client> {
      const client = await store.findClient(clientId);
      if (!client) throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
      return client;
    },
    async requireUser(username: string): Promise<User> {
      const user = await store.findUserByUsername(username);
      if (!user) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      return user;
    },
    checkScopes(scopes: string | undefined): string[] {
      if (scopes === undefined) return [...deps.defaultScopes];
      const parsed = parseScope(scopes);
      if (parsed === null) throw new AdminError('scopes must be a space-separated list of scope names');
      const unknown = parsed.filter((s) => !deps.knownScopes.includes(s));
      if (unknown.length > 0) {
        const known = deps.knownScopes.join(' ');
        throw new AdminError(`unknown scope(s): ${unknown.join(', ')} (known: ${known}; see OAUTHD_SCOPES)`);
      }
      return deps.knownScopes.filter((s) => parsed.includes(s));
    },
    checkGrantTypes(grantTypes: string[] | undefined): GrantType[] {
      if (grantTypes === undefined) return [...GRANT_TYPES];
      const list = grantTypes.map((g) => g.trim()).filter((g) => g !== '');
      const bad = list.filter((g) => !isGrantType(g));
      if (list.length === 0 || bad.length > 0) {
        throw new AdminError(`grant types must be among: ${GRANT_TYPES.join(', ')}`);
      }
      return [...new Set(list as GrantType[])];
    },
    checkUsername(username: string): void {
      if (username.length === 0 || username.length > USERNAME_MAX) {
        throw new AdminError(`the username must be 1-${USERNAME_MAX} characters`);
      }
      if (/[\x00-\x1F\x7F]/.test(username)) throw new AdminError('the username must not contain control characters');
    },
    checkPassword: (password: string): void =>
      checkPasswordPolicy(password, deps.passwordPolicy ?? DEFAULT_PASSWORD_POLICY),
  };
}

function clientActions(context: AdminContext) {
  const { store, audit, requireClient, now } = context;
  return {
    /** Returns the client and, for a confidential client, its secret in plaintext (shown once). */
    createClient: (input: CreateClientInput) => createClient(context, input),

    listClients: () => store.listClients(),

    showClient: requireClient,

    async deleteClient(clientId: string): Promise<void> {
      if (!(await store.deleteClient(clientId))) throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
      audit('client.deleted', { client_id: clientId });
    },

    /** Replaces a confidential client's secret with a generated one; the old one stops working at once. */
    async rotateClientSecret(clientId: string): Promise<string> {
      const client = await requireClient(clientId);
      if (client.isPublic) throw new AdminError('a public client has no secret to rotate');
      const secret = generateClientSecret();
      if (!(await store.setClientSecret(clientId, hashGeneratedSecret(secret), now()))) {
        throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
      }
      audit('client.secret_rotated', { client_id: clientId });
      return secret;
    },

    /**
     * Changes only the fields given, after checking them all (a bad value changes nothing). Tokens already
     * issued keep their scope until they expire; a refresh narrows the new access token to the client's
     * scopes then (RFC 6749 §6: never a scope not originally granted, and here never one no longer allowed).
     */
    updateClient: (clientId: string, input: UpdateClientInput) => updateClient(context, clientId, input),
  };
}

async function createClient(
  context: AdminContext,
  input: CreateClientInput,
): Promise<{ client: Client; clientSecret: string | null }> {
  const { store, audit, deps } = context;
  const name = input.name.trim();
  if (name === '') throw new AdminError('the client needs a --name');
  const clientId = input.clientId ?? randomBytes(24).toString('base64url');
  if (!CLIENT_ID.test(clientId)) {
    throw new AdminError('the client id must be 1-100 printable ASCII characters, without spaces or ":"');
  }
  const isPublic = input.isPublic ?? false;
  if (isPublic && input.clientSecret !== undefined) throw new AdminError('a public client has no secret');
  const canIntrospect = input.canIntrospect ?? false;
  // RFC 7662 §2.1 asks for authorization against token scanning: a public client's id is no secret.
  if (isPublic && canIntrospect)
    throw new AdminError('a public client cannot introspect: it has no secret to prove it is the resource server');
  if (input.clientSecret !== undefined && !CLIENT_SECRET.test(input.clientSecret)) {
    throw new AdminError('the client secret must be 1-255 printable ASCII characters');
  }
  const grantTypes = context.checkGrantTypes(input.grantTypes);
  const scopes = context.checkScopes(input.scopes);

  let clientSecret: string | null = null;
  let secretHash: string | null = null;
  if (!isPublic) {
    if (input.clientSecret !== undefined) {
      clientSecret = input.clientSecret;
      secretHash = await hashChosenSecret(clientSecret, deps.passwordHasher);
    } else {
      clientSecret = generateClientSecret();
      secretHash = hashGeneratedSecret(clientSecret);
    }
  }
  const now = context.now();
  const client: Client = {
    clientId,
    name,
    secretHash,
    isPublic,
    grantTypes,
    scopes,
    canIntrospect,
    policy: SERVER_POLICY,
    createdAt: now,
  };
  if ((await store.createClient(client)) === 'exists') {
    throw new AdminError(`a client with id ${JSON.stringify(clientId)} already exists`);
  }
  audit('client.created', {
    client_id: clientId,
    client_type: isPublic ? 'public' : 'confidential',
    secret: isPublic ? 'none' : input.clientSecret !== undefined ? 'chosen' : 'generated',
    grant_types: grantTypes.join(' '),
    scope: scopes.join(' '),
  });
  return { client, clientSecret };
}

async function updateClient(context: AdminContext, clientId: string, input: UpdateClientInput): Promise<Client> {
  const { store, audit, checkScopes } = context;
  const { name, scopes, defaultScopes, grantTypes } = input;
  if (name === undefined && scopes === undefined && defaultScopes === undefined && grantTypes === undefined) {
    throw new AdminError('nothing to change: give --name, --scopes, --default-scopes or --grant-types');
  }
  const current = await context.requireClient(clientId);
  const changes: ClientChanges = {};
  if (name !== undefined) {
    if (name.trim() === '') throw new AdminError('the client name must not be empty');
    changes.name = name.trim();
  }
  if (scopes !== undefined) changes.scopes = checkScopes(scopes);
  if (grantTypes !== undefined) changes.grantTypes = context.checkGrantTypes(grantTypes);
  const allowed = changes.scopes ?? current.scopes;
  if (defaultScopes !== undefined) {
    if (defaultScopes.trim() === '') changes.defaultScopes = null;
    else {
      const wanted = checkScopes(defaultScopes);
      const outside = wanted.filter((s) => !allowed.includes(s));
      if (outside.length > 0)
        throw new AdminError(
          `default scope(s) not among the client's scopes: ${outside.join(', ')} (its scopes: ${allowed.join(' ')})`,
        );
      changes.defaultScopes = wanted;
    }
  } else if (current.defaultScopes?.some((s) => !allowed.includes(s))) {
    // The client's own defaults must stay a subset of what it may be granted: say so rather than drop some.
    throw new AdminError(
      `the client's default scopes (${current.defaultScopes.join(' ')}) are not all among the new scopes: give --default-scopes too`,
    );
  }
  const updated = await store.updateClient(clientId, changes, context.now());
  if (!updated) throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
  const removed = changes.scopes ? current.scopes.filter((s) => !changes.scopes!.includes(s)) : [];
  audit('client.updated', {
    client_id: clientId,
    changed: Object.keys(changes).join(' '),
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.scopes ? { scope: changes.scopes.join(' '), scope_removed: removed.join(' ') } : {}),
    ...(changes.defaultScopes !== undefined
      ? { default_scope: changes.defaultScopes === null ? null : changes.defaultScopes.join(' ') }
      : {}),
    ...(changes.grantTypes ? { grant_types: changes.grantTypes.join(' ') } : {}),
  });
  return updated;
}

function userActions(context: AdminContext) {
  const { store, deps, audit, userId, requireUser, checkUsername, checkPassword, now } = context;
  return {
    async createUser(username: string, password: string): Promise<User> {
      checkUsername(username);
      checkPassword(password);
      const passwordHash = await deps.passwordHasher.hash(password);
      if ((await store.createUser({ username, passwordHash, isActive: true, createdAt: now() })) === 'exists') {
        throw new AdminError(`a user named ${JSON.stringify(username)} already exists`);
      }
      const user = await store.findUserByUsername(username);
      if (!user) throw new AdminError('the user vanished right after it was created');
      audit('user.created', { user_id: user.id, username: user.username });
      return user;
    },

    async setPassword(username: string, password: string, options: { revokeTokens: boolean }): Promise<void> {
      checkPassword(password);
      const hash = await deps.passwordHasher.hash(password);
      const done = await store.setUserPassword(username, hash, { revokeGrants: options.revokeTokens, now: now() });
      if (!done) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      audit('user.password_changed', {
        user_id: await userId(username),
        username,
        tokens_revoked: options.revokeTokens,
      });
    },

    /** Disabling refuses further password grants and revokes every token the user holds. */
    async setUserActive(username: string, isActive: boolean): Promise<void> {
      if (!(await store.setUserActive(username, isActive, now()))) {
        throw new AdminError(`no user named ${JSON.stringify(username)}`);
      }
      // Disabling revokes every token of the user (the store does it in the same transaction).
      audit(isActive ? 'user.enabled' : 'user.disabled', {
        user_id: await userId(username),
        username,
        ...(isActive ? {} : { tokens_revoked: true }),
      });
    },

    listUsers: () => store.listUsers(),

    /** A user and how many live grants (sessions) it holds. */
    async showUser(username: string): Promise<{ user: User; liveSessions: number }> {
      const user = await requireUser(username);
      return { user, liveSessions: (await store.listUserGrants(user.id, now())).length };
    },

    /** Deletes the user with every grant and token; their tokens stop working at once. */
    async deleteUser(username: string): Promise<{ user: User; liveGrants: number }> {
      const deleted = await store.deleteUser(username, now());
      if (!deleted) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      audit('user.deleted', { user_id: deleted.user.id, username, grants_deleted: deleted.liveGrants });
      return deleted;
    },

    /** Renames a user; its tokens keep working (they name the user by id; introspection then shows the new name). */
    async renameUser(username: string, newUsername: string): Promise<User> {
      checkUsername(newUsername);
      const result = await store.renameUser(username, newUsername, now());
      if (result === 'not_found') throw new AdminError(`no user named ${JSON.stringify(username)}`);
      if (result === 'exists') throw new AdminError(`a user named ${JSON.stringify(newUsername)} already exists`);
      const user = await requireUser(newUsername);
      audit('user.renamed', { user_id: user.id, username: newUsername, previous_username: username });
      return user;
    },
  };
}

/** A user's sessions: its live grants. */
function sessionActions(context: AdminContext) {
  const { store, audit, requireUser, requireClient, now } = context;
  return {
    /** The user's live grants, oldest first. */
    async userSessions(username: string): Promise<{ user: User; grants: UserGrant[] }> {
      const user = await requireUser(username);
      return { user, grants: await store.listUserGrants(user.id, now()) };
    },

    /** Revokes the user's live grants (of one client when given); each is a `grant.revoked` event. */
    async revokeUserSessions(username: string, options: { clientId?: string | undefined } = {}): Promise<string[]> {
      const user = await requireUser(username);
      if (options.clientId !== undefined) await requireClient(options.clientId);
      const at = now();
      const grants = new Map((await store.listUserGrants(user.id, at)).map((g) => [g.grantId, g.clientId]));
      const only = options.clientId !== undefined ? { clientId: options.clientId } : {};
      const revoked = await store.revokeUserGrants(user.id, { now: at, ...only });
      for (const grantId of revoked) {
        audit('grant.revoked', {
          client_id: grants.get(grantId) ?? options.clientId ?? null,
          user_id: user.id,
          username: user.username,
          grant_id: grantId,
          via: 'admin',
        });
      }
      return revoked;
    },
  };
}

function lockoutActions(context: AdminContext) {
  const { store, audit, now } = context;
  return {
    /** Lockouts in force now, oldest first. */
    listLockouts: (): Promise<Lockout[]> => store.listActiveLockouts(now()),

    /**
     * Ends the lockouts in force of a username (from any IP, and across IPs) or of an IP key (the IP alone,
     * every username from it, every client from it). Running servers forget the counters within a second.
     */
    async clearLockouts(match: LockoutMatch): Promise<Lockout[]> {
      const cleared = await store.clearLockouts(match, now());
      for (const l of cleared) {
        audit('lockout.cleared', {
          subject: l.kind,
          username: l.username,
          client_id: l.clientId,
          ip: l.ipKey,
          locked_until: l.until,
        });
      }
      return cleared;
    },
  };
}

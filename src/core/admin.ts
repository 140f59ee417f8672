import { randomBytes } from 'node:crypto';
import type { Clock, EventSink, PasswordHasher, Store } from './ports.js';
import type { AuditEventName } from './audit-events.js';
import { plural } from './plural.js';
import { parseScope } from './scope.js';
import { generateClientSecret, hashChosenSecret, hashGeneratedSecret } from './secrets.js';
import { GRANT_TYPES, isGrantType, type Client, type GrantType, type User } from './types.js';

/** A refused administrative action; its message is one line, safe to print, never containing a secret. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminDeps {
  store: Store;
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
    throw new AdminError(`the password must be at least ${plural(policy.minLength, 'character')} (OAUTHD_PASSWORD_MIN_LENGTH)`);
  }
  if (length > policy.maxLength) {
    throw new AdminError(`the password must be at most ${plural(policy.maxLength, 'character')} (OAUTHD_PASSWORD_MAX_LENGTH)`);
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

/** Client ids are sent in Basic headers and form bodies: printable ASCII, no ':' (RFC 6749 §2.3.1), no spaces. */
const CLIENT_ID = /^[\x21-\x39\x3B-\x7E]{1,100}$/;
/** RFC 6749 Appendix A.2: client_secret = *VSCHAR (%x20-7E). */
const CLIENT_SECRET = /^[\x20-\x7E]{1,255}$/;
const USERNAME_MAX = 150;

export type Admin = ReturnType<typeof createAdmin>;

/** The services behind the admin CLI: the same store and hashers as the server, never raw SQL. */
export function createAdmin(deps: AdminDeps) {
  const { store, passwordHasher, clock, events, actor } = deps;
  /** Audit events `noun.verb` (past tense), written only once the change is committed. */
  const audit = (event: AuditEventName, fields: Record<string, string | number | boolean | null>) => events.emit(event, { ...fields, actor });
  /** The user's id for an audit event (usernames are unique and users are never deleted). */
  const userId = async (username: string) => (await store.findUserByUsername(username))?.id ?? null;

  function checkScopes(scopes: string | undefined): string[] {
    if (scopes === undefined) return [...deps.defaultScopes];
    const parsed = parseScope(scopes);
    if (parsed === null) throw new AdminError('scopes must be a space-separated list of scope names');
    const unknown = parsed.filter((s) => !deps.knownScopes.includes(s));
    if (unknown.length > 0) {
      throw new AdminError(`unknown scope(s): ${unknown.join(', ')} (known: ${deps.knownScopes.join(' ')}; see OAUTHD_SCOPES)`);
    }
    return deps.knownScopes.filter((s) => parsed.includes(s));
  }

  function checkGrantTypes(grantTypes: string[] | undefined): GrantType[] {
    if (grantTypes === undefined) return [...GRANT_TYPES];
    const list = grantTypes.map((g) => g.trim()).filter((g) => g !== '');
    const bad = list.filter((g) => !isGrantType(g));
    if (list.length === 0 || bad.length > 0) {
      throw new AdminError(`grant types must be among: ${GRANT_TYPES.join(', ')}`);
    }
    return [...new Set(list as GrantType[])];
  }

  async function requireClient(clientId: string): Promise<Client> {
    const client = await store.findClient(clientId);
    if (!client) throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
    return client;
  }

  const checkPassword = (password: string) => checkPasswordPolicy(password, deps.passwordPolicy ?? DEFAULT_PASSWORD_POLICY);

  return {
    /** Returns the client and, for a confidential client, its secret in plaintext (shown once). */
    async createClient(input: CreateClientInput): Promise<{ client: Client; clientSecret: string | null }> {
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
      if (isPublic && canIntrospect) throw new AdminError('a public client cannot introspect: it has no secret to prove it is the resource server');
      if (input.clientSecret !== undefined && !CLIENT_SECRET.test(input.clientSecret)) {
        throw new AdminError('the client secret must be 1-255 printable ASCII characters');
      }
      const grantTypes = checkGrantTypes(input.grantTypes);
      const scopes = checkScopes(input.scopes);

      let clientSecret: string | null = null;
      let secretHash: string | null = null;
      if (!isPublic) {
        if (input.clientSecret !== undefined) {
          clientSecret = input.clientSecret;
          secretHash = await hashChosenSecret(clientSecret, passwordHasher);
        } else {
          clientSecret = generateClientSecret();
          secretHash = hashGeneratedSecret(clientSecret);
        }
      }
      const now = clock.now();
      const client: Client = { clientId, name, secretHash, isPublic, grantTypes, scopes, canIntrospect, createdAt: now };
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
    },

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
      if (!(await store.setClientSecret(clientId, hashGeneratedSecret(secret), clock.now()))) {
        throw new AdminError(`no client with id ${JSON.stringify(clientId)}`);
      }
      audit('client.secret_rotated', { client_id: clientId });
      return secret;
    },

    async createUser(username: string, password: string): Promise<User> {
      if (username.length === 0 || username.length > USERNAME_MAX) {
        throw new AdminError(`the username must be 1-${USERNAME_MAX} characters`);
      }
      if (/[\x00-\x1F\x7F]/.test(username)) throw new AdminError('the username must not contain control characters');
      checkPassword(password);
      const passwordHash = await passwordHasher.hash(password);
      const now = clock.now();
      if ((await store.createUser({ username, passwordHash, isActive: true, createdAt: now })) === 'exists') {
        throw new AdminError(`a user named ${JSON.stringify(username)} already exists`);
      }
      const user = await store.findUserByUsername(username);
      if (!user) throw new AdminError('the user vanished right after it was created');
      audit('user.created', { user_id: user.id, username: user.username });
      return user;
    },

    async setPassword(username: string, password: string, options: { revokeTokens: boolean }): Promise<void> {
      checkPassword(password);
      const hash = await passwordHasher.hash(password);
      const done = await store.setUserPassword(username, hash, { revokeGrants: options.revokeTokens, now: clock.now() });
      if (!done) throw new AdminError(`no user named ${JSON.stringify(username)}`);
      audit('user.password_changed', { user_id: await userId(username), username, tokens_revoked: options.revokeTokens });
    },

    /** Disabling refuses further password grants and revokes every token the user holds. */
    async setUserActive(username: string, isActive: boolean): Promise<void> {
      if (!(await store.setUserActive(username, isActive, clock.now()))) {
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
  };
}

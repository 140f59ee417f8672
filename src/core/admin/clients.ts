import { randomBytes } from 'node:crypto';
import { CONSOLE_CLIENT_ID } from '../console-client.js';
import type { ClientChanges, ListQuery } from '../ports.js';
import { generateClientSecret, hashChosenSecret, hashGeneratedSecret } from '../secrets.js';
import { type Client, type ClientPolicy, SERVER_POLICY } from '../types.js';
import type { AdminContext } from './context.js';
import { checkPolicyInput, type ClientPolicyInput, givesPolicy, policyAuditFields } from './client-policy.js';
import { type IfVersion, type Page, pageOf } from './paging.js';
import { AdminError, noClient, versionMismatch } from './validation.js';

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
  /** Space-separated, among its scopes; default: the server's default scopes among its scopes. */
  defaultScopes?: string | undefined;
  /** Its own lifetimes, networks, rate limit and password-grant sunset; the server's settings otherwise. */
  policy?: ClientPolicyInput | undefined;
}

/** What `oauthd client update` may change; a field left out keeps its value. */
export interface UpdateClientInput {
  name?: string | undefined;
  /** Space-separated. */
  scopes?: string | undefined;
  /** Space-separated, among the client's scopes; '' goes back to the server's default scopes. */
  defaultScopes?: string | undefined;
  grantTypes?: string[] | undefined;
  policy?: ClientPolicyInput | undefined;
}

/** Client ids are sent in Basic headers and form bodies: printable ASCII, no ':' (RFC 6749 §2.3.1), no spaces. */
const CLIENT_ID = /^[\x21-\x39\x3B-\x7E]{1,100}$/;
/** RFC 6749 Appendix A.2: client_secret = *VSCHAR (%x20-7E). */
const CLIENT_SECRET = /^[\x20-\x7E]{1,255}$/;

export function clientActions(context: AdminContext) {
  const { store, audit, requireClient, now } = context;
  return {
    /** Returns the client and, for a confidential client, its secret in plaintext (shown once). */
    createClient: (input: CreateClientInput) => createClient(context, input),

    listClients: () => store.listClients(),

    /** One page by client_id (at most `limit`, after the `after` cursor, matching `search`); `next` when more. */
    listClientsPage: (query: ListQuery): Promise<Page<Client>> =>
      pageOf(
        query,
        (q) => store.listClients(q),
        (c) => c.clientId,
      ),

    showClient: requireClient,

    async deleteClient(clientId: string, options: IfVersion = {}): Promise<void> {
      if (clientId === CONSOLE_CLIENT_ID) throw noClient(clientId);
      const only = options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {};
      const deleted = await store.deleteClient(clientId, only);
      if (deleted === 'version_mismatch') throw versionMismatch('client');
      if (!deleted) throw noClient(clientId);
      audit('client.deleted', { client_id: clientId });
    },

    /** Replaces a confidential client's secret with a generated one; the old one stops working at once. */
    async rotateClientSecret(clientId: string): Promise<string> {
      const client = await requireClient(clientId);
      if (client.isPublic) throw new AdminError('a public client has no secret to rotate');
      const secret = generateClientSecret();
      if (!(await store.setClientSecret(clientId, hashGeneratedSecret(secret), now()))) throw noClient(clientId);
      audit('client.secret_rotated', { client_id: clientId });
      return secret;
    },

    /**
     * Changes only the fields given, after checking them all (a bad value changes nothing). Tokens already
     * issued keep their scope until they expire; a refresh narrows the new access token to the client's
     * scopes then (RFC 6749 §6: never a scope not originally granted, and here never one no longer allowed).
     */
    updateClient: (clientId: string, input: UpdateClientInput, options: IfVersion = {}) =>
      updateClient(context, clientId, input, options),

    /** Revokes the client's grants that began with a password; returns how many (see revokePasswordGrants). */
    revokeClientPasswordGrants: (clientId: string) => revokePasswordGrants(context, clientId),
  };
}

async function createClient(
  context: AdminContext,
  input: CreateClientInput,
): Promise<{ client: Client; clientSecret: string | null }> {
  const { store, audit, deps } = context;
  const name = input.name.trim();
  if (name === '') throw new AdminError('the client needs a --name', { field: 'name' });
  const clientId = input.clientId ?? generatedClientId();
  if (!CLIENT_ID.test(clientId)) {
    throw new AdminError('the client id must be 1-100 printable ASCII characters, without spaces or ":"', {
      field: 'client_id',
    });
  }
  // The console's built-in client answers to this id on every server (core/console-client.ts).
  if (clientId === CONSOLE_CLIENT_ID) {
    throw new AdminError(`the client id ${CONSOLE_CLIENT_ID} is reserved for the console`, { field: 'client_id' });
  }
  const isPublic = input.isPublic ?? false;
  const secretField = { field: 'client_secret' };
  if (isPublic && input.clientSecret !== undefined) throw new AdminError('a public client has no secret', secretField);
  const canIntrospect = input.canIntrospect ?? false;
  // RFC 7662 §2.1 asks for authorization against token scanning: a public client's id is no secret.
  if (isPublic && canIntrospect) {
    throw new AdminError('a public client cannot introspect: it has no secret to prove it is the resource server', {
      field: 'can_introspect',
    });
  }
  if (input.clientSecret !== undefined && !CLIENT_SECRET.test(input.clientSecret)) {
    throw new AdminError('the client secret must be 1-255 printable ASCII characters', secretField);
  }
  const grantTypes = context.checkGrantTypes(input.grantTypes);
  refuseClientCredentialsForPublic(isPublic, grantTypes);
  const scopes = context.checkScopes(input.scopes);
  const defaultScopes =
    input.defaultScopes === undefined ? null : checkDefaultScopes(context, input.defaultScopes, scopes);
  const policyChanges = checkPolicyInput(input.policy ?? {}, null, context.now());
  checkFlowSettings(isPublic, grantTypes, { ...SERVER_POLICY, ...policyChanges });

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
    defaultScopes,
    canIntrospect,
    policy: { ...SERVER_POLICY, ...policyChanges },
    createdAt: now,
  };
  if ((await store.createClient(client)) === 'exists') {
    throw new AdminError(`a client with id ${JSON.stringify(clientId)} already exists`, {
      code: 'exists',
      field: 'client_id',
    });
  }
  audit('client.created', {
    client_id: clientId,
    client_type: isPublic ? 'public' : 'confidential',
    secret: isPublic ? 'none' : input.clientSecret !== undefined ? 'chosen' : 'generated',
    grant_types: grantTypes.join(' '),
    scope: scopes.join(' '),
    ...(defaultScopes !== null ? { default_scope: defaultScopes.join(' ') } : {}),
    ...policyAuditFields(policyChanges),
  });
  // As stored: with its version (the admin API's ETag of the new client).
  return { client: (await store.findClient(clientId)) ?? client, clientSecret };
}

async function updateClient(
  context: AdminContext,
  clientId: string,
  input: UpdateClientInput,
  options: IfVersion,
): Promise<Client> {
  const { store, audit, checkScopes } = context;
  const { name, scopes, defaultScopes, grantTypes } = input;
  const policyInput = input.policy ?? {};
  if (
    name === undefined &&
    scopes === undefined &&
    defaultScopes === undefined &&
    grantTypes === undefined &&
    !givesPolicy(policyInput)
  ) {
    throw new AdminError(
      'nothing to change: give --name, --scopes, --default-scopes, --grant-types or a policy option (see --help)',
    );
  }
  const current = await context.requireClient(clientId);
  // A stale copy is refused before its input is judged against the current client.
  if (options.ifVersion !== undefined && current.version !== options.ifVersion) throw versionMismatch('client');
  const changes: ClientChanges = {};
  const policyChanges = checkPolicyInput(policyInput, current.policy, context.now());
  if (Object.keys(policyChanges).length > 0) changes.policy = policyChanges;
  if (name !== undefined) {
    if (name.trim() === '') throw new AdminError('the client name must not be empty', { field: 'name' });
    changes.name = name.trim();
  }
  if (scopes !== undefined) changes.scopes = checkScopes(scopes);
  if (grantTypes !== undefined) {
    changes.grantTypes = context.checkGrantTypes(grantTypes);
    refuseClientCredentialsForPublic(current.isPublic, changes.grantTypes);
  }
  checkFlowSettings(current.isPublic, changes.grantTypes ?? current.grantTypes, {
    ...current.policy,
    ...policyChanges,
  });
  const allowed = changes.scopes ?? current.scopes;
  if (defaultScopes !== undefined) {
    changes.defaultScopes = defaultScopes.trim() === '' ? null : checkDefaultScopes(context, defaultScopes, allowed);
  } else if (current.defaultScopes?.some((s) => !allowed.includes(s))) {
    // The client's own defaults must stay a subset of what it may be granted: say so rather than drop some.
    throw new AdminError(
      `the client's default scopes (${current.defaultScopes.join(' ')}) are not all among the new scopes: give ` +
        `--default-scopes too`,
      { field: 'default_scopes' },
    );
  }
  const only = options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {};
  const updated = await store.updateClient(clientId, changes, context.now(), only);
  if (updated === 'version_mismatch') throw versionMismatch('client');
  if (!updated) throw noClient(clientId);
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
    ...policyAuditFields(policyChanges),
  });
  return updated;
}

/** RFC 6749 §4.4: the client credentials grant "MUST only be used by confidential clients". */
function refuseClientCredentialsForPublic(isPublic: boolean, grantTypes: readonly string[]): void {
  if (isPublic && grantTypes.includes('client_credentials')) {
    throw new AdminError('a public client cannot use client_credentials: it has no secret to authenticate with', {
      field: 'grant_types',
    });
  }
}

/**
 * What the authorization code flow needs of a client, checked on the client as it would be after a change:
 * - a redirect URI: the code flow cannot send a code anywhere without one (RFC 6749 §3.1.2);
 * - PKCE for a public client: it has no secret, so PKCE is all that binds a code to it (RFC 9700 §2.1.1);
 * - consent for a public client: anyone can present its client_id, so the person must see each request.
 */
export function checkFlowSettings(isPublic: boolean, grantTypes: readonly string[], policy: ClientPolicy): void {
  if (isPublic && policy.skipConsent === true) {
    throw new AdminError(
      'a public client cannot skip consent (RFC 8252 §8.6: its identity cannot be proven): --skip-consent is for ' +
        'confidential clients',
      { field: 'skip_consent' },
    );
  }
  if (isPublic && policy.pkce === 'optional') {
    throw new AdminError(
      'a public client must use PKCE (RFC 9700 §2.1.1): --pkce optional is for confidential clients',
      { field: 'pkce' },
    );
  }
  if (grantTypes.includes('authorization_code') && (policy.redirectUris ?? []).length === 0) {
    throw new AdminError(
      'the authorization_code grant needs at least one --redirect-uri: there is nowhere else to send the code',
      { field: 'redirect_uris' },
    );
  }
}

/** Default scopes: known scopes, all among the client's (`allowed`). */
function checkDefaultScopes(context: AdminContext, defaultScopes: string, allowed: string[]): string[] {
  const wanted = context.checkScopes(defaultScopes, 'default_scopes');
  const outside = wanted.filter((s) => !allowed.includes(s));
  if (outside.length > 0) {
    throw new AdminError(
      `default scope(s) not among the client's scopes: ${outside.join(', ')} (its scopes: ${allowed.join(' ')})`,
      { field: 'default_scopes' },
    );
  }
  return wanted;
}

/**
 * Revokes the client's live grants that began with a password (its refresh tokens stop working at once);
 * each is a `grant.revoked` event. For `--revoke-password-grants` once the sunset date is past.
 */
async function revokePasswordGrants(context: AdminContext, clientId: string): Promise<number> {
  await context.requireClient(clientId);
  const revoked = await context.store.revokeClientGrants(clientId, { grantType: 'password', now: context.now() });
  for (const grantId of revoked) {
    context.audit('grant.revoked', { client_id: clientId, grant_id: grantId, via: 'password_grant_sunset' });
  }
  return revoked.length;
}

/**
 * 192 random bits, base64url, starting with a letter or a digit: an id starting with `-` would be taken for an
 * option on a command line (`oauthd client show -Xy…`), so such a draw (1 in 32, with `_`) is drawn again.
 */
export function generatedClientId(): string {
  for (;;) {
    const id = randomBytes(24).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

import { CONSOLE_CLIENT_ID } from '../../core/console-client.js';
import type { NewClient } from '../../core/ports.js';
import { hashGeneratedSecret, unusableSecret } from '../../core/secrets.js';
import type { GrantOrigin, GrantType } from '../../core/types.js';
import { createArgon2Hasher } from '../../crypto/argon2-hasher.js';
import { classifyDjangoHash } from '../../crypto/django-hashers.js';
import { codeFlowShape, type SkippedRedirectUri } from './code-flow.js';
import type { Destination, ImportRun } from './context.js';
import type { DjangoApplication } from './source.js';
import { countSkipped, countUnusable, emptyKind, type KindSummary } from './summary.js';

/** RFC 6749 §2.3.1 / oauthd's client ids: 1-100 printable ASCII characters, no space and no ':'. */
const CLIENT_ID = /^[\x21-\x39\x3B-\x7E]{1,100}$/;
/** A secret DOT generated (oauthlib's generator: 128 characters of [A-Za-z0-9] by default). */
const GENERATED_SECRET = /^[A-Za-z0-9]{40,}$/;
const DJANGO_HASH_PREFIX =
  /^(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|sha1|md5|unsalted_md5|unsalted_sha1|crypt|scrypt)\$/;

export interface ClientsImported {
  summary: KindSummary;
  /**
   * DOT application id → the client id in oauthd and how its grants began (a DOT application has one grant
   * type: `password`, `client_credentials`, or null for the others), or why its tokens are skipped.
   */
  byId: Destination<{ clientId: string; grantOrigin: GrantOrigin | null }>;
  /** Client-credentials applications (created or present), whose user-less tokens are imported too. */
  clientCredentials: number;
  /** Written with an unusable secret: its Django hash costs more to verify than oauthd allows. */
  withoutSecret: string[];
  /** Authorization-code applications created with the code flow (PKCE S256 required from now on). */
  codeFlow: string[];
  /** Authorization-code applications created without it: none of their redirect URIs passed. */
  codeFlowOff: string[];
  /** Redirect URIs of created clients that were left out, with why. */
  skippedRedirectUris: SkippedRedirectUri[];
}

export async function importClients(run: ImportRun): Promise<ClientsImported> {
  const { target, source, options } = run;
  const summary = emptyKind(source.totals.applications);
  const clients: ClientsImported = {
    summary,
    byId: new Map(),
    withoutSecret: [],
    clientCredentials: 0,
    codeFlow: [],
    codeFlowOff: [],
    skippedRedirectUris: [],
  };
  let argon2: ReturnType<typeof createArgon2Hasher> | undefined;
  const argon2Hasher = () => {
    argon2 ??= createArgon2Hasher();
    return argon2;
  };
  let done = 0;
  run.progress('clients', 0, source.applications.length);
  for (const app of source.applications) {
    run.progress('clients', done++, source.applications.length);
    const shape = clientShape(app, source.layout.hashClientSecretColumn);
    if ('skip' in shape) {
      countSkipped(summary, shape.skip);
      clients.byId.set(app.id, { skip: 'client not imported' });
      continue;
    }
    const grantOrigin = originOf(app.authorizationGrantType);
    clients.byId.set(app.id, { clientId: app.clientId, grantOrigin });
    if (grantOrigin === 'client_credentials') clients.clientCredentials += 1;
    if (await target.hasClient(app.clientId)) {
      summary.present += 1;
      continue;
    }
    const { secret } = shape;
    // A dry run hashes nothing (argon2 is slow, and the hash is never written).
    const secretHash =
      secret.kind === 'none'
        ? null
        : secret.kind === 'keep'
          ? secret.value
          : secret.kind === 'unusable'
            ? unusableSecret(secret.reason)
            : options.dryRun
              ? 'dry-run'
              : secret.kind === 'generated'
                ? hashGeneratedSecret(secret.value)
                : await argon2Hasher().hash(secret.value);
    const code = app.authorizationGrantType === 'authorization-code' ? codeFlowShape(app) : null;
    const client: NewClient = {
      clientId: app.clientId,
      name: app.name || app.clientId,
      secretHash,
      isPublic: shape.isPublic,
      grantTypes: code?.grantTypes ?? shape.grantTypes,
      scopes: options.clientScopes,
      ...(code ? { policy: code.policy } : {}),
      createdAt: app.created ?? options.now,
    };
    const outcome = await target.importClient(client);
    summary[outcome] += 1;
    if (outcome === 'created' && code) {
      (code.codeFlow ? clients.codeFlow : clients.codeFlowOff).push(app.clientId);
      clients.skippedRedirectUris.push(...code.skippedUris);
    }
    if (outcome === 'created' && secret.kind === 'unusable') {
      countUnusable(summary, `client secret hash past oauthd's cost bounds: ${secret.reason}`);
      clients.withoutSecret.push(app.clientId);
    }
  }
  run.progress('clients', source.applications.length, source.applications.length);
  return clients;
}

/** How a DOT application's secret is stored in oauthd. */
type SecretSource =
  | { kind: 'none' }
  /** A Django hash (DOT 2.x+): stored as it is, verified by the Django-compatible hasher. */
  | { kind: 'keep'; value: string }
  /** Plaintext with DOT's generated shape: high entropy, a fast hash is enough. */
  | { kind: 'generated'; value: string }
  /** Plaintext a person may have chosen: argon2id. */
  | { kind: 'chosen'; value: string }
  /** A Django hash too costly to verify (core/hash-bounds.ts): stored as unusable, never verified. */
  | { kind: 'unusable'; reason: string };

/** What a DOT application becomes in oauthd, or why it cannot be imported. */
function clientShape(
  app: DjangoApplication,
  hashClientSecretColumn: boolean,
): { isPublic: boolean; grantTypes: GrantType[]; secret: SecretSource } | { skip: string } {
  if (!CLIENT_ID.test(app.clientId)) {
    return { skip: 'client id oauthd cannot accept (1-100 printable ASCII characters, no space or ":")' };
  }
  // Every oauthd answers to this id with the console's built-in client (core/console-client.ts).
  if (app.clientId === CONSOLE_CLIENT_ID) return { skip: `client id ${CONSOLE_CLIENT_ID} is reserved for the console` };
  const grantTypes = grantTypesFor(app.authorizationGrantType);
  if (!Array.isArray(grantTypes)) return grantTypes;
  if (app.clientType === 'public' && grantTypes.includes('client_credentials')) {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    return { skip: 'public client-credentials application (client_credentials needs a confidential client)' };
  }
  if (app.clientType === 'public') return { isPublic: true, grantTypes, secret: { kind: 'none' } };
  if (app.clientType !== 'confidential') return { skip: `unknown client type ${JSON.stringify(app.clientType)}` };

  const secret = app.clientSecret;
  // DOT 2.x hashes secrets on save; later versions record it in hash_client_secret. Without the column,
  // a value shaped like a Django hash is one (DOT's generated plaintext secrets never contain "$").
  const hashed = app.hashClientSecret ?? (!hashClientSecretColumn && DJANGO_HASH_PREFIX.test(secret));
  if (hashed) {
    const info = classifyDjangoHash(secret);
    if (info.kind === 'supported') return { isPublic: false, grantTypes, secret: { kind: 'keep', value: secret } };
    if (info.kind === 'out_of_bounds') {
      return { isPublic: false, grantTypes, secret: { kind: 'unusable', reason: info.reason } };
    }
    if (info.kind === 'unsupported') {
      return { skip: `client secret hashed with unsupported algorithm ${info.algorithm}` };
    }
    return { skip: 'malformed hashed client secret' };
  }
  if (secret === '') return { skip: 'confidential client without a secret' };
  const kind = GENERATED_SECRET.test(secret) ? 'generated' : 'chosen';
  return { isPublic: false, grantTypes, secret: { kind, value: secret } };
}

/**
 * What each DOT grant type becomes. oauthd implements the password, client_credentials and refresh_token
 * grants:
 * - `password` → password + refresh_token;
 * - `authorization-code` → authorization_code + refresh_token with its redirect URIs (code-flow.ts), or
 *   refresh_token alone when none of them passes;
 * - `openid-hybrid` → refresh_token only: its live tokens keep working (DOT allows the refresh grant to every
 *   application but implicit ones), new logins need an OpenID Connect provider;
 * - `implicit` → no grant type: its live access tokens keep working until they expire;
 * - `client-credentials` → client_credentials alone (a confidential client): no refresh_token, since that
 *   grant issues no refresh token (RFC 6749 §4.4.3); its live tokens, which have no user, come over too.
 */
function grantTypesFor(dotGrantType: string): GrantType[] | { skip: string } {
  switch (dotGrantType) {
    case 'password':
      return ['password', 'refresh_token'];
    case 'authorization-code':
    case 'openid-hybrid':
      return ['refresh_token'];
    case 'implicit':
      return [];
    case 'client-credentials':
      return ['client_credentials'];
    default:
      return { skip: `unknown grant type ${JSON.stringify(dotGrantType)}` };
  }
}

/**
 * How the grants of an application with this DOT grant type began (Grant.grantType): `password` grants fall
 * under a password-grant sunset; an authorization-code application's grants began with a code; the other
 * types have no GrantOrigin in oauthd, so theirs are null (unknown), as migration 7 leaves the grants of
 * clients without the password grant.
 */
function originOf(dotGrantType: string): GrantOrigin | null {
  if (dotGrantType === 'password') return 'password';
  if (dotGrantType === 'client-credentials') return 'client_credentials';
  if (dotGrantType === 'authorization-code') return 'authorization_code';
  return null;
}

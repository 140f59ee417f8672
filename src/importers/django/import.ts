import type { NewClient } from '../../core/ports.js';
import { hashGeneratedSecret, unusableSecret } from '../../core/secrets.js';
import { tokenKey } from '../../core/tokens.js';
import type { EpochSeconds, GrantType, NewAccessToken, NewToken } from '../../core/types.js';
import { createArgon2Hasher } from '../../crypto/argon2-hasher.js';
import { classifyDjangoHash } from '../../crypto/django-hashers.js';
import { openImportTarget, type ImportGrantResult, type ImportTarget, type ImportTargetCounts } from '../../store/import-target.js';
import { readDjangoSnapshot, type DjangoAccessToken, type DjangoApplication, type DjangoRefreshToken, type DjangoUser } from './source.js';
import { plural } from '../../core/plural.js';

/**
 * `oauthd import django`: users, applications and live tokens of a django-oauth-toolkit database into
 * oauthd's, idempotently (docs/migrating-from-django-oauth-toolkit.md is the operator's guide).
 *
 * Order: the source is read in one read-only snapshot and closed; then users, clients and token families
 * are written one by one (each an atomic call of the ImportTarget). Tokens are kept only as the SHA-256
 * of DOT's plaintext, which is how oauthd looks every token up, so the strings integrators hold keep
 * working.
 *
 * Token families (oauthd grants) get deterministic ids, so a re-import finds what it wrote:
 * - `dot-rt-<refresh token id>`: a live DOT refresh token with the access token issued alongside it (if
 *   that one still exists; DOT deletes revoked access tokens);
 * - `dot-at-<access token id>`: a live access token without a refresh token.
 * DOT cannot tell which refresh tokens were rotated into which (it deletes the access token that linked
 * them), so each refresh token is its own family; presenting a token DOT rotated or revoked is
 * invalid_grant, as it was on DOT.
 */

export interface DjangoImportOptions {
  /** The DOT database: a SQLite path or a postgres:// URL. */
  from: string;
  /** oauthd's database URL. */
  databaseUrl: string;
  userTable: string;
  usernameColumn: string;
  /** The scopes every imported client may be granted (DOT's SCOPES that a client may get). */
  clientScopes: string[];
  /** The scope given to a refresh token whose access token DOT deleted; null: skip such tokens. */
  orphanScope: string[] | null;
  /** DOT's REFRESH_TOKEN_EXPIRE_SECONDS: imported refresh tokens expire that long after their access token. */
  refreshTokenExpireSeconds: number | null;
  dryRun: boolean;
  now: EpochSeconds;
  /** Called as rows are handled: `done` of `total` rows of `kind` (the CLI shows it on stderr). */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

export interface ImportProgress {
  kind: 'users' | 'clients' | 'refresh tokens' | 'access tokens';
  done: number;
  total: number;
}

/** oauthd's own password hashes (argon2id): a re-import never replaces one (the user logged in here). */
const isOwnPasswordHash = (hash: string): boolean => hash.startsWith('$argon2');

export interface KindSummary {
  /** Rows of this kind in the DOT database. */
  inSource: number;
  created: number;
  /** Already in oauthd, unchanged. */
  present: number;
  /** Already in oauthd, changed to follow DOT (password hash, disabled, token revoked or replaced). */
  updated: number;
  skipped: number;
  /** Why rows were skipped: reason → count. */
  skippedWhy: Record<string, number>;
  /**
   * Of those created or updated: written with an unusable password or secret, because DOT's hash costs
   * more to verify than oauthd allows (core/hash-bounds.ts). The user needs a new password, the client a
   * new secret.
   */
  unusable: number;
  /** Why: reason → count. */
  unusableWhy: Record<string, number>;
}

export interface DjangoImportSummary {
  dryRun: boolean;
  source: { kind: 'sqlite' | 'postgres'; dotLayout: string };
  users: KindSummary;
  clients: KindSummary;
  accessTokens: KindSummary;
  refreshTokens: KindSummary;
  /** Things an operator should know that are not skips. */
  notes: string[];
  /** Row counts of oauthd's database after the import (before it, for a dry run). */
  target: ImportTargetCounts;
}

const kind = (inSource: number): KindSummary => ({ inSource, created: 0, present: 0, updated: 0, skipped: 0, skippedWhy: {}, unusable: 0, unusableWhy: {} });

function skip(summary: KindSummary, reason: string, count = 1): void {
  if (count <= 0) return;
  summary.skipped += count;
  summary.skippedWhy[reason] = (summary.skippedWhy[reason] ?? 0) + count;
}

function unusable(summary: KindSummary, reason: string): void {
  summary.unusable += 1;
  summary.unusableWhy[reason] = (summary.unusableWhy[reason] ?? 0) + 1;
}

/** RFC 6749 §2.3.1 / oauthd's client ids: 1-100 printable ASCII characters, no space and no ':'. */
const CLIENT_ID = /^[\x21-\x39\x3B-\x7E]{1,100}$/;
/** A secret DOT generated (oauthlib's generator: 128 characters of [A-Za-z0-9] by default). */
const GENERATED_SECRET = /^[A-Za-z0-9]{40,}$/;
const DJANGO_HASH_PREFIX = /^(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|sha1|md5|unsalted_md5|unsalted_sha1|crypt|scrypt)\$/;

/**
 * What each DOT grant type becomes. oauthd implements the password and refresh_token grants only:
 * - `password` → password + refresh_token;
 * - `authorization-code`, `openid-hybrid` → refresh_token only: their live tokens keep working (DOT allows
 *   the refresh grant to every application but implicit ones), new logins need another authorization server;
 * - `implicit` → no grant type: its live access tokens keep working until they expire;
 * - `client-credentials` → skipped: its tokens have no user, and oauthd has no client_credentials grant.
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
      return { skip: 'client-credentials application (oauthd has no client_credentials grant)' };
    default:
      return { skip: `unknown grant type ${JSON.stringify(dotGrantType)}` };
  }
}

function parseScopeText(text: string): string[] {
  return [...new Set(text.split(/\s+/).filter((s) => s !== ''))];
}

export async function importFromDjango(options: DjangoImportOptions): Promise<DjangoImportSummary> {
  const { now, dryRun } = options;
  const target = await openImportTarget(options.databaseUrl, { dryRun });
  try {
    return await run(target, options, now, dryRun);
  } finally {
    await target.close();
  }
}

async function run(target: ImportTarget, options: DjangoImportOptions, now: EpochSeconds, dryRun: boolean): Promise<DjangoImportSummary> {
  // What earlier imports wrote, so the snapshot can say what became of it in DOT.
  const importedRt = (await target.grantIdsWithPrefix('dot-rt-')).map((id) => id.slice('dot-rt-'.length));
  const importedAt = (await target.grantIdsWithPrefix('dot-at-')).map((id) => id.slice('dot-at-'.length));
  const source = await readDjangoSnapshot(options.from, {
    userTable: options.userTable,
    usernameColumn: options.usernameColumn,
    now,
    askRefreshTokenIds: importedRt.filter((id) => /^\d+$/.test(id)),
    askAccessTokenIds: importedAt.filter((id) => /^\d+$/.test(id)),
  });

  const notes: string[] = [];
  const users = kind(source.totals.users);
  const clients = kind(source.totals.applications);
  const accessTokens = kind(source.totals.accessTokens);
  const refreshTokens = kind(source.totals.refreshTokens);

  // ---- users -------------------------------------------------------------------------------------
  /** DOT user id → the username in oauthd, or why the user's tokens cannot be imported. */
  const userById = new Map<string, { username: string } | { skip: string }>();
  const staysDisabled: string[] = [];
  const usersWithoutPassword: string[] = [];
  const progress = (kind: ImportProgress['kind'], done: number, total: number) => options.onProgress?.({ kind, done, total });
  progress('users', 0, source.users.length);
  for (const u of source.users) {
    progress('users', users.created + users.present + users.updated + users.skipped, source.users.length);
    const why = userProblem(u);
    if (why) {
      skip(users, why);
      userById.set(u.id, { skip: 'user not imported' });
      continue;
    }
    const info = classifyDjangoHash(u.password);
    // A hash too costly to verify is stored as no password at all (the path of Django's `!` passwords):
    // a login then costs the dummy hash and fails like a wrong password; the operator sets a new one.
    const result = await target.importUser(
      {
        username: u.username,
        passwordHash: info.kind === 'unusable' || info.kind === 'out_of_bounds' ? null : u.password,
        isActive: u.isActive,
        createdAt: u.dateJoined ?? now,
        mayReplaceHash: (current) => current === null || !isOwnPasswordHash(current),
      },
      now,
    );
    users[result.outcome] += 1;
    // Counted when this run wrote it; a later run finds it present.
    if (info.kind === 'out_of_bounds' && (result.outcome === 'created' || result.changes.includes('password_hash'))) {
      unusable(users, `password hash past oauthd's cost bounds: ${info.reason}`);
      usersWithoutPassword.push(u.username);
    }
    if (result.staysDisabled) staysDisabled.push(u.username);
    // oauthd refuses every token of a disabled user (and disabling revokes them), so they are not imported.
    userById.set(u.id, u.isActive && !result.staysDisabled ? { username: u.username } : { skip: 'user is inactive' });
  }
  progress('users', source.users.length, source.users.length);
  if (staysDisabled.length > 0) {
    notes.push(
      `${plural(staysDisabled.length, 'user')} active in DOT ${staysDisabled.length === 1 ? 'stays' : 'stay'} disabled in oauthd (an import never re-enables anyone; \`oauthd user enable <name>\` does): ${sample(staysDisabled)}`,
    );
  }

  // ---- clients -----------------------------------------------------------------------------------
  /** DOT application id → the client id in oauthd (and its scopes), or why its tokens are skipped. */
  const appById = new Map<string, { clientId: string } | { skip: string }>();
  const clientsWithoutSecret: string[] = [];
  let argon2: ReturnType<typeof createArgon2Hasher> | undefined;
  let appsDone = 0;
  progress('clients', 0, source.applications.length);
  for (const app of source.applications) {
    progress('clients', appsDone++, source.applications.length);
    const plan = clientPlan(app, source.layout.hashClientSecretColumn);
    if ('skip' in plan) {
      skip(clients, plan.skip);
      appById.set(app.id, { skip: 'client not imported' });
      continue;
    }
    appById.set(app.id, { clientId: app.clientId });
    if (await target.hasClient(app.clientId)) {
      clients.present += 1;
      continue;
    }
    // A dry run hashes nothing (argon2 is slow, and the hash is never written).
    const secretHash =
      plan.secret.kind === 'none' ? null
      : plan.secret.kind === 'keep' ? plan.secret.value
      : plan.secret.kind === 'unusable' ? unusableSecret(plan.secret.reason)
      : dryRun ? 'dry-run'
      : plan.secret.kind === 'generated' ? hashGeneratedSecret(plan.secret.value)
      : await (argon2 ??= createArgon2Hasher()).hash(plan.secret.value);
    const client: NewClient = {
      clientId: app.clientId,
      name: app.name || app.clientId,
      secretHash,
      isPublic: plan.isPublic,
      grantTypes: plan.grantTypes,
      scopes: options.clientScopes,
      createdAt: app.created ?? now,
    };
    const outcome = await target.importClient(client);
    clients[outcome] += 1;
    if (outcome === 'created' && plan.secret.kind === 'unusable') {
      unusable(clients, `client secret hash past oauthd's cost bounds: ${plan.secret.reason}`);
      clientsWithoutSecret.push(app.clientId);
    }
  }
  progress('clients', source.applications.length, source.applications.length);
  if (usersWithoutPassword.length > 0) {
    notes.push(
      `${plural(usersWithoutPassword.length, 'user')} imported without a usable password (their Django hash costs more to verify than oauthd allows); give them a new one with \`oauthd user set-password\`: ${sample(usersWithoutPassword)}`,
    );
  }
  if (clientsWithoutSecret.length > 0) {
    notes.push(
      `${plural(clientsWithoutSecret.length, 'client')} imported with an unusable secret (its Django hash costs more to verify than oauthd allows); ${clientsWithoutSecret.length === 1 ? 'it cannot' : 'they cannot'} authenticate until \`oauthd client rotate-secret\`: ${sample(clientsWithoutSecret)}`,
    );
  }

  // ---- tokens ------------------------------------------------------------------------------------
  const atById = new Map(source.accessTokens.map((at) => [at.id, at]));
  const pairedAt = new Set<string>();
  let orphans = 0;
  let outsideClientScopes = 0;
  const conflicts: string[] = [];

  /** The oauthd user and client for a token, or why it is skipped. */
  const owner = (applicationId: string | null, userId: string | null): { clientId: string; username: string } | { skip: string } => {
    if (userId === null) return { skip: 'no user (client_credentials token)' };
    const app = applicationId === null ? undefined : appById.get(applicationId);
    if (!app) return { skip: 'no application (e.g. cached by a resource server from remote introspection)' };
    if ('skip' in app) return app;
    const user = userById.get(userId);
    if (!user) return { skip: 'no such user' };
    if ('skip' in user) return user;
    return { clientId: app.clientId, username: user.username };
  };

  const tally = (result: ImportGrantResult, at: boolean, rt: boolean, grantId: string) => {
    if (result.outcome === 'skipped') {
      const why = { no_user: 'user not in oauthd', no_client: 'client not in oauthd', conflict: 'conflicts with a token already in oauthd' }[result.reason];
      if (result.reason === 'conflict') conflicts.push(grantId);
      if (at) skip(accessTokens, why);
      if (rt) skip(refreshTokens, why);
      return;
    }
    if (result.outcome === 'updated') {
      // The access token was swapped or revoked; the refresh token itself is unchanged.
      if (at || result.accessRevoked) accessTokens.updated += 1;
      if (rt) refreshTokens.present += 1;
      return;
    }
    if (at) accessTokens[result.outcome] += 1;
    if (rt) refreshTokens[result.outcome] += 1;
  };

  let rtDone = 0;
  progress('refresh tokens', 0, source.liveRefreshTokens.length);
  for (const rt of source.liveRefreshTokens) {
    progress('refresh tokens', rtDone++, source.liveRefreshTokens.length);
    const at = rt.accessTokenId === null ? undefined : atById.get(rt.accessTokenId);
    if (at) pairedAt.add(at.id);
    const who = owner(rt.applicationId, rt.userId);
    if ('skip' in who) {
      skip(refreshTokens, who.skip);
      if (at) skip(accessTokens, who.skip);
      continue;
    }
    let scope: string[];
    if (at) {
      scope = parseScopeText(at.scope);
    } else if (options.orphanScope) {
      // DOT keeps no scope on refresh tokens; with the access token gone, DOT's default is the best guess.
      scope = options.orphanScope;
      orphans += 1;
    } else {
      skip(refreshTokens, 'refresh token without its access token (scope unknown; --skip-orphans)');
      continue;
    }
    if (!scope.every((s) => options.clientScopes.includes(s))) outsideClientScopes += 1;
    const grantId = `dot-rt-${rt.id}`;
    const result = await target.importGrant(
      {
        id: grantId,
        clientId: who.clientId,
        username: who.username,
        scope,
        createdAt: rt.created ?? at?.created ?? now,
        access: at ? accessToken(at, scope, now) : null,
        refresh: refreshToken(rt, scope, at, options.refreshTokenExpireSeconds, now),
      },
      now,
    );
    tally(result, at !== undefined, true, grantId);
  }

  progress('refresh tokens', source.liveRefreshTokens.length, source.liveRefreshTokens.length);
  let atDone = 0;
  progress('access tokens', 0, source.accessTokens.length);
  for (const at of source.accessTokens) {
    progress('access tokens', atDone++, source.accessTokens.length);
    if (pairedAt.has(at.id)) continue;
    const who = owner(at.applicationId, at.userId);
    if ('skip' in who) {
      skip(accessTokens, who.skip);
      continue;
    }
    const scope = parseScopeText(at.scope);
    if (!scope.every((s) => options.clientScopes.includes(s))) outsideClientScopes += 1;
    const grantId = `dot-at-${at.id}`;
    const result = await target.importGrant(
      { id: grantId, clientId: who.clientId, username: who.username, scope, createdAt: at.created ?? now, access: accessToken(at, scope, now), refresh: null },
      now,
    );
    tally(result, true, false, grantId);
  }
  progress('access tokens', source.accessTokens.length, source.accessTokens.length);
  // Expired access tokens without a live refresh token: nothing to keep.
  skip(accessTokens, 'expired (and no live refresh token)', source.totals.accessTokens - source.accessTokens.length);

  // Refresh tokens DOT revoked (by rotation or /o/revoke_token/): revoked here too if an earlier import
  // brought them in live; otherwise not imported (presenting one is invalid_grant either way).
  let revokedSince = 0;
  for (const rt of source.revokedRefreshTokens) {
    if ((await target.revokeUntouchedGrant(`dot-rt-${rt.id}`, now)) === 'revoked') {
      refreshTokens.updated += 1;
      revokedSince += 1;
    } else {
      refreshTokens.present += 1;
    }
  }
  skip(refreshTokens, 'revoked in DOT', source.totals.revokedRefreshTokens - source.revokedRefreshTokens.length);

  // Families imported earlier whose tokens DOT has deleted since (revoked access tokens, cleartokens,
  // deleted users or applications): revoked here unless oauthd has used them since.
  let goneRevoked = 0;
  const gone = [
    ...importedRt.filter((id) => !source.presentRefreshTokenIds.has(id)).map((id) => `dot-rt-${id}`),
    ...importedAt.filter((id) => !source.presentAccessTokenIds.has(id)).map((id) => `dot-at-${id}`),
  ];
  for (const grantId of gone) {
    if ((await target.revokeUntouchedGrant(grantId, now)) === 'revoked') goneRevoked += 1;
  }

  if (orphans > 0) {
    notes.push(
      `${plural(orphans, 'refresh token')} had no access token left in DOT (it was revoked alone); DOT keeps no scope on refresh tokens, so ${orphans === 1 ? 'it was' : 'they were'} given ${JSON.stringify(options.orphanScope!.join(' '))} (--orphan-scope; --skip-orphans leaves them out)`,
    );
  }
  if (outsideClientScopes > 0) {
    notes.push(`${plural(outsideClientScopes, 'token')} ${outsideClientScopes === 1 ? 'carries' : 'carry'} scopes outside --scopes; a refresh drops those scopes (a client gets only what it may be granted)`);
  }
  if (revokedSince > 0) notes.push(`${plural(revokedSince, 'refresh token')} imported earlier ${revokedSince === 1 ? 'was' : 'were'} revoked in DOT since, and ${revokedSince === 1 ? 'is' : 'are'} revoked here now`);
  if (gone.length > 0) {
    notes.push(
      `${plural(gone.length, 'token family', 'token families')} imported earlier ${gone.length === 1 ? 'is' : 'are'} gone from DOT (revoked or deleted there): ${goneRevoked} revoked here, ${gone.length - goneRevoked} left as they are (already revoked, or used on oauthd since)`,
    );
  }
  if (conflicts.length > 0) {
    notes.push(`${plural(conflicts.length, 'token family', 'token families')} ${conflicts.length === 1 ? 'conflicts' : 'conflict'} with rows already in oauthd (imported from another DOT database?): ${sample(conflicts)}`);
  }
  const dotUsernames = new Set(source.users.map((u) => u.username));
  const vanished = (await target.activeUsersWithForeignHashes(isOwnPasswordHash)).filter((name) => !dotUsernames.has(name));
  if (vanished.length > 0) {
    notes.push(
      `${plural(vanished.length, 'active user')} in oauthd still ${vanished.length === 1 ? 'has' : 'have'} a Django password hash but are no longer in DOT (deleted there?); not changed, disable them with \`oauthd user disable\`: ${sample(vanished)}`,
    );
  }

  return {
    dryRun,
    source: { kind: source.kind, dotLayout: layoutName(source.layout) },
    users,
    clients,
    accessTokens,
    refreshTokens,
    notes,
    target: await target.counts(),
  };
}

function userProblem(u: DjangoUser): string | null {
  if (u.username === '') return 'empty username';
  if (u.username.length > 150) return 'username longer than 150 characters';
  const info = classifyDjangoHash(u.password);
  if (info.kind === 'unsupported') return `unsupported password hash algorithm ${info.algorithm} (${info.reason})`;
  if (info.kind === 'malformed') return 'malformed password hash';
  return null;
}

type SecretPlan =
  | { kind: 'none' }
  /** A Django hash (DOT 2.x+): stored as it is, verified by the Django-compatible hasher. */
  | { kind: 'keep'; value: string }
  /** Plaintext with DOT's generated shape: high entropy, a fast hash is enough. */
  | { kind: 'generated'; value: string }
  /** Plaintext a person may have chosen: argon2id. */
  | { kind: 'chosen'; value: string }
  /** A Django hash too costly to verify (core/hash-bounds.ts): stored as unusable, never verified. */
  | { kind: 'unusable'; reason: string };

function clientPlan(
  app: DjangoApplication,
  hashClientSecretColumn: boolean,
): { isPublic: boolean; grantTypes: GrantType[]; secret: SecretPlan } | { skip: string } {
  if (!CLIENT_ID.test(app.clientId)) return { skip: 'client id oauthd cannot accept (1-100 printable ASCII characters, no space or ":")' };
  const grantTypes = grantTypesFor(app.authorizationGrantType);
  if (!Array.isArray(grantTypes)) return grantTypes;
  if (app.clientType === 'public') return { isPublic: true, grantTypes, secret: { kind: 'none' } };
  if (app.clientType !== 'confidential') return { skip: `unknown client type ${JSON.stringify(app.clientType)}` };

  const secret = app.clientSecret;
  // DOT 2.x hashes secrets on save; later versions record it in hash_client_secret. Without the column,
  // a value shaped like a Django hash is one (DOT's generated plaintext secrets never contain "$").
  const hashed = app.hashClientSecret ?? (!hashClientSecretColumn && DJANGO_HASH_PREFIX.test(secret));
  if (hashed) {
    const info = classifyDjangoHash(secret);
    if (info.kind === 'supported') return { isPublic: false, grantTypes, secret: { kind: 'keep', value: secret } };
    if (info.kind === 'out_of_bounds') return { isPublic: false, grantTypes, secret: { kind: 'unusable', reason: info.reason } };
    if (info.kind === 'unsupported') return { skip: `client secret hashed with unsupported algorithm ${info.algorithm}` };
    return { skip: 'malformed hashed client secret' };
  }
  if (secret === '') return { skip: 'confidential client without a secret' };
  return { isPublic: false, grantTypes, secret: { kind: GENERATED_SECRET.test(secret) ? 'generated' : 'chosen', value: secret } };
}

function accessToken(at: DjangoAccessToken, scope: string[], now: EpochSeconds): NewAccessToken {
  return { hash: tokenKey(at.token), scope, issuedAt: at.created ?? now, expiresAt: at.expires };
}

function refreshToken(
  rt: DjangoRefreshToken,
  scope: string[],
  at: DjangoAccessToken | undefined,
  expireSeconds: number | null,
  now: EpochSeconds,
): NewToken {
  // DOT's cleartokens deletes a refresh token once its access token expired REFRESH_TOKEN_EXPIRE_SECONDS
  // ago; oauthd makes that its expiry. Without an access token, the refresh token's own creation counts.
  const base = at?.expires ?? rt.created ?? now;
  return { hash: tokenKey(rt.token), scope, issuedAt: rt.created ?? now, expiresAt: expireSeconds === null ? null : base + expireSeconds };
}

function layoutName(layout: { hashClientSecretColumn: boolean; tokenChecksumColumn: boolean }): string {
  if (layout.tokenChecksumColumn) return 'DOT 3.x (token_checksum)';
  if (layout.hashClientSecretColumn) return 'DOT 2.x+ (hash_client_secret)';
  return 'DOT 1.x/2.x';
}

function sample(names: string[]): string {
  return names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')} and ${names.length - 10} more`;
}

/** One line per kind, then the summary line. */
export function formatSummary(s: DjangoImportSummary): string {
  // A dry run writes nothing: it says what a real run would do.
  const [created, updated, unusableText] = s.dryRun ? ['would create', 'would update', 'would import unusable'] : ['created', 'updated', 'imported unusable'];
  const line = (label: string, k: KindSummary) => {
    const why = Object.entries(k.skippedWhy).map(([reason, n]) => `${n} ${reason}`);
    const unusableWhy = Object.entries(k.unusableWhy).map(([reason, n]) => `${n} ${reason}`);
    const counts = s.dryRun
      ? `${created} ${k.created}, ${k.present} already present, ${updated} ${k.updated}, ${k.skipped} skipped`
      : `${k.created} ${created}, ${k.present} already present, ${k.updated} ${updated}, ${k.skipped} skipped`;
    return `${label} ${counts}${why.length ? ` (${why.join('; ')})` : ''}${
      k.unusable > 0 ? `, ${s.dryRun ? `${unusableText} ${k.unusable}` : `${k.unusable} ${unusableText}`} (${unusableWhy.join('; ')})` : ''
    }`;
  };
  const lines = [
    `source: ${s.source.kind}, ${s.source.dotLayout}`,
    ...s.notes.map((n) => `note: ${n}`),
    `${s.dryRun ? 'dry run, nothing written: ' : ''}${[
      line('users', s.users),
      line('clients', s.clients),
      line('access tokens', s.accessTokens),
      line('refresh tokens', s.refreshTokens),
    ].join('; ')}`,
  ];
  return lines.join('\n');
}

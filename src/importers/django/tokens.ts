import { tokenKey } from '../../core/tokens.js';
import type { EpochSeconds, GrantOrigin, NewAccessToken, NewToken } from '../../core/types.js';
import type { ImportGrant, ImportGrantResult } from '../../store/import-types.js';
import type { ImportRun } from './context.js';
import type { DjangoAccessToken, DjangoRefreshToken } from './source.js';
import type { ClientsImported } from './clients.js';
import type { UsersImported } from './users.js';
import { countSkipped, emptyKind, type KindSummary } from './summary.js';

export interface TokensImported {
  accessTokens: KindSummary;
  refreshTokens: KindSummary;
  /** Refresh tokens imported with the orphan scope (their access token was gone). */
  orphans: number;
  /** Tokens whose scope goes beyond what their client may be granted. */
  outsideClientScopes: number;
  /** Grant ids that clash with rows already in oauthd. */
  conflicts: string[];
  /** User-less access tokens of client-credentials applications imported (created, present or updated). */
  clientCredentials: number;
}

/** One token family's fate, counted by kind. */
type Tally = (result: ImportGrantResult, hasAccess: boolean, hasRefresh: boolean, grantId: string) => void;

/**
 * Each live DOT refresh token becomes a family `dot-rt-<id>` with the access token issued alongside it;
 * each live access token left over becomes a family `dot-at-<id>` of its own.
 */
export async function importTokens(
  run: ImportRun,
  users: UsersImported,
  clients: ClientsImported,
): Promise<TokensImported> {
  const { source } = run;
  const tokens: TokensImported = {
    accessTokens: emptyKind(source.totals.accessTokens),
    refreshTokens: emptyKind(source.totals.refreshTokens),
    orphans: 0,
    outsideClientScopes: 0,
    conflicts: [],
    clientCredentials: 0,
  };
  const owner = ownerOf(users, clients);
  const tally: Tally = (result, hasAccess, hasRefresh, grantId) => {
    if (result.outcome === 'skipped' && result.reason === 'conflict') tokens.conflicts.push(grantId);
    const accessChanged = result.outcome === 'updated' && result.accessRevoked;
    if (hasAccess || accessChanged) count(tokens.accessTokens, result, 'access');
    if (hasRefresh) count(tokens.refreshTokens, result, 'refresh');
  };
  const paired = await importRefreshTokens(run, tokens, owner, tally);
  await importAccessTokens(run, tokens, paired, owner, tally);
  // Expired access tokens without a live refresh token: nothing to keep.
  const expired = source.totals.accessTokens - source.accessTokens.length;
  countSkipped(tokens.accessTokens, 'expired (and no live refresh token)', expired);
  return tokens;
}

const SKIPPED_WHY = {
  no_user: 'user not in oauthd',
  no_client: 'client not in oauthd',
  conflict: 'conflicts with a token already in oauthd',
} as const;

function count(summary: KindSummary, result: ImportGrantResult, kind: 'access' | 'refresh'): void {
  if (result.outcome === 'skipped') countSkipped(summary, SKIPPED_WHY[result.reason]);
  // An update swaps or revokes the access token; the refresh token itself is unchanged.
  else if (result.outcome === 'updated') summary[kind === 'access' ? 'updated' : 'present'] += 1;
  else summary[result.outcome] += 1;
}

type Owner = (
  applicationId: string | null,
  userId: string | null,
) => { clientId: string; username: string | null; grantType: GrantOrigin | null } | { skip: string };

/**
 * The oauthd user and client for a token, and how its grant began, or why it is skipped. A token without a
 * user is a client-credentials application's (DOT stores none for that grant): it becomes a grant to the
 * client itself (RFC 6749 §4.4), with no user.
 */
function ownerOf(users: UsersImported, clients: ClientsImported): Owner {
  return (applicationId, userId) => {
    const app = applicationId === null ? undefined : clients.byId.get(applicationId);
    if (!app) return { skip: 'no application (e.g. cached by a resource server from remote introspection)' };
    if ('skip' in app) return app;
    const { clientId, grantOrigin: grantType } = app;
    if (userId === null) {
      if (grantType === 'client_credentials') return { clientId, username: null, grantType };
      return { skip: 'no user (and not a client-credentials application)' };
    }
    const user = users.byId.get(userId);
    if (!user) return { skip: 'no such user' };
    if ('skip' in user) return user;
    return { clientId, username: user.username, grantType };
  };
}

/** Returns the ids of the access tokens imported with their refresh token. */
async function importRefreshTokens(
  run: ImportRun,
  tokens: TokensImported,
  owner: Owner,
  tally: Tally,
): Promise<Set<string>> {
  const { source, options, target } = run;
  const { now } = options;
  const atById = new Map(source.accessTokens.map((at) => [at.id, at]));
  const paired = new Set<string>();
  let done = 0;
  run.progress('refresh tokens', 0, source.liveRefreshTokens.length);
  for (const rt of source.liveRefreshTokens) {
    run.progress('refresh tokens', done++, source.liveRefreshTokens.length);
    const at = rt.accessTokenId === null ? undefined : atById.get(rt.accessTokenId);
    if (at) paired.add(at.id);
    const who = owner(rt.applicationId, rt.userId);
    if ('skip' in who) {
      countSkipped(tokens.refreshTokens, who.skip);
      if (at) countSkipped(tokens.accessTokens, who.skip);
      continue;
    }
    let scope: string[];
    if (at) {
      scope = parseScopeText(at.scope);
    } else if (options.orphanScope) {
      // DOT keeps no scope on refresh tokens; with the access token gone, DOT's default is the best guess.
      scope = options.orphanScope;
      tokens.orphans += 1;
    } else {
      countSkipped(tokens.refreshTokens, 'refresh token without its access token (scope unknown; --skip-orphans)');
      continue;
    }
    if (!scope.every((s) => options.clientScopes.includes(s))) tokens.outsideClientScopes += 1;
    const grant: ImportGrant = {
      id: `dot-rt-${rt.id}`,
      ...who,
      scope,
      createdAt: rt.created ?? at?.created ?? now,
      access: at ? accessToken(at, scope, now) : null,
      refresh: refreshToken(rt, scope, at, options.refreshTokenExpireSeconds, now),
    };
    tally(await target.importGrant(grant, now), at !== undefined, true, grant.id);
  }
  run.progress('refresh tokens', source.liveRefreshTokens.length, source.liveRefreshTokens.length);
  return paired;
}

async function importAccessTokens(
  run: ImportRun,
  tokens: TokensImported,
  paired: Set<string>,
  owner: Owner,
  tally: Tally,
): Promise<void> {
  const { source, options, target } = run;
  const { now } = options;
  let done = 0;
  run.progress('access tokens', 0, source.accessTokens.length);
  for (const at of source.accessTokens) {
    run.progress('access tokens', done++, source.accessTokens.length);
    if (paired.has(at.id)) continue;
    const who = owner(at.applicationId, at.userId);
    if ('skip' in who) {
      countSkipped(tokens.accessTokens, who.skip);
      continue;
    }
    const scope = parseScopeText(at.scope);
    if (!scope.every((s) => options.clientScopes.includes(s))) tokens.outsideClientScopes += 1;
    const access = accessToken(at, scope, now);
    const createdAt = at.created ?? now;
    const grant: ImportGrant = { id: `dot-at-${at.id}`, ...who, scope, createdAt, access, refresh: null };
    const result = await target.importGrant(grant, now);
    if (who.username === null && result.outcome !== 'skipped') tokens.clientCredentials += 1;
    tally(result, true, false, grant.id);
  }
  run.progress('access tokens', source.accessTokens.length, source.accessTokens.length);
}

function parseScopeText(text: string): string[] {
  return [...new Set(text.split(/\s+/).filter((s) => s !== ''))];
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
  const expiresAt = expireSeconds === null ? null : base + expireSeconds;
  return { hash: tokenKey(rt.token), scope, issuedAt: rt.created ?? now, expiresAt };
}

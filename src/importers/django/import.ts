import { openImportTarget } from '../../store/import-target.js';
import type { ImportTarget } from '../../store/import-types.js';
import { importPlanner } from '../plan.js';
import { importClients } from './clients.js';
import { isOwnPasswordHash, type DjangoImportOptions, type ImportRun } from './context.js';
import { operatorNotes } from './notes.js';
import { importedEarlier, revokeWhatDotDropped } from './revocations.js';
import { readDjangoSnapshot } from './source.js';
import { layoutName, type DjangoImportSummary } from './summary.js';
import { importTokens } from './tokens.js';
import { importUsers } from './users.js';

/**
 * `oauthd import django`: users, applications and live tokens of a django-oauth-toolkit database into
 * oauthd's, idempotently (docs/migrating-from-django-oauth-toolkit.md is the operator's guide).
 *
 * Order: the source is read in one read-only snapshot and closed; then users, clients and token families
 * are written one by one (each an atomic call of the ImportTarget, decided by src/importers/plan.ts).
 * Tokens are kept only as the SHA-256 of DOT's plaintext, which is how oauthd looks every token up, so the
 * strings integrators hold keep working.
 *
 * Token families (oauthd grants) get deterministic ids, so a re-import finds what it wrote:
 * - `dot-rt-<refresh token id>`: a live DOT refresh token with the access token issued alongside it (if
 *   that one still exists; DOT deletes revoked access tokens);
 * - `dot-at-<access token id>`: a live access token without a refresh token (among them a client-credentials
 *   application's, which has no user: a grant to the client itself, RFC 6749 §4.4).
 * DOT cannot tell which refresh tokens were rotated into which (it deletes the access token that linked
 * them), so each refresh token is its own family; presenting a token DOT rotated or revoked is
 * invalid_grant, as it was on DOT.
 */
export async function importFromDjango(options: DjangoImportOptions): Promise<DjangoImportSummary> {
  const target = await openImportTarget(options.databaseUrl, { dryRun: options.dryRun, planner: importPlanner });
  try {
    return await run(target, options);
  } finally {
    await target.close();
  }
}

async function run(target: ImportTarget, options: DjangoImportOptions): Promise<DjangoImportSummary> {
  const earlier = await importedEarlier({ target });
  const numeric = (ids: string[]) => ids.filter((id) => /^\d+$/.test(id));
  const source = await readDjangoSnapshot(options.from, {
    userTable: options.userTable,
    usernameColumn: options.usernameColumn,
    now: options.now,
    askRefreshTokenIds: numeric(earlier.refreshTokenIds),
    askAccessTokenIds: numeric(earlier.accessTokenIds),
  });
  const progress: ImportRun['progress'] = (kind, done, total) => options.onProgress?.({ kind, done, total });
  const importRun: ImportRun = { target, source, options, progress };

  const users = await importUsers(importRun);
  const clients = await importClients(importRun);
  const tokens = await importTokens(importRun, users, clients);
  const revocations = await revokeWhatDotDropped(importRun, earlier, tokens.refreshTokens);
  const dotUsernames = new Set(source.users.map((u) => u.username));
  const foreignHashes = await target.activeUsersWithForeignHashes(isOwnPasswordHash);
  const vanished = foreignHashes.filter((name) => !dotUsernames.has(name));

  return {
    dryRun: options.dryRun,
    source: { kind: source.kind, dotLayout: layoutName(source.layout) },
    users: users.summary,
    clients: clients.summary,
    accessTokens: tokens.accessTokens,
    refreshTokens: tokens.refreshTokens,
    clientCredentials: { clients: clients.clientCredentials, accessTokens: tokens.clientCredentials },
    notes: operatorNotes({ users, clients, tokens, revocations, orphanScope: options.orphanScope, vanished }),
    target: await target.counts(),
  };
}

import type { ImportRun } from './context.js';
import { countSkipped, type KindSummary } from './summary.js';

/** Ids (without their prefix) of the families earlier imports wrote: the snapshot says what became of them. */
export interface ImportedEarlier {
  refreshTokenIds: string[];
  accessTokenIds: string[];
}

export interface RevocationsApplied {
  /** Refresh tokens DOT revoked since an earlier import, revoked here now. */
  revokedSince: number;
  /** Families imported earlier whose tokens DOT no longer has. */
  gone: number;
  /** Of those, how many were revoked here (the others were revoked already, or used on oauthd). */
  goneRevoked: number;
}

export async function importedEarlier(run: Pick<ImportRun, 'target'>): Promise<ImportedEarlier> {
  const ids = async (prefix: string) =>
    (await run.target.grantIdsWithPrefix(prefix)).map((id) => id.slice(prefix.length));
  return { refreshTokenIds: await ids('dot-rt-'), accessTokenIds: await ids('dot-at-') };
}

/**
 * Follows what DOT revoked or deleted since an earlier import: revoked here too, unless oauthd has used the
 * family since (the planner's rule).
 */
export async function revokeWhatDotDropped(
  run: ImportRun,
  earlier: ImportedEarlier,
  refreshTokens: KindSummary,
): Promise<RevocationsApplied> {
  const { source, target, options } = run;
  // Refresh tokens DOT revoked (by rotation or /o/revoke_token/): revoked here too if an earlier import
  // brought them in live; otherwise not imported (presenting one is invalid_grant either way).
  let revokedSince = 0;
  for (const rt of source.revokedRefreshTokens) {
    if ((await target.revokeUntouchedGrant(`dot-rt-${rt.id}`, options.now)) === 'revoked') {
      refreshTokens.updated += 1;
      revokedSince += 1;
    } else {
      refreshTokens.present += 1;
    }
  }
  const revokedBefore = source.totals.revokedRefreshTokens - source.revokedRefreshTokens.length;
  countSkipped(refreshTokens, 'revoked in DOT', revokedBefore);

  // Families whose tokens DOT has deleted since (revoked access tokens, cleartokens, deleted users or
  // applications).
  const gone = [
    ...earlier.refreshTokenIds.filter((id) => !source.presentRefreshTokenIds.has(id)).map((id) => `dot-rt-${id}`),
    ...earlier.accessTokenIds.filter((id) => !source.presentAccessTokenIds.has(id)).map((id) => `dot-at-${id}`),
  ];
  let goneRevoked = 0;
  for (const grantId of gone) {
    if ((await target.revokeUntouchedGrant(grantId, options.now)) === 'revoked') goneRevoked += 1;
  }
  return { revokedSince, gone: gone.length, goneRevoked };
}

import type { ImportTargetCounts } from '../../store/import-types.js';

/** What became of the rows of one kind. */
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
  /**
   * Client-credentials applications imported (created or present), and their live access tokens imported
   * as grants without a user (created, present or updated); also counted in `clients` and `accessTokens`.
   */
  clientCredentials: { clients: number; accessTokens: number };
  /** Things an operator should know that are not skips. */
  notes: string[];
  /** Row counts of oauthd's database after the import (before it, for a dry run). */
  target: ImportTargetCounts;
}

export const emptyKind = (inSource: number): KindSummary => ({
  inSource,
  created: 0,
  present: 0,
  updated: 0,
  skipped: 0,
  skippedWhy: {},
  unusable: 0,
  unusableWhy: {},
});

export function countSkipped(summary: KindSummary, reason: string, count = 1): void {
  if (count <= 0) return;
  summary.skipped += count;
  summary.skippedWhy[reason] = (summary.skippedWhy[reason] ?? 0) + count;
}

export function countUnusable(summary: KindSummary, reason: string): void {
  summary.unusable += 1;
  summary.unusableWhy[reason] = (summary.unusableWhy[reason] ?? 0) + 1;
}

/** Up to ten names, then how many more. */
export function sample(names: string[]): string {
  return names.length <= 10 ? names.join(', ') : `${names.slice(0, 10).join(', ')} and ${names.length - 10} more`;
}

export function layoutName(layout: { hashClientSecretColumn: boolean; tokenChecksumColumn: boolean }): string {
  if (layout.tokenChecksumColumn) return 'DOT 3.x (token_checksum)';
  if (layout.hashClientSecretColumn) return 'DOT 2.x+ (hash_client_secret)';
  return 'DOT 1.x/2.x';
}

/** One line per kind, then the summary line. */
export function formatSummary(s: DjangoImportSummary): string {
  // A dry run writes nothing: it says what a real run would do.
  const [created, updated, unusableText] = s.dryRun
    ? ['would create', 'would update', 'would import unusable']
    : ['created', 'updated', 'imported unusable'];
  const line = (label: string, k: KindSummary) => {
    const why = Object.entries(k.skippedWhy).map(([reason, n]) => `${n} ${reason}`);
    const unusableWhy = Object.entries(k.unusableWhy).map(([reason, n]) => `${n} ${reason}`);
    const counts = s.dryRun
      ? `${created} ${k.created}, ${k.present} already present, ${updated} ${k.updated}, ${k.skipped} skipped`
      : `${k.created} ${created}, ${k.present} already present, ${k.updated} ${updated}, ${k.skipped} skipped`;
    const unusable = s.dryRun ? `${unusableText} ${k.unusable}` : `${k.unusable} ${unusableText}`;
    return `${label} ${counts}${why.length ? ` (${why.join('; ')})` : ''}${
      k.unusable > 0 ? `, ${unusable} (${unusableWhy.join('; ')})` : ''
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

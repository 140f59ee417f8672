import { classifyDjangoHash } from '../../crypto/django-hashers.js';
import { isOwnPasswordHash, type Destination, type ImportRun } from './context.js';
import type { DjangoUser } from './source.js';
import { countSkipped, countUnusable, emptyKind, type KindSummary } from './summary.js';

export interface UsersImported {
  summary: KindSummary;
  /** DOT user id → the username in oauthd, or why the user's tokens cannot be imported. */
  byId: Destination<{ username: string }>;
  /** Active in DOT, disabled in oauthd: an import never re-enables anyone. */
  staysDisabled: string[];
  /** Written with no password: their Django hash costs more to verify than oauthd allows. */
  withoutPassword: string[];
}

export async function importUsers(run: ImportRun): Promise<UsersImported> {
  const { target, source, options } = run;
  const summary = emptyKind(source.totals.users);
  const users: UsersImported = { summary, byId: new Map(), staysDisabled: [], withoutPassword: [] };
  run.progress('users', 0, source.users.length);
  for (const u of source.users) {
    run.progress('users', summary.created + summary.present + summary.updated + summary.skipped, source.users.length);
    const why = userProblem(u);
    if (why) {
      countSkipped(summary, why);
      users.byId.set(u.id, { skip: 'user not imported' });
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
        createdAt: u.dateJoined ?? options.now,
        mayReplaceHash: (current) => current === null || !isOwnPasswordHash(current),
      },
      options.now,
    );
    summary[result.outcome] += 1;
    // Counted when this run wrote it; a later run finds it present.
    if (info.kind === 'out_of_bounds' && (result.outcome === 'created' || result.changes.includes('password_hash'))) {
      countUnusable(summary, `password hash past oauthd's cost bounds: ${info.reason}`);
      users.withoutPassword.push(u.username);
    }
    if (result.staysDisabled) users.staysDisabled.push(u.username);
    // oauthd refuses every token of a disabled user (and disabling revokes them), so they are not imported.
    users.byId.set(u.id, u.isActive && !result.staysDisabled ? { username: u.username } : { skip: 'user is inactive' });
  }
  run.progress('users', source.users.length, source.users.length);
  return users;
}

function userProblem(u: DjangoUser): string | null {
  if (u.username === '') return 'empty username';
  if (u.username.length > 150) return 'username longer than 150 characters';
  const info = classifyDjangoHash(u.password);
  if (info.kind === 'unsupported') return `unsupported password hash algorithm ${info.algorithm} (${info.reason})`;
  if (info.kind === 'malformed') return 'malformed password hash';
  return null;
}

import { chmodSync, closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * The database directory, file, `-wal` and `-shm` hold password hashes, token digests, sealed successors and
 * the audit trail: readable by their owner only, whatever the umask. A directory made here is 0700, a new
 * database file 0600 before SQLite opens it (SQLite gives `-wal` and `-shm` the database file's mode). Files
 * that already exist are left as they are (an operator may have chosen group access for a backup job) but
 * reported through `warn` when any group or other bit is set.
 */
export function prepareFiles(path: string, warn: (message: string) => void): void {
  makePrivateDirectories(dirname(path));
  const loose: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (!existsSync(file)) continue;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) loose.push(`${file} (${mode.toString(8).padStart(4, '0')})`);
  }
  if (!existsSync(path)) createPrivateFile(path);
  if (loose.length > 0) {
    warn(
      `the SQLite database is readable beyond its owner: ${loose.join(', ')}; ` +
        'run chmod 600 on these files (they hold password hashes and token digests)',
    );
  }
}

function makePrivateDirectories(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // mkdir's mode goes through the umask: set it exactly on every directory made here.
  let made = first;
  chmodSync(made, 0o700);
  for (const part of relative(first, dir)
    .split(sep)
    .filter((p) => p !== '')) {
    made = join(made, part);
    chmodSync(made, 0o700);
  }
}

function createPrivateFile(path: string): void {
  // O_EXCL: another process creating it at the same moment wins and keeps its own (equally strict) mode.
  try {
    const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
    try {
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

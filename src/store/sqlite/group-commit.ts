import type Database from 'better-sqlite3';

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** SQLite result codes that mean "the database cannot serve this now", not "the request is wrong". */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOMEM|PROTOCOL)/;

export const isUnavailable = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
};

/**
 * Runs write intentions in one BEGIN IMMEDIATE … COMMIT, each keeping its own atomicity and its own result.
 * The batch runs them in order without savepoints (which cost a third of a rotation's time); if one throws,
 * the whole batch is rolled back and each is run again alone, in its own transaction, so the failing one fails
 * alone and the others see exactly the state they would have seen. A failure of the database itself (the
 * lock not obtained within busy_timeout, I/O) is thrown: none of the batch was committed.
 */
export function batchRunner<W>(db: Database.Database, run: (write: W) => unknown): (batch: readonly W[]) => Outcome[] {
  const runAll = db.transaction((batch: readonly W[]) => batch.map(run));
  const runOne = db.transaction(run);
  return (batch) => {
    try {
      return runAll.immediate(batch).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (batch.length === 1 || isUnavailable(error)) throw error;
      return batch.map((write): Outcome => {
        try {
          return { ok: true, value: runOne.immediate(write) };
        } catch (error) {
          return { ok: false, error };
        }
      });
    }
  };
}

/**
 * Group commit: the writes submitted in one turn of the event loop go to `execute` together (one
 * transaction, one fsync), each caller getting its own outcome once `execute` resolves. `execute` rejecting
 * rejects the whole batch.
 */
export function groupCommit<W>(execute: (batch: W[]) => Promise<Outcome[]>) {
  let pending: { write: W; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    execute(batch.map((p) => p.write)).then(
      (outcomes) => outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error))),
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  return {
    submit(write: W): Promise<unknown> {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ write, resolve, reject });
      });
    },
  };
}

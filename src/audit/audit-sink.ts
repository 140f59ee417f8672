import type { Logger } from 'pino';
import type { AuditEvent, AuditStore, Clock, EventSink } from '../core/ports.js';

/** Fields that get their own column; the rest of an event goes to `detail` as JSON. */
const COLUMNS = ['client_id', 'user_id', 'username', 'grant_id', 'ip'] as const;

export interface AuditSink extends EventSink {
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/**
 * The audit trail's table writer. Events are buffered and written in batches (every `intervalMs`, or at
 * `maxBatch` events), one transaction per batch, so the request path never waits on an extra write.
 * The cost of that choice: events of the last `intervalMs` before a crash (kill -9, power cut) can be
 * lost from the table; they are in the JSON log already, which is written first. A failed write is
 * logged and dropped, never retried forever, never crashing the server.
 */
export function createAuditSink(
  store: Pick<AuditStore, 'recordAuditEvents'>,
  clock: Clock,
  logger: Logger,
  options: { intervalMs?: number; maxBatch?: number } = {},
): AuditSink {
  const intervalMs = options.intervalMs ?? 200;
  const maxBatch = options.maxBatch ?? 500;
  let buffer: AuditEvent[] = [];
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (buffer.length === 0) return writing;
    const batch = buffer;
    buffer = [];
    writing = writing.then(() =>
      store.recordAuditEvents(batch).catch((error: unknown) => {
        logger.error({ err: error, dropped: batch.length }, 'audit events could not be written');
      }),
    );
    return writing;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    emit(event, fields) {
      const detail: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields))
        if (!(COLUMNS as readonly string[]).includes(key)) detail[key] = value;
      const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : null);
      buffer.push({
        at: clock.now(),
        event,
        clientId: text('client_id'),
        userId: typeof fields.user_id === 'number' ? fields.user_id : null,
        username: text('username'),
        grantId: text('grant_id'),
        ip: text('ip'),
        detail: JSON.stringify(detail),
      });
      if (buffer.length >= maxBatch) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

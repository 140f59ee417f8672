import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskFlush {
  /** Where it was measured: the directory the SQLite store lives in. */
  directory: string;
  writeBytes: number;
  flushes: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number };
}

/**
 * The third physical limit next to the ceiling and the KDF: how long this disk takes to make a write durable.
 * Every durable refresh waits for at least one fdatasync of the SQLite WAL (docs/design-notes.md), so with
 * C connections in a closed loop and every commit of a turn sharing one flush, refreshes/s cannot exceed
 * roughly C / (the time a request waits for flushes). Measured as the store does it: append `writeBytes`
 * to a file in the store's directory, then fdatasync it (off the event loop), one at a time, for `seconds`.
 */
export async function measureDiskFlush(parent: string, seconds: number, writeBytes = 64 * 1024): Promise<DiskFlush> {
  const directory = mkdtempSync(join(parent, 'oauthd-bench-disk-'));
  const fd = openSync(join(directory, 'flush-probe'), 'w');
  const block = Buffer.alloc(writeBytes, 0x5a);
  const latencies: number[] = [];
  const started = performance.now();
  try {
    let written = 0;
    while (performance.now() - started < seconds * 1000) {
      // Like a WAL: appended, and rewound to the start now and then (as a checkpoint lets SQLite do).
      if (written >= 64 * 1024 * 1024) written = 0;
      writeSync(fd, block, 0, block.length, written);
      written += block.length;
      const t = performance.now();
      await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      latencies.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 100) / 100;
  return {
    directory: parent,
    writeBytes,
    flushes: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99) },
  };
}

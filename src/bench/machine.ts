import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** 1-minute load average when the run started and when it ended: a busy machine skews every figure. */
  loadAverage: { start: number; end: number | null };
}

export function describeMachine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':').slice(1).join(':').trim();
  } catch {
    // Not Linux: os.cpus() it is.
  }
  return {
    cpuModel,
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverage: { start: round2(os.loadavg()[0]!), end: null },
  };
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The process and every descendant (a server with worker processes is measured whole). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const all: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    all.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return all;
}

/**
 * Resident memory of a process tree (a server and its cluster workers) now (VmRSS) and at its peak so far
 * (VmHWM), in bytes: summed over the tree, and of its largest process. Linux only (null elsewhere).
 */
export function residentMemory(pid: number): {
  rssBytes: number;
  peakBytes: number;
  largestRssBytes: number;
  largestPeakBytes: number;
  processes: number;
} | null {
  try {
    let rssBytes = 0;
    let peakBytes = 0;
    let largestRssBytes = 0;
    let largestPeakBytes = 0;
    let processes = 0;
    for (const p of processTree(pid)) {
      try {
        const rss = statusField(p, 'VmRSS');
        const peak = statusField(p, 'VmHWM');
        rssBytes += rss;
        peakBytes += peak;
        largestRssBytes = Math.max(largestRssBytes, rss);
        largestPeakBytes = Math.max(largestPeakBytes, peak);
        processes += 1;
      } catch {
        // Ended meanwhile.
      }
    }
    return processes === 0 ? null : { rssBytes, peakBytes, largestRssBytes, largestPeakBytes, processes };
  } catch {
    return null;
  }
}

#!/usr/bin/env node
/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [--top N]`: the functions with the most self time in a
 * V8 CPU profile (from `npm run bench -- --profile DIR`), as a Markdown table, so a profile can be summed up
 * in docs/benchmarks.md without committing it.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface SelfTime {
  name: string;
  location: string;
  ms: number;
  percent: number;
}

/** Self time per function (name and location), largest first; idle time is left out of the percentages. */
function selfTimes(profile: Profile): { entries: SelfTime[]; busyMs: number; idleMs: number } {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; attribute it to the sample (close enough at 1 ms sampling).
  for (let i = 0; i < samples.length; i++)
    byNode.set(samples[i]!, (byNode.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
  const root = process.cwd();
  const totals = new Map<string, SelfTime>();
  let idleUs = 0;
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const file = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
    const location = file ? `${file}:${lineNumber + 1}` : '';
    const name = functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const entry = totals.get(key) ?? { name, location, ms: 0, percent: 0 };
    entry.ms += us / 1000;
    totals.set(key, entry);
  }
  const entries = [...totals.values()]
    .map((e) => ({ ...e, ms: Math.round(e.ms), percent: Math.round((e.ms / (busyUs / 1000)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms);
  return { entries, busyMs: Math.round(busyUs / 1000), idleMs: Math.round(idleUs / 1000) };
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const top = Number(values.top ?? 15);
  for (const file of positionals) {
    const { entries, busyMs, idleMs } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    process.stdout.write(
      `${file}: ${busyMs} ms busy, ${idleMs} ms idle\n\n| self % | self ms | function | where |\n|--:|--:|:--|:--|\n`,
    );
    for (const e of entries.slice(0, top))
      process.stdout.write(`| ${e.percent} | ${e.ms} | ${e.name} | ${e.location} |\n`);
    process.stdout.write('\n');
  }
}

// Piped into `head`, stdout closes early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
main();

import type { ServerProcess } from './target.js';

export const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Server processes started and not yet stopped: an interrupted or failed run stops them. */
export const running = new Set<ServerProcess>();

export const stopAll = async () => {
  await Promise.all([...running].map((s) => s.stop().catch(() => null)));
};

/** `1 second`, `2 seconds`, `0 users`: a count and its noun, singular only for exactly 1. */
export function plural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : pluralNoun}`;
}

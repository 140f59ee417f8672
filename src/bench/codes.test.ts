import { describe, expect, it } from 'vitest';
import { CodeSupply, firstBatchSize, type BenchCode } from './codes.js';

const codes = (from: number, count: number): BenchCode[] =>
  Array.from({ length: count }, (_, i) => ({ code: `code-${from + i}`, verifier: `verifier-${from + i}` }));

describe('CodeSupply', () => {
  it('hands out each code once, then counts the requests that found none', () => {
    const supply = new CodeSupply(codes(0, 2), async () => []);
    expect(supply.take()?.code).toBe('code-0');
    expect(supply.take()?.code).toBe('code-1');
    expect(supply.take()).toBeNull();
    expect(supply.take()).toBeNull();
    expect(supply).toMatchObject({ taken: 2, left: 0, exhausted: 2 });
  });

  it('makes only the codes missing to have `count` left', async () => {
    const asked: number[] = [];
    let made = 3;
    const supply = new CodeSupply(codes(0, 3), async (count) => {
      asked.push(count);
      const more = codes(made, count);
      made += count;
      return more;
    });
    supply.take();
    await supply.ensure(2);
    expect(asked).toEqual([]);
    await supply.ensure(5);
    expect(asked).toEqual([3]);
    expect(supply.left).toBe(5);
    expect(Array.from({ length: 5 }, () => supply.take()?.code)).toEqual([
      'code-1',
      'code-2',
      'code-3',
      'code-4',
      'code-5',
    ]);
  });

  it('sizes the first batch for the run at a guessed rate per server process, at least 1000', () => {
    expect(firstBatchSize(0.1, 1)).toBe(1000);
    expect(firstBatchSize(12, 2)).toBe(2 * firstBatchSize(12, 1));
  });
});

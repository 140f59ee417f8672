// RFC 9562 §5.7 (UUID version 7).
import { describe, expect, it } from 'vitest';
import { newGrantId } from './ids.js';

describe('newGrantId', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the creation time in ms', () => {
    const at = Date.UTC(2026, 10, 26, 5, 0, 0, 123);
    const id = newGrantId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts as text in creation order, and is distinct within one millisecond', () => {
    const times = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_001_000, 1_800_000_000_000];
    const ids = times.map((t) => newGrantId(t));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => newGrantId(1_700_000_000_000)));
    expect(same.size).toBe(1000);
  });
});

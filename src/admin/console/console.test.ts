import { describe, expect, it } from 'vitest';
import { parseUtc } from './audit.js';
import { barChart, niceCeiling } from './charts.js';
import { returnPath } from './sign-in.js';

describe('niceCeiling', () => {
  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 26, 480, 501].map(niceCeiling)).toEqual([1, 1, 2, 5, 10, 10, 20, 50, 500, 1000]);
  });
});

describe('barChart', () => {
  const chart = (counts: number[], title = 'Tokens issued in the last hour') =>
    barChart({
      id: 'c',
      title,
      buckets: counts.map((_, i) => 1_700_000_000 + i * 60),
      counts,
      labelOf: (at) => String(at),
      span: 'in the last hour',
    }).text;

  it('is an image named by its title and described by its total, one bar per non-empty bucket', () => {
    const svg = chart([0, 3, 0, 5]);
    expect(svg).toMatch(/role="img"\s+aria-labelledby="c-title c-desc"/);
    expect(svg).toContain('<title id="c-title">Tokens issued in the last hour</title>');
    expect(svg).toContain('<desc id="c-desc">8 in the last hour, at most 5 in one bar.</desc>');
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(2);
  });

  it('says so when there was nothing, and escapes its text', () => {
    const svg = chart([0, 0], '<b>&</b>');
    expect(svg).toContain('0 in the last hour, none at all.');
    expect(svg).not.toContain('<rect');
    expect(svg).toContain('&lt;b&gt;&amp;&lt;/b&gt;');
  });
});

describe('parseUtc', () => {
  it('reads datetime-local values as UTC, with or without seconds', () => {
    expect(parseUtc('2026-12-06T11:05')).toBe(Date.UTC(2026, 11, 6, 11, 5) / 1000);
    expect(parseUtc('2026-12-06T11:05:30')).toBe(Date.UTC(2026, 11, 6, 11, 5, 30) / 1000);
    expect(parseUtc('2026-12-06T11:05:30.250')).toBe(Date.UTC(2026, 11, 6, 11, 5, 30) / 1000);
  });

  it('refuses what is no time', () => {
    for (const value of ['yesterday', '2026-02-30T10:00', '2026-12-06 11:05', '2026-12-06T24:00', '2026-13-01T00:00']) {
      expect(parseUtc(value), value).toBeNull();
    }
  });
});

describe('returnPath', () => {
  it('keeps a console path, and falls back to the dashboard for anything else', () => {
    expect(returnPath('/console/users/bob?notice=x&y=1')).toBe('/console/users/bob?notice=x&y=1');
    for (const path of [
      '//evil.example/',
      '/console//evil',
      'https://evil.example/console/',
      '/o/authorize/',
      '/console/"><script>',
      `/console/${'a'.repeat(200)}`,
      null,
      undefined,
      '',
    ]) {
      expect(returnPath(path), String(path)).toBe('/console/');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { STYLESHEET } from './stylesheet.js';

/** The custom properties of a `:root{…}` block of the stylesheet. */
function palette(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/--([a-z-]+):(#[0-9a-f]{6})/g)].map((m) => [m[1]!, m[2]!]));
}

/** WCAG 2.2 relative luminance and contrast ratio. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

const light = palette(STYLESHEET.slice(0, STYLESHEET.indexOf('@media')));
const dark = palette(STYLESHEET.slice(STYLESHEET.indexOf('@media')));

describe.each([
  ['light', light],
  ['dark', dark],
])('the %s colour scheme', (_name, colours) => {
  it('defines every colour', () => {
    expect(Object.keys(colours).sort()).toEqual(
      ['accent', 'accent-text', 'bg', 'border', 'card', 'danger', 'focus', 'muted', 'text'].sort(),
    );
  });

  it('meets WCAG AA for text (4.5:1): body, muted, links, buttons, errors', () => {
    const c = colours as Record<string, string>;
    for (const [fg, bg] of [
      ['text', 'bg'],
      ['text', 'card'],
      ['muted', 'card'],
      ['muted', 'bg'],
      ['accent', 'card'],
      ['accent-text', 'accent'],
      ['danger', 'card'],
    ]) {
      expect(contrast(c[fg!]!, c[bg!]!), `${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('meets WCAG AA for focus rings and field borders (3:1)', () => {
    const c = colours as Record<string, string>;
    for (const [fg, bg] of [
      ['focus', 'card'],
      ['focus', 'bg'],
      ['muted', 'card'],
    ]) {
      expect(contrast(c[fg!]!, c[bg!]!), `${fg} on ${bg}`).toBeGreaterThanOrEqual(3);
    }
  });
});

import { html, type Html } from '../../http/pages/html.js';

/*
 * Bar charts as inline SVG, drawn on the server: no script, no library, nothing the CSP must allow. Each is an
 * image with a <title> and a <desc> that says what it shows in words, and the page states its total in text,
 * so a screen reader user gets the figures without the picture.
 */

const WIDTH = 260;
const HEIGHT = 110;
const LEFT = 28;
const BOTTOM = 18;
const TOP = 8;

export interface BarChart {
  /** Unique on the page: the ids of its title and description. */
  id: string;
  title: string;
  /** The start of each bucket (epoch seconds), oldest first. */
  buckets: readonly number[];
  counts: readonly number[];
  /** The label under the first and last bar. */
  labelOf(bucket: number): string;
  /** `in the last hour`, `in the last day`. */
  span: string;
}

/** A ceiling for the axis: 1, 2, 5, 10, 20, 50… at or above `max`. */
export function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

const round = (n: number): string => String(Math.round(n * 10) / 10);

export function barChart(chart: BarChart): Html {
  const total = chart.counts.reduce((a, b) => a + b, 0);
  const max = Math.max(0, ...chart.counts);
  const ceiling = niceCeiling(max);
  const plotWidth = WIDTH - LEFT - 4;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = plotWidth / Math.max(1, chart.counts.length);
  const barWidth = Math.max(1, slot * 0.75);
  const bars = chart.counts.map((count, i) => {
    if (count === 0) return null;
    const height = Math.max(1, (count / ceiling) * plotHeight);
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const y = TOP + plotHeight - height;
    return html`<rect class="bar" x="${round(x)}" y="${round(y)}" width="${round(barWidth)}" height="${round(height)}">
<title>${chart.labelOf(chart.buckets[i] ?? 0)}: ${count}</title></rect>`;
  });
  const baseline = TOP + plotHeight;
  const first = chart.buckets[0];
  const last = chart.buckets.at(-1);
  const busiest = max === 0 ? 'none at all' : `at most ${max} in one bar`;
  const description = `${total} ${chart.span}, ${busiest}.`;
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"
 aria-labelledby="${chart.id}-title ${chart.id}-desc" focusable="false">
<title id="${chart.id}-title">${chart.title}</title>
<desc id="${chart.id}-desc">${description}</desc>
<line class="axis" x1="${LEFT}" y1="${baseline}" x2="${WIDTH - 4}" y2="${baseline}"></line>
<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${baseline}"></line>
<text class="tick" x="${LEFT - 4}" y="${TOP + 8}" text-anchor="end">${ceiling}</text>
<text class="tick" x="${LEFT - 4}" y="${baseline}" text-anchor="end">0</text>
${first === undefined ? null : html`<text class="tick" x="${LEFT}" y="${HEIGHT - 4}">${chart.labelOf(first)}</text>`}
${
  last === undefined
    ? null
    : html`<text class="tick" x="${WIDTH - 4}" y="${HEIGHT - 4}" text-anchor="end">${chart.labelOf(last)}</text>`
}
${bars}
</svg>`;
}

import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from './fast-histogram.js';

describe('FastHistogram', () => {
  it(
    'renders exactly what prom-client’s Histogram renders for the same observations (bounds inclusive, ' +
      'cumulative, +Inf, sum, count)',
    async () => {
      const buckets = [0.001, 0.01, 0.1];
      const fastRegistry = new Registry();
      const referenceRegistry = new Registry();
      const fast = new FastHistogram('t_seconds', 'help', buckets, fastRegistry);
      const reference = new Histogram({
        name: 't_seconds',
        help: 'help',
        labelNames: ['route', 'status'],
        buckets,
        registers: [referenceRegistry],
      });
      const observations: [string, string, number][] = [
        ['/a', '200', 0.0005],
        ['/a', '200', 0.001], // on a bound: counted in that bucket
        ['/a', '200', 0.05],
        ['/a', '200', 7],
        ['/b', '400', 0.01],
      ];
      for (const [route, status, value] of observations) {
        fast.observe(`${route} ${status}`, () => ({ route, status }), value);
        reference.observe({ route, status }, value);
      }
      expect(await fastRegistry.metrics()).toBe(await referenceRegistry.metrics());
      expect(await fastRegistry.metrics()).toContain('t_seconds_bucket{le="0.001",route="/a",status="200"} 2');
    },
  );
});

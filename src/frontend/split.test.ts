import t from 'tap';
import type { QueryTask } from '../querier/query-params.js';
import { alignToStep, nextIntervalBoundary, splitByInterval } from './split.js';

const H = 3_600_000;
const D = 24 * H;

function task(startMs: number, endMs: number, stepMs: number, query = 'up', limit = 0): QueryTask {
  return { tenant: 't', query, kind: 'range', startMs, endMs, stepMs, limit, lookbackDeltaMs: 300_000, maxSamples: 1e6, deadline: Date.now() + 10_000 };
}

t.test('nextIntervalBoundary is the last step before the next interval', async (t) => {
  t.equal(nextIntervalBoundary(0, 60_000, D), D - 60_000);
  // Steps from 10s: 10s + k*60s; the last before 24h is 24h - 50s.
  t.equal(nextIntervalBoundary(10_000, 60_000, D), D - 50_000);
  // A step that does not divide the day.
  t.equal(nextIntervalBoundary(0, 7 * H, D), 21 * H);
});

t.test('a 3-day range at 1m is split at day boundaries, one step apart', async (t) => {
  const parts = splitByInterval(task(D / 2, 3 * D + D / 2, 60_000), D);
  t.same(
    parts.map((p) => [p.startMs, p.endMs]),
    [
      [D / 2, D - 60_000],
      [D, 2 * D - 60_000],
      [2 * D, 3 * D - 60_000],
      [3 * D, 3 * D + D / 2],
    ],
  );
  // Every step of the original range is in exactly one part.
  const steps = parts.flatMap((p) => {
    const out: number[] = [];
    for (let s = p.startMs; s <= p.endMs; s += p.stepMs) out.push(s);
    return out;
  });
  t.equal(steps.length, (3 * D) / 60_000 + 1);
  t.equal(new Set(steps).size, steps.length);
});

t.test('queries not split: within one interval, @ start()/end(), limit, interval 0', async (t) => {
  t.equal(splitByInterval(task(H, 2 * H, 15_000), D).length, 1);
  t.equal(splitByInterval(task(0, 3 * D, H, 'm @ start()'), D).length, 1);
  t.equal(splitByInterval(task(0, 3 * D, H, 'm @ end ( )'), D).length, 1);
  t.equal(splitByInterval(task(0, 3 * D, H, 'm', 5), D).length, 1);
  for (const q of ['end() - start()', 'vector(range())', 'm * step()']) t.equal(splitByInterval(task(0, 3 * D, H, q), D).length, 1, `${q} reads the query's range`);
  t.equal(splitByInterval(task(0, 3 * D, H), 0).length, 1);
  // 0..3d inclusive: three days and the single step at 3d.
  t.equal(splitByInterval(task(0, 3 * D, H, 'm @ 100'), D).length, 4);
});

t.test('alignToStep rounds start and end down to the step', async (t) => {
  const a = alignToStep(task(61_500, 3_599_999, 60_000));
  t.equal(a.startMs, 60_000);
  t.equal(a.endMs, 3_540_000);
  const b = alignToStep(task(-1_000, 0, 60_000));
  t.equal(b.startMs, -60_000);
});

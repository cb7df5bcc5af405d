// merge.test.ts checks how the answers of parts of a query (time slices,
// shards) join their annotations: one of each text, occurrence counts added.

import t from 'tap';
import { mergeAnnotations, mergeMatrixBodies } from './merge.js';

const OVERLAP = 'PromQL warning: sample has start time that overlaps with previous sample timestamp for metric "c_total"';

t.test('annotations are kept once; occurrence counts add up', async (t) => {
  t.same(mergeAnnotations(['PromQL info: a (1:1)', 'PromQL info: b', 'PromQL info: a (1:1)']), ['PromQL info: a (1:1)', 'PromQL info: b']);
  t.same(mergeAnnotations([`${OVERLAP} (1:6)`, `${OVERLAP} (2 occurrences) (1:6)`]), [`${OVERLAP} (3 occurrences) (1:6)`]);
  t.same(mergeAnnotations([`${OVERLAP} (2 occurrences)`, `${OVERLAP} (4 occurrences)`, 'PromQL info: x']), [`${OVERLAP} (6 occurrences)`, 'PromQL info: x']);
  t.same(mergeAnnotations([`${OVERLAP} (1:6)`, `${OVERLAP} (1:9)`]), [`${OVERLAP} (1:6)`, `${OVERLAP} (1:9)`], 'other positions are other annotations');
});

t.test('joined slices carry the summed warning', async (t) => {
  const body = (t0: number, w: string) => `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[${t0},"1"]]}]},"warnings":[${JSON.stringify(w)}]}`;
  const joined = JSON.parse(mergeMatrixBodies([body(1, `${OVERLAP} (1:6)`), body(2, `${OVERLAP} (2 occurrences) (1:6)`)])) as { warnings: string[]; data: { result: Array<{ values: unknown[] }> } };
  t.same(joined.warnings, [`${OVERLAP} (3 occurrences) (1:6)`]);
  t.same(joined.data.result[0]!.values, [
    [1, '1'],
    [2, '1'],
  ]);
});

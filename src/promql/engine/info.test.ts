import t from 'tap';
import { rangeQuery } from './engine.js';
import { mat } from './engine.test.js';
import { load, m, OPTS } from './test-helpers.js';

const k = load(m(5), {
  'metric{instance="a", job="1", label="value"}': '0 1 2',
  'metric_with_overlapping_label{instance="a", job="1", label="value", data="base"}': '0 1 2',
  'target_info{instance="a", job="1", data="info", another_data="another info"}': '1 1 1',
  'build_info{instance="a", job="1", build_data="build"}': '1 1 1',
});
const q = (expr: string) => mat(rangeQuery(k, expr, 0, m(10), m(5), OPTS));
const pts: Array<[number, number]> = [[0, 0], [300, 1], [600, 2]];

t.test('info enriches with target_info data labels', async (t) => {
  t.same(q('info(metric)'), { '{__name__="metric", another_data="another info", data="info", instance="a", job="1", label="value"}': pts });
  t.same(q('info(metric, {data=~".+"})'), { '{__name__="metric", data="info", instance="a", job="1", label="value"}': pts });
  t.same(q('info(metric, {non_existent=~".+"})'), {});
  t.same(q('info(metric, {non_existent=~".*"})'), { '{__name__="metric", instance="a", job="1", label="value"}': pts });
  t.same(q('info(metric_with_overlapping_label)'), {
    '{__name__="metric_with_overlapping_label", another_data="another info", data="base", instance="a", job="1", label="value"}': pts,
  });
  t.same(q('info(metric, {__name__="build_info"})'), { '{__name__="metric", build_data="build", instance="a", job="1", label="value"}': pts });
  t.same(q('info(metric, {__name__!="target_info"})'), { '{__name__="metric", build_data="build", instance="a", job="1", label="value"}': pts });
  t.same(q('info(floor(metric))'), { '{another_data="another info", data="info", instance="a", job="1", label="value"}': pts });
  t.same(Object.keys(q('info(build_info, {__name__=~".+_info"})')), ['{__name__="build_info", build_data="build", instance="a", job="1"}']);
});

// rulespb.test.ts checks the RuleGroupDesc encoding round trip (every field,
// including the durations as google.protobuf.Duration), the bucket key
// encoding (base64 URL alphabet with padding, as Go's URLEncoding), the YAML
// Mimir answers with, and the notifier's alert conversion.

import t from 'tap';
import { decodeKeyPart, encodeKeyPart } from './rule-store.js';
import { decodeRuleGroupDesc, encodeRuleGroupDesc, formattedGroup, toYaml, type StoredGroup } from './rulespb.js';
import { generatorURL, toPostable } from './notifier.js';
import { goTime } from './go-format.js';
import { formatFloatE } from '../compat/gofmt.js';
import { queryEscape } from '../template/index.js';

t.test('RuleGroupDesc round trip', async (t) => {
  const g: StoredGroup = {
    user: 'u',
    namespace: 'ns/1',
    name: 'g',
    intervalMs: 90_500,
    queryOffsetMs: 60_000,
    evaluationDelayMs: 60_000,
    limit: 7,
    sourceTenants: ['a', 'b'],
    alignEvaluationTimeOnInterval: true,
    rules: [
      { record: 'r', alert: '', expr: 'sum(up)', forMs: 0, keepFiringForMs: 0, labels: { b: '2', a: '1' }, annotations: {} },
      { record: '', alert: 'A', expr: 'up == 0', forMs: 300_000, keepFiringForMs: 1_000, labels: {}, annotations: { summary: 'x' } },
    ],
  };
  const back = decodeRuleGroupDesc(encodeRuleGroupDesc(g));
  t.same(back, { ...g, rules: [{ ...g.rules[0]!, labels: { a: '1', b: '2' } }, g.rules[1]] });
  t.throws(() => decodeRuleGroupDesc(Buffer.from([0x0a, 0x05, 0x61])), 'truncated message');
});

t.test('bucket key parts', async (t) => {
  t.equal(encodeKeyPart('a'), 'YQ==');
  t.equal(encodeKeyPart('??>'), 'Pz8-');
  t.equal(encodeKeyPart('\xff\xfe'), 'w7_Dvg==');
  for (const s of ['a', 'ns/with/slash', 'üñí', '??>']) t.equal(decodeKeyPart(encodeKeyPart(s)), s);
  t.equal(decodeKeyPart('not base64!'), undefined);
  t.equal(decodeKeyPart(''), undefined);
});

t.test('YAML as Mimir writes it', async (t) => {
  const y = toYaml(
    formattedGroup({
      name: 'g',
      intervalMs: 0,
      limit: 0,
      sourceTenants: [],
      alignEvaluationTimeOnInterval: false,
      rules: [{ record: '', alert: 'A', expr: '{__name__="up"} == 0', forMs: 5_400_000, keepFiringForMs: 0, labels: {}, annotations: { d: 'line 1\nline 2' } }],
    }),
  );
  t.equal(y, 'name: g\nrules:\n    - alert: A\n      expr: \'{__name__="up"} == 0\'\n      for: 1h30m\n      annotations:\n          d: |-\n              line 1\n              line 2\n');
});

t.test('alerts as Prometheus posts them', async (t) => {
  const a = toPostable(
    { labels: { alertname: 'A', i: '1' }, annotations: { s: 'x' }, state: 'firing', value: 1, activeAt: 1000, firedAt: 1_700_000_000_123, resolvedAt: 0, lastSentAt: 0, validUntil: 1_700_000_240_123, keepFiringSince: 0 },
    'rate(x[5m]) > 0',
    'http://h:9090/prometheus/',
    { cluster: 'c1', i: 'ignored' },
  );
  t.same(a, {
    annotations: { s: 'x' },
    endsAt: '2023-11-14T22:17:20.123Z',
    startsAt: '2023-11-14T22:13:20.123Z',
    generatorURL: 'http://h:9090/prometheus/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+0&g0.tab=1',
    labels: { alertname: 'A', i: '1', cluster: 'c1' },
  });
  t.equal(generatorURL('', 'up'), '/graph?g0.expr=up&g0.tab=1');
  t.equal(goTime(0), '0001-01-01T00:00:00Z');
  t.equal(goTime(1_700_000_000_000), '2023-11-14T22:13:20Z');
  t.equal(formatFloatE(0), '0e+00');
  t.equal(formatFloatE(1.5e-7), '1.5e-07');
  t.equal(formatFloatE(123), '1.23e+02');
  t.equal(queryEscape('a b/c~'), 'a+b%2Fc~');
});

t.test('YAML quoting as yaml.v3', async (t) => {
  t.equal(toYaml({ a: 'plain text', b: '{{ $labels.x }} down', c: 'true', d: '123', e: '', f: "it's {x}", g: '1.5', h: 'x: y' }), `a: plain text\nb: '{{ $labels.x }} down'\nc: "true"\nd: "123"\ne: ""\nf: it's {x}\ng: "1.5"\nh: 'x: y'\n`);
});

import t from 'tap';
import { formatGo } from './annotations.js';
import { formatFloatF } from '../../compat/gofmt.js';
import { compileAnchored } from '../../compat/re2.js';
import { compareLabels, dropMetricName, labelsString, signatureFn, xxhash64 } from './labels.js';

t.test('xxhash64 known vectors', async (t) => {
  t.equal(xxhash64(Buffer.from('')), 0xef46db3751d8e999n);
  t.equal(xxhash64(Buffer.from('a')), 0xd24ec4f1a98c6e5bn);
  t.equal(xxhash64(Buffer.from('abc')), 0x44bc2cf5ad770999n);
});

t.test('label set text, order and signatures', async (t) => {
  t.equal(labelsString({ __name__: 'dup_metric', label: 'alpha' }), '{__name__="dup_metric", label="alpha"}');
  t.equal(labelsString({ 'a.b': 'x"y' }), '{"a.b"="x\\"y"}');
  t.ok(compareLabels({ a: '1' }, { a: '1', b: '2' }) < 0);
  t.ok(compareLabels({ a: '2' }, { a: '1', b: '2' }) > 0);
  t.same(dropMetricName({ __name__: 'x', __type__: 'counter', a: '1' }), { a: '1' });
  const on = signatureFn(true, ['a']);
  const ign = signatureFn(false, ['b']);
  t.equal(on({ __name__: 'x', a: '1', b: '2' }), on({ a: '1', c: '3' }));
  t.equal(ign({ __name__: 'x', a: '1', b: '2' }), ign({ __name__: 'y', a: '1', b: '3' }));
  t.not(ign({ a: '1' }), ign({ a: '2' }));
});

t.test('Go float formatting', async (t) => {
  t.equal(formatGo(1.1), '1.1');
  t.equal(formatGo(-1), '-1');
  t.equal(formatGo(NaN), 'NaN');
  t.equal(formatGo(1234567), '1.234567e+06');
  t.equal(formatGo(0.00001), '1e-05');
  t.equal(formatFloatF(1e21), '1000000000000000000000');
  t.equal(formatFloatF(0.25), '0.25');
  t.equal(formatFloatF(-Infinity), '-Inf');
});

t.test('RE2 patterns: scoped case-insensitivity, anchoring, dot matches newline', async (t) => {
  t.ok(compileAnchored('(?i:PRO).*').test('production'));
  t.ok(compileAnchored('.*((?i)DUC).*').test('production'));
  t.notOk(compileAnchored('(?i:PRO)d').test('proD'));
  t.ok(compileAnchored('[a-c]+').test('abc'));
  t.ok(compileAnchored('(?i)[a-c]+').test('ABC'));
  t.notOk(compileAnchored('a').test('ab'));
  t.ok(compileAnchored('a.b').test('a\nb'));
  t.ok(compileAnchored('(?P<x>a)b').test('ab'));
});

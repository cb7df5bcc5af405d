// conformance.test.ts runs our own promqltest scripts (testdata/) through the
// conformance runner against the native storage and engine: behaviour
// Prometheus's scripts do not cover (staleness with our lookback flag, the
// JSON encoding's edge values). Every eval must pass.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../storage/native.js';
import { runScript, type SampleLoader } from './runner.js';

const TESTDATA = fileURLToPath(new URL('../../../../src/promql/conformance/testdata/', import.meta.url));

/** SCRIPTS maps each script to the lookback delta it runs with. */
const SCRIPTS: Array<[file: string, lookbackDeltaMs: number]> = [
  ['staleness_and_encoding.test', 300_000],
  ['lookback_1m.test', 60_000],
  ['upstream_regressions.test', 300_000],
];

const binding = loadNative();
const loader: SampleLoader | undefined =
  typeof binding.appendSamplesUnchecked === 'function' && typeof binding.resetTenant === 'function'
    ? {
        appendSamplesUnchecked: binding.appendSamplesUnchecked.bind(binding),
        appendHistogramsUnchecked: binding.appendHistogramsUnchecked?.bind(binding),
        resetTenant: binding.resetTenant.bind(binding),
      }
    : undefined;

t.test('our scripts pass', { skip: loader === undefined ? 'native binding without appendSamplesUnchecked' : false }, async (t) => {
  const { nativeKernels } = await import('../engine/kernels.js');
  const { atVariants } = await import('./at-modifier.js');
  for (const [file, lookbackDeltaMs] of SCRIPTS) {
    const report = runScript(readFileSync(TESTDATA + file, 'utf8'), { kernels: nativeKernels(), loader: loader!, atVariants, lookbackDeltaMs });
    t.ok(report.total > 0, `${file} has evals`);
    t.same(report.failures, [], `${file}: ${report.passed}/${report.total}`);
  }
});

t.test('a failing expectation is reported with expected and got', { skip: loader === undefined }, async (t) => {
  const { nativeKernels } = await import('../engine/kernels.js');
  const script = 'load 1m\n  m 1 2\n\neval instant at 1m m\n  m 3\n\neval instant at 1m m\n  m 2\n';
  const report = runScript(script, { kernels: nativeKernels(), loader: loader! });
  t.equal(report.total, 2);
  t.equal(report.passed, 1);
  t.match(report.failures[0], { line: 4, expr: 'm', message: /expected 3 for m but got 2/ });
});

t.test('an unparsable script counts its evals as failed', async (t) => {
  const report = runScript('load 1m\n  m 1\n\nbogus\n\neval instant at 0 m\n  m 1\n', {
    kernels: {} as never,
    loader: { appendSamplesUnchecked: () => {}, resetTenant: () => {} },
  });
  t.match(report, { passed: 0, total: 1 });
  t.match(report.failures[0]!.message, /script not parsed: line 4: invalid command "bogus"/);
});

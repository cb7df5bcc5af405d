// conformance.test.ts runs the Prometheus conformance scripts that the engine
// fully passes through the conformance runner over the reference store, so a
// regression in the engine shows up without the native core.

import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { atVariants } from '../conformance/at-modifier.js';
import { runScript } from '../conformance/runner.js';
import { ReferenceStore } from './kernels-reference.js';

const DIR = '/work/shared/promql-tests';
const FULL = ['at_modifier', 'collision', 'literals', 'name_label_dropping', 'staleness', 'trig_functions', 'type_and_unit'];

for (const name of FULL) {
  const file = join(DIR, `${name}.test`);
  t.test(name, { skip: existsSync(file) ? false : `${file} not present` }, async (t) => {
    const store = new ReferenceStore();
    const report = runScript(readFileSync(file, 'utf8'), { kernels: store, loader: store, atVariants });
    t.same(report.failures, [], `${report.passed}/${report.total}`);
  });
}

// Differential test of the template engine against Go's text/template: a
// small Go program (test/peer/template-go, standard library only) renders the
// same templates with the same data, and every output and error text must be
// byte-identical. The cases are hand-written (every construct, builtin and
// printf verb) plus a few hundred from a seeded generator.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { type Result, allCases, render } from './lib/template-cases.js';
import { failIfMissing, peerBinary, skipUnless } from './lib/binary.js';

const here = dirname(fileURLToPath(import.meta.url));
const goSource = resolve(here, '../../../test/peer/template-go');
const GO = peerBinary('go', 'GO_BIN', ['go'], 'the Go toolchain (on the machine image; GO_BIN overrides it)');

t.test('text/template: byte-identical with Go over hand-written and generated templates', { skip: skipUnless(GO) }, async (t) => {
  if (failIfMissing(t, GO)) return;
  const cacheDir = join(homedir(), '.cache', 'mimir-native');
  mkdirSync(cacheDir, { recursive: true });
  const bin = join(cacheDir, 'templatego');
  execFileSync(GO.path, ['build', '-o', bin, '.'], {
    cwd: goSource,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const cases = allCases();
  const input = JSON.stringify(cases);
  const goOut = JSON.parse(execFileSync(bin, [], { input, maxBuffer: 64 * 1024 * 1024 }).toString('utf8')) as Result[];
  t.equal(goOut.length, cases.length, 'Go answered every case');
  let mismatches = 0;
  cases.forEach((c, i) => {
    const want = goOut[i]!;
    const got = render(c);
    // On an execution error Go may have written part of the output; compare the error text only.
    const same = want.execErr !== undefined ? got.execErr === want.execErr : got.out === want.out && got.parseErr === want.parseErr && got.execErr === undefined;
    if (!same && mismatches < 40) {
      t.fail(`case ${i}: ${JSON.stringify(c.text)}`, { found: got, wanted: want });
    }
    if (!same) mismatches++;
  });
  t.equal(mismatches, 0, `all ${cases.length} cases identical with Go`);
});

// ruler-promtool.test.ts: `promtool check rules` (Prometheus 3.x) parity.
// Each rule file is checked by promtool3 and by our rule-file validator:
// both must accept or both reject, with the same error lines. Files of one
// group are also POSTed to our config API, which must accept exactly what
// promtool accepts (the API, as Mimir's, ignores unknown fields, so those
// files are only compared at the file level).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { checkRuleFile } from '../../src/ruler/rulefmt.js';
import { templateCheck } from '../../src/ruler/template-funcs.js';
import { FakeStorage } from '../../src/testing/fake-storage.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { requireBinary } from './lib/binaries.js';
import { run } from './lib/promtool.js';

const promtool = requireBinary('promtool3', 'PROMTOOL3_BIN');
if (promtool === undefined) {
  t.comment('skipped: promtool3 not found on PATH (scripts/install-peers.sh builds it)');
  process.exit(0);
}

const rules = (body: string): string => `groups:\n  - name: g\n    rules:\n${body}`;

/** CASES are rule files: [title, text, apiComparable]. */
const CASES: Array<[string, string, boolean]> = [
  ['valid recording and alerting', rules('      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels:\n          severity: page\n        annotations:\n          summary: down\n'), true],
  ['valid group options', 'groups:\n  - name: g\n    interval: 30s\n    query_offset: 1m\n    limit: 10\n    rules:\n      - alert: A\n        expr: vector(1)\n        keep_firing_for: 10m\n', true],
  ['valid utf-8 names', rules('      - record: "job.up:sum"\n        expr: sum by (job) (up)\n        labels:\n          "team.name": a\n'), true],
  ['valid durations in days', rules('      - alert: A\n        expr: up\n        for: 1d\n'), true],
  ['bad expression', rules('      - record: a\n        expr: sum(up\n'), true],
  ['bad expression 2', rules('      - record: a\n        expr: rate(up[5m]\n'), true],
  ['unknown function', rules('      - record: a\n        expr: nosuchfunc(up)\n'), true],
  ['record and alert', rules('      - record: a\n        alert: b\n        expr: up\n'), true],
  ['neither record nor alert', rules('      - expr: up\n'), true],
  ['missing expr', rules('      - record: a\n'), true],
  ['for in recording rule', rules('      - record: a\n        expr: up\n        for: 1m\n'), true],
  ['keep_firing_for in recording rule', rules('      - record: a\n        expr: up\n        keep_firing_for: 1m\n'), true],
  ['annotations in recording rule', rules('      - record: a\n        expr: up\n        annotations:\n          x: y\n'), true],
  ['braces in record name', rules('      - record: a{b="c"}\n        expr: up\n'), true],
  ['__name__ label', rules('      - alert: a\n        expr: up\n        labels:\n          __name__: x\n'), true],
  ['several errors', rules('      - record: a\n        expr: sum(up\n      - record: b\n        alert: c\n        expr: up\n      - expr: up\n'), true],
  ['valid templates', rules('      - alert: A\n        expr: up\n        labels:\n          who: "{{ $labels.instance | toUpper }}"\n        annotations:\n          summary: "{{ $value | humanize }} {{ with query \\"up\\" }}{{ . | first | value }}{{ end }}"\n'), true],
  ['unclosed template action', rules('      - alert: A\n        expr: up\n        annotations:\n          summary: "{{ $labels.instance"\n'), true],
  ['undefined template function', rules('      - alert: A\n        expr: up\n        labels:\n          x: "{{ nosuchfunc }}"\n'), true],
  ['bad duration', rules('      - alert: a\n        expr: up\n        for: 5x\n'), false],
  ['unknown rule field', rules('      - record: a\n        expr: up\n        foo: 1\n'), false],
  ['unknown group field', 'groups:\n  - name: g\n    foo: 1\n    rules:\n      - record: a\n        expr: up\n', false],
  ['empty group name', 'groups:\n  - name: ""\n    rules:\n      - record: a\n        expr: up\n', false],
  ['repeated group name', 'groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n  - name: g\n    rules:\n      - record: b\n        expr: up\n', false],
];

const dir = mkdtempSync(join(tmpdir(), 'ruler-promtool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const srv = await startTestServer({ 'ruler.max-rules-per-rule-group': 0 }, { storage: new FakeStorage() });
t.teardown(() => srv.close());

/** ours checks a file as promtool does with our parser and validator: error lines prefixed with the file name. */
function ours(file: string, text: string): string[] {
  return checkRuleFile(text, { scheme: 'utf8', templateCheck }).map((e) => `${file}: ${e}`);
}

for (const [i, [title, text, viaApi]] of CASES.entries()) {
  t.test(title, async (t) => {
    const file = join(dir, `rules-${i}.yml`);
    writeFileSync(file, text);
    let promOk = true;
    let promErr = '';
    try {
      await run(promtool, ['check', 'rules', file]);
    } catch (err) {
      promOk = false;
      promErr = String((err as { stderr?: string }).stderr ?? '');
    }
    const mine = ours(file, text);
    t.equal(mine.length === 0, promOk, `promtool ${promOk ? 'accepts' : 'rejects'}: ${promErr}`);
    if (!promOk) {
      const theirLines = promErr.split('\n').filter((l) => l.startsWith(file) || l.startsWith('  line'));
      const expected = theirLines.join('\n');
      t.equal(mine.join('\n'), expected, 'same error lines');
    }
    if (viaApi) {
      const group = text.replace(/^groups:\n {2}- /, '').replace(/^ {4}/gm, '');
      const res = await httpRequest(srv.port, `/prometheus/config/v1/rules/parity-${i}`, { method: 'POST', headers: { 'X-Scope-OrgID': 'parity' }, body: group });
      t.equal(res.status, promOk ? 202 : 400, `API: ${res.body}`);
    }
  });
}

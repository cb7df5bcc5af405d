// amtool.test.ts (peer suite) drives our Alertmanager with the real amtool
// 0.35, as an operator would: `--alertmanager.url <us>/alertmanager` and an
// `--http.config.file` whose http_headers carry X-Scope-OrgID. It adds and
// queries alerts, adds, queries, updates, expires and imports silences,
// shows the config and the cluster, and tests routes, then checks that
// another tenant sees none of it.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { AMTOOL, skipUnless } from './lib/binary.js';

const run = promisify(execFile);

const CONFIG = `route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h
  routes:
    - matchers: ['team="db"']
      receiver: dba
receivers:
  - name: default
  - name: dba
`;

t.test('amtool 0.35 against our Alertmanager', { skip: skipUnless(AMTOOL) }, async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'amtool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const base = `http://127.0.0.1:${server.port}`;
  const hc = (tenant: string): string => {
    const f = join(dir, `hc-${tenant}.yml`);
    writeFileSync(f, `http_headers:\n  X-Scope-OrgID:\n    values: [${tenant}]\n`);
    return f;
  };
  const r = await fetch(`${base}/api/v1/alerts`, {
    method: 'POST',
    headers: { 'X-Scope-OrgID': 'ops' },
    body: JSON.stringify({ alertmanager_config: CONFIG, template_files: {} }),
  });
  t.equal(r.status, 201);
  await fetch(`${base}/api/v1/alerts`, { method: 'POST', headers: { 'X-Scope-OrgID': 'other' }, body: JSON.stringify({ alertmanager_config: CONFIG }) });

  const amtool = async (tenant: string, ...args: string[]): Promise<string> => {
    const { stdout, stderr } = await run(AMTOOL.path, [`--alertmanager.url=${base}/alertmanager`, `--http.config.file=${hc(tenant)}`, ...args], { timeout: 30_000 });
    t.notMatch(stderr, /version|warning/i, `no warning from amtool ${args.join(' ')}`);
    return stdout;
  };

  // Alerts.
  await amtool('ops', 'alert', 'add', 'alertname=DiskFull', 'instance=db1', 'team=db', '--annotation=summary=disk is full');
  await amtool('ops', 'alert', 'add', 'alertname=HighLoad', 'instance=web1');
  const alerts = JSON.parse(await amtool('ops', 'alert', 'query', '-o', 'json')) as Array<{ labels: Record<string, string>; receivers: Array<{ name: string }>; annotations: Record<string, string> }>;
  t.same(alerts.map((a) => a.labels.alertname).sort(), ['DiskFull', 'HighLoad']);
  t.same(alerts.find((a) => a.labels.alertname === 'DiskFull')?.receivers, [{ name: 'dba' }]);
  t.equal(alerts.find((a) => a.labels.alertname === 'DiskFull')?.annotations.summary, 'disk is full');
  const simple = await amtool('ops', 'alert', 'query', 'alertname=HighLoad');
  t.match(simple, /HighLoad/);
  t.notMatch(simple, /DiskFull/);
  t.match(await amtool('ops', 'alert', 'query', '--receiver=dba'), /DiskFull/);

  // Silences.
  const id = (await amtool('ops', 'silence', 'add', 'instance=web1', '--comment=maintenance', '--author=alice', '--duration=2h')).trim();
  t.match(id, /^[0-9a-f-]{36}$/);
  t.match(await amtool('ops', 'alert', 'query', '--silenced'), /HighLoad/);
  t.notMatch(await amtool('ops', 'alert', 'query'), /HighLoad/, 'silenced alerts are hidden by default');
  const q = JSON.parse(await amtool('ops', 'silence', 'query', '-o', 'json')) as Array<{ id: string; comment: string; createdBy: string; matchers: unknown[] }>;
  t.equal(q.length, 1);
  t.equal(q[0]?.comment, 'maintenance');
  t.equal(q[0]?.createdBy, 'alice');
  // Silence annotations (amtool 0.35's --annotation): sent, kept, shown by the JSON output, carried by update and import.
  const annotatedId = (await amtool('ops', 'silence', 'add', 'instance=web9', '--comment=annotated', '--annotation=ticket=T-9', '--annotation=owner="x y"')).trim();
  const annotated = () => amtool('ops', 'silence', 'query', '-o', 'json', 'instance=web9');
  t.same((JSON.parse(await annotated()) as Array<{ annotations?: unknown }>)[0]?.annotations, { owner: 'x y', ticket: 'T-9' });
  await amtool('ops', 'silence', 'update', annotatedId, '--comment=still annotated');
  const kept = (JSON.parse(await annotated()) as Array<{ id: string; comment: string; annotations?: unknown }>)[0];
  t.same([kept?.id, kept?.comment, kept?.annotations], [annotatedId, 'still annotated', { owner: 'x y', ticket: 'T-9' }], 'update keeps the annotations');
  const annotatedFile = join(dir, 'annotated.json');
  writeFileSync(annotatedFile, await annotated());
  await amtool('ops', 'silence', 'expire', annotatedId);
  const reimported = (await amtool('ops', 'silence', 'import', annotatedFile)).trim();
  t.same((JSON.parse(await annotated()) as Array<{ id: string; annotations?: unknown }>).map((x) => [x.id, x.annotations]), [[reimported, { owner: 'x y', ticket: 'T-9' }]], 'import keeps them');
  await amtool('ops', 'silence', 'expire', reimported);
  t.match((await amtool('ops', 'silence', 'query', '-q')).trim(), id);
  // (amtool 0.35's `update -q` prints a pointer, so read its JSON output.)
  const updated = JSON.parse(await amtool('ops', 'silence', 'update', '-o', 'json', id, '--comment=longer maintenance')) as Array<{ id: string }> | { id: string };
  t.equal(Array.isArray(updated) ? updated[0]?.id : updated.id, id, 'a comment change keeps the ID');
  t.match(await amtool('ops', 'silence', 'query', '-o', 'extended'), /longer maintenance/);
  const exported = await amtool('ops', 'silence', 'query', '-o', 'json');
  await amtool('ops', 'silence', 'expire', id);
  t.equal((await amtool('ops', 'silence', 'query', '-q')).trim(), '', 'expired silences are not listed');
  t.match(await amtool('ops', 'silence', 'query', '--expired', '-q'), id);
  const file = join(dir, 'silences.json');
  writeFileSync(file, exported);
  const imported = (await amtool('ops', 'silence', 'import', file)).trim();
  t.match(imported, /^[0-9a-f-]{36}$/);
  t.not(imported, id, 'an expired silence is imported under a new ID');
  t.match(await amtool('ops', 'silence', 'query', '-q'), imported);

  // Config, routes, cluster.
  const shown = await amtool('ops', 'config', 'show');
  t.match(shown, /receiver: dba/);
  const routes = await amtool('ops', 'config', 'routes', 'test', 'team=db', 'alertname=X');
  t.equal(routes.trim(), 'dba');
  t.equal((await amtool('ops', 'config', 'routes', 'test', 'alertname=X')).trim(), 'default');
  t.match(await amtool('ops', 'cluster', 'show'), /Status:\s+ready/);

  // Another tenant sees nothing of it.
  t.same(JSON.parse(await amtool('other', 'alert', 'query', '-o', 'json')), []);
  t.same(JSON.parse(await amtool('other', 'silence', 'query', '-o', 'json')), []);
});

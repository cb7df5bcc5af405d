// evaluation-enabled.test.ts: Mimir's per-tenant ruler_recording_rules_evaluation_enabled and
// ruler_alerting_rules_evaluation_enabled limits (-ruler.recording-rules-evaluation-enabled,
// -ruler.alerting-rules-evaluation-enabled): rules of a disabled type stay stored (the config
// API lists them) but are not loaded for evaluation (the Prometheus rules API does not show
// them), and a group left without rules is not run.

import t from 'tap';
import { parse } from 'yaml';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const MIXED = `name: mixed
rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: up == 0
`;
const RECORDING_ONLY = `name: recording-only
rules:
  - record: job:up:count
    expr: count by (job) (up)
`;

for (const [flag, kept] of [
  ['ruler.recording-rules-evaluation-enabled', 'Down'],
  ['ruler.alerting-rules-evaluation-enabled', 'job:up:sum'],
] as const) {
  t.test(`${flag}=false`, async (t) => {
    const srv = await startTestServer({ [flag]: false, 'ruler.poll-interval': 60_000 }, { storage: new FakeStorage() });
    t.teardown(() => srv.close());
    const tenant = 'eval-enabled';
    const headers = { 'X-Scope-OrgID': tenant };
    for (const body of [MIXED, RECORDING_ONLY]) {
      const res = await httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers, body });
      t.equal(res.status, 202, res.body);
    }
    const stored = parse((await httpRequest(srv.port, '/prometheus/config/v1/rules', { headers })).body) as Record<string, Array<{ name: string; rules: unknown[] }>>;
    t.same(stored['ns']!.map((g) => [g.name, g.rules.length]), [['mixed', 2], ['recording-only', 1]], 'every rule stays stored');
    let groups: Array<{ name: string; rules: Array<{ name: string }> }> = [];
    for (let i = 0; i < 50; i++) {
      groups = jsonOf<{ data: { groups: typeof groups } }>(await httpRequest(srv.port, '/prometheus/api/v1/rules', { headers })).data.groups;
      if (groups.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const loaded = groups.map((g) => [g.name, g.rules.map((r) => r.name)]);
    if (kept === 'Down') t.same(loaded, [['mixed', ['Down']]], 'recording rules are not evaluated; the recording-only group is not run');
    else t.same(loaded, [['mixed', ['job:up:sum']], ['recording-only', ['job:up:count']]], 'alerting rules are not evaluated');
  });
}

// lbac-random.test.ts checks label-based access control against its
// definition with random data: for random series, random label policies and
// random queries and look-ups, the answer a policy-limited token gets from an
// instance holding every series must equal the answer an unlimited token
// gets from an instance holding only the series the policy shows. So no
// answer contains, or is computed from, a hidden series. Reads covered:
// PromQL (instant, range), series, label names, label values (over the whole
// range and parts of it), cardinality label names and values, and user
// stats' series count. The seed is printed; LBAC_SEED reruns one.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTokengen } from '../admin/tokengen.js';
import { defaultConfig } from '../config/config.js';
import { matcherMatches } from '../querier/tenant-federation.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { AdminClient, basicAuth } from '../testing/admin-client.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { POLICY_MATCH_TYPES } from './visibility.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();

const SEED = Number(process.env['LBAC_SEED'] ?? Date.now() % 1_000_000);
const ROUNDS = 4;
const CLUSTER = 'lbac';
const run = Date.now().toString(36);
const base = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
const STEPS = 12;

/** rng is mulberry32: a small seeded generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS: Record<string, string[]> = { job: ['api', 'db', 'web'], env: ['prod', 'dev', 'test'], team: ['x', 'y', 'z'], zone: ['eu', 'us'] };
const NAMES = ['lbac_m1', 'lbac_m2', 'lbac_m3'];

t.test('randomized LBAC', { skip }, async (t) => {
  t.comment(`seed ${SEED} (LBAC_SEED=${SEED} reruns it)`);
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dir = mkdtempSync(join(tmpdir(), 'lbac-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': join(dir, 'admin') };
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'log.level': 'warn' }), () => undefined);
  const srv = await startTestServer({ ...flags, 'auth.type': 'enterprise', 'querier.cardinality-analysis-enabled': true });
  t.teardown(() => srv.close());
  const admin = new AdminClient(srv.port, adminToken);

  for (let round = 0; round < ROUNDS; round++) {
    const full = `lbac-full-${round}-${run}`;
    const vis = `lbac-vis-${round}-${run}`;
    // Random series: every metric name with random label subsets.
    const seen = new Set<string>();
    const series: Array<Record<string, string>> = [];
    for (let i = 0; i < 40; i++) {
      const labels: Record<string, string> = { __name__: pick(NAMES) };
      for (const [name, values] of Object.entries(LABELS)) if (r() < 0.75) labels[name] = pick(values);
      const key = JSON.stringify(Object.entries(labels).sort());
      if (seen.has(key)) continue;
      seen.add(key);
      series.push(labels);
    }
    // Random policies: 1-3 selectors of 1-2 matchers.
    const policies = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
      selector: Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
        const type = pick(['EQ', 'NEQ', 'RE', 'NRE']);
        const name = r() < 0.2 ? '__name__' : pick(Object.keys(LABELS));
        const values = name === '__name__' ? NAMES : LABELS[name]!;
        const one = pick(values);
        const value = type === 'EQ' || type === 'NEQ' ? one : pick([`${one}|${pick(values)}`, `${one.slice(0, 1)}.*`, '.+', one]);
        return { type, name, value };
      }),
    }));
    const sets: LabelMatcher[][] = policies.map((p) => p.selector.map((m) => ({ name: m.name, type: POLICY_MATCH_TYPES[m.type]!, value: m.value })));
    const visible = series.filter((s) => sets.some((set) => set.every((m) => matcherMatches(m, s[m.name] ?? ''))));
    t.comment(`round ${round}: ${series.length} series, ${visible.length} visible, policies ${JSON.stringify(policies)}`);

    await admin.instance(full);
    await admin.instance(vis);
    await admin.policy(`writer-${round}`, ['metrics:write', 'metrics:read'], [{ instance: full, cluster: CLUSTER }, { instance: vis, cluster: CLUSTER }]);
    await admin.policy(`limited-${round}`, ['metrics:read'], [{ instance: full, cluster: CLUSTER, label_policies: policies }]);
    const writer = await admin.token(`writer-${round}-token`, `writer-${round}`);
    const limited = await admin.token(`limited-${round}-token`, `limited-${round}`);

    // Each series holds a random run of the steps, so look-ups over part of the range see part of the series.
    const samples = new Map(
      series.map((s) => {
        const first = r() < 0.5 ? 0 : Math.floor(r() * (STEPS - 1));
        const n = 1 + Math.floor(r() * (STEPS - first));
        return [s, Array.from({ length: n }, (_, i): [number, number] => [base + (first + i) * 60_000, Math.floor(r() * 100)])];
      }),
    );
    const encode = (list: Array<Record<string, string>>): TimeSeriesInput[] =>
      list.map((s) => ({ labels: Object.entries(s) as Array<[string, string]>, samples: samples.get(s)! }));
    for (const [tenant, list] of [
      [full, series],
      [vis, visible],
    ] as const) {
      const res = await httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, Authorization: basicAuth(tenant, writer) }, body: encodeWriteRequestSnappy(encode(list)) });
      t.equal(res.status, 200, `push ${tenant}: ${res.body}`);
    }

    const labelName = (): string => pick(Object.keys(LABELS));
    const labelValue = (name: string): string => pick(LABELS[name]!);
    const metric = (): string => (r() < 0.8 ? pick(NAMES) : '{__name__=~"lbac_.*"}');
    const sel = (): string => {
      const m = metric();
      if (r() < 0.5) return m;
      const n = labelName();
      const op = pick(['=', '!=', '=~', '!~']);
      const v = op.includes('~') ? `${labelValue(n)}|${labelValue(n)}` : labelValue(n);
      return m.startsWith('{') ? `${m.slice(0, -1)},${n}${op}"${v}"}` : `${m}{${n}${op}"${v}"}`;
    };
    const exprs = [
      () => `count(${sel()})`,
      () => `sum by (${labelName()}) (${sel()})`,
      () => `count by (${labelName()}) (${sel()})`,
      () => `absent(${sel()})`,
      () => `absent_over_time(${sel()}[5m])`,
      () => `max_over_time(${sel()}[5m])`,
      () => `sum(rate(${sel()}[5m]))`,
      () => `sum by (${labelName()}) (increase(${sel()}[10m]))`,
      () => `topk(3, ${sel()})`,
      () => `count_values("v", ${sel()})`,
      () => `max_over_time(sum(${sel()})[10m:1m])`,
      () => `count(${sel()} offset 2m)`,
      () => `group by (${labelName()}) (${sel()})`,
      () => `${sel()} > 50`,
      () => `sum(${sel()}) / count(${sel()})`,
      () => sel(),
    ];
    const compare = async (path: string, what: string): Promise<void> => {
      const [a, b] = await Promise.all([
        httpRequest(srv.port, path, { headers: { Authorization: basicAuth(full, limited) } }),
        httpRequest(srv.port, path, { headers: { Authorization: basicAuth(vis, writer) } }),
      ]);
      t.equal(a.status, b.status, `${what}: status`);
      if (a.body !== b.body) t.same(JSON.parse(a.body), JSON.parse(b.body), `${what}: ${path}`);
      else t.pass(what);
    };
    const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();
    const at = String(base / 1000 + (STEPS - 1) * 60);
    for (let i = 0; i < 24; i++) {
      const expr = pick(exprs)();
      await compare(`/prometheus/api/v1/query?${q({ query: expr, time: at })}`, `instant ${expr}`);
      if (i % 3 === 0) await compare(`/prometheus/api/v1/query_range?${q({ query: expr, start: String(base / 1000), end: at, step: '60' })}`, `range ${expr}`);
    }
    const whole = { start: String(base / 1000 - 60), end: String(base / 1000 + STEPS * 60) };
    for (let i = 0; i < 8; i++) {
      // The whole range (covering every sample) or a part of it (some series have none there).
      const from = Math.floor(r() * STEPS);
      const range = i % 2 === 0 ? whole : { start: String(base / 1000 + from * 60), end: String(base / 1000 + (from + Math.floor(r() * 4)) * 60) };
      const s = sel();
      await compare(`/prometheus/api/v1/series?${q({ 'match[]': s, ...range })}`, `series ${s}`);
      await compare(`/prometheus/api/v1/labels?${q(r() < 0.5 ? range : { 'match[]': s, ...range })}`, `labels ${s}`);
      const n = r() < 0.2 ? '__name__' : labelName();
      await compare(`/prometheus/api/v1/label/${n}/values?${q(r() < 0.5 ? range : { 'match[]': s, ...range })}`, `label values ${n} ${s}`);
    }
    // Cardinality (every series is in memory) and user stats' series count.
    for (let i = 0; i < 4; i++) {
      const s = sel();
      await compare(`/prometheus/api/v1/cardinality/label_names?${q(r() < 0.5 ? {} : { selector: s })}`, `cardinality label_names ${s}`);
      const names = [labelName(), labelName(), '__name__'];
      await compare(`/prometheus/api/v1/cardinality/label_values?${q(r() < 0.5 ? { 'label_names[]': names[i % 3]! } : { 'label_names[]': names[i % 3]!, selector: s })}`, `cardinality label_values ${names[i % 3]} ${s}`);
    }
    const [limitedStats, visStats] = await Promise.all([
      httpRequest(srv.port, '/api/v1/user_stats', { headers: { Authorization: basicAuth(full, limited) } }),
      httpRequest(srv.port, '/api/v1/user_stats', { headers: { Authorization: basicAuth(vis, writer) } }),
    ]);
    t.equal(JSON.parse(limitedStats.body).numSeries, JSON.parse(visStats.body).numSeries, 'user_stats numSeries');
    t.equal(JSON.parse(limitedStats.body).numSeries, visible.length);
  }
});

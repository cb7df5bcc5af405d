// runtime-config.test.ts covers the per-tenant overrides: merging on the
// defaults (YAML limits: and flags), errors, /runtime_config rendering, the
// reload of a changed file on a short period (and a broken file keeping the
// last good configuration), and the /api/v1/user_limits body.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { buildConfig, defaultConfig } from '../config/config.js';
import { parseArgs } from '../config/parse.js';
import { Logger, setLogSink } from '../log.js';
import { parseRuntimeConfig, renderRuntimeConfig, RuntimeConfigManager, runtimeConfigFiles, userLimitsJson } from './runtime-config.js';

t.test('overrides merge on the defaults, per tenant, later files winning', async (t) => {
  const config = defaultConfig({ 'distributor.ingestion-rate-limit': 500, 'ingester.max-global-series-per-metric': 7 });
  const rc = parseRuntimeConfig(
    [
      { name: 'a.yaml', text: 'overrides:\n  t1:\n    ingestion_rate: 5\n    ingestion_burst_size: 10\n    creation_grace_period: 1m\n  t2:\n    max_global_series_per_user: 3\n' },
      { name: 'b.yaml', text: 'overrides:\n  t1:\n    ingestion_burst_size: 20\n  t3:\n' },
    ],
    config.values,
  );
  const t1 = rc.tenants.get('t1')!.limits;
  t.equal(t1.ingestionRate, 5);
  t.equal(t1.ingestionBurstSize, 20, 'the later file wins');
  t.equal(t1.creationGracePeriodMs, 60_000);
  t.equal(t1.maxGlobalSeriesPerMetric, 7, 'unset fields keep the configured default');
  const t2 = rc.tenants.get('t2')!.limits;
  t.equal(t2.ingestionRate, 500);
  t.equal(t2.maxGlobalSeriesPerUser, 3);
  t.same(rc.tenants.get('t3')!.limits, config.limits, 'an empty entry is the defaults');

  const diff = parse(renderRuntimeConfig(rc, config.values, 'diff'));
  t.same(diff, { overrides: { t1: { ingestion_rate: 5, ingestion_burst_size: 20, creation_grace_period: '1m' }, t2: { max_global_series_per_user: 3 } } });
  const all = parse(renderRuntimeConfig(rc, config.values, 'values'));
  t.equal(all.overrides.t3.ingestion_rate, 500);
  t.equal(all.overrides.t3.max_label_names_per_series, 30);
  t.equal(all.overrides.t1.past_grace_period, '0s');
  t.equal(renderRuntimeConfig({ tenants: new Map() }, config.values, 'diff'), '{}\n');
});

t.test('YAML limits: are the defaults the overrides start from', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.yaml'), 'limits:\n  ingestion_rate: 42\nruntime_config:\n  period: 1s\n  file: x.yaml\n');
  const config = buildConfig(parseArgs([`-config.file=${join(dir, 'c.yaml')}`]));
  t.equal(config.values.get('runtime-config.reload-period'), 1000);
  t.same(runtimeConfigFiles(String(config.values.get('runtime-config.file'))), ['x.yaml']);
  const rc = parseRuntimeConfig([{ name: 'r', text: 'overrides:\n  a:\n    ingestion_burst_size: 1\n' }], config.values);
  t.equal(rc.tenants.get('a')!.limits.ingestionRate, 42);
});

t.test('bad runtime configuration is refused with the reason', async (t) => {
  const values = defaultConfig().values;
  const bad = (text: string, want: RegExp): void => {
    t.throws(() => parseRuntimeConfig([{ name: 'r.yaml', text }], values), want, text);
  };
  bad('overrides:\n  a:\n    no_such_limit: 1\n', /error loading runtime config from r\.yaml.*field no_such_limit not found/s);
  bad('overrides:\n  a:\n    ingestion_burst_size: lots\n', /cannot unmarshal !!str `lots` into limits\.ingestion_burst_size/);
  bad('overrides:\n  a: 3\n', /overrides of tenant a must be a map/);
  bad('something: 1\n', /field something not found/);
  bad('overrides: [\n', /yaml:/);
  t.equal(parseRuntimeConfig([{ name: 'r', text: '' }], values).tenants.size, 0, 'an empty file is no overrides');
  t.equal(parseRuntimeConfig([{ name: 'r', text: 'ingester_limits:\noverrides:\n' }], values).tenants.size, 0);
});

t.test('a changed file is reloaded on the period; a broken one keeps the last good config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-'));
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  t.teardown(() => {
    setLogSink((l) => void process.stderr.write(l));
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'runtime.yaml');
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: 1\n');
  const config = defaultConfig();
  const m = new RuntimeConfigManager(config, { files: [file], reloadPeriodMs: 20, logger: new Logger() });
  m.start();
  t.teardown(() => m.stop());
  t.equal(m.limits('a').ingestionRate, 1);
  t.equal(m.limits('b').ingestionRate, 10000, 'other tenants get the defaults');

  const waitFor = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: 2\n  b:\n    ingestion_rate: 3\n');
  await waitFor(() => m.limits('b').ingestionRate === 3);
  t.equal(m.limits('a').ingestionRate, 2);
  t.equal(m.limits('b').ingestionRate, 3, 'reloaded without a restart');
  t.ok(lines.some((l) => l.includes('runtime config reloaded')), 'the reload is logged');

  writeFileSync(file, 'overrides:\n  a:\n    ingestion_rate: fast\n');
  await waitFor(() => lines.some((l) => l.includes('failed to reload runtime config')));
  t.ok(lines.some((l) => l.includes('level=error') && l.includes('failed to reload runtime config')), 'the error is logged');
  t.equal(m.limits('a').ingestionRate, 2, 'the last good config stays');
  t.equal(m.limits('b').ingestionRate, 3);

  rmSync(file);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(m.limits('b').ingestionRate, 3, 'a missing file keeps the last good config too');
});

t.test('a bad file at start fails the start', async (t) => {
  const m = new RuntimeConfigManager(defaultConfig(), { files: ['/nonexistent/runtime.yaml'], reloadPeriodMs: 0 });
  t.throws(() => m.start(), /error loading runtime config from \/nonexistent\/runtime\.yaml/);
  const none = new RuntimeConfigManager(defaultConfig(), { files: [], reloadPeriodMs: 0 });
  none.start();
  t.equal(none.render('values'), undefined);
});

t.test('user_limits has Mimir fields in order', async (t) => {
  const config = defaultConfig();
  const m = new RuntimeConfigManager(config, {
    files: ['r.yaml'],
    reloadPeriodMs: 0,
    readFile: () => 'overrides:\n  a:\n    ingestion_rate: 12.5\n    max_global_series_per_metric: 9\n',
  });
  m.start();
  const body = JSON.parse(userLimitsJson(m, 'a')) as Record<string, number>;
  t.same(Object.keys(body), [
    'compactor_blocks_retention_period_seconds',
    'ingestion_rate',
    'ingestion_burst_size',
    'ingestion_burst_factor',
    'max_global_series_per_user',
    'max_global_series_per_metric',
    'max_global_exemplars_per_user',
    'max_fetched_chunks_per_query',
    'max_fetched_series_per_query',
    'max_fetched_chunk_bytes_per_query',
    'ruler_max_rules_per_rule_group',
    'ruler_max_rule_groups_per_tenant',
  ]);
  t.equal(body.ingestion_rate, 12.5);
  t.equal(body.max_global_series_per_metric, 9);
  t.equal(body.ingestion_burst_size, 200000);
  t.equal((JSON.parse(userLimitsJson(m, 'other')) as Record<string, number>).ingestion_rate, 10000);
});

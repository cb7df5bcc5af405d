// config.test.ts checks flag syntax, value parsing, YAML loading, precedence
// and /config rendering, and that the real entrypoint exits non-zero naming
// a bad flag.

import t from 'tap';
import { FLAGS } from './flags.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, flagNumber, flagString, loadConfig } from './config.js';
import { formatDuration, parseDuration } from './duration.js';
import { ConfigError, HelpRequested, parseArgs } from './parse.js';
import { SECRET_MASK, renderConfigYaml } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'mimir-config-'));
const yamlFile = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

t.test('defaults', async (t) => {
  const c = loadConfig([]);
  t.equal(c.httpListenPort, 8080);
  t.equal(c.multitenancyEnabled, true);
  t.equal(c.prometheusHttpPrefix, '/prometheus');
  t.equal(c.target, 'all');
  t.equal(c.tsdbDir, './tsdb/');
  t.equal(c.filesystemDir, 'blocks');
  t.equal(c.blocksStorageBackend, 'filesystem');
  t.equal(c.maxRecvMsgSize, 104857600);
  t.equal(c.limits.maxLabelNamesPerSeries, 30);
  t.equal(c.limits.maxLabelNameLength, 1024);
  t.equal(c.limits.maxLabelValueLength, 2048);
  t.equal(c.limits.creationGracePeriodMs, 600_000);
  t.equal(c.limits.pastGracePeriodMs, 0);
  t.equal(c.logLevel, 'info');
});

t.test('Go flag syntax', async (t) => {
  const c = loadConfig([
    '-server.http-listen-port=9009',
    '--server.http-listen-address',
    '127.0.0.1',
    '-auth.multitenancy-enabled=false',
    '-validation.create-grace-period',
    '1h30m',
    '--log.level=debug',
  ]);
  t.equal(c.httpListenPort, 9009);
  t.equal(c.httpListenAddress, '127.0.0.1');
  t.equal(c.multitenancyEnabled, false);
  t.equal(c.limits.creationGracePeriodMs, 5_400_000);
  t.equal(c.logLevel, 'debug');
  t.equal(loadConfig(['-auth.multitenancy-enabled']).multitenancyEnabled, true);
  t.equal(loadConfig(['-auth.multitenancy-enabled=0']).multitenancyEnabled, false);
  t.equal(loadConfig(['-server.http-listen-port=1', '-server.http-listen-port=2']).httpListenPort, 2, 'last flag wins');
});

t.test('a flag alias sets the flag it names', async (t) => {
  const name = 'querier.max-outstanding-requests-per-tenant';
  t.equal(flagNumber(parseArgs(['-query-frontend.max-outstanding-requests-per-tenant=7']), name), 7, "the issue's spelling");
  t.equal(flagNumber(parseArgs(['-querier.max-outstanding-requests-per-tenant=9']), name), 9, "Mimir's spelling");
});

t.test("-query-frontend.max-outstanding-requests-per-tenant also bounds the query-scheduler's queue unless its own flag is given", async (t) => {
  const scheduler = 'query-scheduler.max-outstanding-requests-per-tenant';
  const issue = '-query-frontend.max-outstanding-requests-per-tenant';
  const both = (argv: string[]): [number, number] => {
    const v = parseArgs(argv);
    return [flagNumber(v, 'querier.max-outstanding-requests-per-tenant'), flagNumber(v, scheduler)];
  };
  t.same(both([`${issue}=7`]), [7, 7], "the issue's spelling sets both queues");
  t.same(both([`${issue}=7`, `${issue}=8`]), [8, 8], 'the last one wins');
  t.same(both([`${issue}=7`, `-${scheduler}=5`]), [7, 5], 'the scheduler flag given after it wins');
  t.same(both([`-${scheduler}=5`, `${issue}=7`]), [7, 5], 'and given before it');
  t.same(both(['-querier.max-outstanding-requests-per-tenant=9']), [9, 100], "Mimir's querier flag leaves the scheduler's default");
  const file = yamlFile('scheduler-queue.yaml', 'query_scheduler:\n  max_outstanding_requests_per_tenant: 100\n');
  t.same(both([`-config.file=${file}`, `${issue}=7`]), [7, 100], "the scheduler's field in the config file wins, even at its default value");
  const other = yamlFile('frontend-queue.yaml', 'frontend:\n  max_outstanding_per_tenant: 3\n');
  t.same(both([`-config.file=${other}`]), [3, 100], "the querier's config-file field is not the issue's spelling");
  t.same(both([`-config.file=${other}`, `${issue}=7`]), [7, 7]);
});

t.test('bad flags name themselves', async (t) => {
  const fails = (argv: string[], message: string | RegExp): void => {
    t.throws(() => parseArgs(argv), { name: 'ConfigError', message }, argv.join(' '));
  };
  fails(['-no.such-flag=1'], 'flag provided but not defined: -no.such-flag');
  fails(['-server.http-listen-port=abc'], 'invalid value "abc" for flag -server.http-listen-port: parse error');
  fails(['-server.http-listen-port=1.5'], 'invalid value "1.5" for flag -server.http-listen-port');
  fails(['-auth.multitenancy-enabled=yes'], 'invalid value "yes" for flag -auth.multitenancy-enabled');
  fails(['-validation.create-grace-period=10'], 'invalid value "10" for flag -validation.create-grace-period');
  fails(['-validation.past-grace-period=ten'], 'invalid value "ten" for flag -validation.past-grace-period');
  fails(['-distributor.ingestion-rate-limit=fast'], 'invalid value "fast" for flag -distributor.ingestion-rate-limit');
  fails(['-target=everything'], 'invalid value "everything" for flag -target');
  fails(['-target=all,everything'], 'invalid value "all,everything" for flag -target');
  t.equal(parseArgs(['-target=all,alertmanager']).get('target'), 'all,alertmanager', 'comma-separated targets, each a module');
  fails(['-log.level=loud'], 'invalid value "loud" for flag -log.level');
  fails(['-server.http-listen-port'], 'flag needs an argument: -server.http-listen-port');
  fails(['stray'], 'unexpected argument: stray');
  let help: unknown;
  try {
    parseArgs(['-help']);
  } catch (err) {
    help = err;
  }
  t.ok(help instanceof HelpRequested, '-help asks for usage');
});

t.test('durations', async (t) => {
  t.equal(parseDuration('10m'), 600_000);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('0s'), 0);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('1.5h'), 5_400_000);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('2d'), 172_800_000);
  t.throws(() => parseDuration('10'));
  t.throws(() => parseDuration('abc'));
  t.throws(() => parseDuration(''));
  t.equal(formatDuration(600_000), '10m');
  t.equal(formatDuration(5_400_000), '1h30m');
  t.equal(formatDuration(0), '0s');
  t.equal(formatDuration(120_000), '2m');
});

t.test('YAML file and flag precedence', async (t) => {
  const file = yamlFile(
    'ok.yaml',
    `target: all
multitenancy_enabled: false
server:
  http_listen_port: 9100
  log_level: warn
api:
  prometheus_http_prefix: /prom
distributor:
  max_recv_msg_size: 2048
limits:
  max_label_names_per_series: 40
  creation_grace_period: 5m
  ingestion_rate: 25000
blocks_storage:
  backend: s3
  s3:
    secret_access_key: hunter2
`,
  );
  const c = loadConfig(['-config.file', file, '-server.http-listen-port=9200']);
  t.equal(c.httpListenPort, 9200, 'flag overrides YAML');
  t.equal(c.multitenancyEnabled, false);
  t.equal(c.logLevel, 'warn');
  t.equal(c.prometheusHttpPrefix, '/prom');
  t.equal(c.maxRecvMsgSize, 2048);
  t.equal(c.limits.maxLabelNamesPerSeries, 40);
  t.equal(c.limits.creationGracePeriodMs, 300_000);
  t.equal(c.limits.ingestionRate, 25000);
  t.equal(c.blocksStorageBackend, 's3');
  // Flags after the YAML are applied regardless of their position.
  t.equal(loadConfig(['-server.http-listen-port=9300', `-config.file=${file}`]).httpListenPort, 9300);

  const yaml = renderConfigYaml(c.values, 'values');
  t.match(yaml, 'http_listen_port: 9200');
  t.match(yaml, 'creation_grace_period: 5m');
  t.match(yaml, new RegExp(`secret_access_key: ["']?${SECRET_MASK.replace(/\*/g, '\\*')}["']?\n`));
  t.notMatch(yaml, 'hunter2');
  const diff = renderConfigYaml(c.values, 'diff');
  t.match(diff, 'max_label_names_per_series: 40');
  t.notMatch(diff, 'max_label_value_length');
  const defaults = renderConfigYaml(c.values, 'defaults');
  t.match(defaults, 'http_listen_port: 8080');
  t.match(defaults, 'multitenancy_enabled: true');
  t.match(defaults, 'past_grace_period: 0s');
  t.equal(renderConfigYaml(loadConfig([]).values, 'diff'), '{}\n');
});

t.test('bad YAML names the key', async (t) => {
  const fails = (name: string, text: string, message: string | RegExp): void => {
    const file = yamlFile(name, text);
    t.throws(() => parseArgs([`-config.file=${file}`]), { name: 'ConfigError', message }, name);
  };
  fails('unknown.yaml', 'server:\n  http_listen_port: 1\n  no_such_field: 2\n', /line 3: field no_such_field not found in type server/);
  fails('unknown-top.yaml', 'bogus: 1\n', /field bogus not found in type config/);
  fails('badint.yaml', 'server:\n  http_listen_port: abc\n', /line 2: cannot unmarshal !!str `abc` into server.http_listen_port/);
  fails('baddur.yaml', 'limits:\n  creation_grace_period: soon\n', /creation_grace_period/);
  fails('badbool.yaml', 'multitenancy_enabled: maybe\n', /multitenancy_enabled/);
  fails('syntax.yaml', 'server: [\n', /error loading config from/);
  t.throws(() => parseArgs(['-config.file=/nonexistent/x.yaml']), ConfigError);
});

t.test('main exits non-zero naming the bad flag', async (t) => {
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  let r = spawnSync(process.execPath, [main, '-no.such-flag'], { encoding: 'utf8', timeout: 20_000 });
  t.not(r.status, 0);
  t.match(r.stderr, 'flag provided but not defined: -no.such-flag');
  r = spawnSync(process.execPath, [main, '-validation.max-length-label-name=big'], { encoding: 'utf8', timeout: 20_000 });
  t.not(r.status, 0);
  t.match(r.stderr, '-validation.max-length-label-name');
  const file = yamlFile('main-bad.yaml', 'limits:\n  max_label_names_per_series: 1\n  nope: true\n');
  r = spawnSync(process.execPath, [main, `-config.file=${file}`], { encoding: 'utf8', timeout: 20_000 });
  t.not(r.status, 0);
  t.match(r.stderr, 'field nope not found');
  r = spawnSync(process.execPath, [main, '-h'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0);
  t.match(r.stdout, '-server.http-listen-port');
});

t.test('every flag is defined once, under one YAML path', async (t) => {
  const names = FLAGS.map((f) => f.name);
  t.same(names.filter((n, i) => names.indexOf(n) !== i), [], 'no flag name twice');
  const yamls = FLAGS.flatMap((f) => (f.yaml === undefined ? [] : [f.yaml]));
  t.same(yamls.filter((y, i) => yamls.indexOf(y) !== i), [], 'no YAML path twice');
});

t.test('every flag a component reads by name exists, with its default from the flag table only', async (t) => {
  const root = fileURLToPath(new URL('../../../src/', import.meta.url));
  const names = new Map<string, string>();
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/flag(?:String|Number|Bool)\([^,()]+(?:\([^)]*\))?, '([^']+)'\)/g)) names.set(m[1]!, file);
  }
  t.ok(names.size > 40, `found the look-ups (${names.size})`);
  const known = new Set(FLAGS.map((f) => f.name));
  for (const [name, file] of names) t.ok(known.has(name), `-${name} (read in ${file}) is a flag`);
  const values = defaultConfig().values;
  t.equal(flagNumber(values, 'ingester.rate-update-period'), FLAGS.find((f) => f.name === 'ingester.rate-update-period')!.default, "a flag's default");
  t.throws(() => flagString(values, 'no.such-flag'), /config: no flag no.such-flag/, 'an unknown name throws');
});

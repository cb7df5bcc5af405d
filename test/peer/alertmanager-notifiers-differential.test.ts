// alertmanager-notifiers-differential.test.ts (peer suite): a real
// Alertmanager 0.35 and our integrations notify the same alert group through
// slack, pagerduty, opsgenie, discord, msteams, msteamsv2, webex, telegram,
// victorops, wechat, rocketchat, jira, mattermost, incidentio and sns, each pointed at a local sink;
// the request bodies (and the deterministic headers) must be identical. Our
// side renders its default templates (templates/default-tmpl.ts) with Go's
// own text/template and html/template (test/fixtures/gotmpl), so the check
// covers both the templates and the payload builders.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Logger } from '../../src/log.js';
import { integrationFor } from '../../src/alertmanager/notifiers/index.js';
import type { NotifyContext, TemplateData } from '../../src/alertmanager/notifiers/notifier.js';
import { DEFAULT_TEMPLATES } from '../../src/alertmanager/templates/default-tmpl.js';
import { makeExpander, templateEngineAvailable } from '../../src/alertmanager/templates.js';
import type { AlertmanagerConfig } from '../../src/alertmanager/config.js';
import { ALERTMANAGER, failIfMissing, peerBinary, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

/** GO builds the gotmpl helper (standard library only). */
const GO = peerBinary('go', 'GO_BIN', ['go', '/usr/local/go/bin/go'], 'the Go toolchain (golang on PATH)');
const HERE = dirname(fileURLToPath(import.meta.url));
const GOTMPL_SRC = [join(HERE, '../fixtures/gotmpl'), join(HERE, '../../../test/fixtures/gotmpl')].find((p) => existsSync(join(p, 'main.go')));

interface Got {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** answer is what each vendor API returns to a successful call. */
function answer(path: string): { type: string; body: string; status?: number } {
  if (path.includes('/sendMessage')) return { type: 'application/json', body: '{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":-100}}}' };
  if (path.includes('/gettoken')) return { type: 'application/json', body: '{"access_token":"AT","errcode":0}' };
  if (path.includes('/message/send')) return { type: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' };
  if (path.includes('chat.postMessage')) return { type: 'application/json', body: '{"success":true}' };
  if (path.includes('/search')) return { type: 'application/json', body: '{"issues":[]}' };
  if (path.endsWith('/issue')) return { type: 'application/json', body: '{"key":"OPS-1"}', status: 201 };
  if (path.startsWith('/sns')) return { type: 'text/xml', body: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m1</MessageId></PublishResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></PublishResponse>' };
  return { type: 'text/plain', body: 'ok' };
}

async function sink(): Promise<{ url: string; got: Got[]; close: () => void }> {
  const got: Got[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      got.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const a = answer(path);
      res.statusCode = a.status ?? 200;
      res.setHeader('Content-Type', a.type);
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, got, close: () => srv.close() };
}

/** receivers are the integrations under test, as YAML-able objects pointing at base. */
function receivers(base: string): Record<string, Array<Record<string, unknown>>> {
  return {
    slack_configs: [{ api_url: `${base}/slack`, channel: '#ops', send_resolved: true }],
    pagerduty_configs: [{ url: `${base}/pd`, routing_key: 'rk', severity: 'critical' }],
    opsgenie_configs: [{ api_url: `${base}/og/`, api_key: 'ogk', tags: 'a,b', details: { team: 'db' } }],
    discord_configs: [{ webhook_url: `${base}/discord` }],
    msteams_configs: [{ webhook_url: `${base}/teams` }],
    msteamsv2_configs: [{ webhook_url: `${base}/teams2` }],
    webex_configs: [{ api_url: `${base}/webex`, room_id: 'room1', http_config: { authorization: { credentials: 'wx' } } }],
    telegram_configs: [{ api_url: `${base}/tg`, bot_token: 'bt', chat_id: -100 }],
    victorops_configs: [{ api_url: `${base}/vo/`, api_key: 'vok', routing_key: 'ops' }],
    wechat_configs: [{ api_url: `${base}/wx/`, api_secret: 'sec', corp_id: 'corp', to_user: '@all' }],
    rocketchat_configs: [{ api_url: `${base}/rc`, token: 'rct', token_id: 'rcid', channel: '#ops' }],
    jira_configs: [{ api_url: `${base}/jira/rest/api/2`, project: 'OPS', issue_type: 'Bug', labels: ['am'] }],
    mattermost_configs: [
      {
        webhook_url: `${base}/mm`,
        channel: 'ops',
        priority: { priority: 'URGENT', requested_ack: true, persistent_notifications: true },
        props: { card: 'card {{ .Status }}' },
        fields: [{ title: 'severity', value: '{{ .CommonLabels.severity }}{{ .GroupLabels.alertname }}', short: true }],
      },
    ],
    incidentio_configs: [{ url: `${base}/iio`, alert_source_token: 'tok', max_alerts: 1, metadata: { team: '{{ .CommonLabels.job }}', env: 'prod' } }],
    sns_configs: [{ api_url: `${base}/sns/`, topic_arn: 'arn:aws:sns:eu-west-1:1:alerts', sigv4: { region: 'eu-west-1', access_key: 'AKID', secret_key: 'SECRET' }, attributes: { env: 'prod' } }],
  };
}

/** yaml renders plain data as YAML flow style (JSON is valid YAML). */
function configYaml(base: string): string {
  return JSON.stringify({
    route: { receiver: 'all', group_by: ['alertname'], group_wait: '100ms', group_interval: '1h', repeat_interval: '1h' },
    receivers: [{ name: 'all', ...receivers(base), webhook_configs: [{ url: `${base}/webhook` }] }],
  });
}

/** goExpander renders with Go's templates via the gotmpl helper. */
function goExpander(bin: string, defaultsFile: string): NotifyContext['expand'] {
  const run = (mode: string, tmpl: string, d: TemplateData): string => {
    const data = {
      Receiver: d.Receiver,
      Status: d.Status,
      Alerts: d.Alerts.map((a) => ({
        Status: a.Status,
        Labels: a.Labels.toObject(),
        Annotations: a.Annotations.toObject(),
        StartsAt: new Date(a.StartsAt.ms).toISOString(),
        EndsAt: new Date(a.EndsAt.ms).toISOString(),
        GeneratorURL: a.GeneratorURL,
        Fingerprint: a.Fingerprint,
      })),
      GroupLabels: d.GroupLabels.toObject(),
      CommonLabels: d.CommonLabels.toObject(),
      CommonAnnotations: d.CommonAnnotations.toObject(),
      ExternalURL: d.ExternalURL,
    };
    return execFileSync(bin, [defaultsFile], { input: JSON.stringify({ mode, tmpl, data }), encoding: 'utf8' });
  };
  return { text: (s, d) => run('text', s, d), html: (s, d) => run('html', s, d) };
}

const waitFor = async (cond: () => boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
};

t.test('integrations send what Alertmanager 0.35 sends', { skip: skipUnless(ALERTMANAGER, GO) }, async (t) => {
  if (failIfMissing(t, ALERTMANAGER, GO)) return;
  if (GOTMPL_SRC === undefined) throw new Error('test/fixtures/gotmpl not found');
  const dir = await makeTempDir('peer-am-notify-');
  const bin = join(dir, 'gotmpl');
  execFileSync(GO.path, ['build', '-o', bin, '.'], { cwd: GOTMPL_SRC, env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' }, stdio: 'pipe' });
  const defaultsFile = join(dir, 'default.tmpl');
  await writeFile(defaultsFile, DEFAULT_TEMPLATES);

  const theirs = await sink();
  t.teardown(() => theirs.close());
  const cfgFile = join(dir, 'am.yml');
  await writeFile(cfgFile, configYaml(theirs.url));
  const port = await freePort();
  const am = await startServer({
    name: 'alertmanager',
    command: ALERTMANAGER.path,
    args: [`--config.file=${cfgFile}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn', '--web.external-url=http://am.example:9093'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => am.stop());
  const start = new Date(Date.now() - 60_000).toISOString();
  const posted = [
    { labels: { alertname: 'DiskFull', instance: 'db1', severity: 'critical', job: 'node' }, annotations: { summary: 'disk <full> & "hot"', runbook: 'http://rb' }, startsAt: start, generatorURL: 'http://prom/graph?g0.expr=up' },
    { labels: { alertname: 'DiskFull', instance: 'db2', severity: 'warning', job: 'node' }, annotations: { summary: 'disk <full> & "hot"' }, startsAt: start },
  ];
  const res = await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(posted) });
  t.equal(res.status, 200);
  const expected = Object.keys(receivers('')).length;
  await waitFor(() => theirs.got.some((g) => g.path === '/webhook') && new Set(theirs.got.map((g) => g.path.split('/')[1])).size >= expected + 1, 15_000);
  const hook = theirs.got.find((g) => g.path === '/webhook');
  if (hook === undefined) throw new Error('Alertmanager sent no webhook');
  const payload = JSON.parse(hook.body) as {
    groupKey: string;
    receiver: string;
    externalURL: string;
    groupLabels: Record<string, string>;
    alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string }>;
  };

  // Our integrations, same group, same alerts, same configuration: once with
  // Go rendering our default templates, once with our own template engine.
  const expanders: Array<[string, NotifyContext['expand']]> = [['go templates', goExpander(bin, defaultsFile)]];
  if (templateEngineAvailable()) expanders.push(['our engine', makeExpander([], { templates: [] } as unknown as AlertmanagerConfig, payload.externalURL)]);
  else if (process.env['CI'] === 'true') t.fail('template engine (src/template) missing');
  const alerts = payload.alerts.map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: Date.parse(a.startsAt), endsAt: a.endsAt.startsWith('0001-') ? 0 : Date.parse(a.endsAt), generatorURL: a.generatorURL, updatedAt: 0, timeout: false }));
  const byPath = (gs: Got[]): Map<string, Got> => new Map(gs.filter((g) => g.path !== '/webhook').map((g) => [`${g.method} ${g.path}`, g]));
  const theirsBy = byPath(theirs.got);
  for (const [label, expand] of expanders) {
    const ours = await sink();
    t.teardown(ours.close);
    const ctx: NotifyContext = {
      tenant: 't',
      receiver: payload.receiver,
      groupKey: payload.groupKey,
      groupLabels: payload.groupLabels,
      externalURL: payload.externalURL,
      now: Date.now(),
      signal: new AbortController().signal,
      expand,
      logger: new Logger(),
      // Alertmanager's one notification of this group is its first.
      reason: 'first notification',
    };
    for (const [key, entries] of Object.entries(receivers(ours.url))) {
      const def = integrationFor(key);
      if (def === undefined) throw new Error(`${key} not registered`);
      const entry = entries[0] as Record<string, unknown>;
      t.equal(def.validate(entry, {}), undefined, `${key} valid`);
      await def.create(entry, { logger: new Logger(), checkUrl: () => undefined }).notify(ctx, alerts);
    }
    const oursBy = byPath(ours.got);
    t.same([...oursBy.keys()].sort(), [...theirsBy.keys()].sort(), `${label}: same requests (method and path)`);
    for (const [k, g] of theirsBy) {
      const o = oursBy.get(k);
      if (o === undefined) continue;
      if (k.includes('/sns')) {
        // Parameters one by one (clearer failures), then the body bytes: keys sorted and escaped as the Go SDK's query encoder.
        const tp = new URLSearchParams(g.body);
        const op = new URLSearchParams(o.body);
        for (const [name, v] of op) t.equal(tp.get(name), v, `${label}: ${k} ${name}`);
        t.equal(o.body, g.body, `${label}: ${k} body bytes`);
        t.match(o.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/sns\/aws4_request, SignedHeaders=[a-z;-]+, Signature=[0-9a-f]{64}$/);
        continue;
      }
      t.equal(o.body, g.body, `${label}: ${k} body`);
      for (const h of ['content-type', 'authorization', 'x-auth-token', 'x-user-id', 'user-agent']) {
        if (g.headers[h] !== undefined) t.equal(o.headers[h], g.headers[h], `${label}: ${k} ${h}`);
      }
    }
  }
});

// instance.test.ts checks the alert store of one tenant instance: a re-sent
// alert updates the one stored object (shared by the store, its groups and
// the inhibitor) without routing it again, a flush keeps a resolved alert
// that changed meanwhile, an alert whose group went away is routed again,
// and a configuration change re-routes every alert. Two replicas of a tenant
// merge each other's silences and notification log entries, and the second
// one's wait before notifying keeps the pair to one notification.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Test } from 'tap';
import { loadConfig } from './config.js';
import { TenantAlertmanager } from './instance.js';
import { testInstanceOptions } from './test-options.js';
import { fingerprintHex, type Alert } from './types.js';

const CONFIG = `route:
  receiver: r
  group_by: [alertname]
  group_wait: 1h
  group_interval: 1h
  routes:
    - matchers: ['team="web"']
      receiver: web
      continue: true
    - matchers: ['team=~"web|api"']
      receiver: api
receivers: [{name: r}, {name: web}, {name: api}]
`;

function instance(t: Test, config = CONFIG): TenantAlertmanager {
  const dir = mkdtempSync(join(tmpdir(), 'am-instance-'));
  const am = new TenantAlertmanager(testInstanceOptions(dir));
  am.applyConfig(loadConfig(config), []);
  t.teardown(() => {
    am.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return am;
}

const alert = (labels: Record<string, string>, summary: string, endsAt = 0): Alert => ({
  labels,
  annotations: { summary },
  startsAt: Date.now() - 1000,
  endsAt: endsAt === 0 ? Date.now() + 3_600_000 : endsAt,
  generatorURL: 'http://prom',
  updatedAt: Date.now(),
  timeout: false,
  version: 0,
  groups: undefined,
});

test('a re-sent alert updates the stored object in place, in every group holding it', async (t) => {
  const am = instance(t);
  const labels = { alertname: 'A', team: 'web' };
  am.putAlerts([alert(labels, 'one')]);
  const fp = fingerprintHex(labels);
  const stored = am.alerts.get(fp) as Alert;
  const groups = am.groups().filter((g) => g.alerts.has(fp));
  t.same(groups.map((g) => g.route.opts.receiver).sort(), ['api', 'web'], 'routed to both continue routes');
  t.equal(stored.version, 0);

  const resent = alert(labels, 'two');
  am.putAlerts([resent]);
  t.equal(am.alerts.size, 1);
  t.equal(am.alerts.get(fp), stored, 'the stored object stays');
  t.not(stored, resent);
  t.equal(stored.annotations.summary, 'two', 'new annotations');
  t.equal(stored.version, 1, 'the version counts the update');
  for (const g of groups) t.equal(g.alerts.get(fp), stored, `group ${g.route.opts.receiver} holds the same object`);
  t.equal(am.groups().length, 2, 'no new group');

  // Same annotations again: the stored map is kept, the posted one dropped.
  const annotations = stored.annotations;
  am.putAlerts([alert(labels, 'two')]);
  t.equal(stored.annotations, annotations, 'equal annotations keep the stored map');
  t.equal(stored.version, 2);
});

test('an alert whose group was dropped is routed again; a config change re-routes all', async (t) => {
  const am = instance(t);
  const labels = { alertname: 'B', team: 'api' };
  am.putAlerts([alert(labels, 'x')]);
  const fp = fingerprintHex(labels);
  const [g] = am.groups();
  t.ok(g !== undefined && g.alerts.has(fp));
  // The group empties (as after a flush of a resolved alert) and goes away.
  g!.alerts.delete(fp);
  g!.stop();
  am.putAlerts([alert(labels, 'y')]);
  const live = am.groups().filter((x) => !x.removed && x.alerts.has(fp));
  t.equal(live.length, 1, 'routed into a live group again');
  t.not(live[0], g, 'a new group');

  am.applyConfig(loadConfig(CONFIG.replace('group_by: [alertname]', 'group_by: [alertname, team]')), []);
  const regrouped = am.groups().filter((x) => x.alerts.has(fp));
  t.equal(regrouped.length, 1);
  t.same(regrouped[0]?.labels, { alertname: 'B', team: 'api' }, 'grouped by the new group_by');
  am.putAlerts([alert(labels, 'z')]);
  t.equal(am.groups().filter((x) => x.alerts.has(fp)).length, 1, 'a re-send after the change stays in the new group');
});

test('sibling routes with the same matchers keep their own groups (continue: true reaches both receivers)', async (t) => {
  const am = instance(
    t,
    `route:
  receiver: r
  group_by: [alertname]
  group_wait: 1h
  routes:
    - matchers: ['team="web"']
      receiver: first
      continue: true
    - matchers: ['team="web"']
      receiver: second
receivers: [{name: r}, {name: first}, {name: second}]
`,
  );
  const labels = { alertname: 'A', team: 'web' };
  am.putAlerts([alert(labels, 'one')]);
  const fp = fingerprintHex(labels);
  const groups = am.groups().filter((g) => g.alerts.has(fp));
  t.same(groups.map((g) => g.route.opts.receiver).sort(), ['first', 'second'], 'one group per route');
  t.equal(groups[0]!.key, groups[1]!.key, 'both groups have the same group key, as in Alertmanager (route key + labels)');
});

test('aggregation groups by several names, by all labels and by none; a removed group leaves no empty level behind', async (t) => {
  const am = instance(
    t,
    `route:
  receiver: r
  group_by: [alertname, cluster]
  group_wait: 1h
  group_interval: 1h
  routes:
    - matchers: ['kind="all"']
      group_by: ['...']
      receiver: r
    - matchers: ['kind="none"']
      group_by: []
      receiver: r
receivers: [{name: r}]
`,
  );
  am.putAlerts([
    alert({ alertname: 'A', cluster: 'c1', i: '1' }, 's'),
    alert({ alertname: 'A', cluster: 'c1', i: '2' }, 's'),
    alert({ alertname: 'A', cluster: 'c2', i: '3' }, 's'),
    alert({ alertname: 'A', i: '4' }, 's'),
    alert({ alertname: 'A', cluster: '', i: '5' }, 's'),
    alert({ alertname: 'B', cluster: 'c1', i: '6' }, 's'),
    alert({ kind: 'all', i: '7' }, 's'),
    alert({ kind: 'all', i: '8' }, 's'),
    alert({ kind: 'none', i: '9' }, 's'),
    alert({ kind: 'none', i: '10' }, 's'),
  ]);
  const summary = (): string[] =>
    am
      .groups()
      .map((g) => `${g.key} ${[...g.alerts.values()].map((a) => a.labels.i).sort().join(',')}`)
      .sort();
  t.same(summary(), [
    '{}/{kind="all"}:{i="7", kind="all"} 7',
    '{}/{kind="all"}:{i="8", kind="all"} 8',
    '{}/{kind="none"}:{} 10,9',
    '{}:{alertname="A", cluster="c1"} 1,2',
    '{}:{alertname="A", cluster="c2"} 3',
    '{}:{alertname="A"} 4,5',
    '{}:{alertname="B", cluster="c1"} 6',
  ]);
  // A missing cluster and an empty one share a group (both read as empty), as the first alert made it.
  t.equal(am.groups().filter((g) => g.labels.alertname === 'A' && (g.labels.cluster ?? '') === '').length, 1, 'one group for a missing and an empty value');
  const dispatcher = (am as unknown as { dispatcher: { removeGroup(g: unknown): void; groups: Map<unknown, Map<string, unknown>> } }).dispatcher;
  for (const g of am.groups()) if (g.labels.alertname === 'B' || g.labels.kind === 'all') dispatcher.removeGroup(g);
  t.same(
    summary().filter((s) => s.includes('"B"') || s.includes('"all"')),
    [],
    'removed groups are gone',
  );
  const levels = [...dispatcher.groups.values()].map((m) => JSON.stringify([...m.keys()].sort())).sort();
  t.same(levels, ['[""]', '["A"]', '[]'], 'the B level is pruned; the emptied ... level stays as the route entry');
  // An alert of a removed group is routed again into a new group.
  am.putAlerts([alert({ alertname: 'B', cluster: 'c1', i: '6' }, 's2')]);
  t.ok(summary().includes('{}:{alertname="B", cluster="c1"} 6'), 're-created');
});

/** replicaPair builds two instances of one tenant whose state changes reach each other (as over the internal API). */
function replicaPair(t: Test, config: string, delays: [number, number]): { a: TenantAlertmanager; b: TenantAlertmanager; sent: string[] } {
  const sent: string[] = [];
  const made: TenantAlertmanager[] = [];
  for (const i of [0, 1]) {
    const dir = mkdtempSync(join(tmpdir(), 'am-replica-'));
    const am = new TenantAlertmanager(
      testInstanceOptions(dir, {
        peers: {
          broadcast: (key, data) => {
            sent.push(`${i}:${key}`);
            made[1 - i]!.mergePartialState(key, data);
          },
          notifyDelayMs: () => delays[i]!,
        },
      }),
    );
    am.applyConfig(loadConfig(config), []);
    made.push(am);
    t.teardown(() => {
      am.stop();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return { a: made[0]!, b: made[1]!, sent };
}

test('replicas: silences written on one are merged by the other, without being sent back', async (t) => {
  const { a, b, sent } = replicaPair(t, CONFIG, [0, 0]);
  const id = a.silences.set({ matchers: [{ name: 'alertname', type: '=', value: 'A' }], startsAt: Date.now(), endsAt: Date.now() + 60_000, createdBy: 'me', comment: 'c' });
  t.same(b.silences.get(id), a.silences.get(id), 'the other replica holds the silence');
  t.same(sent, ['0:sil:t'], 'one broadcast, none back');
  b.silences.expire(id);
  t.ok((a.silences.get(id)?.endsAt ?? Infinity) <= Date.now(), 'the expiry on the other replica comes back');
  t.same(sent, ['0:sil:t', '1:sil:t']);
  t.throws(() => a.mergePartialState('sil:other', Buffer.alloc(0)), /unknown state key sil:other/, "another tenant's part is refused");
});

test("replicas: the second one waits its turn, reads the first one's notification log entry and does not notify again", async (t) => {
  const hits: string[] = [];
  const { createServer } = await import('node:http');
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url ?? '');
      res.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  t.teardown(() => sink.close());
  const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/hook`;
  const config = `route: {receiver: hook, group_by: [alertname], group_wait: 0s, group_interval: 1h}\nreceivers: [{name: hook, webhook_configs: [{url: '${url}'}]}]\n`;
  const { a, b, sent } = replicaPair(t, config, [0, 400]);
  const now = Date.now();
  b.putAlerts([alert({ alertname: 'X' }, 's')]);
  a.putAlerts([alert({ alertname: 'X' }, 's')]);
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(hits.length, 1, 'one notification from the pair');
  t.same(sent, ['0:nfl:t'], 'the first replica sent its notification log entry');
  const entry = b.nflog.records()[0]?.[1];
  t.ok(entry !== undefined && entry.timestamp >= now, 'the second replica holds the entry');
  // Without the wait, the second replica notifies too.
  const { a: a2, b: b2 } = replicaPair(t, config, [0, 0]);
  hits.length = 0;
  b2.putAlerts([alert({ alertname: 'Y' }, 's')]);
  a2.putAlerts([alert({ alertname: 'Y' }, 's')]);
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(hits.length, 2, 'both notify when neither waits');
});

test("a replica's wait longer than group_interval does not pile flushes up: they run one after another", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'am-wait-'));
  let waits = 0;
  const am = new TenantAlertmanager(
    testInstanceOptions(dir, {
      peers: {
        broadcast: () => undefined,
        notifyDelayMs: () => {
          waits++;
          return 300;
        },
      },
    }),
  );
  t.teardown(() => {
    am.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  am.applyConfig(loadConfig('route: {receiver: r, group_wait: 0s, group_interval: 50ms}\nreceivers: [{name: r}]\n'), []);
  am.putAlerts([alert({ alertname: 'W' }, 's')]);
  await new Promise((r) => setTimeout(r, 1000));
  // 1000 ms of 300 ms waits back to back: 3 or 4 flushes (20 if each 50 ms tick started its own).
  t.ok(waits >= 2 && waits <= 4, `flushes ran one after another (${waits})`);
});

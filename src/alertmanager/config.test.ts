import { test } from 'tap';
import { loadConfig } from './config.js';
import { groupLabels } from './dispatch.js';

const CFG = `
route:
  receiver: default
  group_by: [alertname]
  routes:
    - match: {team: db}
      receiver: db
      continue: true
      group_wait: 5s
    - match_re: {team: "db|web"}
      receiver: web
      group_by: ['...']
      routes:
        - matchers: ['severity="critical"']
          receiver: web-critical
          repeat_interval: 1m
receivers: [{name: default}, {name: db}, {name: web}, {name: web-critical}]
`;

test('routing tree: matching, continue, inheritance, keys', async (t) => {
  const cfg = loadConfig(CFG);
  const names = (ls: Record<string, string>): string[] => cfg.route.match(ls).map((r) => r.opts.receiver);
  t.same(names({ team: 'db' }), ['db', 'web'], 'continue goes on to the next sibling');
  t.same(names({ team: 'web', severity: 'critical' }), ['web-critical']);
  t.same(names({ team: 'web' }), ['web']);
  t.same(names({ team: 'ops' }), ['default']);
  const [db, web] = cfg.route.match({ team: 'db', severity: 'critical', alertname: 'X' });
  t.equal(db?.opts.groupWait, 5000);
  t.same(db?.opts.groupBy, ['alertname'], 'group_by is inherited');
  t.equal(web?.opts.receiver, 'web-critical');
  t.equal(web?.opts.repeatInterval, 60_000);
  t.equal(web?.opts.groupByAll, true, "group_by ['...'] is inherited by the child");
  t.same(groupLabels({ team: 'db', severity: 'critical', alertname: 'X' }, web!), { team: 'db', severity: 'critical', alertname: 'X' });
  t.equal(web?.key(), '{}/{team=~"db|web"}/{severity="critical"}');
  t.equal(db?.opts.groupInterval, 300_000, 'defaults');
  t.equal(cfg.resolveTimeout, 300_000);
});

test('config errors carry Alertmanager texts', async (t) => {
  const bad = (text: string, msg: string | RegExp): void => {
    t.throws(() => loadConfig(text), msg instanceof RegExp ? msg : { message: msg }, String(msg));
  };
  bad('route: {receiver: a, group_by: [a, "..."]}\nreceivers: [{name: a}]', 'cannot have wildcard group_by (`...`) and other labels at the same time');
  bad('route: {receiver: a, group_interval: 0s}\nreceivers: [{name: a}]', 'group_interval cannot be zero');
  bad('route: {receiver: a, continue: true}\nreceivers: [{name: a}]', 'cannot have continue in root route');
  bad('route: {receiver: a, matchers: [x=y]}\nreceivers: [{name: a}]', 'root route must not have any matchers');
  bad('route: {receiver: a}\nreceivers: [{name: a}]\nbogus: 1', /field bogus not found/);
  bad('route: {receiver: a}\nreceivers: [{}]', 'missing name in receiver');
  bad('route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals: [{name: t, time_intervals: [{weekdays: [funday]}]}]', 'funday is not a valid weekday');
  bad('route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: "10:00", end_time: "09:00"}]}]}]', 'start time cannot be equal or greater than end time');
});

test('the routing cache answers as match for every combination of the labels the tree reads', async (t) => {
  const cfg = loadConfig(CFG);
  const values = [undefined, 'db', 'web', 'ops', 'critical', 'd'];
  let n = 0;
  for (const team of values) {
    for (const severity of values) {
      const ls: Record<string, string> = { alertname: `a${n++}` };
      if (team !== undefined) ls['team'] = team;
      if (severity !== undefined) ls['severity'] = severity;
      const want = cfg.route.match(ls).map((r) => r.id());
      t.same(cfg.route.matchCached(ls).map((r) => r.id()), want, JSON.stringify(ls));
      t.same(cfg.route.matchCached({ ...ls, other: 'x' }).map((r) => r.id()), want, 'labels no matcher reads do not change the answer');
    }
  }
  // A label absent and a label with a value spelt like the absent marker stay apart.
  t.same(cfg.route.matchCached({ team: '-' }).map((r) => r.opts.receiver), ['default']);
});

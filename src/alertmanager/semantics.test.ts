// semantics.test.ts checks silences, the notification log's dedup rule, the
// inhibitor and time intervals against Alertmanager 0.35's rules.

import { test } from 'tap';
import { Inhibitor } from './inhibit.js';
import { parseMatchers } from './matchers.js';
import { needsUpdate, notifyReason } from './nflog.js';
import { Silences } from './silences.js';
import { containsTime, parseTimeInterval } from './timeinterval.js';
import type { Alert } from './types.js';

test('silences: update in place or replace, expire, mute', async (t) => {
  let now = 1_000_000;
  const s = new Silences({ retentionMs: 10_000, now: () => now });
  const base = { matchers: parseMatchers('job="api"'), startsAt: now - 1000, endsAt: now + 60_000, createdBy: 'a', comment: 'c' };
  const id = s.set(base);
  t.equal(s.get(id)?.startsAt, now, 'a start in the past becomes now');
  t.same(s.mutedBy({ job: 'api' }), [id]);
  t.same(s.mutedBy({ job: 'web' }), []);
  t.equal(s.set({ ...base, id, startsAt: now, comment: 'changed' }), id, 'comment change: same ID');
  const id2 = s.set({ ...base, id, matchers: parseMatchers('job="web"') });
  t.not(id2, id, 'matcher change: new ID');
  t.equal(s.get(id)?.endsAt, now, 'the old one is expired');
  t.throws(() => s.set({ ...base, id: '00000000-0000-0000-0000-000000000000' }), { message: 'silence not found' });
  t.throws(() => s.set({ ...base, matchers: parseMatchers('job=~".*"') }), { message: 'invalid silence: matcher set 0: at least one matcher must not match the empty string' });
  // A pending silence expires with start = end = now.
  const pending = s.set({ ...base, startsAt: now + 10_000 });
  s.expire(pending);
  t.equal(s.get(pending)?.startsAt, now);
  t.equal(s.get(pending)?.endsAt, now);
  t.throws(() => s.expire('nope'), { message: 'silence not found' });
  // Persistence round trip.
  const copy = new Silences({ retentionMs: 10_000, now: () => now });
  copy.load(s.snapshot());
  t.same(copy.mutedBy({ job: 'web' }), [id2]);
  now += 100_000;
  t.same(s.mutedBy({ job: 'web' }), [], 'expired silences mute nothing');
  t.equal(s.gc(), 3, 'retention drops old expired silences');
});

test('notification log: the dedup rule', async (t) => {
  const set = (...x: string[]): Set<string> => new Set(x);
  t.ok(needsUpdate(undefined, set('a'), set(), true, 1000, 0));
  t.notOk(needsUpdate(undefined, set(), set('a'), true, 1000, 0), 'only resolved and never notified: nothing');
  const entry = { firing: ['a'], resolved: [], timestamp: 100, expiresAt: 1e9 };
  t.notOk(needsUpdate(entry, set('a'), set(), true, 1000, 500), 'same firing set before repeat_interval');
  t.ok(needsUpdate(entry, set('a'), set(), true, 1000, 1200), 'repeat_interval passed');
  t.ok(needsUpdate(entry, set('a', 'b'), set(), true, 1000, 500), 'new firing alert');
  t.notOk(needsUpdate(entry, set('a'), set('b'), false, 1000, 500), 'newly resolved without send_resolved');
  t.ok(needsUpdate(entry, set('a'), set('b'), true, 1000, 500), 'newly resolved with send_resolved');
  t.ok(needsUpdate(entry, set(), set('a'), false, 1000, 500), 'all resolved: always, to clear the log');
  t.notOk(needsUpdate({ ...entry, firing: [] }, set(), set('a'), true, 1000, 500));
  // The reasons 0.35 puts in notification_reason.
  t.equal(notifyReason(undefined, set('a'), set(), true, 1000, 0), 'first notification');
  t.equal(notifyReason({ ...entry, firing: [] }, set('a'), set(), true, 1000, 500), 'first notification', 'after a resolution');
  t.equal(notifyReason(entry, set('a', 'b'), set(), true, 1000, 500), 'new alerts added');
  t.equal(notifyReason(entry, set(), set('a'), false, 1000, 500), 'all alerts resolved');
  t.equal(notifyReason(entry, set('a'), set('b'), true, 1000, 500), 'some alerts resolved');
  t.equal(notifyReason(entry, set('a'), set(), true, 1000, 1200), 'repeat interval elapsed');
  t.equal(notifyReason(entry, set('a'), set(), true, 1000, 500), 'none');
});

test('inhibitor: equal labels, resolved sources, two-sided rules', async (t) => {
  const alert = (labels: Record<string, string>, endsAt = 0): Alert => ({ labels, annotations: {}, startsAt: 1, endsAt, generatorURL: '', updatedAt: 1, timeout: false });
  const inh = new Inhibitor([{ sourceMatchers: parseMatchers('severity="critical"'), targetMatchers: parseMatchers('severity=~"warning|critical"'), equal: ['cluster'] }]);
  inh.observe('s1', alert({ alertname: 'Down', severity: 'critical', cluster: 'eu' }));
  t.equal(inh.inhibitedBy({ alertname: 'Slow', severity: 'warning', cluster: 'eu' }, 10), 's1');
  t.equal(inh.inhibitedBy({ alertname: 'Slow', severity: 'warning', cluster: 'us' }, 10), undefined, 'equal labels differ');
  t.equal(inh.inhibitedBy({ alertname: 'Other', severity: 'critical', cluster: 'eu' }, 10), undefined, 'an alert matching both sides is not inhibited by another such alert');
  inh.observe('s1', alert({ alertname: 'Down', severity: 'critical', cluster: 'eu' }, 5));
  t.equal(inh.inhibitedBy({ alertname: 'Slow', severity: 'warning', cluster: 'eu' }, 10), undefined, 'a resolved source inhibits nothing');
});

test('time intervals in a time zone', async (t) => {
  const ti = parseTimeInterval({ times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'], location: 'Europe/Berlin' });
  t.ok(containsTime(ti, Date.parse('2026-12-07T08:30:00Z')), 'Monday 09:30 in Berlin');
  t.notOk(containsTime(ti, Date.parse('2026-12-07T07:30:00Z')), 'Monday 08:30 in Berlin');
  t.notOk(containsTime(ti, Date.parse('2026-12-05T10:00:00Z')), 'Saturday');
  const last = parseTimeInterval({ days_of_month: ['-1'], months: ['february'], years: ['2028'] });
  t.ok(containsTime(last, Date.parse('2028-02-29T12:00:00Z')), 'the last day of a leap February');
  t.notOk(containsTime(last, Date.parse('2028-02-28T12:00:00Z')));
});

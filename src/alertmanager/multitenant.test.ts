// multitenant.test.ts checks the multi-tenant manager sharded over a ring
// (a stand-in for the alertmanager ring that says who owns what): it runs
// only the tenants it owns, a starting tenant's state comes from the other
// replicas when they answer and from the bucket otherwise, a ring change
// starts the tenants that moved here and stops (after persisting) those that
// moved away, and only a tenant's first replica writes its state to the bucket.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { Logger } from '../log.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { MultitenantAlertmanager } from './multitenant.js';
import type { AlertmanagerRing } from './replication.js';
import { encodeFullState, encodeSilences, decodeTenantState } from './state.js';
import { AlertStore } from './store.js';
import type { Silence } from './silences.js';

const CONFIG = 'route: {receiver: r}\nreceivers: [{name: r}]\n';

function silence(id: string): Silence {
  const now = Date.now();
  return { id, matchers: [{ name: 'alertname', type: '=', value: id }], startsAt: now, endsAt: now + 3_600_000, updatedAt: now, createdBy: 'test', comment: '' };
}

function stateWith(user: string, id: string): Buffer {
  return encodeFullState(user, Buffer.alloc(0), encodeSilences([silence(id)], 3_600_000));
}

t.test('a sharded manager runs the tenants it owns, settles their state, follows ring changes and persists only as first replica', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'am-multitenant-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new AlertStore(new FilesystemBucket(join(dir, 'bucket')));
  for (const u of ['a', 'b', 'c']) await store.set({ user: u, rawConfig: CONFIG, templates: [] });
  await store.setState('a', stateWith('a', 'from-bucket-a'));
  await store.setState('b', stateWith('b', 'from-bucket-b'));

  let owned = new Set(['a', 'b']);
  const positions: Record<string, number> = { a: 0, b: 0, c: 1 };
  const replicated: string[] = [];
  const shard = {
    owns: (u: string) => owned.has(u),
    position: (u: string) => positions[u] ?? 0,
    replicate: (u: string, key: string) => {
      replicated.push(`${u}:${key}`);
      return Promise.resolve(u !== 'b');
    },
    // Tenant a's other replicas answer; nobody has b's or c's.
    readFullState: (u: string) => Promise.resolve(u === 'a' ? [stateWith('a', 'from-replica-a')] : undefined),
  } as unknown as AlertmanagerRing;

  const registry = new Registry();
  const m = new MultitenantAlertmanager(
    {
      storagePath: join(dir, 'local'),
      retentionMs: 3_600_000,
      externalURL: 'http://am',
      pollIntervalMs: 3_600_000,
      persistIntervalMs: 3_600_000,
      fallbackConfigFile: '',
      maxConfigSizeBytes: 0,
      maxTemplatesCount: 0,
      maxTemplateSizeBytes: 0,
      checkUrl: () => undefined,
      instanceName: 'self',
      address: '127.0.0.1:0',
      peerTimeoutMs: 15_000,
    },
    store,
    new Logger(),
    registry,
  );
  m.shardWith(shard);
  await m.start();
  t.teardown(() => m.stop());
  t.same(m.tenants(), ['a', 'b'], 'only the owned tenants run');
  t.same(
    m
      .runningInstance('a')
      ?.silences.all()
      .map((s) => s.id),
    ['from-replica-a'],
    "a's state comes from its replicas (the bucket is not read)",
  );
  t.same(
    m
      .runningInstance('b')
      ?.silences.all()
      .map((s) => s.id),
    ['from-bucket-b'],
    "b's replicas have none: the bucket's",
  );

  // Changes are sent to the other replicas.
  m.runningInstance('b')!.silences.set({ matchers: [{ name: 'x', type: '=', value: 'y' }], startsAt: Date.now(), endsAt: Date.now() + 60_000, createdBy: 'me', comment: '' });
  t.same(replicated, ['b:sil:b']);
  await new Promise((r) => setImmediate(r));
  const metric = async (name: string): Promise<Record<string, number>> =>
    Object.fromEntries(((await registry.getSingleMetric(name)?.get())?.values ?? []).map((v) => [JSON.stringify(v.labels), v.value]));
  t.same(await metric('cortex_alertmanager_state_replication_total'), { '{"user":"b"}': 1 }, 'replication counted');
  t.same(await metric('cortex_alertmanager_state_replication_failed_total'), { '{"user":"b"}': 1 }, 'a replica that did not take it counted');
  t.same(
    await metric('cortex_alertmanager_state_initial_sync_completed_total'),
    { '{"outcome":"from-replica"}': 1, '{"outcome":"from-storage"}': 1, '{"outcome":"user-not-found"}': 0, '{"outcome":"failed"}': 0 },
    'initial syncs by outcome',
  );
  t.equal(m.mergePartialState('c', 'sil:c', Buffer.alloc(0)), false, 'a tenant not running here takes no state');

  // The ring changes: a moves away (its state is written to the bucket first), c moves here.
  m.runningInstance('a')!.silences.set({ matchers: [{ name: 'x', type: '=', value: 'z' }], startsAt: Date.now(), endsAt: Date.now() + 60_000, createdBy: 'me', comment: '' });
  owned = new Set(['b', 'c']);
  m.ownershipChanged();
  await m.sync();
  t.same(m.tenants(), ['b', 'c'], 'the running tenants follow the ring');
  t.equal((await metric('cortex_alertmanager_state_initial_sync_completed_total'))['{"outcome":"user-not-found"}'], 1, 'c had no state anywhere');
  t.same(await metric('cortex_alertmanager_sync_configs_total'), { '{"reason":"initial"}': 1, '{"reason":"ring-change"}': 1, '{"reason":"periodic"}': 1 }, 'syncs by reason');
  const aState = decodeTenantState((await store.getState('a'))!, 'a');
  t.equal(aState.silences.length, 2, "a's state, with the change made here, was persisted when it moved away");

  // Stopping persists: b (first replica) writes its changed state, c (second) does not.
  m.runningInstance('c')!.silences.set({ matchers: [{ name: 'x', type: '=', value: 'c' }], startsAt: Date.now(), endsAt: Date.now() + 60_000, createdBy: 'me', comment: '' });
  await m.stop();
  t.equal(decodeTenantState((await store.getState('b'))!, 'b').silences.length, 2, 'the first replica persisted b');
  t.equal(await store.getState('c'), undefined, 'the second replica of c did not');
});

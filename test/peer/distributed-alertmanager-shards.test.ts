// distributed-alertmanager-shards.test.ts (peer suite): three -target=alertmanager
// processes on the alertmanager ring in etcd at replication factor 2. Each
// runs exactly the tenants whose replica set it is in: the two instances
// clockwise from FNV-1a 32 of the tenant id on the ring the ring page
// answers (computed here from its JSON), and any of the three answers every
// tenant's API (an alert posted to one that does not run the tenant is held
// by the two that do, and read back through the third).

import t from 'tap';
import { join } from 'node:path';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { startAlertmanagers, startCluster, waitFor, type Component } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';

const TENANTS = ['shard-a', 'shard-b', 'shard-c', 'shard-d', 'shard-e', 'shard-f', 'shard-g', 'shard-h'];
const CONFIG = 'route: {receiver: r, group_wait: 1h}\nreceivers: [{name: r}]\n';

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

interface Shard {
  id: string;
  state: string;
  tokens: number[];
}

/** replicasOf walks the ring clockwise from the tenant's token: the first two distinct instances. */
function replicasOf(tenant: string, shards: Shard[]): string[] {
  const all = shards.flatMap((s) => s.tokens.map((tok): [number, string] => [tok, s.id])).sort((a, b) => a[0] - b[0]);
  const key = fnv1a32(tenant);
  let i = all.findIndex(([tok]) => tok > key);
  if (i < 0) i = 0;
  const out: string[] = [];
  for (let k = 0; out.length < 2 && k < all.length; k++) {
    const id = all[(i + k) % all.length]![1];
    if (!out.includes(id)) out.push(id);
  }
  return out.sort();
}

async function runningTenants(c: Component): Promise<string[]> {
  const page = await (await fetch(`http://127.0.0.1:${c.port}/multitenant_alertmanager/status`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...page.matchAll(/<tr><td>([^<]+)<\/td><\/tr>/g)].map((m) => m[1]!).sort();
}

t.test('alertmanagers at replication factor 2 run exactly the tenants they own; any answers every tenant', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const root = await makeTempDir('dist-am-shards-');
  const ams = await startAlertmanagers(3, etcd.endpoint, join(root, 'bucket'), root, 2);
  started.push(...ams);
  let shards: Shard[] = [];
  t.ok(
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${ams[0]!.port}/multitenant_alertmanager/ring`, { headers: { Accept: 'application/json' } });
      shards = ((await res.json()) as { shards: Shard[] }).shards;
      return shards.length === 3 && shards.every((s) => s.state === 'ACTIVE');
    }, 20_000),
    'three ACTIVE alertmanagers in the ring',
  );
  for (const tenant of TENANTS) {
    const res = await fetch(`http://127.0.0.1:${ams[0]!.port}/api/v1/alerts`, { method: 'POST', headers: { 'X-Scope-OrgID': tenant }, body: JSON.stringify({ alertmanager_config: CONFIG }) });
    t.equal(res.status, 201, `${tenant}'s configuration stored`);
  }

  const owners = new Map(TENANTS.map((tenant) => [tenant, replicasOf(tenant, shards)]));
  let total = 0;
  for (const c of ams) {
    const want = TENANTS.filter((tenant) => owners.get(tenant)!.includes(c.name)).sort();
    let got: string[] = [];
    t.ok(
      await waitFor(async () => {
        got = await runningTenants(c);
        return JSON.stringify(got) === JSON.stringify(want);
      }, 20_000),
      `${c.name} runs exactly its tenants (${want.join(', ')}; got ${got.join(', ')})`,
    );
    total += got.length;
  }
  t.equal(total, 2 * TENANTS.length, 'each tenant runs twice in all, not three times');

  // Through an alertmanager that does not run the tenant: the post reaches its replicas, the read merges theirs.
  for (const tenant of TENANTS) {
    const others = ams.filter((c) => !owners.get(tenant)!.includes(c.name));
    t.equal(others.length, 1);
    const via = others[0]!;
    const headers = { 'X-Scope-OrgID': tenant, 'Content-Type': 'application/json' };
    const post = await fetch(`http://127.0.0.1:${via.port}/alertmanager/api/v2/alerts`, { method: 'POST', headers, body: JSON.stringify([{ labels: { alertname: `for-${tenant}` } }]) });
    t.equal(post.status, 200, `${tenant}: posted through ${via.name}, which does not run it`);
    for (const c of ams) {
      const got = (await (await fetch(`http://127.0.0.1:${c.port}/alertmanager/api/v2/alerts`, { headers })).json()) as Array<{ labels: Record<string, string> }>;
      t.same(
        got.map((a) => a.labels.alertname),
        [`for-${tenant}`],
        `${tenant}: read back through ${c.name}`,
      );
    }
  }
});

// http.test.ts checks the ring pages of a single process (rings in memory,
// this process the only member): HTML and JSON as dskit renders them, the
// Forget button, /memberlist and the ingester's downscale preparation.

import t from 'tap';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

interface Shard {
  id: string;
  state: string;
  address: string;
  timestamp: string;
  registered_timestamp: string;
  read_only: boolean;
  read_only_updated_timestamp: string;
  zone: string;
  tokens: number[];
}

t.test('ring pages of a single process', async (t) => {
  const srv = await startTestServer({ 'ingester.ring.instance-id': 'ing-1', 'ingester.ring.instance-addr': '10.1.2.3', 'ingester.ring.instance-availability-zone': 'zone-a', 'ingester.ring.num-tokens': 16 });
  t.teardown(() => srv.close());
  const json = async (path: string): Promise<{ shards: Shard[]; now: string }> => jsonOf(await httpRequest(srv.port, path, { headers: { Accept: 'application/json' } }));

  const ing = await json('/ingester/ring');
  t.equal(ing.shards.length, 1);
  const s = ing.shards[0]!;
  t.same([s.id, s.state, s.address, s.zone, s.tokens.length, s.read_only], ['ing-1', 'ACTIVE', '10.1.2.3:9095', 'zone-a', 16, false]);
  t.match(s.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'Go time JSON, whole seconds');
  t.equal(s.read_only_updated_timestamp, '0001-01-01T00:00:00Z', 'never read-only: the zero time');
  t.match(ing.now, /^\d{4}-\d\d-\d\dT/);
  t.same(Object.keys(s), ['id', 'state', 'address', 'timestamp', 'registered_timestamp', 'read_only', 'read_only_updated_timestamp', 'zone', 'tokens']);
  t.same((await json('/ring')).shards, ing.shards, 'the legacy /ring shows the ingester ring');

  // Every ring page of the monolithic process, with this process as its member.
  for (const path of ['/distributor/ring', '/store-gateway/ring', '/compactor/ring', '/ruler/ring', '/ruler_ring', '/multitenant_alertmanager/ring', '/query-scheduler/ring']) {
    const page = await json(path);
    t.equal(page.shards.length, 1, `${path} has one member`);
    t.equal(page.shards[0]!.state, 'ACTIVE', `${path} member is ACTIVE`);
  }
  t.equal((await json('/store-gateway/ring')).shards[0]!.tokens.length, 512, 'store-gateway default num-tokens');
  t.equal((await json('/distributor/ring')).shards[0]!.tokens.length, 1, 'the distributor ring is members only');

  const html = await httpRequest(srv.port, '/ingester/ring');
  t.equal(html.status, 200);
  t.match(html.headers['content-type'], /^text\/html/);
  t.match(html.body, /<title>Ring Status<\/title>/);
  t.match(html.body, /<td>ing-1<\/td>\n<td>zone-a<\/td>\n<td>ACTIVE<\/td>\n<td>10\.1\.2\.3:9095<\/td>/);
  t.match(html.body, /<td>16<\/td>\n<td>100%<\/td>/, 'tokens and ownership (%.3g)');
  t.match(html.body, /<button name="forget" value="ing-1" type="submit">Forget<\/button>/);
  t.match(html.body, /\d+s ago \(\d\d:\d\d:\d\d/);
  t.notMatch(html.body, /Tokens:<br\/>/, 'tokens hidden by default');
  const withTokens = await httpRequest(srv.port, '/ingester/ring?tokens=true');
  t.match(withTokens.body, /<h2>Instance: ing-1<\/h2>/);
  t.equal((withTokens.body.match(/Tokens:<br\/>\n([\d\n]+)<\/p>/)?.[1] ?? '').trim().split('\n').length, 16, 'the 16 tokens are listed');
  t.notMatch((await httpRequest(srv.port, '/distributor/ring')).body, /<th>Tokens<\/th>/, 'no token columns for a members-only ring');

  // Downscale preparation: read-only in the ring.
  const dsPath = '/ingester/prepare-instance-ring-downscale';
  t.same(jsonOf(await httpRequest(srv.port, dsPath)), { timestamp: 0 });
  const post = jsonOf<{ timestamp: number }>(await httpRequest(srv.port, dsPath, { method: 'POST' }));
  t.ok(post.timestamp >= Math.floor(Date.now() / 1000) - 5, 'POST answers when it went read-only');
  t.same(jsonOf(await httpRequest(srv.port, dsPath)), post, 'GET answers the same timestamp');
  t.same(jsonOf(await httpRequest(srv.port, dsPath, { method: 'POST' })), post, 'a second POST keeps the timestamp');
  t.equal((await json('/ingester/ring')).shards[0]!.read_only, true, 'the ring shows it read-only');
  t.match((await httpRequest(srv.port, '/ingester/ring')).body, /<td>true<\/td>\n<td>\d+s ago/);
  t.same(jsonOf(await httpRequest(srv.port, dsPath, { method: 'DELETE' })), { timestamp: 0 });
  t.equal((await json('/ingester/ring')).shards[0]!.read_only, false);
  const part = await httpRequest(srv.port, '/ingester/prepare-partition-downscale', { method: 'POST' });
  t.equal(part.status, 405, 'no ingest storage: partition downscale fails as Mimir');
  t.equal(part.headers['x-unmatched-route'], undefined, 'answered by the handler');

  // /memberlist: the in-memory store with this process.
  const ml = await httpRequest(srv.port, '/memberlist');
  t.equal(ml.status, 200);
  t.match(ml.body, /<title>Memberlist Status<\/title>/);
  t.match(ml.body, /collectors\/ring/);
  t.same(jsonOf<{ store: string }>(await httpRequest(srv.port, '/memberlist', { headers: { Accept: 'application/json' } })).store, 'inmemory');

  // Forget removes the member: 302 to "#".
  const forget = await httpRequest(srv.port, '/compactor/ring', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'forget=' + encodeURIComponent((await json('/compactor/ring')).shards[0]!.id) });
  t.equal(forget.status, 302);
  t.equal(forget.headers['location'], '#');
  t.same((await json('/compactor/ring')).shards, [], 'forgotten');

  // /ingester/shutdown takes the ingester out of the ring (it unregisters by default).
  const down = await httpRequest(srv.port, '/ingester/shutdown', { method: 'POST' });
  t.equal(down.status, 204);
  let gone = false;
  for (let i = 0; i < 40 && !gone; i++) {
    gone = (await json('/ingester/ring')).shards.length === 0;
    if (!gone) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(gone, 'the shut-down ingester left the ring');
});

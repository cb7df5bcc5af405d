// memcache.test.ts runs the memcached client against a real memcached
// (Debian `memcached` found on PATH or through MEMCACHED_BIN, started on
// loopback on a free port), and the results cache on it end to end. Under
// CI a missing memcached fails the tests instead of skipping them.

import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { failIfMissing, skipUnless } from '../../test/peer/lib/binary.js';
import { MEMCACHED, startMemcached } from '../../test/peer/lib/memcached.js';
import { MemcachedClient } from './memcache.js';

t.test('memcached client', { skip: skipUnless(MEMCACHED) }, async (t) => {
  if (failIfMissing(t, MEMCACHED)) return;
  const { proc, address } = await startMemcached();
  t.teardown(() => {
    proc.kill('SIGKILL');
  });
  const client = new MemcachedClient({ addresses: [address], timeoutMs: 1000, maxIdleConnections: 2, maxItemSize: 1 << 20 });
  t.teardown(() => client.close());

  t.equal(await client.get('absent'), undefined, 'a miss');
  // Binary-safe: CRLF, "END" and NUL bytes inside the value.
  const value = Buffer.concat([Buffer.from('x\r\nEND\r\n'), Buffer.from([0, 255, 13, 10]), Buffer.alloc(70_000, 7)]);
  t.equal(await client.setRaw('k1', value, 60_000, 5), 'STORED');
  const got = await client.getRaw('k1');
  t.ok(got !== undefined && got.value.equals(value), 'the value round-trips');
  t.equal(got?.flags, 5);
  const withCas = await client.gets('k1');
  t.match(withCas?.cas, /^\d+$/, 'gets returns the CAS unique');
  // Many operations at once over the small pool.
  await Promise.all(Array.from({ length: 30 }, (_, i) => client.set(`n${i}`, Buffer.from(String(i)), 60_000)));
  const all = await Promise.all(Array.from({ length: 30 }, (_, i) => client.get(`n${i}`)));
  t.same(
    all.map((b) => b?.toString()),
    Array.from({ length: 30 }, (_, i) => String(i)),
  );
  // Values over the item size are not sent.
  const small = new MemcachedClient({ addresses: [address], timeoutMs: 1000, maxIdleConnections: 1, maxItemSize: 10 });
  await small.set('big', Buffer.alloc(11), 60_000);
  t.equal(await small.get('big'), undefined);
  await small.close();
  t.rejects(client.getRaw('has space'), /invalid memcached key/);
});

t.test('a server that does not answer is a miss within the timeout', async (t) => {
  const sockets: Array<import('node:net').Socket> = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const client = new MemcachedClient({ addresses: [`127.0.0.1:${(silent.address() as AddressInfo).port}`], timeoutMs: 150, maxIdleConnections: 2, maxItemSize: 1 << 20 });
  const began = Date.now();
  t.equal(await client.get('k'), undefined);
  const took = Date.now() - began;
  t.ok(took >= 140 && took < 2000, `timed out after ${took}ms`);
  await client.set('k', Buffer.from('v'), 1000);
  await client.close();
});

t.test('the results cache on memcached serves a repeated query', { skip: skipUnless(MEMCACHED) }, async (t) => {
  if (failIfMissing(t, MEMCACHED)) return;
  const { proc, address } = await startMemcached();
  t.teardown(() => {
    proc.kill('SIGKILL');
  });
  const { ResultsCache } = await import('./results-cache.js');
  const { QueryFrontend, bodyText } = await import('./frontend.js');
  const client = new MemcachedClient({ addresses: [address], timeoutMs: 1000, maxIdleConnections: 4, maxItemSize: 1 << 20 });
  t.teardown(() => client.close());
  const calls: number[][] = [];
  const inner = {
    // A fake querier: one series whose value is the step's time.
    run: async (task: { startMs: number; endMs: number; stepMs: number }) => {
      calls.push([task.startMs, task.endMs]);
      const pts: string[] = [];
      for (let s = task.startMs; s <= task.endMs; s += task.stepMs) pts.push(`[${s / 1000},"${s}"]`);
      return new Uint8Array(Buffer.from(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[${pts.join(',')}]}]}}`));
    },
    close: async () => {},
  };
  const H = 3_600_000;
  const fe = new QueryFrontend(inner as never, { splitIntervalMs: H, alignWithStep: false, resultsCache: new ResultsCache({ cache: client, splitIntervalMs: H, now: () => 10 * H }) });
  const task = { tenant: 'x', query: 'up', kind: 'range' as const, startMs: 0, endMs: 2 * H, stepMs: 600_000, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 1e6, deadline: Date.now() + 10_000 };
  const first = await fe.run(task, new AbortController().signal);
  t.equal(calls.length, 3);
  const second = await fe.run(task, new AbortController().signal);
  t.equal(calls.length, 3, 'served from memcached');
  t.equal(bodyText(second as Uint8Array), bodyText(first as Uint8Array));
  t.equal((JSON.parse(bodyText(second as Uint8Array)) as { data: { result: Array<{ values: unknown[] }> } }).data.result[0]!.values.length, 13);
});

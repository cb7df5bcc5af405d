// push.test.ts checks the push path shared by the executors: the snappy
// header decides corrupt and oversize bodies before any decoding, and the
// native-thread path (decodeAndIngestAsync) answers as the synchronous one,
// for both protocols, on the real native storage.

import t from 'tap';
import snappy from '@napi-rs/snappy';
import { loadNative, nativeStorage, type Appender, type IngestResult } from '../storage/native.js';
import { defaultConfig, ingestLimits } from '../config/config.js';
import { encodeWriteRequestSnappy } from '../remote/write-request.js';
import { decodeAndIngest, decodeAndIngestAsync, type PushTask } from './push.js';
import { nativeThreadsExecutor } from './distributor.js';

const limits = ingestLimits(defaultConfig().limits, Date.now());

function task(tenant: string, body: Uint8Array, extra: Partial<PushTask> = {}): PushTask {
  const copy = new Uint8Array(body);
  return { tenant, body: copy.buffer, limits, maxRecvMsgSize: 1 << 20, ...extra };
}

t.test('the header decides before the native threads are asked', async (t) => {
  let calls = 0;
  const fake: Appender = {
    ingest: () => {
      throw new Error('not used');
    },
    ingestSnappyAsync: async () => {
      calls++;
      return undefined;
    },
  };
  t.same(await decodeAndIngestAsync(fake, task('x', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))), { kind: 'bad_snappy', message: 'snappy: corrupt input' });
  const big = snappy.compressSync(Buffer.alloc(4096, 7));
  t.same(await decodeAndIngestAsync(fake, task('x', big, { maxRecvMsgSize: 100 })), { kind: 'too_large', uncompressedSize: 4096 });
  t.equal(calls, 0, 'neither reached the storage');
  t.same(await decodeAndIngestAsync(fake, task('x', big)), { kind: 'bad_snappy', message: 'snappy: corrupt input' }, 'a null answer is corrupt snappy');
  t.equal(calls, 1);
});

t.test('native threads ingest as the calling thread does (1.0 and 2.0)', async (t) => {
  const storage = nativeStorage();
  t.type(storage.ingestSnappyAsync, 'function', 'the binding offers the native-thread path');
  const now = Date.now();
  const body = encodeWriteRequestSnappy([
    { labels: [['__name__', 'push_async'], ['i', '1']], samples: [[now - 2000, 1], [now - 1000, 2]] },
    { labels: [['__name__', 'push_async'], ['i', '2']], samples: [[now - 1000, 3]] },
  ]);
  const tenantSync = `push-sync-${process.pid}`;
  const tenantAsync = `push-async-${process.pid}`;
  t.teardown(() => {
    loadNative().resetTenant(tenantSync);
    loadNative().resetTenant(tenantAsync);
  });
  const sync = decodeAndIngest(storage, task(tenantSync, body));
  const executor = nativeThreadsExecutor(storage, { run: () => Promise.reject(new Error('not the pool')), close: async () => {} });
  const viaThreads = await executor.run(task(tenantAsync, body));
  t.equal(viaThreads.kind, 'ingested');
  t.same((viaThreads as { result: IngestResult }).result, (sync as { result: IngestResult }).result, 'the same result');
  const series = (tenant: string): string => loadNative().seriesJson(tenant, [], 0, now + 1, 0);
  t.equal(series(tenantAsync), series(tenantSync), 'the same series stored');
  // A 1.0 body read as 2.0 fails the same way on both paths.
  const v2 = await executor.run(task(tenantAsync, body, { protocol: 2 }));
  t.same(v2, decodeAndIngest(storage, task(tenantSync, body, { protocol: 2 })), 'the 2.0 decoder on both');
  // Corrupt data behind a valid header: null from the native side.
  const corrupt = Buffer.from([0x05, 0x00, 0x01]);
  t.same(await executor.run(task(tenantAsync, corrupt)), { kind: 'bad_snappy', message: 'snappy: corrupt input' });
});

// wal.test.ts checks the start-up replay around a fake WAL: /ready and
// pushes answer 503 until every segment is replayed, progress and damage
// are logged in logfmt, and the WAL is closed at shutdown.

import t from 'tap';
import { createServer } from 'node:net';
import { setLogLevel, setLogSink } from '../log.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import type { StorageOptions, WalReplayResult, WalStore, WalTenant } from '../storage/native.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { replayWal, segmentName } from './wal.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const result = (over: Partial<WalReplayResult> = {}): WalReplayResult => ({
  records: 2,
  series: 1,
  samples: 10,
  unknownRefs: 0,
  dropped: 0,
  bytes: 100,
  truncatedBytes: 0,
  headChunks: 0,
  headChunkSamples: 0,
  skippedSamples: 0,
  ...over,
});

/** FakeWal replays from a script; each replayWalSegment waits for `gate`. */
class FakeWal implements WalStore {
  opened?: StorageOptions;
  closed = 0;
  finished: string[] = [];
  release!: () => void;
  readonly gate = new Promise<void>((r) => (this.release = r));
  constructor(
    private readonly tenants: WalTenant[],
    private readonly results: Map<string, WalReplayResult | Error>,
  ) {}
  openStorage(opts: StorageOptions): WalTenant[] {
    this.opened = opts;
    return this.tenants;
  }
  async replayWalSegment(tenant: string, segment: number): Promise<WalReplayResult> {
    await this.gate;
    const r = this.results.get(`${tenant}/${segment}`) ?? result();
    if (r instanceof Error) throw r;
    return r;
  }
  finishWalReplay(tenant: string): boolean {
    this.finished.push(tenant);
    return tenant === 'b';
  }
  closeStorage(): void {
    this.closed++;
  }
}

t.test('ready and pushes wait for the replay', async (t) => {
  const wal = new FakeWal([{ tenant: 'a', segments: [0, 1] }], new Map());
  const port = await freePort();
  const starting = startTestServer({ 'server.http-listen-port': port, 'blocks-storage.tsdb.wal-sync-mode': 'always' }, { storage: new FakeStorage(), wal });
  let ready = await httpRequest(port, '/ready').catch(() => undefined);
  for (let i = 0; ready === undefined && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    ready = await httpRequest(port, '/ready').catch(() => undefined);
  }
  t.equal(ready?.status, 503);
  t.match(ready?.body, 'Starting: 1 (ingester)');
  const push = (): ReturnType<typeof httpRequest> =>
    httpRequest(port, '/api/v1/push', {
      body: encodeWriteRequestSnappy([{ labels: [['__name__', 'x']], samples: [[Date.now(), 1]] }]),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'a' },
    });
  const early = await push();
  t.equal(early.status, 503);
  t.equal(early.body, 'ingester is unavailable (current state: Starting)\n');
  t.equal(wal.opened?.syncMode, 'always');
  t.equal(wal.opened?.walSegmentSize, 134217728);
  wal.release();
  const srv = await starting;
  t.equal((await httpRequest(port, '/ready')).status, 200);
  t.equal((await push()).status, 200);
  t.same(wal.finished, ['a']);
  await srv.close();
  t.equal(wal.closed, 1);
});

t.test('replay logs progress, torn tails, corrupt and unreadable segments', async (t) => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  setLogLevel('info');
  t.teardown(() => setLogSink((l) => void process.stderr.write(l)));
  const { log } = await import('../log.js');
  const wal = new FakeWal(
    [
      { tenant: 'a', segments: [3, 4, 5] },
      { tenant: 'b', segments: [0] },
    ],
    new Map<string, WalReplayResult | Error>([
      ['a/3', result({ corruption: 'checksum mismatch', corruptionOffset: 40000 })],
      ['a/4', new Error('EACCES')],
      ['a/5', result({ corruption: 'truncated fragment', corruptionOffset: 70, truncatedBytes: 9, samples: 7 })],
      ['b/0', result({ unknownRefs: 4, headChunks: 6, headChunkSamples: 720, skippedSamples: 700 })],
    ]),
  );
  wal.release();
  const sum = await replayWal(wal, wal.openStorage({ dir: '', walSegmentSize: 0, syncMode: 'none' }), log.with({ component: 'ingester' }));
  t.same(sum, { tenants: 2, segments: 3, series: 3, samples: 27, headChunks: 6, headChunkSamples: 720, corruptSegments: 2, failedSegments: 1 });
  const text = lines.join('');
  t.match(text, /level=info msg="WAL replay" component=ingester tenant=a segment=1\/3 file=00000003 series=1 samples=10 bytes=100\n/);
  t.match(text, /level=error msg="WAL segment is corrupt, records after the corruption are lost" component=ingester tenant=a segment=00000003 offset=40000 reason="checksum mismatch"/);
  t.match(text, /level=error msg="WAL segment could not be read, skipping it" component=ingester tenant=a segment=00000004 err=EACCES/);
  t.match(text, /level=warn msg="WAL has a torn or corrupt tail, truncated at the last good record" component=ingester tenant=a segment=00000005 offset=70 truncated_bytes=9/);
  t.match(text, /level=warn msg="WAL samples of unknown series skipped" component=ingester tenant=b segment=00000000 samples=4/);
  // Chunks taken from the head chunk files are reported where there were any.
  t.match(text, /msg="WAL replay" component=ingester tenant=b segment=1\/1 file=00000000 series=1 samples=10 bytes=100 head_chunks=6 head_chunk_samples=720 skipped_samples=700\n/);
  t.match(text, /msg="WAL series logged again after remapped references" component=ingester tenant=b/);
  t.match(text, /msg="WAL replay done" component=ingester tenants=2 segments=3 series=3 samples=27/);
  t.equal(segmentName(12), '00000012');
});

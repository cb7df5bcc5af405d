// pprof.test.ts drives /debug/pprof/* and /debug/fgprof through a real
// server: the answers decode as pprof profiles (gzip + Profile protobuf) with
// samples of the main thread and the workers, remote-write pushes keep
// succeeding while a CPU profile runs, durations are bounded, one CPU profile
// runs at a time, and -server.register-instrumentation=false removes
// /debug/pprof but not /debug/fgprof (as Mimir). test/peer/pprof-go.test.ts
// reads the same answers with `go tool pprof`.

import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { UNMATCHED_HEADER } from '../server/http.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

/** DecodedProfile is the part of a pprof Profile the assertions read. */
interface DecodedProfile {
  strings: string[];
  sampleTypes: Array<[string, string]>;
  samples: Array<{ values: number[]; labels: Array<[string, string]> }>;
  comments: string[];
  functions: string[];
}

function packedOrOne(r: ProtoReader, wireType: WireType): number[] {
  if (wireType !== WireType.Bytes) return [r.int64()];
  const inner = new ProtoReader(r.bytes());
  const out: number[] = [];
  while (!inner.done()) out.push(inner.int64());
  return out;
}

/** decodeProfile reads a gzip-compressed pprof Profile. */
function decodeProfile(raw: Buffer): DecodedProfile {
  const r = new ProtoReader(gunzipSync(raw));
  const strings: string[] = [];
  const types: Array<[number, number]> = [];
  const samples: Array<{ values: number[]; labels: Array<[number, number]> }> = [];
  const comments: number[] = [];
  const fnNames: number[] = [];
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      const m = new ProtoReader(r.bytes());
      const vt: [number, number] = [0, 0];
      while (!m.done()) {
        const f = m.tag();
        if (f.field === 1) vt[0] = m.varint();
        else if (f.field === 2) vt[1] = m.varint();
        else m.skip(f.wireType);
      }
      types.push(vt);
    } else if (field === 2) {
      const m = new ProtoReader(r.bytes());
      const s = { values: [] as number[], labels: [] as Array<[number, number]> };
      while (!m.done()) {
        const f = m.tag();
        if (f.field === 2) s.values.push(...packedOrOne(m, f.wireType));
        else if (f.field === 3) {
          const l = new ProtoReader(m.bytes());
          const kv: [number, number] = [0, 0];
          while (!l.done()) {
            const g = l.tag();
            if (g.field === 1) kv[0] = l.varint();
            else if (g.field === 2) kv[1] = l.varint();
            else l.skip(g.wireType);
          }
          s.labels.push(kv);
        } else m.skip(f.wireType);
      }
      samples.push(s);
    } else if (field === 5) {
      const m = new ProtoReader(r.bytes());
      while (!m.done()) {
        const f = m.tag();
        if (f.field === 2) fnNames.push(m.varint());
        else m.skip(f.wireType);
      }
    } else if (field === 6) strings.push(r.string());
    else if (field === 13) comments.push(...packedOrOne(r, wireType));
    else r.skip(wireType);
  }
  const s = (i: number): string => strings[i] ?? `<bad string ${i}>`;
  return {
    strings,
    sampleTypes: types.map(([a, b]) => [s(a), s(b)]),
    samples: samples.map((x) => ({ values: x.values, labels: x.labels.map(([k, v]) => [s(k), s(v)]) })),
    comments: comments.map(s),
    functions: fnNames.map(s),
  };
}

const srv = await startTestServer();
t.teardown(() => srv.close());

t.test('a CPU profile of every thread while pushes keep succeeding', async (t) => {
  // Warm both pools so that workers exist.
  const push = (i: number): Promise<number> =>
    httpRequest(srv.port, '/api/v1/push', {
      body: encodeWriteRequestSnappy([{ labels: [['__name__', 'pprof_test'], ['i', String(i % 50)]], samples: [[Date.now(), i]] }]),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'pprof' },
    }).then((r) => r.status);
  t.equal(await push(0), 200);
  t.equal((await httpRequest(srv.port, '/prometheus/api/v1/query?query=vector(1)', { headers: { 'X-Scope-OrgID': 'pprof' } })).status, 200);

  const profiling = httpRequest(srv.port, '/debug/pprof/profile?seconds=3');
  let done = false;
  void profiling.then(() => (done = true));
  const statuses: number[] = [];
  let slowest = 0;
  for (let i = 1; !done && i < 10_000; i++) {
    const start = Date.now();
    statuses.push(await push(i));
    slowest = Math.max(slowest, Date.now() - start);
  }
  const res = await profiling;
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/octet-stream');
  t.equal(res.headers['content-disposition'], 'attachment; filename="profile"');
  // Loose bounds: the machine may be loaded; a push held by the profile would wait its 3 s.
  t.ok(statuses.length >= 5, `pushes went on during the profile (${statuses.length})`);
  t.same([...new Set(statuses)], [200], 'every push during the profile succeeded');
  t.ok(slowest < 3000, `no push waited on the profile (slowest ${slowest} ms)`);
  t.equal(res.raw[0], 0x1f, 'gzip');
  const p = decodeProfile(res.raw);
  t.equal(p.strings[0], '', 'string table starts with the empty string');
  t.same(p.sampleTypes, [
    ['samples', 'count'],
    ['cpu', 'nanoseconds'],
  ]);
  t.ok(p.samples.length > 0, 'samples');
  const threads = new Set(p.samples.flatMap((s) => s.labels.filter(([k]) => k === 'thread').map(([, v]) => v)));
  t.ok(threads.has('main') || [...threads].some((x) => x.includes('worker')), `threads sampled: ${[...threads].join(', ')}`);
  t.match(p.comments.join('\n'), /threads: main, \[worker \d+\]/, 'the workers were profiled');
  t.notOk(p.functions.includes('(idle)'), 'idle samples are not CPU time');
});

t.test('fgprof: wall clock of every thread, pprof and folded', async (t) => {
  const res = await httpRequest(srv.port, '/debug/fgprof?seconds=1');
  t.equal(res.status, 200);
  const p = decodeProfile(res.raw);
  t.same(p.sampleTypes, [
    ['samples', 'count'],
    ['time', 'nanoseconds'],
  ]);
  const threads = new Set(p.samples.flatMap((s) => s.labels.map(([, v]) => v)));
  t.ok(threads.has('main'), 'the main thread');
  t.ok([...threads].some((x) => /^\[worker \d+\]/.test(x)), `a worker thread (${[...threads].join(', ')})`);
  const folded = await httpRequest(srv.port, '/debug/fgprof?seconds=1&format=folded');
  t.equal(folded.status, 200);
  t.match(folded.body, /^main;.* \d+$/m);
  t.equal((await httpRequest(srv.port, '/debug/fgprof?seconds=1&format=svg')).status, 400);
});

t.test('bounded and one at a time', async (t) => {
  const long = await httpRequest(srv.port, '/debug/pprof/profile?seconds=120');
  t.equal(long.status, 400);
  t.equal(long.body, "profile duration exceeds server's WriteTimeout\n");
  t.equal(long.headers['x-go-pprof'], '1');
  t.equal((await httpRequest(srv.port, '/debug/pprof/trace?seconds=600')).status, 400);
  const first = httpRequest(srv.port, '/debug/pprof/profile?seconds=1');
  await new Promise((r) => setTimeout(r, 200));
  const second = await httpRequest(srv.port, '/debug/pprof/profile?seconds=1');
  t.equal(second.status, 500);
  t.equal(second.body, 'Could not enable CPU profiling: cpu profiling already in use\n');
  t.equal((await first).status, 200);
});

t.test('heap, goroutine, block, mutex, trace, index', async (t) => {
  const heap = await httpRequest(srv.port, '/debug/pprof/heap');
  t.equal(heap.status, 200);
  const h = decodeProfile(heap.raw);
  t.same(h.sampleTypes, [
    ['inuse_objects', 'count'],
    ['inuse_space', 'bytes'],
  ]);
  t.ok(h.samples.length > 0 && h.samples.every((s) => s.values[1]! > 0), 'live objects sampled');
  t.match(h.comments.join('\n'), /process: rss=\d+/);
  const alloc = /native allocator \(malloc, whole process\): in_use=(\d+) free=(\d+) mmapped=(\d+) arena=(\d+)/.exec(h.comments.join('\n'));
  t.ok(alloc !== null && Number(alloc[1]) > 0 && Number(alloc[4]) > 0, `native allocator statistics: ${alloc?.[0]}`);

  const g = decodeProfile((await httpRequest(srv.port, '/debug/pprof/goroutine')).raw);
  t.same(g.sampleTypes, [['goroutine', 'count']]);
  t.ok(g.samples.length >= 2, 'the main thread and at least one worker');
  const text = await httpRequest(srv.port, '/debug/pprof/goroutine?debug=1');
  t.match(text.body, /^threads: \d+\n/);
  t.match(text.body, /thread 1 \[main\]:/);
  t.match(text.body, /thread 2 \[worker \d+\]:/);
  const workerLines = text.body.split('\n').filter((l) => l.includes('worker thread of its Piscina pool'));
  t.ok(workerLines.length >= 1 && workerLines.every((l) => /pool: (idle|running .+|busy \(did not answer the inspector\))$/.test(l)), 'each worker says what it runs');

  // A query keeps a worker busy in the engine (a subquery of 172,800 steps): its task shows, with tenant and text.
  const slow = 'count_over_time(vector(1)[2d:1s])';
  let seen = '';
  // Polled while the queries are in flight: on a loaded machine a query may start late or end early.
  for (let attempt = 0; attempt < 10 && seen === ''; attempt++) {
    let inFlight = true;
    const queries = Promise.all(
      Array.from({ length: 4 }, () => httpRequest(srv.port, `/prometheus/api/v1/query?query=${encodeURIComponent(slow)}`, { headers: { 'X-Scope-OrgID': 'busy-tenant' } })),
    ).finally(() => {
      inFlight = false;
    });
    for (let poll = 0; poll < 200 && inFlight && seen === ''; poll++) {
      await new Promise((r) => setTimeout(r, 10));
      const during = await httpRequest(srv.port, '/debug/pprof/goroutine?debug=1');
      seen = during.body.split('\n').find((l) => l.includes('running query instant')) ?? '';
    }
    await queries;
  }
  t.match(seen, /running query instant for tenant "busy-tenant" for \d+\.\d{3}s: count_over_time\(vector\(1\)\[2d:1s\]\)$/, 'a running query is listed with its tenant and text');

  for (const kind of ['block', 'mutex']) {
    const c = decodeProfile((await httpRequest(srv.port, `/debug/pprof/${kind}`)).raw);
    t.same(c.sampleTypes, [
      ['contentions', 'count'],
      ['delay', 'nanoseconds'],
    ]);
    t.equal(c.samples.length, 0, `${kind}: empty`);
    t.match(c.comments.join(''), /not|no /, `${kind}: says why`);
  }

  const trace = await httpRequest(srv.port, '/debug/pprof/trace?seconds=0.5');
  t.equal(trace.status, 200);
  const events = (JSON.parse(trace.body) as { traceEvents: Array<{ ph: string; pid: number }> }).traceEvents;
  t.ok(Array.isArray(events) && events.length > 0, `trace events (${events.length})`);
  t.ok(events.every((e) => typeof e.ph === 'string' && e.pid === events[0]!.pid), 'Chrome trace events');

  const index = await httpRequest(srv.port, '/debug/pprof/');
  t.equal(index.status, 200);
  for (const name of ['profile', 'heap', 'goroutine', 'block', 'mutex', 'trace']) t.match(index.body, `href="/debug/pprof/${name}`);
  t.equal((await httpRequest(srv.port, '/debug/pprof')).status, 200);
});

t.test('-server.register-instrumentation=false: no /debug/pprof, /debug/fgprof stays', async (t) => {
  const off = await startTestServer({ 'server.register-instrumentation': false }, { storage: new FakeStorage() });
  t.teardown(() => off.close());
  const heap = await httpRequest(off.port, '/debug/pprof/heap');
  t.equal(heap.status, 404);
  t.equal(heap.headers[UNMATCHED_HEADER.toLowerCase()], 'true');
  t.equal((await httpRequest(off.port, '/debug/fgprof?seconds=1')).status, 200);
});

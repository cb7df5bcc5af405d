// pprof-go.test.ts (peer suite): `go tool pprof` (Go 1.26) reads what
// /debug/pprof/* and /debug/fgprof answer, fetching them by URL as users do:
// the CPU profile of the main thread and the workers, the heap, goroutine,
// block and mutex profiles, and fgprof's wall-clock profile, with the thread
// labels (-tags).

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { GO, failIfMissing, skipUnless } from './lib/binary.js';

const run = promisify(execFile);

// The first `go tool pprof` of a machine builds the tool (.ci/run builds it ahead).
t.setTimeout(300_000);

t.test('go tool pprof reads our profiles', { skip: skipUnless(GO) }, async (t) => {
  if (failIfMissing(t, GO)) return;
  const srv = await startTestServer();
  const tmp = mkdtempSync(join(tmpdir(), 'pprof-go-'));
  t.teardown(async () => {
    await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${srv.port}`;
  // Start the query workers so that the profiles have workers to show.
  t.equal((await fetch(`${base}/prometheus/api/v1/query?query=vector(1)`, { headers: { 'X-Scope-OrgID': 'go' } })).status, 200);
  const pprof = async (...args: string[]): Promise<string> => {
    const { stdout, stderr } = await run(GO.path, ['tool', 'pprof', ...args], {
      // The first `go tool pprof` of a machine builds the tool into the Go build cache.
      timeout: 240_000,
      env: { ...process.env, PPROF_TMPDIR: tmp, GOTOOLCHAIN: 'local' },
    });
    return stdout + stderr;
  };

  const cpu = await pprof('-top', '-seconds', '2', `${base}/debug/pprof/profile`);
  t.match(cpu, /Type: cpu/);
  // The profile asked for 2 s; a loaded machine stretches the wall-clock span a little.
  const duration = Number(/Duration: ([\d.]+)s/.exec(cpu)?.[1] ?? NaN);
  t.ok(duration >= 2 && duration < 10, `profile duration ${duration}s`);
  t.match(cpu, /threads: main, \[worker \d+\]/, 'the workers were profiled');

  const fg = await pprof('-tags', '-seconds', '1', `${base}/debug/fgprof`);
  t.match(fg, /thread: Total/);
  t.match(fg, /: main\n/);
  t.match(fg, /: \[worker \d+\]\n/, 'a worker thread among the tags');

  const heap = await pprof('-top', `${base}/debug/pprof/heap`);
  t.match(heap, /Type: inuse_space/);
  t.match(heap, /Showing nodes accounting for [\d.]+[kM]?B/);
  t.match(heap, /process: rss=\d+/);

  const goroutine = await pprof('-top', `${base}/debug/pprof/goroutine`);
  t.match(goroutine, /Type: goroutine/);
  t.match(goroutine, /main event loop/);
  t.match(goroutine, /worker thread/);

  for (const kind of ['block', 'mutex']) {
    const out = await pprof('-top', `${base}/debug/pprof/${kind}`);
    t.match(out, /Type: delay/, kind);
    t.match(out, /(events|contention) (are|is) measured/, `${kind}: the note`);
  }
});

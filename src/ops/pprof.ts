// pprof.ts answers /debug/pprof/* and /debug/fgprof with what a Node.js
// process with worker threads can honestly give, in the formats Go's tools
// read: CPU (`profile`) and wall-clock (`fgprof`) samples of the main thread
// and every worker from V8's profiler, the live heap from V8's sampling heap
// profiler, the threads (`goroutine`), a Chrome trace (`trace`), and empty
// `block` and `mutex` profiles that say why. Everything is collected by the
// threads' own V8 inspectors (off the event loop's request path), one
// profile at a time, for a bounded time.

import { getHeapStatistics } from 'node:v8';
import { log } from '../log.js';
import { loadNative } from '../storage/native.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { CURRENT_TASK_EXPRESSION, describeTask } from './current-task.js';
import { InspectorHub, type ThreadTarget } from './inspector.js';
import { ProfileBuilder, cpuToPprof, heapToPprof, type CpuProfile, type SamplingHeapProfile, type ThreadHeapProfile, type ThreadProfile } from './pprof-format.js';

/** HEAP_SAMPLING_INTERVAL is the mean bytes between sampled allocations (Go's MemProfileRate). */
export const HEAP_SAMPLING_INTERVAL = 512 * 1024;

/** CPU_SAMPLING_INTERVAL_US is V8's CPU sampling interval in microseconds (100 Hz, as Go's CPU profiler). */
const CPU_SAMPLING_INTERVAL_US = 10_000;

/** PROFILES are the named profiles of the index page, with what each holds. */
const PROFILES: Array<[string, string]> = [
  ['allocs', 'Same as heap: V8 samples live objects only.'],
  ['block', 'Empty: the event loop and the workers do not block on locks that are measured.'],
  ['cmdline', 'The command line of this process.'],
  ['goroutine', 'The threads: the main event loop and every worker thread, with what each is doing.'],
  ['heap', 'A sampling of live objects of the main thread and the workers (V8 sampling heap profiler), with process memory statistics.'],
  ['mutex', 'Empty: lock contention is not measured.'],
  ['profile', 'CPU profile of the main thread and the workers (V8). You can specify the duration in the seconds GET parameter.'],
  ['trace', 'A Chrome trace (JSON) of the process. You can specify the duration in the seconds GET parameter.'],
];

/** ProfilingOptions bound the profiles. */
export interface ProfilingOptions {
  /** writeTimeoutMs is -server.http-write-timeout: longer profiles are refused, as Go's handlers do. */
  writeTimeoutMs: number;
}

/** pprofError answers as Go's pprof handlers do (serveError). */
function pprofError(res: Response, status: number, message: string): void {
  res.send(status, message + '\n', CONTENT_TYPE.text, { 'X-Go-Pprof': '1', 'X-Content-Type-Options': 'nosniff' });
}

function attachment(res: Response, name: string, body: Buffer | string, contentType = 'application/octet-stream'): void {
  res.send(200, body, contentType, { 'Content-Disposition': `attachment; filename="${name}"`, 'X-Content-Type-Options': 'nosniff' });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ProfilingApi holds the inspector hub and the handlers. */
export class ProfilingApi {
  private readonly hub = new InspectorHub();
  private readonly logger = log.with({ component: 'pprof' });
  /** cpuBusy is set while a CPU or wall-clock profile runs (V8 has one profiler per thread). */
  private cpuBusy = false;
  private traceBusy = false;
  private readonly heapThreads = new Set<string>();
  private heapHooked = false;

  constructor(private readonly opts: ProfilingOptions) {}

  /** close detaches from every thread. */
  close(): void {
    this.hub.close();
  }

  private seconds(req: Request, dflt: number, float: boolean): number {
    const raw = req.query.get('seconds') ?? '';
    const v = float ? Number.parseFloat(raw) : /^[+-]?\d+$/.test(raw) ? Number.parseInt(raw, 10) : NaN;
    return Number.isFinite(v) && v > 0 ? v : dflt;
  }

  private exceedsWriteTimeout(seconds: number): boolean {
    return this.opts.writeTimeoutMs > 0 && seconds * 1000 >= this.opts.writeTimeoutMs;
  }

  /** index answers /debug/pprof/ with the list of profiles, as Go's index page. */
  readonly index = (_req: Request, res: Response): void => {
    const rows = PROFILES.map(([name]) => `<tr><td></td><td><a href="/debug/pprof/${name}${name === 'goroutine' ? '?debug=1' : ''}">${name}</a></td></tr>`).join('\n');
    const docs = PROFILES.map(([name, what]) => `<li><div class=profile-name>${name}: </div> ${what}</li>`).join('\n');
    res.send(
      200,
      `<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/\n<br>\n<p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\nTypes of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n${rows}\n</table>\n<a href="/debug/fgprof?seconds=30">full goroutine stack dump (wall clock, fgprof)</a>\n<br>\n<p>\nProfile Descriptions:\n<ul>\n${docs}\n</ul>\n</p>\n</body>\n</html>\n`,
      CONTENT_TYPE.html,
    );
  };

  /** cmdline answers /debug/pprof/cmdline: the arguments separated by NUL bytes. */
  readonly cmdline = (_req: Request, res: Response): void => {
    res.send(200, process.argv.join('\u0000'), CONTENT_TYPE.text, { 'X-Content-Type-Options': 'nosniff' });
  };

  /** collectCpu runs V8's CPU profiler in every thread for seconds and returns each thread's profile. */
  private async collectCpu(seconds: number): Promise<ThreadProfile[]> {
    const threads = await this.hub.threads();
    const started: ThreadTarget[] = [];
    for (const t of threads) {
      try {
        await t.post('Profiler.enable');
        await t.post('Profiler.setSamplingInterval', { interval: CPU_SAMPLING_INTERVAL_US });
        await t.post('Profiler.start');
        started.push(t);
      } catch (err) {
        this.logger.warn('could not start the CPU profiler of a thread', { thread: t.name, err });
      }
    }
    await sleep(seconds * 1000);
    const out: ThreadProfile[] = [];
    for (const t of started) {
      try {
        const r = await t.post<{ profile: CpuProfile }>('Profiler.stop');
        out.push({ thread: t.name, profile: r.profile });
        await t.post('Profiler.disable');
      } catch (err) {
        // A worker that exited meanwhile took its samples with it.
        this.logger.debug('a thread left during the CPU profile', { thread: t.name, err });
      }
    }
    return out;
  }

  private async cpuProfile(req: Request, res: Response, wall: boolean): Promise<void> {
    const seconds = this.seconds(req, 30, false);
    if (this.exceedsWriteTimeout(seconds)) return pprofError(res, 400, "profile duration exceeds server's WriteTimeout");
    if (this.cpuBusy) return pprofError(res, 500, 'Could not enable CPU profiling: cpu profiling already in use');
    this.cpuBusy = true;
    try {
      const start = Date.now();
      const threads = await this.collectCpu(seconds);
      // The duration sampled (the main thread's profile, stopped first), not the time to collect every thread.
      const main = threads.find((x) => x.thread === 'main')?.profile;
      const durationMs = main !== undefined ? (main.endTime - main.startTime) / 1000 : Date.now() - start;
      const body = cpuToPprof(threads, { wall, startMs: start, durationMs });
      if (wall && (req.query.get('format') ?? 'pprof') === 'folded') return res.send(200, foldedText(threads), CONTENT_TYPE.text);
      attachment(res, wall ? 'fgprof' : 'profile', body);
    } finally {
      this.cpuBusy = false;
    }
  }

  /** profile answers /debug/pprof/profile?seconds=N (default 30): on-CPU samples of every thread. */
  readonly profile = (req: Request, res: Response): Promise<void> => this.cpuProfile(req, res, false);

  /** fgprof answers /debug/fgprof?seconds=N (default 30): wall-clock samples of every thread, idle included; format=folded for text. */
  readonly fgprof = (req: Request, res: Response): Promise<void> => {
    const format = req.query.get('format') ?? 'pprof';
    if (format !== 'pprof' && format !== 'folded') {
      pprofError(res, 400, `unknown format: ${format}`);
      return Promise.resolve();
    }
    return this.cpuProfile(req, res, true);
  };

  /**
   * startHeapSampling starts V8's sampling heap profiler in every thread not sampling yet, and in
   * every worker that starts later (Go's heap profile is always on too).
   */
  async startHeapSampling(): Promise<ThreadTarget[]> {
    if (!this.heapHooked) {
      this.heapHooked = true;
      this.hub.onAttach((t) => void this.sampleHeap(t));
    }
    const threads = await this.hub.threads();
    for (const t of threads) await this.sampleHeap(t);
    return threads;
  }

  private async sampleHeap(t: ThreadTarget): Promise<void> {
    if (this.heapThreads.has(t.name)) return;
    this.heapThreads.add(t.name);
    try {
      await t.post('HeapProfiler.enable');
      await t.post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL });
    } catch (err) {
      this.heapThreads.delete(t.name);
      this.logger.debug('could not start heap sampling in a thread', { thread: t.name, err });
    }
  }

  /** heap answers /debug/pprof/heap (and allocs): the sampled live objects of every thread, process memory in the comments. */
  readonly heap = async (_req: Request, res: Response): Promise<void> => {
    const threads = await this.startHeapSampling();
    const profiles: ThreadHeapProfile[] = [];
    for (const t of threads) {
      if (!this.heapThreads.has(t.name)) continue;
      try {
        const r = await t.post<{ profile: SamplingHeapProfile }>('HeapProfiler.getSamplingProfile');
        profiles.push({ thread: t.name, profile: r.profile });
      } catch (err) {
        this.logger.debug('a thread left during the heap profile', { thread: t.name, err });
      }
    }
    const mem = process.memoryUsage();
    const v8 = getHeapStatistics();
    const comments = [
      `process: rss=${mem.rss} heapTotal=${mem.heapTotal} heapUsed=${mem.heapUsed} external=${mem.external} arrayBuffers=${mem.arrayBuffers}`,
      `main thread V8 heap: total_heap_size=${v8.total_heap_size} used_heap_size=${v8.used_heap_size} heap_size_limit=${v8.heap_size_limit} malloced_memory=${v8.malloced_memory} external_memory=${v8.external_memory ?? 0}`,
      `native (Rust) memory is outside V8's heap: it is part of rss and external`,
      nativeAllocatorComment(),
      `threads sampled since their first heap profile or the server's start: ${profiles.map((p) => p.thread).join(', ')}`,
    ];
    attachment(res, 'profile', heapToPprof(profiles, HEAP_SAMPLING_INTERVAL, comments));
  };

  /** goroutine answers /debug/pprof/goroutine: the threads, as text with debug=1 or 2, as a count profile otherwise. */
  readonly goroutine = async (req: Request, res: Response): Promise<void> => {
    const threads = await this.hub.threads();
    const debug = Number(req.query.get('debug') ?? '0');
    const resources = process.getActiveResourcesInfo();
    const byKind = new Map<string, number>();
    for (const r of resources) byKind.set(r, (byKind.get(r) ?? 0) + 1);
    if (debug >= 1) {
      let text = `threads: ${threads.length}\n\n`;
      text += `thread 1 [main]:\n  the event loop (HTTP, scheduling)\n  active resources: ${[...byKind].map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n  uptime: ${process.uptime().toFixed(1)}s\n\n`;
      const tasks = await Promise.all(threads.slice(1).map((t) => currentTaskOf(t)));
      const now = Date.now();
      threads.slice(1).forEach((t, i) => {
        text += `thread ${i + 2} ${t.name}:\n  worker thread of its Piscina pool: ${describeTask(tasks[i], now)}\n\n`;
      });
      res.send(200, text, CONTENT_TYPE.text, { 'X-Content-Type-Options': 'nosniff' });
      return;
    }
    const b = new ProfileBuilder([['goroutine', 'count']], ['goroutine', 'count'], 1, Date.now() * 1e6, 0);
    for (const t of threads) {
      const worker = t.name !== 'main';
      b.sample([b.location(worker ? 'worker thread' : 'main event loop', '', 0)], [1], [{ key: 'thread', str: t.name }]);
    }
    b.comment(`active resources of the main thread: ${[...byKind].map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}`);
    attachment(res, 'profile', b.encode());
  };

  /** contention answers /debug/pprof/block and /debug/pprof/mutex: an empty profile saying why. */
  private contention(kind: 'block' | 'mutex'): (req: Request, res: Response) => void {
    return (req, res) => {
      const note =
        kind === 'block'
          ? 'no blocking events are measured: JavaScript threads do not block on channels or locks; waits of the native (Rust) core are not sampled'
          : 'no lock contention is measured: the native (Rust) core does not sample its lock waits';
      if (Number(req.query.get('debug') ?? '0') >= 1) {
        res.send(200, `--- contention:\ncycles/second=1000000000\n# ${note}\n`, CONTENT_TYPE.text, { 'X-Content-Type-Options': 'nosniff' });
        return;
      }
      const b = new ProfileBuilder(
        [
          ['contentions', 'count'],
          ['delay', 'nanoseconds'],
        ],
        ['contentions', 'count'],
        1,
        Date.now() * 1e6,
        0,
      );
      b.comment(note);
      attachment(res, 'profile', b.encode());
    };
  }

  readonly block = this.contention('block');
  readonly mutex = this.contention('mutex');

  /** trace answers /debug/pprof/trace?seconds=N (default 1): a Chrome trace (JSON) of the process. */
  readonly trace = async (req: Request, res: Response): Promise<void> => {
    const seconds = this.seconds(req, 1, true);
    if (this.exceedsWriteTimeout(seconds)) return pprofError(res, 400, "profile duration exceeds server's WriteTimeout");
    if (this.traceBusy) return pprofError(res, 500, 'Could not enable tracing: tracing already enabled');
    this.traceBusy = true;
    const main = this.hub.main();
    const events: unknown[] = [];
    const offData = this.hub.on<{ value: unknown[] }>('NodeTracing.dataCollected', (p) => {
      events.push(...p.value);
    });
    let offComplete = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      offComplete = this.hub.on('NodeTracing.tracingComplete', () => resolve());
    });
    try {
      await main.post('NodeTracing.start', { traceConfig: { includedCategories: ['node', 'node.async_hooks', 'node.perf', 'v8'] } });
      await sleep(seconds * 1000);
      await main.post('NodeTracing.stop');
      await Promise.race([done, sleep(5000)]);
    } finally {
      offData();
      offComplete();
      this.traceBusy = false;
    }
    attachment(res, 'trace', JSON.stringify({ traceEvents: events }), 'application/json');
  };
}

/** foldedText writes samples as folded stacks (`thread;root;...;leaf count`), fgprof's text format. */
function foldedText(threads: ThreadProfile[]): string {
  const lines = new Map<string, number>();
  for (const { thread, profile } of threads) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (const id of profile.samples ?? []) {
      const names: string[] = [];
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
        const node = byId.get(n);
        if (node === undefined || node.callFrame.functionName === '(root)') break;
        names.push(node.callFrame.functionName || '(anonymous)');
      }
      const key = [thread, ...names.reverse()].join(';');
      lines.set(key, (lines.get(key) ?? 0) + 1);
    }
  }
  return [...lines].map(([k, n]) => `${k} ${n}`).join('\n') + '\n';
}

/** TASK_ANSWER_MS bounds how long goroutine waits for a worker's inspector (a thread in native code answers after it). */
const TASK_ANSWER_MS = 1_000;

/** currentTaskOf asks a worker thread what it runs (CurrentTask JSON); undefined when it does not answer in time. */
async function currentTaskOf(t: ThreadTarget): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, TASK_ANSWER_MS, undefined);
  });
  try {
    const answer = t
      .post<{ result: { value?: unknown } }>('Runtime.evaluate', { expression: CURRENT_TASK_EXPRESSION, returnByValue: true })
      .then((r) => (typeof r.result.value === 'string' ? r.result.value : undefined))
      .catch(() => undefined);
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** nativeAllocatorComment is malloc's counters (the Rust core's heap; the whole process's malloc) for the heap profile. */
function nativeAllocatorComment(): string {
  const a = loadNative().allocatorStats();
  return `native allocator (malloc, whole process): in_use=${a.inUseBytes} free=${a.freeBytes} mmapped=${a.mmappedBytes} arena=${a.arenaBytes}`;
}

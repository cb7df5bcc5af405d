// pprof-format.ts writes profiles in pprof's format (the Profile message of
// github.com/google/pprof/proto/profile.proto, gzip-compressed as Go's
// runtime/pprof writes it), so `go tool pprof` reads what /debug/pprof/*
// answers, and converts the V8 inspector's CPU and sampling heap profiles
// into it.

import { gzipSync } from 'node:zlib';
import { ProtoWriter } from '../remote/protobuf-writer.js';

/** CallFrame is a V8 inspector call frame (0-based line and column). */
export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** CpuProfile is the V8 inspector's Profiler.Profile. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }>;
  /** startTime and endTime are in microseconds. */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** HeapProfileNode is a node of the V8 inspector's HeapProfiler.SamplingHeapProfile. */
export interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  id: number;
  children: HeapProfileNode[];
}

/** SamplingHeapProfile is the V8 inspector's HeapProfiler.SamplingHeapProfile. */
export interface SamplingHeapProfile {
  head: HeapProfileNode;
  samples: Array<{ size: number; nodeId: number; ordinal: number }>;
}

/** Label is a sample label: a string or a number value. */
export type Label = { key: string; str: string } | { key: string; num: number; unit?: string };

/** ProfileBuilder collects the samples of one profile and writes them as pprof. */
export class ProfileBuilder {
  private readonly strings = new Map<string, number>([['', 0]]);
  private readonly functions = new Map<string, { id: number; name: number; file: number; line: number }>();
  private readonly locations = new Map<string, { id: number; fn: number; line: number }>();
  private readonly samples: Array<{ locs: number[]; values: number[]; labels: Label[] }> = [];
  private readonly comments: number[] = [];
  private readonly sampleTypes: Array<[number, number]>;
  private readonly periodType: [number, number];

  /** constructor takes the sample types ([type, unit] pairs) and the period's type and value. */
  constructor(
    sampleTypes: Array<[string, string]>,
    periodType: [string, string],
    private readonly period: number,
    private readonly timeNanos: number,
    private readonly durationNanos: number,
  ) {
    this.sampleTypes = sampleTypes.map(([t, u]) => [this.str(t), this.str(u)]);
    this.periodType = [this.str(periodType[0]), this.str(periodType[1])];
  }

  private str(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) {
      i = this.strings.size;
      this.strings.set(s, i);
    }
    return i;
  }

  /** comment adds a line shown by `go tool pprof -comments`. */
  comment(text: string): void {
    this.comments.push(this.str(text));
  }

  /** location returns the id of the location of a frame (1-based line; created on first use). */
  location(name: string, file: string, line: number): number {
    const fnKey = `${name}\u0000${file}`;
    let fn = this.functions.get(fnKey);
    if (fn === undefined) {
      fn = { id: this.functions.size + 1, name: this.str(name), file: this.str(file), line };
      this.functions.set(fnKey, fn);
    }
    const locKey = `${fn.id}:${line}`;
    let loc = this.locations.get(locKey);
    if (loc === undefined) {
      loc = { id: this.locations.size + 1, fn: fn.id, line };
      this.locations.set(locKey, loc);
    }
    return loc.id;
  }

  /** frame returns the location of a V8 call frame. */
  frame(f: CallFrame): number {
    const name = f.functionName !== '' ? f.functionName : f.url === '' ? '(anonymous)' : `(anonymous ${f.url.split('/').pop()}:${f.lineNumber + 1})`;
    return this.location(name, f.url, f.lineNumber + 1);
  }

  /** sample adds a sample: its stack leaf first, one value per sample type. */
  sample(locs: number[], values: number[], labels: Label[] = []): void {
    this.samples.push({ locs, values, labels });
  }

  /** encode writes the Profile message, gzip-compressed. */
  encode(): Buffer {
    const w = new ProtoWriter(4096);
    for (const [t, u] of this.sampleTypes) w.message(1, (m) => m.uintField(1, t).uintField(2, u));
    for (const s of this.samples) {
      w.message(2, (m) => {
        m.bytes(1, packed(s.locs));
        m.bytes(2, packed(s.values));
        for (const l of s.labels) {
          m.message(3, (lm) => {
            lm.uintField(1, this.str(l.key));
            if ('str' in l) lm.uintField(2, this.str(l.str));
            else {
              lm.int64Field(3, l.num);
              if (l.unit !== undefined) lm.uintField(4, this.str(l.unit));
            }
          });
        }
      });
    }
    // One mapping that holds every function: pprof needs no symbolization.
    w.message(3, (m) => m.uintField(1, 1).uintField(5, this.str('node')).uintField(7, 1).uintField(8, 1).uintField(9, 1));
    for (const loc of this.locations.values()) w.message(4, (m) => m.uintField(1, loc.id).uintField(2, 1).message(4, (lm) => lm.uintField(1, loc.fn).int64Field(2, loc.line)));
    for (const fn of this.functions.values()) w.message(5, (m) => m.uintField(1, fn.id).uintField(2, fn.name).uintField(3, fn.name).uintField(4, fn.file).int64Field(5, fn.line));
    for (const s of this.strings.keys()) w.string(6, s);
    w.int64Field(9, this.timeNanos);
    w.int64Field(10, this.durationNanos);
    w.message(11, (m) => m.uintField(1, this.periodType[0]).uintField(2, this.periodType[1]));
    w.int64Field(12, this.period);
    for (const c of this.comments) w.int64Field(13, c);
    return gzipSync(w.finish());
  }
}

/** packed encodes repeated varints (non-negative) as a packed field's payload. */
function packed(values: number[]): Buffer {
  const w = new ProtoWriter(values.length * 2 + 8);
  for (const v of values) w.int64(v);
  return Buffer.from(w.finish());
}

/** ThreadProfile is one thread's CPU profile and its name. */
export interface ThreadProfile {
  thread: string;
  profile: CpuProfile;
}

/** IDLE_FRAMES are V8's pseudo-frames of a thread that was not running code. */
const IDLE_FRAMES = new Set(['(idle)', '(program)']);

/**
 * cpuToPprof turns V8 CPU profiles into one pprof CPU profile ([samples/count, cpu/nanoseconds]),
 * each sample labelled with its thread. wall keeps the samples of idle threads (fgprof's
 * wall-clock view); without it they are dropped, leaving the time spent running.
 */
export function cpuToPprof(threads: ThreadProfile[], opts: { wall: boolean; startMs: number; durationMs: number }): Buffer {
  const valueType: [string, string] = opts.wall ? ['time', 'nanoseconds'] : ['cpu', 'nanoseconds'];
  // The sampling period: the mean interval between samples over every thread.
  let totalSamples = 0;
  let totalMicros = 0;
  for (const { profile } of threads) {
    totalSamples += profile.samples?.length ?? 0;
    totalMicros += Math.max(0, profile.endTime - profile.startTime);
  }
  const periodNanos = totalSamples > 0 ? Math.round((totalMicros / totalSamples) * 1000) : 1_000_000;
  const b = new ProfileBuilder([['samples', 'count'], valueType], valueType, periodNanos, Math.round(opts.startMs * 1e6), Math.round(opts.durationMs * 1e6));
  for (const { thread, profile } of threads) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const counts = new Map<number, number>();
    for (const id of profile.samples ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) {
      const leaf = byId.get(id);
      if (leaf === undefined) continue;
      if (!opts.wall && IDLE_FRAMES.has(leaf.callFrame.functionName)) continue;
      const locs: number[] = [];
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
        const node = byId.get(n);
        if (node === undefined || node.callFrame.functionName === '(root)') break;
        locs.push(b.frame(node.callFrame));
      }
      b.sample(locs, [count, count * periodNanos], [{ key: 'thread', str: thread }]);
    }
  }
  b.comment(`threads: ${threads.map((t) => t.thread).join(', ')}`);
  b.comment(opts.wall ? 'wall-clock samples of every thread, idle time included (V8 CPU profiler)' : 'V8 CPU profiler samples; samples of idle threads are left out');
  return b.encode();
}

/** ThreadHeapProfile is one thread's sampling heap profile and its name. */
export interface ThreadHeapProfile {
  thread: string;
  profile: SamplingHeapProfile;
}

/**
 * heapToPprof turns V8 sampling heap profiles (live objects) into a pprof heap profile
 * ([inuse_objects/count, inuse_space/bytes]) labelled by thread, with comments as extra lines.
 */
export function heapToPprof(threads: ThreadHeapProfile[], samplingInterval: number, comments: string[]): Buffer {
  const b = new ProfileBuilder(
    [
      ['inuse_objects', 'count'],
      ['inuse_space', 'bytes'],
    ],
    ['space', 'bytes'],
    samplingInterval,
    Date.now() * 1e6,
    0,
  );
  for (const { thread, profile } of threads) {
    const objects = new Map<number, number>();
    for (const s of profile.samples) objects.set(s.nodeId, (objects.get(s.nodeId) ?? 0) + 1);
    const walk = (node: HeapProfileNode, stack: number[]): void => {
      const here = node.callFrame.functionName === '(root)' ? stack : [b.frame(node.callFrame), ...stack];
      if (node.selfSize > 0) b.sample(here, [objects.get(node.id) ?? 0, node.selfSize], [{ key: 'thread', str: thread }]);
      for (const c of node.children) walk(c, here);
    };
    walk(profile.head, []);
  }
  for (const c of comments) b.comment(c);
  return b.encode();
}

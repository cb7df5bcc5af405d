// write-request-v2.ts encodes io.prometheus.write.v2.Request (remote write
// 2.0) as a 2.0 sender does: every string interned once in `symbols` (the
// first one empty), series labels and exemplar labels as pairs of references,
// metadata per series. Used by tests; field numbers follow
// prometheus/prompb/io/prometheus/write/v2/types.proto.

import snappy from '@napi-rs/snappy';
import { ProtoWriter } from './protobuf-writer.js';
import type { Labels } from './write-request.js';

/** MetricType is the 2.0 Metadata.MetricType enum. */
export const MetricType = {
  unspecified: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
} as const;

/** ExemplarV2Input is one exemplar of a series. */
export interface ExemplarV2Input {
  labels: Labels;
  value: number;
  timestampMs: number;
}

/** TimeSeriesV2Input is one TimeSeries of a 2.0 request. */
export interface TimeSeriesV2Input {
  labels: Labels;
  /** Float samples; a third element is the sample's start timestamp (2.0's `start_timestamp`). */
  samples?: Array<[timestampMs: number, value: number, startTimestampMs?: number]>;
  /** Native histogram samples, as [timestampMs, count] (a minimal valid integer histogram each: every observation in the zero bucket). */
  histograms?: Array<[timestampMs: number, count: number]>;
  exemplars?: ExemplarV2Input[];
  metadata?: { type: number; help?: string; unit?: string };
  createdTimestampMs?: number;
  /** labelsRefs replaces the references `labels` would produce (malformed requests in tests). */
  labelsRefs?: number[];
}

/** SymbolTable interns strings; reference 0 is always the empty string. */
class SymbolTable {
  readonly symbols: string[] = [''];
  private readonly refs = new Map<string, number>([['', 0]]);

  ref(s: string): number {
    let r = this.refs.get(s);
    if (r === undefined) {
      r = this.symbols.length;
      this.symbols.push(s);
      this.refs.set(s, r);
    }
    return r;
  }

  labelRefs(labels: Labels): number[] {
    return labels.flatMap(([name, value]) => [this.ref(name), this.ref(value)]);
  }
}

/** encodeWriteRequestV2 returns the uncompressed protobuf bytes. */
export function encodeWriteRequestV2(series: TimeSeriesV2Input[]): Buffer {
  const table = new SymbolTable();
  const body = new ProtoWriter(64 * 1024);
  for (const ts of series) {
    body.message(5, (s) => {
      const refs = ts.labelsRefs ?? table.labelRefs(ts.labels);
      s.message(1, (packed) => refs.forEach((r) => packed.varint(r)));
      for (const [t, v, st] of ts.samples ?? []) {
        s.message(2, (m) => {
          m.double(1, v).int64Field(2, t);
          if (st !== undefined) m.int64Field(3, st);
        });
      }
      for (const [t, count] of ts.histograms ?? []) {
        s.message(3, (h) => h.uintField(1, count).double(3, count).uintField(6, count).int64Field(15, t));
      }
      for (const ex of ts.exemplars ?? []) {
        const exRefs = table.labelRefs(ex.labels);
        s.message(4, (e) => {
          e.message(1, (packed) => exRefs.forEach((r) => packed.varint(r)));
          e.double(2, ex.value).int64Field(3, ex.timestampMs);
        });
      }
      const md = ts.metadata;
      // Senders always write Metadata (a non-nullable field), empty when unknown.
      s.message(5, (m) => {
        if (md === undefined) return;
        m.uintField(1, md.type).uintField(3, table.ref(md.help ?? '')).uintField(4, table.ref(md.unit ?? ''));
      });
      if (ts.createdTimestampMs !== undefined) s.int64Field(6, ts.createdTimestampMs);
    });
  }
  // Symbols first, as senders write fields in number order (the order does not matter to us).
  const symbols = new ProtoWriter(16 * 1024);
  for (const sym of table.symbols) symbols.string(4, sym);
  return Buffer.concat([symbols.finish(), body.finish()]);
}

/** encodeWriteRequestV2Snappy returns the body a 2.0 sender posts. */
export function encodeWriteRequestV2Snappy(series: TimeSeriesV2Input[]): Buffer {
  return snappy.compressSync(encodeWriteRequestV2(series));
}

/** REMOTE_WRITE_V2_HEADERS are the headers a 2.0 sender posts with. */
export const REMOTE_WRITE_V2_HEADERS: Record<string, string> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
};

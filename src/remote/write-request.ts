// write-request.ts encodes prometheus.WriteRequest (remote write 1.0) as a
// client sends it: used by tests, the benchmark load generator and the peer
// suites. Field numbers follow prometheus/prompb/remote.proto and types.proto.

import snappy from '@napi-rs/snappy';
import { ProtoWriter } from './protobuf-writer.js';

/** Labels is an ordered list of label pairs, as sent on the wire. */
export type Labels = Array<[string, string]>;

/** ExemplarInput is one Exemplar of a series (timestampMs 0 leaves the field out, as an unset timestamp). */
export interface ExemplarInput {
  labels: Labels;
  value: number;
  timestampMs: number;
}

/** TimeSeriesInput is one series of a WriteRequest. */
export interface TimeSeriesInput {
  labels: Labels;
  samples: Array<[timestampMs: number, value: number]>;
  exemplars?: ExemplarInput[];
}

/** MetadataInput is one MetricMetadata entry (type as the prompb enum number). */
export interface MetadataInput {
  type: number;
  metricFamilyName: string;
  help: string;
  unit: string;
}

/** encodeWriteRequest returns the uncompressed protobuf bytes. */
export function encodeWriteRequest(series: TimeSeriesInput[], metadata: MetadataInput[] = []): Buffer {
  const w = new ProtoWriter(64 * 1024);
  for (const ts of series) {
    w.message(1, (s) => {
      for (const [name, value] of ts.labels) {
        s.message(1, (l) => l.string(1, name).string(2, value));
      }
      for (const [t, v] of ts.samples) {
        s.message(2, (m) => m.double(1, v).int64Field(2, t));
      }
      for (const ex of ts.exemplars ?? []) {
        s.message(3, (e) => {
          for (const [name, value] of ex.labels) e.message(1, (l) => l.string(1, name).string(2, value));
          e.double(2, ex.value);
          if (ex.timestampMs !== 0) e.int64Field(3, ex.timestampMs);
        });
      }
    });
  }
  for (const md of metadata) {
    w.message(3, (m) => m.uintField(1, md.type).string(2, md.metricFamilyName).string(4, md.help).string(5, md.unit));
  }
  return Buffer.from(w.finish());
}

/** encodeWriteRequestSnappy returns the body a Prometheus remote-write client posts. */
export function encodeWriteRequestSnappy(series: TimeSeriesInput[], metadata: MetadataInput[] = []): Buffer {
  return snappy.compressSync(encodeWriteRequest(series, metadata));
}

/** REMOTE_WRITE_HEADERS are the headers Prometheus sends with a 1.0 request. */
export const REMOTE_WRITE_HEADERS: Record<string, string> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

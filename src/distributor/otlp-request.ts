// otlp-request.ts encodes OTLP metrics requests (ExportMetricsServiceRequest)
// as an OpenTelemetry SDK or Collector posts them to /otlp/v1/metrics, in
// protobuf or in the OTLP/JSON mapping: used by tests and load generators.
// Field numbers follow opentelemetry-proto v1 (collector/metrics/v1,
// metrics/v1, common/v1, resource/v1).

import { ProtoWriter } from '../remote/protobuf-writer.js';

/** AttrValue is an attribute value: integers become intValue, other numbers doubleValue. */
export type AttrValue = string | number | boolean;

/** Attributes are ordered key/value pairs (order is kept on the wire). */
export type Attributes = Record<string, AttrValue>;

/** NumberPoint is a gauge or sum data point; times are milliseconds (sent as nanoseconds). */
export interface NumberPoint {
  attributes?: Attributes;
  timeMs: number;
  /** startTimeMs is the point's start_time_unix_nano (not sent when absent). */
  startTimeMs?: number;
  value: number;
  /** asInt sends the value as as_int (sfixed64). */
  asInt?: boolean;
  /** noRecordedValue sets the DATA_POINT_FLAGS_NO_RECORDED_VALUE flag. */
  noRecordedValue?: boolean;
  /** exemplars of the point. */
  exemplars?: ExemplarInput[];
}

/** ExemplarInput is one exemplar; IDs in hex (16 and 8 bytes). */
export interface ExemplarInput {
  timeMs: number;
  value: number;
  traceId?: string;
  spanId?: string;
  attributes?: Attributes;
}

/** HistogramPoint is an explicit-bucket histogram data point. */
export interface HistogramPoint {
  attributes?: Attributes;
  timeMs: number;
  count: number;
  sum?: number;
  explicitBounds: number[];
  bucketCounts: number[];
  noRecordedValue?: boolean;
}

/** ExponentialBuckets are one side of an exponential histogram point: counts of consecutive buckets from index offset. */
export interface ExponentialBuckets {
  offset: number;
  bucketCounts: number[];
}

/** ExponentialHistogramPoint is an exponential histogram data point (bucket base 2^(2^-scale)). */
export interface ExponentialHistogramPoint {
  attributes?: Attributes;
  timeMs: number;
  count: number;
  sum?: number;
  scale?: number;
  zeroCount?: number;
  positive?: ExponentialBuckets;
  negative?: ExponentialBuckets;
  noRecordedValue?: boolean;
}

/** SummaryPoint is a summary data point. */
export interface SummaryPoint {
  attributes?: Attributes;
  timeMs: number;
  count: number;
  sum: number;
  quantiles: Array<[quantile: number, value: number]>;
  noRecordedValue?: boolean;
}

/** Temporality is the aggregation temporality of sums and histograms. */
export type Temporality = 'cumulative' | 'delta' | 'unspecified';

/** MetricInput is one OTLP metric with exactly one kind of data. */
export type MetricInput = { name: string; unit?: string; description?: string } & (
  | { gauge: NumberPoint[] }
  | { sum: { points: NumberPoint[]; monotonic: boolean; temporality?: Temporality } }
  | { histogram: { points: HistogramPoint[]; temporality?: Temporality } }
  | { exponentialHistogram: { points: ExponentialHistogramPoint[]; temporality?: Temporality } }
  | { summary: SummaryPoint[] }
);

/** ResourceInput is one resource with one instrumentation scope. */
export interface ResourceInput {
  resource: Attributes;
  scope?: { name: string; version?: string };
  metrics: MetricInput[];
}

/** OTLP_PROTOBUF / OTLP_JSON are the two content types of OTLP/HTTP. */
export const OTLP_PROTOBUF = 'application/x-protobuf';
export const OTLP_JSON = 'application/json';

const TEMPORALITY: Record<Temporality, number> = { unspecified: 0, delta: 1, cumulative: 2 };
const NO_RECORDED_VALUE = 1;

/** zigzag maps a sint32 to its varint. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function nanos(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}

function anyValue(w: ProtoWriter, v: AttrValue): void {
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') w.uintField(2, v ? 1 : 0);
  else if (Number.isInteger(v)) w.int64Field(3, v);
  else w.double(4, v);
}

function attributes(w: ProtoWriter, field: number, attrs: Attributes | undefined): void {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    w.message(field, (kv) => kv.string(1, k).message(2, (a) => anyValue(a, v)));
  }
}

function numberPoints(w: ProtoWriter, points: NumberPoint[]): void {
  for (const p of points) {
    w.message(1, (dp) => {
      attributes(dp, 7, p.attributes);
      if (p.startTimeMs !== undefined) dp.fixed64Field(2, nanos(p.startTimeMs));
      dp.fixed64Field(3, nanos(p.timeMs));
      if (p.asInt === true) dp.fixed64Field(6, BigInt(p.value));
      else dp.double(4, p.value);
      if (p.noRecordedValue === true) dp.uintField(8, NO_RECORDED_VALUE);
      for (const e of p.exemplars ?? []) {
        dp.message(5, (ew) => {
          attributes(ew, 7, e.attributes);
          ew.fixed64Field(2, nanos(e.timeMs));
          ew.double(3, e.value);
          if (e.spanId !== undefined) ew.bytes(4, Buffer.from(e.spanId, 'hex'));
          if (e.traceId !== undefined) ew.bytes(5, Buffer.from(e.traceId, 'hex'));
        });
      }
    });
  }
}

function encodeMetric(w: ProtoWriter, m: MetricInput): void {
  w.string(1, m.name);
  if (m.description !== undefined) w.string(2, m.description);
  if (m.unit !== undefined) w.string(3, m.unit);
  if ('gauge' in m) {
    w.message(5, (g) => numberPoints(g, m.gauge));
  } else if ('sum' in m) {
    w.message(7, (s) => {
      numberPoints(s, m.sum.points);
      s.uintField(2, TEMPORALITY[m.sum.temporality ?? 'cumulative']);
      if (m.sum.monotonic) s.uintField(3, 1);
    });
  } else if ('histogram' in m) {
    w.message(9, (h) => {
      for (const p of m.histogram.points) {
        h.message(1, (dp) => {
          attributes(dp, 9, p.attributes);
          dp.fixed64Field(3, nanos(p.timeMs));
          dp.fixed64Field(4, BigInt(p.count));
          if (p.sum !== undefined) dp.double(5, p.sum);
          const counts = Buffer.alloc(8 * p.bucketCounts.length);
          p.bucketCounts.forEach((c, i) => counts.writeBigUInt64LE(BigInt(c), 8 * i));
          dp.bytes(6, counts);
          const bounds = Buffer.alloc(8 * p.explicitBounds.length);
          p.explicitBounds.forEach((b, i) => bounds.writeDoubleLE(b, 8 * i));
          dp.bytes(7, bounds);
          if (p.noRecordedValue === true) dp.uintField(10, NO_RECORDED_VALUE);
        });
      }
      h.uintField(2, TEMPORALITY[m.histogram.temporality ?? 'cumulative']);
    });
  } else if ('exponentialHistogram' in m) {
    w.message(10, (h) => {
      for (const p of m.exponentialHistogram.points) {
        h.message(1, (dp) => {
          attributes(dp, 1, p.attributes);
          dp.fixed64Field(3, nanos(p.timeMs));
          dp.fixed64Field(4, BigInt(p.count));
          if (p.sum !== undefined) dp.double(5, p.sum);
          if (p.scale !== undefined) dp.uintField(6, zigzag(p.scale));
          if (p.zeroCount !== undefined) dp.fixed64Field(7, BigInt(p.zeroCount));
          for (const [field, side] of [[8, p.positive], [9, p.negative]] as const) {
            if (side === undefined) continue;
            dp.message(field, (b) => {
              b.uintField(1, zigzag(side.offset));
              const packed = new ProtoWriter(8 * side.bucketCounts.length + 8);
              for (const c of side.bucketCounts) packed.varint(c);
              b.bytes(2, packed.finish());
            });
          }
          if (p.noRecordedValue === true) dp.uintField(10, NO_RECORDED_VALUE);
        });
      }
      h.uintField(2, TEMPORALITY[m.exponentialHistogram.temporality ?? 'cumulative']);
    });
  } else {
    w.message(11, (s) => {
      for (const p of m.summary) {
        s.message(1, (dp) => {
          attributes(dp, 7, p.attributes);
          dp.fixed64Field(3, nanos(p.timeMs));
          dp.fixed64Field(4, BigInt(p.count));
          dp.double(5, p.sum);
          for (const [q, v] of p.quantiles) dp.message(6, (qv) => qv.double(1, q).double(2, v));
          if (p.noRecordedValue === true) dp.uintField(8, NO_RECORDED_VALUE);
        });
      }
    });
  }
}

/** encodeOtlpMetrics returns the protobuf ExportMetricsServiceRequest. */
export function encodeOtlpMetrics(resources: ResourceInput[]): Buffer {
  const w = new ProtoWriter(4096);
  for (const r of resources) {
    w.message(1, (rm) => {
      rm.message(1, (res) => attributes(res, 1, r.resource));
      rm.message(2, (sm) => {
        if (r.scope !== undefined) {
          const scope = r.scope;
          sm.message(1, (s) => {
            s.string(1, scope.name);
            if (scope.version !== undefined) s.string(2, scope.version);
          });
        }
        for (const m of r.metrics) sm.message(2, (mw) => encodeMetric(mw, m));
      });
    });
  }
  return Buffer.from(w.finish());
}

function jsonAttributes(attrs: Attributes | undefined): unknown[] {
  return Object.entries(attrs ?? {}).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
  }));
}

function jsonNumberPoints(points: NumberPoint[]): unknown[] {
  return points.map((p) => ({
    attributes: jsonAttributes(p.attributes),
    ...(p.startTimeMs !== undefined ? { startTimeUnixNano: String(nanos(p.startTimeMs)) } : {}),
    timeUnixNano: String(nanos(p.timeMs)),
    ...(p.asInt === true ? { asInt: String(p.value) } : { asDouble: p.value }),
    ...(p.noRecordedValue === true ? { flags: NO_RECORDED_VALUE } : {}),
    ...(p.exemplars !== undefined
      ? {
          exemplars: p.exemplars.map((e) => ({
            filteredAttributes: jsonAttributes(e.attributes),
            timeUnixNano: String(nanos(e.timeMs)),
            asDouble: e.value,
            ...(e.spanId !== undefined ? { spanId: e.spanId } : {}),
            ...(e.traceId !== undefined ? { traceId: e.traceId } : {}),
          })),
        }
      : {}),
  }));
}

function jsonMetric(m: MetricInput): unknown {
  const base = { name: m.name, unit: m.unit ?? '', description: m.description ?? '' };
  if ('gauge' in m) return { ...base, gauge: { dataPoints: jsonNumberPoints(m.gauge) } };
  if ('sum' in m) {
    return { ...base, sum: { dataPoints: jsonNumberPoints(m.sum.points), aggregationTemporality: TEMPORALITY[m.sum.temporality ?? 'cumulative'], isMonotonic: m.sum.monotonic } };
  }
  if ('histogram' in m) {
    return {
      ...base,
      histogram: {
        aggregationTemporality: TEMPORALITY[m.histogram.temporality ?? 'cumulative'],
        dataPoints: m.histogram.points.map((p) => ({
          attributes: jsonAttributes(p.attributes),
          timeUnixNano: String(nanos(p.timeMs)),
          count: String(p.count),
          ...(p.sum !== undefined ? { sum: p.sum } : {}),
          bucketCounts: p.bucketCounts.map(String),
          explicitBounds: p.explicitBounds,
          ...(p.noRecordedValue === true ? { flags: NO_RECORDED_VALUE } : {}),
        })),
      },
    };
  }
  if ('exponentialHistogram' in m) {
    return {
      ...base,
      exponentialHistogram: {
        aggregationTemporality: TEMPORALITY[m.exponentialHistogram.temporality ?? 'cumulative'],
        dataPoints: m.exponentialHistogram.points.map((p) => ({
          attributes: jsonAttributes(p.attributes),
          timeUnixNano: String(nanos(p.timeMs)),
          count: String(p.count),
          ...(p.sum !== undefined ? { sum: p.sum } : {}),
          ...(p.scale !== undefined ? { scale: p.scale } : {}),
          ...(p.zeroCount !== undefined ? { zeroCount: String(p.zeroCount) } : {}),
          ...(p.positive !== undefined ? { positive: { offset: p.positive.offset, bucketCounts: p.positive.bucketCounts.map(String) } } : {}),
          ...(p.negative !== undefined ? { negative: { offset: p.negative.offset, bucketCounts: p.negative.bucketCounts.map(String) } } : {}),
          ...(p.noRecordedValue === true ? { flags: NO_RECORDED_VALUE } : {}),
        })),
      },
    };
  }
  return {
    ...base,
    summary: {
      dataPoints: m.summary.map((p) => ({
        attributes: jsonAttributes(p.attributes),
        timeUnixNano: String(nanos(p.timeMs)),
        count: String(p.count),
        sum: p.sum,
        quantileValues: p.quantiles.map(([quantile, value]) => ({ quantile, value })),
        ...(p.noRecordedValue === true ? { flags: NO_RECORDED_VALUE } : {}),
      })),
    },
  };
}

/** encodeOtlpMetricsJson returns the OTLP/JSON ExportMetricsServiceRequest. */
export function encodeOtlpMetricsJson(resources: ResourceInput[]): string {
  return JSON.stringify({
    resourceMetrics: resources.map((r) => ({
      resource: { attributes: jsonAttributes(r.resource) },
      scopeMetrics: [{ ...(r.scope !== undefined ? { scope: { name: r.scope.name, version: r.scope.version ?? '' } } : {}), metrics: r.metrics.map(jsonMetric) }],
    })),
  });
}

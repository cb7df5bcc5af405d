//! The decoded OTLP metrics request: the subset of
//! `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest`
//! that the Prometheus translation reads. Both the protobuf and the JSON
//! decoder produce it; strings borrow from the protobuf body and are owned
//! when JSON unescaping had to copy them.

use std::borrow::Cow;

/// ExportRequest is `ExportMetricsServiceRequest`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExportRequest<'a> {
    pub resource_metrics: Vec<ResourceMetrics<'a>>,
}

/// ResourceMetrics is one resource (its attributes) and its scopes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ResourceMetrics<'a> {
    pub resource: Vec<KeyValue<'a>>,
    pub scope_metrics: Vec<ScopeMetrics<'a>>,
}

/// ScopeMetrics is one instrumentation scope and its metrics.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScopeMetrics<'a> {
    pub scope_name: Cow<'a, str>,
    pub scope_version: Cow<'a, str>,
    pub scope_attributes: Vec<KeyValue<'a>>,
    pub schema_url: Cow<'a, str>,
    pub metrics: Vec<Metric<'a>>,
}

/// Metric is one OTLP metric: name, unit and typed data points.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Metric<'a> {
    pub name: Cow<'a, str>,
    pub description: Cow<'a, str>,
    pub unit: Cow<'a, str>,
    pub data: MetricData<'a>,
}

/// Temporality values of `AggregationTemporality`.
pub const TEMPORALITY_DELTA: i32 = 1;
pub const TEMPORALITY_CUMULATIVE: i32 = 2;

/// FLAG_NO_RECORDED_VALUE is `DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK`.
pub const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// MetricData is the `oneof data` of a metric (the last one sent wins).
#[derive(Debug, Default, Clone, PartialEq)]
pub enum MetricData<'a> {
    /// No data field was sent (pdata's `MetricTypeEmpty`).
    #[default]
    Empty,
    Gauge(Vec<NumberPoint<'a>>),
    Sum {
        points: Vec<NumberPoint<'a>>,
        temporality: i32,
        monotonic: bool,
    },
    Histogram {
        points: Vec<HistogramPoint<'a>>,
        temporality: i32,
    },
    /// Exponential histograms become native histograms.
    ExponentialHistogram {
        points: Vec<ExponentialHistogramPoint<'a>>,
        temporality: i32,
    },
    Summary(Vec<SummaryPoint<'a>>),
}

impl MetricData<'_> {
    /// type_name is pdata's `MetricType.String()`.
    pub fn type_name(&self) -> &'static str {
        match self {
            MetricData::Empty => "Empty",
            MetricData::Gauge(_) => "Gauge",
            MetricData::Sum { .. } => "Sum",
            MetricData::Histogram { .. } => "Histogram",
            MetricData::ExponentialHistogram { .. } => "ExponentialHistogram",
            MetricData::Summary(_) => "Summary",
        }
    }

    /// point_times lists every data point's `time_unix_nano`.
    pub fn point_times(&self) -> Vec<u64> {
        match self {
            MetricData::Empty => Vec::new(),
            MetricData::Gauge(p) | MetricData::Sum { points: p, .. } => {
                p.iter().map(|x| x.time_unix_nano).collect()
            }
            MetricData::Histogram { points, .. } => {
                points.iter().map(|x| x.time_unix_nano).collect()
            }
            MetricData::ExponentialHistogram { points, .. } => {
                points.iter().map(|x| x.time_unix_nano).collect()
            }
            MetricData::Summary(p) => p.iter().map(|x| x.time_unix_nano).collect(),
        }
    }
}

/// NumberPoint is a gauge or sum data point (an int value is converted to f64).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct NumberPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    /// start_time_unix_nano is when the cumulative series started (0: not sent).
    pub start_time_unix_nano: u64,
    pub value: f64,
    pub flags: u32,
    /// exemplars are the point's exemplars as sent.
    pub exemplars: Vec<Exemplar<'a>>,
}

/// HistogramPoint is an explicit-bucket histogram data point.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HistogramPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    /// start_time_unix_nano is when the cumulative series started (0: not sent).
    pub start_time_unix_nano: u64,
    pub count: u64,
    /// None when the (proto3 optional) sum was not sent.
    pub sum: Option<f64>,
    pub bucket_counts: Vec<u64>,
    pub explicit_bounds: Vec<f64>,
    pub flags: u32,
    /// exemplars are the point's exemplars as sent.
    pub exemplars: Vec<Exemplar<'a>>,
}

/// ExponentialBuckets is one side (positive or negative) of an
/// exponential histogram point: dense counts of consecutive buckets, the
/// first one at index `offset` (OTel bucket `i` covers
/// `(base^i, base^(i+1)]`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExponentialBuckets {
    pub offset: i32,
    pub bucket_counts: Vec<u64>,
}

/// ExponentialHistogramPoint is an exponential histogram data point
/// (`base = 2^(2^-scale)`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExponentialHistogramPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    /// start_time_unix_nano is when the cumulative series started (0: not sent).
    pub start_time_unix_nano: u64,
    pub count: u64,
    /// None when the (proto3 optional) sum was not sent.
    pub sum: Option<f64>,
    pub scale: i32,
    pub zero_count: u64,
    pub positive: ExponentialBuckets,
    pub negative: ExponentialBuckets,
    pub flags: u32,
    /// exemplars are the point's exemplars as sent.
    pub exemplars: Vec<Exemplar<'a>>,
}

/// SummaryPoint is a summary data point.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SummaryPoint<'a> {
    pub attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    /// start_time_unix_nano is when the cumulative series started (0: not sent).
    pub start_time_unix_nano: u64,
    pub count: u64,
    pub sum: f64,
    /// (quantile, value) pairs.
    pub quantiles: Vec<(f64, f64)>,
    pub flags: u32,
}

/// Exemplar is one exemplar of a data point.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Exemplar<'a> {
    pub filtered_attributes: Vec<KeyValue<'a>>,
    pub time_unix_nano: u64,
    /// The value (an int value converted to f64).
    pub value: f64,
    /// The span and trace IDs as sent (8 and 16 bytes, or empty).
    pub span_id: Cow<'a, [u8]>,
    pub trace_id: Cow<'a, [u8]>,
}

/// KeyValue is one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue<'a> {
    pub key: Cow<'a, str>,
    pub value: AnyValue<'a>,
}

/// AnyValue is an attribute value.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum AnyValue<'a> {
    #[default]
    Empty,
    String(Cow<'a, str>),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(Vec<AnyValue<'a>>),
    KvList(Vec<KeyValue<'a>>),
    Bytes(Cow<'a, [u8]>),
}

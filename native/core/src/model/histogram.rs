//! Native histogram values, as Prometheus's `model/histogram` defines them:
//! an integer [`Histogram`] (bucket counts delta-encoded between buckets)
//! and a [`FloatHistogram`] (absolute float counts), both laid out by
//! [`Span`]s of consecutive bucket indexes.

/// EXPONENTIAL_SCHEMA_MIN is the lowest exponential schema (`ExponentialSchemaMin`).
pub const EXPONENTIAL_SCHEMA_MIN: i32 = -4;
/// EXPONENTIAL_SCHEMA_MAX is the highest exponential schema (`ExponentialSchemaMax`).
pub const EXPONENTIAL_SCHEMA_MAX: i32 = 8;
/// EXPONENTIAL_SCHEMA_MIN_RESERVED is the lowest schema a chunk may hold
/// (`ExponentialSchemaMinReserved`): readers reduce what they do not know.
pub const EXPONENTIAL_SCHEMA_MIN_RESERVED: i32 = -9;
/// EXPONENTIAL_SCHEMA_MAX_RESERVED is the highest such schema.
pub const EXPONENTIAL_SCHEMA_MAX_RESERVED: i32 = 52;
/// CUSTOM_BUCKETS_SCHEMA marks a histogram with explicit bucket bounds
/// (NHCB, `CustomBucketsSchema`).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// STALE_NAN_BITS is Prometheus's staleness marker, as a histogram's sum.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// is_custom_buckets_schema reports the NHCB schema.
#[inline]
pub fn is_custom_buckets_schema(schema: i32) -> bool {
    schema == CUSTOM_BUCKETS_SCHEMA
}

/// is_exponential_schema reports a schema in -4..=8.
#[inline]
pub fn is_exponential_schema(schema: i32) -> bool {
    (EXPONENTIAL_SCHEMA_MIN..=EXPONENTIAL_SCHEMA_MAX).contains(&schema)
}

/// is_known_schema reports a schema a chunk may carry (`IsKnownSchema`).
#[inline]
pub fn is_known_schema(schema: i32) -> bool {
    is_custom_buckets_schema(schema)
        || (EXPONENTIAL_SCHEMA_MIN_RESERVED..=EXPONENTIAL_SCHEMA_MAX_RESERVED).contains(&schema)
}

/// is_stale_nan reports the staleness marker by its exact bits.
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// custom_bounds_match compares custom bucket bounds as Go's `==` on floats.
#[inline]
pub fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Span is a run of `length` consecutive buckets starting `offset` buckets
/// after the end of the previous span (after index 0 for the first one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

/// count_buckets is the number of buckets the spans describe.
#[inline]
pub fn count_buckets(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

/// CounterResetHint says what a sample knows about counter resets
/// (`histogram.CounterResetHint`; the numbers are Prometheus's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum CounterResetHint {
    /// Nothing known: the reader compares with the previous sample.
    #[default]
    Unknown = 0,
    /// This sample is a counter reset.
    CounterReset = 1,
    /// This sample is known not to be a counter reset.
    NotCounterReset = 2,
    /// A gauge histogram: no counter semantics.
    Gauge = 3,
}

impl CounterResetHint {
    /// from_u8 maps Prometheus's numbers (and the remote-write enum, which
    /// uses the same values) to a hint; unknown numbers are `Unknown`.
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => CounterResetHint::CounterReset,
            2 => CounterResetHint::NotCounterReset,
            3 => CounterResetHint::Gauge,
            _ => CounterResetHint::Unknown,
        }
    }
}

/// Histogram is an integer native histogram. Bucket slices hold the first
/// bucket's count followed by the difference of each bucket from the one
/// before it (Prometheus's delta encoding).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: u64,
    pub count: u64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub positive_buckets: Vec<i64>,
    pub negative_buckets: Vec<i64>,
    /// Upper bounds of the custom buckets (schema -53 only), +Inf implied.
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// stale is the staleness marker histogram (only the sum is set).
    pub fn stale() -> Self {
        Histogram {
            sum: f64::from_bits(STALE_NAN_BITS),
            ..Default::default()
        }
    }

    /// to_float converts to absolute float bucket counts (`ToFloat`).
    pub fn to_float(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count as f64,
            count: self.count as f64,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: absolute(&self.positive_buckets),
            negative_buckets: absolute(&self.negative_buckets),
            custom_values: self.custom_values.clone(),
        }
    }
}

/// absolute turns delta-encoded bucket counts into absolute float counts.
fn absolute(deltas: &[i64]) -> Vec<f64> {
    let mut cur = 0i64;
    deltas
        .iter()
        .map(|d| {
            cur = cur.wrapping_add(*d);
            cur as f64
        })
        .collect()
}

/// FloatHistogram is a native histogram with float counts; bucket slices
/// hold absolute counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema -53 only), +Inf implied.
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    /// stale is the staleness marker histogram (only the sum is set).
    pub fn stale() -> Self {
        FloatHistogram {
            sum: f64::from_bits(STALE_NAN_BITS),
            ..Default::default()
        }
    }
}

/// HistogramValue is an integer or a float native histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramValue {
    Int(Histogram),
    Float(FloatHistogram),
}

impl HistogramValue {
    /// assign makes self a copy of src, reusing self's bucket and span
    /// buffers when both are of the same kind (Vec's `clone_from`).
    pub fn assign(&mut self, src: &HistogramValue) {
        match (self, src) {
            (HistogramValue::Int(d), HistogramValue::Int(s)) => {
                d.counter_reset_hint = s.counter_reset_hint;
                d.schema = s.schema;
                d.zero_threshold = s.zero_threshold;
                d.zero_count = s.zero_count;
                d.count = s.count;
                d.sum = s.sum;
                d.positive_spans.clone_from(&s.positive_spans);
                d.negative_spans.clone_from(&s.negative_spans);
                d.positive_buckets.clone_from(&s.positive_buckets);
                d.negative_buckets.clone_from(&s.negative_buckets);
                d.custom_values.clone_from(&s.custom_values);
            }
            (HistogramValue::Float(d), HistogramValue::Float(s)) => {
                d.counter_reset_hint = s.counter_reset_hint;
                d.schema = s.schema;
                d.zero_threshold = s.zero_threshold;
                d.zero_count = s.zero_count;
                d.count = s.count;
                d.sum = s.sum;
                d.positive_spans.clone_from(&s.positive_spans);
                d.negative_spans.clone_from(&s.negative_spans);
                d.positive_buckets.clone_from(&s.positive_buckets);
                d.negative_buckets.clone_from(&s.negative_buckets);
                d.custom_values.clone_from(&s.custom_values);
            }
            (d, s) => *d = s.clone(),
        }
    }

    /// schema is the histogram's schema.
    pub fn schema(&self) -> i32 {
        match self {
            HistogramValue::Int(h) => h.schema,
            HistogramValue::Float(h) => h.schema,
        }
    }

    /// bucket_count counts positive and negative buckets (Mimir's `BucketCount`).
    pub fn bucket_count(&self) -> usize {
        match self {
            HistogramValue::Int(h) => h.positive_buckets.len() + h.negative_buckets.len(),
            HistogramValue::Float(h) => h.positive_buckets.len() + h.negative_buckets.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_copies_into_the_same_kind_and_replaces_another() {
        let a = HistogramValue::Int(Histogram {
            schema: 2,
            count: 3,
            sum: 1.5,
            positive_spans: vec![Span {
                offset: 1,
                length: 2,
            }],
            positive_buckets: vec![1, 1],
            ..Histogram::default()
        });
        let mut d = HistogramValue::Int(Histogram {
            positive_buckets: vec![9; 40],
            ..Histogram::default()
        });
        d.assign(&a);
        assert_eq!(d, a);
        let f = HistogramValue::Float(FloatHistogram {
            count: 2.5,
            ..FloatHistogram::default()
        });
        d.assign(&f);
        assert_eq!(d, f);
        d.assign(&a);
        assert_eq!(d, a);
    }

    #[test]
    fn to_float_accumulates_deltas() {
        let h = Histogram {
            count: 7,
            zero_count: 1,
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![2, 1, -3],
            ..Default::default()
        };
        let f = h.to_float();
        assert_eq!(f.positive_buckets, vec![2.0, 3.0, 0.0]);
        assert_eq!((f.count, f.zero_count), (7.0, 1.0));
    }

    #[test]
    fn schemas() {
        assert!(is_exponential_schema(-4) && is_exponential_schema(8));
        assert!(!is_exponential_schema(9) && !is_exponential_schema(-53));
        assert!(is_known_schema(-53) && is_known_schema(52) && !is_known_schema(-10));
        assert!(is_stale_nan(Histogram::stale().sum));
        assert_eq!(CounterResetHint::from_u8(3), CounterResetHint::Gauge);
    }
}

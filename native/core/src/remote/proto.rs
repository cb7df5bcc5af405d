//! Zero-copy decoder for the Prometheus remote write 1.0 `WriteRequest`.
//!
//! The wire schema (prompb `remote.proto` + `types.proto`, with Mimir's
//! `mimirpb` additions):
//!
//! ```text
//! WriteRequest   { repeated TimeSeries timeseries = 1; Source source = 2 (varint, Mimir);
//!                  repeated MetricMetadata metadata = 3; bool skip_label_validation = 1000 (Mimir) }
//! TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2;
//!                  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4 }
//! Label          { string name = 1; string value = 2 }
//! Sample         { double value = 1; int64 timestamp = 2 }
//! Exemplar       { repeated Label labels = 1; double value = 2; int64 timestamp = 3 }
//! MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5 }
//! ```
//!
//! # Exemplars
//!
//! Exemplars are decoded zero-copy like samples: all exemplars of a request
//! are one flat `WriteRequestView::exemplars` list (request order), their
//! labels one flat `WriteRequestView::exemplar_labels` list. Series `i` owns
//! `exemplars[e.exemplars_start..e.exemplars_start + e.exemplars]` (`e` its
//! [`SeriesEntry`]) and exemplar `x` owns
//! `exemplar_labels[x.labels_start..x.labels_end]`. Another decoder (remote
//! write 2.0) fills the same lists: per series, set `exemplars_start` to
//! `exemplars.len()`, push each exemplar (its labels first, to get the
//! range) and count them in `exemplars`. A decoder that only counts (leaves
//! the list empty) yields series whose exemplar slice is empty.
//!
//! Errors carry gogo's texts (see `wire`, which reads the fields).

use super::histogram::{decode_histogram, HistogramSample};
pub use super::wire::DecodeError;
use super::wire::Reader;

/// Sample is one float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    pub timestamp_ms: i64,
    pub value: f64,
    /// The sample's start timestamp in ms (remote write 2.0's
    /// `start_timestamp`), 0 when not given.
    pub start_timestamp_ms: i64,
}

/// Label is a `(name, value)` pair borrowed from the request buffer.
pub type Label<'a> = (&'a str, &'a str);

/// SeriesEntry locates one `TimeSeries` in the flat arrays of a
/// [`WriteRequestView`]: `labels[labels_start..labels_end]`,
/// `samples[samples_start..samples_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeriesEntry {
    pub labels_start: usize,
    pub labels_end: usize,
    pub samples_start: usize,
    pub samples_end: usize,
    /// Number of exemplars sent with the series: they are
    /// `exemplars[exemplars_start..exemplars_start + exemplars]` of the view.
    pub exemplars: usize,
    /// Number of native histogram samples sent with the series: they are
    /// `histograms[histograms_start..histograms_start + histograms]` of the view.
    pub histograms: usize,
    /// Index of the series' first exemplar in [`WriteRequestView::exemplars`].
    pub exemplars_start: usize,
    /// Index of the series' first histogram in [`WriteRequestView::histograms`].
    pub histograms_start: usize,
}

/// ExemplarView is one exemplar of a series: its labels are
/// `exemplar_labels[labels_start..labels_end]` of the [`WriteRequestView`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExemplarView {
    pub labels_start: usize,
    pub labels_end: usize,
    pub value: f64,
    /// 0 when the client sent none (Mimir rejects those).
    pub timestamp_ms: i64,
}

/// SeriesView is one series of a decoded request: its labels (in wire
/// order until [`WriteRequestView::sort_and_filter_labels`] ran) and samples.
#[derive(Debug, Clone, Copy)]
pub struct SeriesView<'v, 'a> {
    pub labels: &'v [Label<'a>],
    pub samples: &'v [Sample],
    /// Number of exemplars sent with the series.
    pub exemplars: usize,
    pub histograms: usize,
    /// The series' exemplars (labels via [`WriteRequestView::exemplar_labels_of`]).
    pub exemplar_list: &'v [ExemplarView],
    /// The series' native histogram samples, in request order.
    pub histogram_list: &'v [HistogramSample],
}

/// MetadataView is one `MetricMetadata` entry, strings borrowed from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetadataView<'a> {
    /// The raw `MetricType` enum value (0 unknown, 1 counter, 2 gauge,
    /// 3 histogram, 4 gaugehistogram, 5 summary, 6 info, 7 stateset).
    pub metric_type: i32,
    pub metric_family_name: &'a str,
    pub help: &'a str,
    pub unit: &'a str,
}

impl MetadataView<'_> {
    /// type_name is the Prometheus API spelling of the metric type
    /// (`/api/v1/metadata` "type"); out-of-range values read as "unknown".
    pub fn type_name(&self) -> &'static str {
        match self.metric_type {
            1 => "counter",
            2 => "gauge",
            3 => "histogram",
            4 => "gaugehistogram",
            5 => "summary",
            6 => "info",
            7 => "stateset",
            _ => "unknown",
        }
    }
}

/// WriteRequestView is a decoded `WriteRequest` that borrows every string
/// from the input buffer. Labels and samples of all series live in two flat
/// arrays; `series` holds the ranges (see [`WriteRequestView::series`]).
#[derive(Debug, Default)]
pub struct WriteRequestView<'a> {
    pub series: Vec<SeriesEntry>,
    pub labels: Vec<Label<'a>>,
    pub samples: Vec<Sample>,
    pub metadata: Vec<MetadataView<'a>>,
    /// Every exemplar of the request, series by series (see the module docs).
    pub exemplars: Vec<ExemplarView>,
    /// The labels of every exemplar, exemplar by exemplar.
    pub exemplar_labels: Vec<Label<'a>>,
    /// Every native histogram sample of the request, series by series.
    pub histograms: Vec<HistogramSample>,
    /// The series' created timestamps (a zero sample before their first
    /// sample or histogram), when the request gave any: remote write 2.0's
    /// `created_timestamp`, and the same field of Mimir's 1.0 TimeSeries
    /// (6), which our distributors send for OTLP start times.
    pub created_timestamps: super::v2::CreatedTimestamps,
}

impl<'a> WriteRequestView<'a> {
    /// exemplar_labels_of returns the labels of an exemplar of this view.
    pub fn exemplar_labels_of(&self, e: &ExemplarView) -> &[Label<'a>] {
        self.exemplar_labels
            .get(e.labels_start..e.labels_end)
            .unwrap_or(&[])
    }

    /// exemplar_range is the range of series `i`'s exemplars in
    /// `exemplars` (empty when a decoder only counted them).
    pub fn exemplar_range(&self, i: usize) -> std::ops::Range<usize> {
        let e = &self.series[i];
        let end = e.exemplars_start + e.exemplars;
        if end <= self.exemplars.len() {
            e.exemplars_start..end
        } else {
            0..0
        }
    }

    /// series returns the view of series `i`. Panics if `i` is out of range.
    pub fn series(&self, i: usize) -> SeriesView<'_, 'a> {
        self.view(&self.series[i])
    }

    /// iter_series walks all series in request order.
    pub fn iter_series(&self) -> impl ExactSizeIterator<Item = SeriesView<'_, 'a>> + '_ {
        self.series.iter().map(move |e| self.view(e))
    }

    fn view(&self, e: &SeriesEntry) -> SeriesView<'_, 'a> {
        let end = e.exemplars_start + e.exemplars;
        SeriesView {
            labels: &self.labels[e.labels_start..e.labels_end],
            samples: &self.samples[e.samples_start..e.samples_end],
            exemplars: e.exemplars,
            histograms: e.histograms,
            exemplar_list: self.exemplars.get(e.exemplars_start..end).unwrap_or(&[]),
            histogram_list: self
                .histograms
                .get(e.histograms_start..e.histograms_start + e.histograms)
                .unwrap_or(&[]),
        }
    }

    /// total_samples counts float samples over all series.
    pub fn total_samples(&self) -> usize {
        self.series
            .iter()
            .map(|e| e.samples_end - e.samples_start)
            .sum()
    }

    /// total_exemplars counts exemplars over all series.
    pub fn total_exemplars(&self) -> usize {
        self.series.iter().map(|e| e.exemplars).sum()
    }

    /// total_histograms counts native histogram samples over all series.
    pub fn total_histograms(&self) -> usize {
        self.series.iter().map(|e| e.histograms).sum()
    }

    /// into_scratch gives the allocations back for the next decode.
    pub fn into_scratch(self) -> DecodeScratch {
        DecodeScratch {
            series: self.series,
            labels: recycle(self.labels),
            samples: self.samples,
            metadata: recycle(self.metadata),
            exemplars: self.exemplars,
            exemplar_labels: recycle(self.exemplar_labels),
            histograms: self.histograms,
        }
    }
}

/// DecodeScratch keeps the vectors of a finished [`WriteRequestView`] so that
/// the next [`decode_write_request_with`] reuses their capacity.
#[derive(Debug, Default)]
pub struct DecodeScratch {
    series: Vec<SeriesEntry>,
    labels: Vec<Label<'static>>,
    samples: Vec<Sample>,
    metadata: Vec<MetadataView<'static>>,
    exemplars: Vec<ExemplarView>,
    exemplar_labels: Vec<Label<'static>>,
    histograms: Vec<HistogramSample>,
}

impl DecodeScratch {
    /// retained_items is how many items its vectors have room for.
    pub fn retained_items(&self) -> usize {
        self.series.capacity()
            + self.labels.capacity()
            + self.samples.capacity()
            + self.metadata.capacity()
            + self.exemplars.capacity()
            + self.exemplar_labels.capacity()
            + self.histograms.capacity()
    }
}

/// recycle empties a vector and re-types it to another lifetime of the same
/// type. The standard library collects a mapped `IntoIter` in place when the
/// element layouts agree (always true across lifetimes), so the allocation
/// is kept; if it ever is not, this is merely a fresh empty vector.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("vector was cleared"))
        .collect()
}

/// decode_write_request decodes a (snappy-decompressed) remote write 1.0
/// body. Labels and metadata strings borrow from `buf`.
pub fn decode_write_request(buf: &[u8]) -> Result<WriteRequestView<'_>, DecodeError> {
    decode_write_request_with(buf, &mut DecodeScratch::default())
}

/// decode_write_request_with is [`decode_write_request`] reusing the
/// allocations held by `scratch` (left empty; refill it with
/// [`WriteRequestView::into_scratch`]). On error the allocations go back
/// into `scratch`.
pub fn decode_write_request_with<'a>(
    buf: &'a [u8],
    scratch: &mut DecodeScratch,
) -> Result<WriteRequestView<'a>, DecodeError> {
    let s = std::mem::take(scratch);
    let mut out = WriteRequestView {
        series: s.series,
        labels: recycle(s.labels),
        samples: s.samples,
        metadata: recycle(s.metadata),
        exemplars: s.exemplars,
        exemplar_labels: recycle(s.exemplar_labels),
        histograms: s.histograms,
        created_timestamps: Default::default(),
    };
    out.series.clear();
    out.histograms.clear();
    out.samples.clear();
    out.exemplars.clear();
    match decode_into(buf, &mut out) {
        Ok(()) => Ok(out),
        Err(e) => {
            *scratch = out.into_scratch();
            Err(e)
        }
    }
}

fn decode_into<'a>(buf: &'a [u8], out: &mut WriteRequestView<'a>) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf, "WriteRequest");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => decode_timeseries(r.bytes_field(wt, "Timeseries")?, out)?,
            2 => {
                r.varint_field(wt, "Source")?;
            }
            3 => {
                let msg = r.bytes_field(wt, "Metadata")?;
                out.metadata.push(decode_metadata(msg)?);
            }
            1000 => {
                r.varint_field(wt, "SkipLabelNameValidation")?;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(())
}

fn decode_timeseries<'a>(buf: &'a [u8], out: &mut WriteRequestView<'a>) -> Result<(), DecodeError> {
    let mut entry = SeriesEntry {
        labels_start: out.labels.len(),
        samples_start: out.samples.len(),
        exemplars_start: out.exemplars.len(),
        histograms_start: out.histograms.len(),
        ..SeriesEntry::default()
    };
    let mut created = 0i64;
    let mut r = Reader::new(buf, "TimeSeries");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => out.labels.push(decode_label(r.bytes_field(wt, "Labels")?)?),
            2 => {
                let msg = r.bytes_field(wt, "Samples")?;
                out.samples.push(decode_sample(msg)?);
            }
            3 => {
                let msg = r.bytes_field(wt, "Exemplars")?;
                let ex = decode_exemplar(msg, &mut out.exemplar_labels)?;
                out.exemplars.push(ex);
                entry.exemplars += 1;
            }
            4 => {
                let msg = r.bytes_field(wt, "Histograms")?;
                out.histograms.push(decode_histogram(msg)?);
                entry.histograms += 1;
            }
            6 => created = r.varint_field(wt, "CreatedTimestamp")? as i64,
            _ => r.skip(wt)?,
        }
    }
    entry.labels_end = out.labels.len();
    entry.samples_end = out.samples.len();
    out.series.push(entry);
    out.created_timestamps.add_series(&entry, created);
    Ok(())
}

/// decode_label decodes a `LabelPair`; the last occurrence of a field wins.
/// Name and value are checked for UTF-8 once the whole pair is read.
fn decode_label(buf: &[u8]) -> Result<Label<'_>, DecodeError> {
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut r = Reader::new(buf, "LabelPair");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => name = r.bytes_field(wt, "Name")?,
            2 => value = r.bytes_field(wt, "Value")?,
            _ => r.skip(wt)?,
        }
    }
    let name =
        std::str::from_utf8(name).map_err(|_| DecodeError::invalid_utf8("LabelPair", "Name"))?;
    let value =
        std::str::from_utf8(value).map_err(|_| DecodeError::invalid_utf8("LabelPair", "Value"))?;
    Ok((name, value))
}

pub(super) fn decode_sample(buf: &[u8]) -> Result<Sample, DecodeError> {
    let mut s = Sample::default();
    let mut r = Reader::new(buf, "Sample");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => s.value = r.f64_field(wt, "Value")?,
            2 => s.timestamp_ms = r.varint_field(wt, "TimestampMs")? as i64,
            // Remote write 2.0 only (1.0's Sample has no field 3).
            3 => s.start_timestamp_ms = r.varint_field(wt, "StartTimestamp")? as i64,
            _ => r.skip(wt)?,
        }
    }
    Ok(s)
}

/// decode_exemplar decodes an `Exemplar`, pushing its labels to `labels`.
fn decode_exemplar<'a>(
    buf: &'a [u8],
    labels: &mut Vec<Label<'a>>,
) -> Result<ExemplarView, DecodeError> {
    let mut ex = ExemplarView {
        labels_start: labels.len(),
        ..ExemplarView::default()
    };
    let mut r = Reader::new(buf, "Exemplar");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => labels.push(decode_label(r.bytes_field(wt, "Labels")?)?),
            2 => ex.value = r.f64_field(wt, "Value")?,
            3 => ex.timestamp_ms = r.varint_field(wt, "TimestampMs")? as i64,
            _ => r.skip(wt)?,
        }
    }
    ex.labels_end = labels.len();
    Ok(ex)
}

fn decode_metadata(buf: &[u8]) -> Result<MetadataView<'_>, DecodeError> {
    let mut m = MetadataView::default();
    let mut r = Reader::new(buf, "MetricMetadata");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => m.metric_type = r.varint_field(wt, "Type")? as i32,
            2 => m.metric_family_name = r.str_field(wt, "MetricFamilyName")?,
            4 => m.help = r.str_field(wt, "Help")?,
            5 => m.unit = r.str_field(wt, "Unit")?,
            _ => r.skip(wt)?,
        }
    }
    Ok(m)
}

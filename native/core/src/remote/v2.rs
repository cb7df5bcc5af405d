//! Zero-copy decoder for the Prometheus remote write 2.0 request,
//! `io.prometheus.write.v2.Request`, into the same [`WriteRequestView`] the
//! 1.0 decoder produces, so that validation, limits, the WAL and the head
//! are shared by both protocols.
//!
//! The wire schema (prompb `io/prometheus/write/v2/types.proto`, with the
//! fields Mimir adds to the same message):
//!
//! ```text
//! Request    { reserved 1 to 3; Source source = 2 (varint, Mimir); repeated string symbols = 4;
//!              repeated TimeSeries timeseries = 5; bool skip_label_validation = 1000 (Mimir);
//!              bool skip_label_count_validation = 1001 (Mimir) }
//! TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
//!              repeated Histogram histograms = 3; repeated Exemplar exemplars = 4;
//!              Metadata metadata = 5; int64 created_timestamp = 6 }
//! Sample     { double value = 1; int64 timestamp = 2 }
//! Exemplar   { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3 }
//! Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4 }
//! ```
//!
//! Every string is a reference into `symbols`, whose first entry must be
//! the empty string. Symbols are collected in a first pass over the request,
//! so their position relative to the series does not matter.
//!
//! Mimir's behaviour, which this follows:
//! * A reference outside `symbols`, an odd number of label references, or
//!   a first symbol that is not empty fails the whole request with HTTP 400
//!   and the texts of Mimir's RW2 unmarshaler (`proto: Remote Write 2.0
//!   invalid label reference`, ...); the RW1 fields 1 and 3 are refused too.
//! * Metadata becomes one [`MetadataView`] per metric family: the family
//!   name is the series' `__name__` without the suffix its type implies
//!   (`_bucket`/`_count`/`_sum` for histograms, `_count`/`_sum` for
//!   summaries, `_bucket`/`_gcount`/`_gsum` for gauge histograms; `_total`
//!   stays), entries with no type, help and unit are dropped, and the first
//!   entry of a family wins.
//! * Native histograms and exemplars are decoded for well-formedness and
//!   counted per series, as the 1.0 path counts them; they are not kept yet.
//! * `created_timestamp` is returned per series in the view's
//!   [`CreatedTimestamps`]; ingest turns it into a zero sample before the
//!   series' first sample or histogram (see `crate::ingest`).
//!
//! Departures: symbols must be valid UTF-8 (Mimir accepts any bytes), and
//! `labels_refs` may also be sent unpacked (Mimir refuses that form as an
//! odd number of references; proto3 parsers must accept it).

use std::collections::HashSet;

use super::histogram::decode_histogram;
use super::ExemplarView;

use super::proto::{decode_sample, DecodeError, MetadataView, SeriesEntry, WriteRequestView};
use super::wire::{Reader, WT_LEN, WT_VARINT};

/// WriteRequestV2 is a decoded remote write 2.0 request.
#[derive(Debug, Default)]
pub struct WriteRequestV2<'a> {
    /// The series, samples, metadata and created timestamps in the shape
    /// of a 1.0 request.
    pub request: WriteRequestView<'a>,
}

/// CreatedTimestamps maps series to their `created_timestamp` (ms). A
/// series is found by its `samples_start`: unique among series with samples
/// (the only ones a created timestamp matters for) and left alone when the
/// view drops series or duplicate samples, unlike the series' index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CreatedTimestamps {
    /// `(samples_start, created_timestamp_ms)`, ascending by samples_start.
    entries: Vec<(usize, i64)>,
    /// The same for series' native histograms (OTLP), by `histograms_start`.
    histogram_entries: Vec<(usize, i64)>,
}

impl CreatedTimestamps {
    /// get returns the created timestamp of the series whose samples start
    /// at `samples_start`.
    pub fn get(&self, samples_start: usize) -> Option<i64> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries
            .binary_search_by_key(&samples_start, |(s, _)| *s)
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// push records the created timestamp of the series whose samples start
    /// at `samples_start`; series must come in ascending `samples_start`.
    pub fn push(&mut self, samples_start: usize, created_timestamp_ms: i64) {
        debug_assert!(self.entries.last().is_none_or(|(s, _)| *s < samples_start));
        self.entries.push((samples_start, created_timestamp_ms));
    }

    /// add_series records a decoded series' created timestamp (0: none)
    /// for its float samples and its native histograms, if it has any.
    pub fn add_series(&mut self, entry: &super::proto::SeriesEntry, created_timestamp_ms: i64) {
        if created_timestamp_ms == 0 {
            return;
        }
        if entry.samples_end > entry.samples_start {
            self.push(entry.samples_start, created_timestamp_ms);
        }
        if entry.histograms > 0 {
            self.push_histograms(entry.histograms_start, created_timestamp_ms);
        }
    }

    /// get_histograms returns the created timestamp before the native
    /// histograms of the series whose histograms start at `histograms_start`.
    pub fn get_histograms(&self, histograms_start: usize) -> Option<i64> {
        let list = &self.histogram_entries;
        list.binary_search_by_key(&histograms_start, |(s, _)| *s)
            .ok()
            .map(|i| list[i].1)
    }

    /// push_histograms records the created timestamp of the series whose
    /// native histograms start at `histograms_start` (ascending).
    pub fn push_histograms(&mut self, histograms_start: usize, created_timestamp_ms: i64) {
        debug_assert!(self
            .histogram_entries
            .last()
            .is_none_or(|(s, _)| *s < histograms_start));
        self.histogram_entries
            .push((histograms_start, created_timestamp_ms));
    }

    /// len is the number of series with a created timestamp.
    pub fn len(&self) -> usize {
        self.entries.len() + self.histogram_entries.len()
    }

    /// is_empty is true when no series had a created timestamp.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.histogram_entries.is_empty()
    }
}

fn rw2_error(what: &str) -> DecodeError {
    DecodeError::new(format!("proto: Remote Write 2.0 {what}"))
}

/// decode_write_request_v2 decodes a (snappy-decompressed) remote write 2.0
/// body. Labels and metadata strings borrow from `buf`.
pub fn decode_write_request_v2(buf: &[u8]) -> Result<WriteRequestV2<'_>, DecodeError> {
    const MSG: &str = "WriteRequest";
    // First pass: the symbols table, and where each series is.
    let mut symbols: Vec<&str> = Vec::new();
    let mut series: Vec<&[u8]> = Vec::new();
    let mut r = Reader::new(buf, MSG);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                return Err(DecodeError::new(
                    "proto: Remote Write 1.0 field Timeseries in non-Remote Write 1.0 message"
                        .to_string(),
                ))
            }
            3 => {
                return Err(DecodeError::new(
                    "proto: Remote Write 1.0 field Metadata in non-Remote Write 1.0 message"
                        .to_string(),
                ))
            }
            2 => {
                r.varint_field(wt, "Source")?;
            }
            4 => symbols.push(r.str_field(wt, "Symbols")?),
            5 => series.push(r.bytes_field(wt, "Timeseries")?),
            1000 => {
                r.varint_field(wt, "SkipLabelValidation")?;
            }
            1001 => {
                r.varint_field(wt, "SkipLabelCountValidation")?;
            }
            _ => r.skip(wt)?,
        }
    }
    if symbols.first().is_some_and(|s| !s.is_empty()) {
        return Err(rw2_error("symbols must start with empty string"));
    }

    // Second pass: the series, resolving references as they come.
    let mut out = WriteRequestV2::default();
    out.request.series.reserve(series.len());
    let mut families: HashSet<&str> = HashSet::new();
    let symbols = Symbols(&symbols);
    for ts in series {
        decode_timeseries(ts, symbols, &mut out, &mut families)?;
    }
    Ok(out)
}

/// Symbols is the request's symbols table.
#[derive(Clone, Copy)]
struct Symbols<'s, 'a>(&'s [&'a str]);

impl<'a> Symbols<'_, 'a> {
    #[inline]
    fn get(self, r: u64, err: &str) -> Result<&'a str, DecodeError> {
        usize::try_from(r)
            .ok()
            .and_then(|i| self.0.get(i))
            .copied()
            .ok_or_else(|| rw2_error(err))
    }
}

/// LabelRefs turns a stream of `labels_refs` (packed or not, possibly in
/// several runs) into pairs; `push` receives each (name, value).
struct LabelRefs<'a> {
    count: usize,
    name: &'a str,
}

impl<'a> LabelRefs<'a> {
    fn new() -> Self {
        LabelRefs { count: 0, name: "" }
    }

    /// add reads the field's value (wire type already read) and feeds the
    /// references it holds.
    fn add(
        &mut self,
        r: &mut Reader<'_>,
        wt: u8,
        symbols: Symbols<'_, 'a>,
        invalid: &str,
        mut push: impl FnMut(&'a str, &'a str),
    ) -> Result<(), DecodeError> {
        let mut one = |r: u64, this: &mut Self| -> Result<(), DecodeError> {
            let s = symbols.get(r, invalid)?;
            if this.count.is_multiple_of(2) {
                this.name = s;
            } else {
                push(this.name, s);
            }
            this.count += 1;
            Ok(())
        };
        match wt {
            WT_LEN => {
                let mut packed = Reader::new(r.bytes()?, "LabelsRefs");
                while packed.more() {
                    one(packed.varint()?, self)?;
                }
                Ok(())
            }
            WT_VARINT => one(r.varint()?, self),
            _ => Err(DecodeError::wrong_wire_type(wt, "LabelsRefs")),
        }
    }

    fn is_odd(&self) -> bool {
        !self.count.is_multiple_of(2)
    }
}

/// SeriesMetadata is a series' `Metadata`, its references resolved.
#[derive(Default, Clone, Copy)]
struct SeriesMetadata<'a> {
    metric_type: i32,
    help: &'a str,
    unit: &'a str,
}

fn decode_timeseries<'a>(
    buf: &'a [u8],
    symbols: Symbols<'_, 'a>,
    out: &mut WriteRequestV2<'a>,
    families: &mut HashSet<&'a str>,
) -> Result<(), DecodeError> {
    let req = &mut out.request;
    let mut entry = SeriesEntry {
        labels_start: req.labels.len(),
        samples_start: req.samples.len(),
        exemplars_start: req.exemplars.len(),
        histograms_start: req.histograms.len(),
        ..SeriesEntry::default()
    };
    let mut refs = LabelRefs::new();
    let mut metadata: Option<SeriesMetadata<'a>> = None;
    let mut created_timestamp = 0i64;
    let mut r = Reader::new(buf, "TimeSeriesRW2");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                let labels = &mut req.labels;
                refs.add(&mut r, wt, symbols, "invalid label reference", |n, v| {
                    labels.push((n, v))
                })?;
            }
            2 => {
                let msg = r.bytes_field(wt, "Samples")?;
                req.samples.push(decode_sample(msg)?);
            }
            3 => {
                let msg = r.bytes_field(wt, "Histograms")?;
                req.histograms.push(decode_histogram(msg)?);
                entry.histograms += 1;
            }
            4 => {
                decode_exemplar(r.bytes_field(wt, "Exemplars")?, symbols, req)?;
                entry.exemplars += 1;
            }
            5 => metadata = Some(decode_metadata(r.bytes_field(wt, "Metadata")?, symbols)?),
            6 => created_timestamp = r.varint_field(wt, "CreatedTimestamp")? as i64,
            _ => r.skip(wt)?,
        }
    }
    if refs.is_odd() {
        return Err(rw2_error("odd number of label references"));
    }
    entry.labels_end = req.labels.len();
    entry.samples_end = req.samples.len();
    req.series.push(entry);

    req.created_timestamps.add_series(&entry, created_timestamp);
    if let Some(m) = metadata {
        if m.metric_type != 0 || !m.help.is_empty() || !m.unit.is_empty() {
            let labels = &req.labels[entry.labels_start..entry.labels_end];
            let name = labels
                .iter()
                .find(|(n, _)| *n == "__name__")
                .map_or("", |(_, v)| *v);
            let family = metric_family_name(name, m.metric_type);
            if !family.is_empty() && families.insert(family) {
                req.metadata.push(MetadataView {
                    metric_type: m.metric_type,
                    metric_family_name: family,
                    help: m.help,
                    unit: m.unit,
                });
            }
        }
    }
    Ok(())
}

/// check_exemplar walks an `Exemplar`, checking its label references.
/// decode_exemplar appends one exemplar (labels resolved from `symbols`)
/// to the request's flat exemplar lists (see `proto`'s module docs).
fn decode_exemplar<'a>(
    buf: &[u8],
    symbols: Symbols<'_, 'a>,
    req: &mut WriteRequestView<'a>,
) -> Result<(), DecodeError> {
    let mut refs = LabelRefs::new();
    let labels_start = req.exemplar_labels.len();
    let (mut value, mut timestamp_ms) = (0.0, 0i64);
    let mut r = Reader::new(buf, "ExemplarRW2");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                let labels = &mut req.exemplar_labels;
                refs.add(
                    &mut r,
                    wt,
                    symbols,
                    "invalid exemplar label reference",
                    |n, v| labels.push((n, v)),
                )?
            }
            2 => value = r.f64_field(wt, "Value")?,
            3 => timestamp_ms = r.varint_field(wt, "Timestamp")? as i64,
            _ => r.skip(wt)?,
        }
    }
    if refs.is_odd() {
        return Err(rw2_error("odd number of exemplar label references"));
    }
    req.exemplars.push(ExemplarView {
        labels_start,
        labels_end: req.exemplar_labels.len(),
        value,
        timestamp_ms,
    });
    Ok(())
}

fn decode_metadata<'a>(
    buf: &[u8],
    symbols: Symbols<'_, 'a>,
) -> Result<SeriesMetadata<'a>, DecodeError> {
    let mut m = SeriesMetadata::default();
    let mut r = Reader::new(buf, "MetadataRW2");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => m.metric_type = r.varint_field(wt, "Type")? as i32,
            3 => m.help = symbols.get(r.varint_field(wt, "HelpRef")?, "invalid help reference")?,
            4 => m.unit = symbols.get(r.varint_field(wt, "UnitRef")?, "invalid unit reference")?,
            _ => r.skip(wt)?,
        }
    }
    Ok(m)
}

/// metric_family_name cuts from a series name the suffix its metric type
/// implies (OpenMetrics' mandatory suffixes, as Mimir cuts them for remote
/// write 2.0 metadata); `_total` of counters and `_info` stay.
pub fn metric_family_name(series_name: &str, metric_type: i32) -> &str {
    let suffixes: &[&str] = match metric_type {
        3 => &["_bucket", "_count", "_sum"],
        4 => &["_bucket", "_gcount", "_gsum"],
        5 => &["_count", "_sum"],
        _ => &[],
    };
    suffixes
        .iter()
        .find_map(|s| series_name.strip_suffix(s))
        .unwrap_or(series_name)
}

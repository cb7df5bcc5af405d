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
//! Errors carry the texts of the gogo-protobuf generated unmarshalers that
//! Mimir runs (`unexpected EOF`, `proto: integer overflow`, ...), because
//! Mimir answers an undecodable push with HTTP 400 and that text as body.
//! Unknown fields are skipped exactly as gogo does, including well-formed
//! groups (wire types 3/4); an unmatched end-group is an error.

use std::fmt;

/// Sample is one float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    pub timestamp_ms: i64,
    pub value: f64,
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
    /// Number of native histogram samples sent with the series (kept opaque for now).
    pub histograms: usize,
    /// Index of the series' first exemplar in [`WriteRequestView::exemplars`].
    pub exemplars_start: usize,
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

/// DecodeError is a malformed `WriteRequest`. [`DecodeError::message`] is
/// the text Mimir puts in the HTTP 400 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    /// message is the error text as Mimir's push handler returns it with
    /// status 400 (Go's `http.Error` adds a trailing "\n" to the body).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(super) fn new(message: String) -> Self {
        DecodeError { message }
    }

    pub(super) fn eof() -> Self {
        Self::new("unexpected EOF".to_string())
    }

    fn int_overflow() -> Self {
        Self::new("proto: integer overflow".to_string())
    }

    fn invalid_length() -> Self {
        Self::new("proto: negative length found during unmarshaling".to_string())
    }

    pub(super) fn wrong_wire_type(wire_type: u8, field: &str) -> Self {
        Self::new(format!(
            "proto: wrong wireType = {wire_type} for field {field}"
        ))
    }

    pub(super) fn invalid_utf8(message: &str, field: &str) -> Self {
        Self::new(format!("proto: {message}: invalid UTF-8 in field {field}"))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

pub(super) const WT_VARINT: u8 = 0;
pub(super) const WT_FIXED64: u8 = 1;
pub(super) const WT_LEN: u8 = 2;
const WT_START_GROUP: u8 = 3;
const WT_END_GROUP: u8 = 4;
const WT_FIXED32: u8 = 5;

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
    };
    out.series.clear();
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
    const MSG: &str = "WriteRequest";
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_LEN, "Timeseries")?;
                let msg = read_len_delimited(buf, &mut pos)?;
                decode_timeseries(msg, out)?;
            }
            2 => {
                expect_wire_type(wt, WT_VARINT, "Source")?;
                read_varint(buf, &mut pos)?;
            }
            3 => {
                expect_wire_type(wt, WT_LEN, "Metadata")?;
                let msg = read_len_delimited(buf, &mut pos)?;
                out.metadata.push(decode_metadata(msg)?);
            }
            1000 => {
                expect_wire_type(wt, WT_VARINT, "SkipLabelNameValidation")?;
                read_varint(buf, &mut pos)?;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    Ok(())
}

fn decode_timeseries<'a>(buf: &'a [u8], out: &mut WriteRequestView<'a>) -> Result<(), DecodeError> {
    const MSG: &str = "TimeSeries";
    let mut entry = SeriesEntry {
        labels_start: out.labels.len(),
        samples_start: out.samples.len(),
        exemplars_start: out.exemplars.len(),
        ..SeriesEntry::default()
    };
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_LEN, "Labels")?;
                let msg = read_len_delimited(buf, &mut pos)?;
                let (name, value) = decode_label_bytes(msg)?;
                let name = std::str::from_utf8(name)
                    .map_err(|_| DecodeError::invalid_utf8("LabelPair", "Name"))?;
                let value = std::str::from_utf8(value)
                    .map_err(|_| DecodeError::invalid_utf8("LabelPair", "Value"))?;
                out.labels.push((name, value));
            }
            2 => {
                expect_wire_type(wt, WT_LEN, "Samples")?;
                let msg = read_len_delimited(buf, &mut pos)?;
                out.samples.push(decode_sample(msg)?);
            }
            3 => {
                expect_wire_type(wt, WT_LEN, "Exemplars")?;
                let msg = read_len_delimited(buf, &mut pos)?;
                let ex = decode_exemplar(msg, &mut out.exemplar_labels)?;
                out.exemplars.push(ex);
                entry.exemplars += 1;
            }
            4 => {
                expect_wire_type(wt, WT_LEN, "Histograms")?;
                read_len_delimited(buf, &mut pos)?;
                entry.histograms += 1;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    entry.labels_end = out.labels.len();
    entry.samples_end = out.samples.len();
    out.series.push(entry);
    Ok(())
}

/// decode_label_bytes decodes a `LabelPair`; the last occurrence of a field wins.
fn decode_label_bytes(buf: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    const MSG: &str = "LabelPair";
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_LEN, "Name")?;
                name = read_len_delimited(buf, &mut pos)?;
            }
            2 => {
                expect_wire_type(wt, WT_LEN, "Value")?;
                value = read_len_delimited(buf, &mut pos)?;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    Ok((name, value))
}

pub(super) fn decode_sample(buf: &[u8]) -> Result<Sample, DecodeError> {
    const MSG: &str = "Sample";
    let mut s = Sample::default();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_FIXED64, "Value")?;
                s.value = read_f64(buf, &mut pos)?;
            }
            2 => {
                expect_wire_type(wt, WT_VARINT, "TimestampMs")?;
                s.timestamp_ms = read_varint(buf, &mut pos)? as i64;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    Ok(s)
}

/// decode_exemplar decodes an `Exemplar`, pushing its labels to `labels`.
fn decode_exemplar<'a>(
    buf: &'a [u8],
    labels: &mut Vec<Label<'a>>,
) -> Result<ExemplarView, DecodeError> {
    const MSG: &str = "Exemplar";
    let mut ex = ExemplarView {
        labels_start: labels.len(),
        ..ExemplarView::default()
    };
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_LEN, "Labels")?;
                let (name, value) = decode_label_bytes(read_len_delimited(buf, &mut pos)?)?;
                let name = std::str::from_utf8(name)
                    .map_err(|_| DecodeError::invalid_utf8("LabelPair", "Name"))?;
                let value = std::str::from_utf8(value)
                    .map_err(|_| DecodeError::invalid_utf8("LabelPair", "Value"))?;
                labels.push((name, value));
            }
            2 => {
                expect_wire_type(wt, WT_FIXED64, "Value")?;
                ex.value = read_f64(buf, &mut pos)?;
            }
            3 => {
                expect_wire_type(wt, WT_VARINT, "TimestampMs")?;
                ex.timestamp_ms = read_varint(buf, &mut pos)? as i64;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    ex.labels_end = labels.len();
    Ok(ex)
}

fn decode_metadata(buf: &[u8]) -> Result<MetadataView<'_>, DecodeError> {
    const MSG: &str = "MetricMetadata";
    let mut m = MetadataView::default();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (field, wt) = read_tag(buf, &mut pos, MSG)?;
        match field {
            1 => {
                expect_wire_type(wt, WT_VARINT, "Type")?;
                m.metric_type = read_varint(buf, &mut pos)? as i32;
            }
            2 => {
                expect_wire_type(wt, WT_LEN, "MetricFamilyName")?;
                m.metric_family_name = read_str(buf, &mut pos, MSG, "MetricFamilyName")?;
            }
            4 => {
                expect_wire_type(wt, WT_LEN, "Help")?;
                m.help = read_str(buf, &mut pos, MSG, "Help")?;
            }
            5 => {
                expect_wire_type(wt, WT_LEN, "Unit")?;
                m.unit = read_str(buf, &mut pos, MSG, "Unit")?;
            }
            _ => pos = skip_field(buf, start)?,
        }
    }
    Ok(m)
}

/// read_varint reads a base-128 varint. Like gogo it accepts up to ten
/// bytes (excess high bits are dropped) and reports an eleventh as overflow.
#[inline]
pub(super) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut x: u64 = 0;
    let mut shift = 0u32;
    loop {
        if shift >= 64 {
            return Err(DecodeError::int_overflow());
        }
        let b = *buf.get(*pos).ok_or_else(DecodeError::eof)?;
        *pos += 1;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(x);
        }
        shift += 7;
    }
}

/// read_tag reads a field key, with gogo's checks and texts.
#[inline]
pub(super) fn read_tag(
    buf: &[u8],
    pos: &mut usize,
    message: &str,
) -> Result<(u32, u8), DecodeError> {
    let key = read_varint(buf, pos)?;
    // Go: fieldNum := int32(wire >> 3), a truncating conversion.
    let field = (key >> 3) as i32;
    let wire_type = (key & 7) as u8;
    if wire_type == WT_END_GROUP {
        return Err(DecodeError::new(format!(
            "proto: {message}: wiretype end group for non-group"
        )));
    }
    if field <= 0 {
        return Err(DecodeError::new(format!(
            "proto: {message}: illegal tag {field} (wire type {wire_type})"
        )));
    }
    Ok((field as u32, wire_type))
}

#[inline]
pub(super) fn expect_wire_type(got: u8, want: u8, field: &str) -> Result<(), DecodeError> {
    if got == want {
        Ok(())
    } else {
        Err(DecodeError::wrong_wire_type(got, field))
    }
}

/// read_length reads a length prefix and returns the end offset it implies.
#[inline]
fn read_length(buf: &[u8], pos: &mut usize) -> Result<usize, DecodeError> {
    let len = read_varint(buf, pos)?;
    // Go converts to int (int64): a length with the top bit set is negative.
    if len > i64::MAX as u64 {
        return Err(DecodeError::invalid_length());
    }
    pos.checked_add(len as usize)
        .ok_or_else(DecodeError::invalid_length)
}

#[inline]
pub(super) fn read_len_delimited<'a>(
    buf: &'a [u8],
    pos: &mut usize,
) -> Result<&'a [u8], DecodeError> {
    let end = read_length(buf, pos)?;
    if end > buf.len() {
        return Err(DecodeError::eof());
    }
    let bytes = &buf[*pos..end];
    *pos = end;
    Ok(bytes)
}

#[inline]
fn read_str<'a>(
    buf: &'a [u8],
    pos: &mut usize,
    message: &str,
    field: &str,
) -> Result<&'a str, DecodeError> {
    let bytes = read_len_delimited(buf, pos)?;
    std::str::from_utf8(bytes).map_err(|_| DecodeError::invalid_utf8(message, field))
}

#[inline]
pub(super) fn read_f64(buf: &[u8], pos: &mut usize) -> Result<f64, DecodeError> {
    let end = pos.checked_add(8).ok_or_else(DecodeError::eof)?;
    let bytes: [u8; 8] = buf
        .get(*pos..end)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(DecodeError::eof)?;
    *pos = end;
    Ok(f64::from_le_bytes(bytes))
}

/// skip_field skips the unknown field whose key starts at `start` and
/// returns the offset after it. It follows gogo's `skip`: groups are
/// skipped by depth, an end-group without a start is an error.
pub(super) fn skip_field(buf: &[u8], start: usize) -> Result<usize, DecodeError> {
    let mut pos = start;
    let mut depth = 0usize;
    while pos < buf.len() {
        let key = read_varint(buf, &mut pos)?;
        match (key & 7) as u8 {
            WT_VARINT => {
                read_varint(buf, &mut pos)?;
            }
            WT_FIXED64 => pos = pos.saturating_add(8),
            WT_LEN => pos = read_length(buf, &mut pos)?,
            WT_START_GROUP => depth += 1,
            WT_END_GROUP => {
                if depth == 0 {
                    return Err(DecodeError::new(
                        "proto: unexpected end of group".to_string(),
                    ));
                }
                depth -= 1;
            }
            WT_FIXED32 => pos = pos.saturating_add(4),
            wt => return Err(DecodeError::new(format!("proto: illegal wireType {wt}"))),
        }
        if depth == 0 {
            if pos > buf.len() {
                return Err(DecodeError::eof());
            }
            return Ok(pos);
        }
    }
    Err(DecodeError::eof())
}

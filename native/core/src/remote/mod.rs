//! Prometheus remote write 1.0: zero-copy decoding and Mimir's distributor
//! validation.
//!
//! # Use from ingest
//!
//! ```ignore
//! use tsdb_core::remote::{decode_write_request, validate_series, ValidationLimits};
//!
//! // body: the snappy-decompressed request.
//! let mut req = match decode_write_request(&body) {
//!     Ok(req) => req,
//!     // HTTP 400, body = e.message() (Go's http.Error appends "\n").
//!     Err(e) => return Err(e.message().to_string()),
//! };
//! req.sort_and_filter_labels(); // drop empty label values, sort by name
//! let limits = ValidationLimits::default();
//! let mut first_error = None;
//! for i in 0..req.series.len() {
//!     req.dedupe_sample_timestamps(i); // count as "sample_duplicate_timestamp"
//!     let s = req.series(i);
//!     match validate_series(&s, &limits, now_ms) {
//!         Ok(()) => { /* append s.labels, s.samples */ }
//!         Err(e) => {
//!             // discard the whole series: cortex_discarded_samples_total{reason=e.reason}
//!             first_error.get_or_insert(e.message);
//!         }
//!     }
//! }
//! // Mimir answers 400 with the first error after storing the valid series.
//! ```
//!
//! * [`decode_write_request`] / [`decode_write_request_with`] (reuses a
//!   [`DecodeScratch`]): labels and metadata are `&str` into the buffer; the
//!   samples of all series are one flat `Vec<Sample>`, series hold ranges.
//!   Exemplars are kept the same way (flat lists, per-series ranges: see
//!   `proto`'s docs); native histograms are counted per series, not kept.
//! * [`validate_exemplar`] / [`validate_metadata`]: Mimir's exemplar and
//!   metadata checks (dropped entries, reasons and texts).
//! * [`validate_series`] = [`validate_labels`] + [`validate_sample`] per
//!   sample; [`ValidationError`] has Mimir's `reason` label and message.
//! * [`format_labels`] prints a series as Mimir does in messages:
//!   `metric{a="b", c="d"}`.
//!
//! Departures from Mimir: label names/values (of series and exemplars) and
//! metadata strings must be valid UTF-8 (else a [`DecodeError`] "proto: LabelPair: invalid UTF-8 in
//! field Value", where Mimir accepts the bytes and later rejects the series
//! as `label_value_invalid`); histogram bodies are not parsed yet.

mod exemplar;
mod histogram;
mod metadata;
mod proto;
mod v2;
mod validate;
pub(crate) mod wire;

#[cfg(test)]
pub(crate) mod test_encode;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod v2_tests;

pub use exemplar::{
    exemplar_reason, exemplar_time_reason, validate_exemplar, EXEMPLAR_MAX_LABEL_SET_LENGTH,
    MIN_EXEMPLAR_AGE_MS,
};
pub use histogram::{
    check_histogram_limits, decode_histogram, encode_histogram, histogram_error_message,
    histogram_reason, validate_histogram, HistogramError, HistogramLimits, HistogramSample,
    HistogramValue,
};
pub use metadata::{metadata_reason, validate_metadata, MetadataValidationLimits};
pub use proto::{
    decode_write_request, decode_write_request_with, DecodeError, DecodeScratch, ExemplarView,
    Label, MetadataView, Sample, SeriesEntry, SeriesView, WriteRequestView,
};
pub use v2::{decode_write_request_v2, metric_family_name, CreatedTimestamps, WriteRequestV2};
pub use validate::{
    check_labels_sorted, is_valid_label_name, is_valid_metric_name, metric_name, reason,
    validate_labels, validate_sample, validate_series, ValidationError, ValidationLimits,
};

/// format_labels prints labels as Mimir's `FromLabelAdaptersToString`:
/// the first `__name__` value bare, then the other labels in the given order
/// as `{name="value", ...}` (values quoted like Go's `strconv.Quote`, braces
/// left out when there are none), `{}` for an empty set.
pub fn format_labels(labels: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(
        labels
            .iter()
            .map(|(n, v)| n.len() + v.len() + 5)
            .sum::<usize>()
            + 2,
    );
    let name_index = labels.iter().position(|(n, _)| *n == "__name__");
    if let Some(i) = name_index {
        out.push_str(labels[i].1);
    }
    let mut count = 0;
    for (i, (n, v)) in labels.iter().enumerate() {
        if Some(i) == name_index {
            continue;
        }
        out.push_str(if count == 0 { "{" } else { ", " });
        out.push_str(n);
        out.push('=');
        go_quote_into(&mut out, v);
        count += 1;
    }
    if count > 0 {
        out.push('}');
    }
    if out.is_empty() {
        out.push_str("{}");
    }
    out
}

/// go_quote_into appends `s` quoted as Go's `strconv.Quote`. Go keeps
/// characters that `unicode.IsPrint` accepts; without Unicode tables this
/// escapes control characters, non-ASCII spaces, the common format
/// characters and private-use code points, which covers what clients send.
fn go_quote_into(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c == ' ' || c.is_ascii() || go_is_print(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
}

fn go_is_print(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || u == 0xAD
        || (0x200B..=0x200F).contains(&u)
        || (0x202A..=0x202E).contains(&u)
        || (0x2060..=0x206F).contains(&u)
        || u == 0xFEFF
        || (0xFFF9..=0xFFFB).contains(&u)
        || (0xE000..=0xF8FF).contains(&u)
        || u >= 0xF0000)
}

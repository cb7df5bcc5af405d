//! Per-series validation as Mimir's distributor does it
//! (`pkg/distributor/validate.go`, ids from `pkg/util/globalerror`).
//!
//! Mimir's order, which this module keeps:
//! 1. `prePushSortAndFilterMiddleware`: labels with an empty value are
//!    dropped, a series left without labels is dropped silently, labels are
//!    sorted by name ([`WriteRequestView::sort_and_filter_labels`]).
//! 2. `validateLabels`: metric name present, metric name valid, label count,
//!    then per label in order: name valid, name length, value length,
//!    duplicate of the previous name ([`validate_labels`]).
//! 3. `validateSamples`: per sample, too far in the future, then too far in
//!    the past ([`validate_sample`]). One bad sample rejects the whole series
//!    (Mimir removes the series from the request and answers 400 with the
//!    first error once the valid series are stored).
//!
//! Names use Prometheus' legacy validation: metric names
//! `^[a-zA-Z_:][a-zA-Z0-9_:]*$`, label names `^[a-zA-Z_][a-zA-Z0-9_]*$`.
//! Go's `%.200s` truncates to 200 characters (runes); so does this code.

use std::fmt;

use super::format_labels;
use super::proto::{Label, Sample, SeriesView, WriteRequestView};

/// ValidationLimits are the per-tenant limits that series validation needs.
/// Durations are milliseconds. `Default` holds Mimir's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationLimits {
    /// `-validation.max-label-names-per-series` (30).
    pub max_label_names_per_series: usize,
    /// `-validation.max-label-names-per-info-series` (80): the limit for
    /// series whose metric name ends in `_info`.
    pub max_label_names_per_info_series: usize,
    /// `-validation.max-length-label-name` (1024 bytes).
    pub max_label_name_length: usize,
    /// `-validation.max-length-label-value` (2048 bytes).
    pub max_label_value_length: usize,
    /// `-validation.create-grace-period` (10m).
    pub creation_grace_period_ms: i64,
    /// `-validation.past-grace-period` (0 = disabled).
    pub past_grace_period_ms: i64,
    /// `-ingester.out-of-order-time-window` (0): widens the past grace period.
    pub out_of_order_time_window_ms: i64,
}

impl Default for ValidationLimits {
    fn default() -> Self {
        ValidationLimits {
            max_label_names_per_series: 30,
            max_label_names_per_info_series: 80,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            creation_grace_period_ms: 10 * 60 * 1000,
            past_grace_period_ms: 0,
            out_of_order_time_window_ms: 0,
        }
    }
}

/// ValidationError is why a series was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// reason is the `reason` label of `cortex_discarded_samples_total`.
    pub reason: &'static str,
    /// message is Mimir's full error text (id and flag hint included).
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Reasons (the `reason` label values), spelled as Mimir's
/// `globalerror.ID.LabelValue()`.
pub mod reason {
    pub const MISSING_METRIC_NAME: &str = "missing_metric_name";
    pub const METRIC_NAME_INVALID: &str = "metric_name_invalid";
    pub const MAX_LABEL_NAMES_PER_SERIES: &str = "max_label_names_per_series";
    pub const MAX_LABEL_NAMES_PER_INFO_SERIES: &str = "max_label_names_per_info_series";
    pub const LABEL_INVALID: &str = "label_invalid";
    pub const LABEL_NAME_TOO_LONG: &str = "label_name_too_long";
    pub const LABEL_VALUE_TOO_LONG: &str = "label_value_too_long";
    pub const DUPLICATE_LABEL_NAMES: &str = "duplicate_label_names";
    pub const LABELS_NOT_SORTED: &str = "labels_not_sorted";
    pub const TOO_FAR_IN_FUTURE: &str = "too_far_in_future";
    pub const TOO_FAR_IN_PAST: &str = "too_far_in_past";
    pub const SAMPLE_DUPLICATE_TIMESTAMP: &str = "sample_duplicate_timestamp";
}

const METRIC_NAME_LABEL: &str = "__name__";

/// Appends Mimir's `globalerror.ID.Message` suffix.
fn with_id(msg: String, id: &str) -> String {
    format!("{msg} (err-mimir-{id})")
}

/// Appends Mimir's `MessageWithPerTenantLimitConfig` suffix.
fn with_id_and_flag(msg: String, id: &str, flag: &str) -> String {
    format!(
        "{msg} (err-mimir-{id}). To adjust the related per-tenant limit, configure -{flag}, or contact your service administrator."
    )
}

/// trunc is Go's `%.Ns`: at most `n` characters.
fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// metric_name is the value of the first `__name__` label, if any and non-empty.
pub fn metric_name<'a>(labels: &[Label<'a>]) -> Option<&'a str> {
    labels
        .iter()
        .find(|(n, _)| *n == METRIC_NAME_LABEL)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_empty())
}

/// is_valid_metric_name is Prometheus' legacy metric name check.
pub fn is_valid_metric_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'),
        _ => false,
    }
}

/// is_valid_label_name is Prometheus' legacy label name check.
pub fn is_valid_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_'),
        _ => false,
    }
}

/// Mimir's `removeNonASCIIChars`.
fn remove_non_ascii(s: &str) -> String {
    let mut out: String = s.chars().filter(char::is_ascii).collect();
    if out.len() != s.len() {
        out.push_str(" (non-ascii characters removed)");
    }
    out
}

/// validate_labels checks a series' labels, which must already be sorted
/// and free of empty values (see the module docs).
pub fn validate_labels(
    labels: &[Label<'_>],
    limits: &ValidationLimits,
) -> Result<(), ValidationError> {
    let Some(name) = metric_name(labels) else {
        return Err(ValidationError {
            reason: reason::MISSING_METRIC_NAME,
            message: with_id(
                "received series has no metric name".to_string(),
                "missing-metric-name",
            ),
        });
    };
    if !is_valid_metric_name(name) {
        return Err(ValidationError {
            reason: reason::METRIC_NAME_INVALID,
            message: with_id(
                format!(
                    "received a series with invalid metric name: '{}'",
                    trunc(&remove_non_ascii(name), 200)
                ),
                "metric-name-invalid",
            ),
        });
    }
    if labels.len() > limits.max_label_names_per_series {
        let info = name.ends_with("_info");
        if !info || labels.len() > limits.max_label_names_per_info_series {
            let series = format_labels(labels);
            let ellipsis = if series.chars().nth(200).is_some() {
                "\u{2026}"
            } else {
                ""
            };
            let (what, limit, reason, id, flag) = if info {
                (
                    "an info series",
                    limits.max_label_names_per_info_series,
                    reason::MAX_LABEL_NAMES_PER_INFO_SERIES,
                    "max-label-names-per-info-series",
                    "validation.max-label-names-per-info-series",
                )
            } else {
                (
                    "a series",
                    limits.max_label_names_per_series,
                    reason::MAX_LABEL_NAMES_PER_SERIES,
                    "max-label-names-per-series",
                    "validation.max-label-names-per-series",
                )
            };
            return Err(ValidationError {
                reason,
                message: with_id_and_flag(
                    format!(
                        "received {what} whose number of labels exceeds the limit (actual: {}, limit: {limit}) series: '{}{ellipsis}'",
                        labels.len(),
                        trunc(&series, 200),
                    ),
                    id,
                    flag,
                ),
            });
        }
    }
    let mut last_name = "";
    for &(n, v) in labels {
        if !is_valid_label_name(n) {
            return Err(ValidationError {
                reason: reason::LABEL_INVALID,
                message: with_id(
                    format!(
                        "received a series with an invalid label: '{}' series: '{}'",
                        trunc(n, 200),
                        trunc(&format_labels(labels), 200)
                    ),
                    "label-invalid",
                ),
            });
        } else if n.len() > limits.max_label_name_length {
            return Err(ValidationError {
                reason: reason::LABEL_NAME_TOO_LONG,
                message: with_id_and_flag(
                    format!(
                        "received a series whose label name length exceeds the limit, label: '{}' series: '{}'",
                        trunc(n, 200),
                        trunc(&format_labels(labels), 200)
                    ),
                    "label-name-too-long",
                    "validation.max-length-label-name",
                ),
            });
        } else if v.len() > limits.max_label_value_length {
            return Err(ValidationError {
                reason: reason::LABEL_VALUE_TOO_LONG,
                message: with_id_and_flag(
                    format!(
                        "received a series whose label value length exceeds the limit, label: '{n}', value: '{}' (truncated) series: '{}'",
                        trunc(v, 200),
                        trunc(&format_labels(labels), 200)
                    ),
                    "label-value-too-long",
                    "validation.max-length-label-value",
                ),
            });
        } else if n == last_name {
            return Err(ValidationError {
                reason: reason::DUPLICATE_LABEL_NAMES,
                message: with_id(
                    format!(
                        "received a series with duplicate label name, label: '{}' series: '{}'",
                        trunc(n, 200),
                        trunc(&format_labels(labels), 200)
                    ),
                    "duplicate-label-names",
                ),
            });
        }
        last_name = n;
    }
    Ok(())
}

/// validate_sample checks one sample timestamp of a series against the
/// grace periods. Mimir rejects the whole series on the first failure.
pub fn validate_sample(
    labels: &[Label<'_>],
    timestamp_ms: i64,
    limits: &ValidationLimits,
    now_ms: i64,
) -> Result<(), ValidationError> {
    if timestamp_ms > now_ms.saturating_add(limits.creation_grace_period_ms) {
        return Err(ValidationError {
            reason: reason::TOO_FAR_IN_FUTURE,
            message: with_id_and_flag(
                format!(
                    "received a sample whose timestamp is too far in the future, timestamp: {timestamp_ms} series: '{}'",
                    trunc(metric_name(labels).unwrap_or(""), 200)
                ),
                "too-far-in-future",
                "validation.create-grace-period",
            ),
        });
    }
    if limits.past_grace_period_ms > 0
        && timestamp_ms
            < now_ms
                .saturating_sub(limits.past_grace_period_ms)
                .saturating_sub(limits.out_of_order_time_window_ms)
    {
        return Err(ValidationError {
            reason: reason::TOO_FAR_IN_PAST,
            message: with_id_and_flag(
                format!(
                    "received a sample whose timestamp is too far in the past, timestamp: {timestamp_ms} series: '{}'",
                    trunc(metric_name(labels).unwrap_or(""), 200)
                ),
                "too-far-in-past",
                "validation.past-grace-period",
            ),
        });
    }
    Ok(())
}

/// validate_series runs [`validate_labels`] then [`validate_sample`] on
/// every sample, returning the first finding. An error means the whole
/// series is discarded (count all its samples under `reason`).
pub fn validate_series(
    series: &SeriesView<'_, '_>,
    limits: &ValidationLimits,
    now_ms: i64,
) -> Result<(), ValidationError> {
    validate_labels(series.labels, limits)?;
    series
        .samples
        .iter()
        .try_for_each(|s: &Sample| validate_sample(series.labels, s.timestamp_ms, limits, now_ms))
}

/// check_labels_sorted is the ingester-side check (Mimir's
/// `labels-not-sorted`): label names must be strictly ascending.
pub fn check_labels_sorted(labels: &[Label<'_>]) -> Result<(), ValidationError> {
    for w in labels.windows(2) {
        if w[1].0 < w[0].0 {
            return Err(ValidationError {
                reason: reason::LABELS_NOT_SORTED,
                message: with_id(
                    format!(
                        "received a series where the label names are not alphabetically sorted, label: '{}' series: '{}'",
                        trunc(w[1].0, 200),
                        trunc(&format_labels(labels), 200)
                    ),
                    "labels-not-sorted",
                ),
            });
        }
    }
    Ok(())
}

impl WriteRequestView<'_> {
    /// sort_and_filter_labels does Mimir's `prePushSortAndFilterMiddleware`
    /// on every series: drops labels with an empty value, drops series left
    /// without labels (silently, not counted as discarded) and sorts labels
    /// by name (stable, so duplicates keep wire order). Returns the number
    /// of series dropped. Label slots freed by filtering stay unused in
    /// `labels`; only the series ranges shrink.
    pub fn sort_and_filter_labels(&mut self) -> usize {
        let before = self.series.len();
        let labels = &mut self.labels;
        self.series.retain_mut(|e| {
            let slice = &mut labels[e.labels_start..e.labels_end];
            let mut kept = 0;
            for i in 0..slice.len() {
                if !slice[i].1.is_empty() {
                    slice[kept] = slice[i];
                    kept += 1;
                }
            }
            e.labels_end = e.labels_start + kept;
            let slice = &mut slice[..kept];
            if !slice.windows(2).all(|w| w[0].0 <= w[1].0) {
                slice.sort_by(|a, b| a.0.cmp(b.0));
            }
            kept > 0
        });
        before - self.series.len()
    }

    /// dedupe_sample_timestamps keeps the first sample of each timestamp in
    /// series `i` (Mimir's `validateSamples`) and returns how many it
    /// removed (Mimir counts them as `sample_duplicate_timestamp`).
    pub fn dedupe_sample_timestamps(&mut self, i: usize) -> usize {
        let e = &mut self.series[i];
        let slice = &mut self.samples[e.samples_start..e.samples_end];
        if slice
            .windows(2)
            .all(|w| w[0].timestamp_ms < w[1].timestamp_ms)
        {
            return 0;
        }
        let mut seen = ahash::AHashSet::with_capacity(slice.len());
        let mut kept = 0;
        for j in 0..slice.len() {
            if seen.insert(slice[j].timestamp_ms) {
                slice[kept] = slice[j];
                kept += 1;
            }
        }
        let removed = slice.len() - kept;
        e.samples_end = e.samples_start + kept;
        removed
    }
}

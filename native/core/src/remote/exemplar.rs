//! Exemplar validation as Mimir's distributor does it
//! (`validateExemplar`, `validateExemplarTimestamp`).
//!
//! Mimir drops an invalid exemplar and keeps the rest of its series (it
//! counts the drop in `cortex_discarded_exemplars_total{reason}`); the
//! messages below are the texts Mimir builds for them, kept for logs.
//! An exemplar outside `[min_ts, max_ts]` is dropped the same way:
//! `min_ts` is five minutes before the request's earliest sample (exemplars
//! are repeated on every scrape by client libraries), `max_ts` the wall
//! clock plus `-validation.create-grace-period`.

use super::format_labels;
use super::proto::Label;
use super::validate::ValidationError;

/// EXEMPLAR_MAX_LABEL_SET_LENGTH is OpenMetrics' bound on the combined
/// length of an exemplar's label names and values, in characters (runes).
pub const EXEMPLAR_MAX_LABEL_SET_LENGTH: usize = 128;

/// MIN_EXEMPLAR_AGE_MS is how much older than the request's earliest sample
/// an exemplar may be (5 minutes).
pub const MIN_EXEMPLAR_AGE_MS: i64 = 5 * 60 * 1000;

/// Reasons for `cortex_discarded_exemplars_total`, spelled as Mimir's.
pub mod exemplar_reason {
    pub const LABELS_MISSING: &str = "exemplar_labels_missing";
    pub const LABELS_TOO_LONG: &str = "exemplar_labels_too_long";
    pub const TIMESTAMP_INVALID: &str = "exemplar_timestamp_invalid";
    pub const LABELS_BLANK: &str = "exemplar_labels_blank";
    pub const TOO_OLD: &str = "exemplar_too_old";
    pub const TOO_FAR_IN_FUTURE: &str = "exemplar_too_far_in_future";
}

fn exemplar_message(
    what: &str,
    ts: i64,
    series: &[Label<'_>],
    labels: &[Label<'_>],
    id: &str,
) -> String {
    format!(
        "{what}, timestamp: {ts} series: {} labels: {} (err-mimir-{id})",
        format_labels(series),
        format_labels(labels)
    )
}

/// validate_exemplar checks one exemplar of a series (labels sorted or
/// not): labels present, a timestamp, at most 128 characters of labels, at
/// least one label with a name and a value.
pub fn validate_exemplar(
    series: &[Label<'_>],
    labels: &[Label<'_>],
    timestamp_ms: i64,
) -> Result<(), ValidationError> {
    const NO_LABELS: &str = "received an exemplar with no valid labels";
    if labels.is_empty() {
        return Err(ValidationError {
            reason: exemplar_reason::LABELS_MISSING,
            message: exemplar_message(
                NO_LABELS,
                timestamp_ms,
                series,
                &[],
                "exemplar-labels-missing",
            ),
        });
    }
    if timestamp_ms == 0 {
        return Err(ValidationError {
            reason: exemplar_reason::TIMESTAMP_INVALID,
            message: exemplar_message(
                "received an exemplar with no timestamp",
                timestamp_ms,
                series,
                labels,
                "exemplar-timestamp-invalid",
            ),
        });
    }
    let mut length = 0;
    let mut found_valid = false;
    for (n, v) in labels {
        found_valid |= !n.is_empty() && !v.is_empty();
        length += n.chars().count() + v.chars().count();
    }
    if length > EXEMPLAR_MAX_LABEL_SET_LENGTH {
        return Err(ValidationError {
            reason: exemplar_reason::LABELS_TOO_LONG,
            message: exemplar_message(
                &format!("received an exemplar where the size of its combined labels exceeds the limit of {EXEMPLAR_MAX_LABEL_SET_LENGTH} characters"),
                timestamp_ms,
                series,
                labels,
                "exemplar-labels-too-long",
            ),
        });
    }
    if !found_valid {
        return Err(ValidationError {
            reason: exemplar_reason::LABELS_BLANK,
            message: exemplar_message(
                NO_LABELS,
                timestamp_ms,
                series,
                labels,
                "exemplar-labels-missing",
            ),
        });
    }
    Ok(())
}

/// exemplar_time_reason says why an exemplar time is outside
/// `[min_ts, max_ts]`, None when it is inside.
pub fn exemplar_time_reason(timestamp_ms: i64, min_ts: i64, max_ts: i64) -> Option<&'static str> {
    if timestamp_ms < min_ts {
        Some(exemplar_reason::TOO_OLD)
    } else if timestamp_ms > max_ts {
        Some(exemplar_reason::TOO_FAR_IN_FUTURE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIES: &[Label<'static>] = &[("__name__", "http_requests_total"), ("job", "api")];

    #[test]
    fn valid_exemplar() {
        assert!(validate_exemplar(SERIES, &[("trace_id", "abc")], 1000).is_ok());
        // One blank label among valid ones is fine.
        assert!(validate_exemplar(SERIES, &[("a", ""), ("trace_id", "abc")], 1000).is_ok());
    }

    #[test]
    fn mimir_texts_and_reasons() {
        let e = validate_exemplar(SERIES, &[], 1000).unwrap_err();
        assert_eq!(e.reason, "exemplar_labels_missing");
        assert_eq!(
            e.message,
            "received an exemplar with no valid labels, timestamp: 1000 series: http_requests_total{job=\"api\"} labels: {} (err-mimir-exemplar-labels-missing)"
        );
        let e = validate_exemplar(SERIES, &[("trace_id", "abc")], 0).unwrap_err();
        assert_eq!(e.reason, "exemplar_timestamp_invalid");
        assert_eq!(
            e.message,
            "received an exemplar with no timestamp, timestamp: 0 series: http_requests_total{job=\"api\"} labels: {trace_id=\"abc\"} (err-mimir-exemplar-timestamp-invalid)"
        );
        let e = validate_exemplar(SERIES, &[("a", ""), ("", "b")], 5).unwrap_err();
        assert_eq!(e.reason, "exemplar_labels_blank");
        assert!(
            e.message.ends_with("(err-mimir-exemplar-labels-missing)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn label_length_counts_characters() {
        // 8 + 120 = 128 characters: at the limit.
        let v = "x".repeat(120);
        assert!(validate_exemplar(SERIES, &[("trace_id", &v)], 1).is_ok());
        // Multi-byte characters count once each: 8 + 120 runes (240 bytes).
        let v = "é".repeat(120);
        assert!(validate_exemplar(SERIES, &[("trace_id", &v)], 1).is_ok());
        let v = "é".repeat(121);
        let e = validate_exemplar(SERIES, &[("trace_id", &v)], 1).unwrap_err();
        assert_eq!(e.reason, "exemplar_labels_too_long");
        assert!(e.message.starts_with(
            "received an exemplar where the size of its combined labels exceeds the limit of 128 characters, timestamp: 1 series: "
        ));
        assert!(e.message.ends_with("(err-mimir-exemplar-labels-too-long)"));
    }

    #[test]
    fn time_window() {
        assert_eq!(exemplar_time_reason(10, 20, 30), Some("exemplar_too_old"));
        assert_eq!(
            exemplar_time_reason(31, 20, 30),
            Some("exemplar_too_far_in_future")
        );
        assert_eq!(exemplar_time_reason(20, 20, 30), None);
        assert_eq!(exemplar_time_reason(30, 20, 30), None);
    }
}

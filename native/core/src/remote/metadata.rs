//! Metric metadata validation as Mimir's distributor does it
//! (`cleanAndValidateMetadata`): a metadata entry needs a metric family
//! name (`-validation.enforce-metadata-metric-name`), its help text is cut
//! to `-validation.max-metadata-length` bytes (at a character boundary),
//! and a longer metric name or unit rejects the entry. A rejected entry is
//! left out, the rest of the request is stored and the push answers 400
//! with the first such message.

use super::proto::MetadataView;
use super::validate::ValidationError;

/// MetadataValidationLimits are the per-tenant limits of metadata validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataValidationLimits {
    /// `-validation.enforce-metadata-metric-name` (true).
    pub enforce_metric_name: bool,
    /// `-validation.max-metadata-length` (1024 bytes).
    pub max_length: usize,
}

impl Default for MetadataValidationLimits {
    fn default() -> Self {
        MetadataValidationLimits {
            enforce_metric_name: true,
            max_length: 1024,
        }
    }
}

/// Reasons for `cortex_discarded_metadata_total`, spelled as Mimir's.
pub mod metadata_reason {
    pub const MISSING_METRIC_NAME: &str = "missing_metric_name";
    pub const METRIC_NAME_TOO_LONG: &str = "metric_name_too_long";
    pub const UNIT_TOO_LONG: &str = "unit_too_long";
}

const FLAG_HINT: &str = "To adjust the related per-tenant limit, configure -validation.max-metadata-length, or contact your service administrator.";

/// trunc is Go's `%.Ns`: at most `n` characters.
fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// validate_metadata cleans one entry in place (help cut to the limit) and
/// checks it; an error means the entry is dropped.
pub fn validate_metadata(
    m: &mut MetadataView<'_>,
    limits: &MetadataValidationLimits,
) -> Result<(), ValidationError> {
    if limits.enforce_metric_name && m.metric_family_name.is_empty() {
        return Err(ValidationError {
            reason: metadata_reason::MISSING_METRIC_NAME,
            message: "received a metric metadata with no metric name (err-mimir-metadata-missing-metric-name)".to_string(),
        });
    }
    let max = limits.max_length;
    if m.help.len() > max {
        // The last character boundary at or below the limit.
        let cut = m
            .help
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|&i| i <= max)
            .last()
            .unwrap_or(0);
        m.help = &m.help[..cut];
    }
    if m.metric_family_name.len() > max {
        return Err(ValidationError {
            reason: metadata_reason::METRIC_NAME_TOO_LONG,
            message: format!(
                "received a metric metadata whose metric name length exceeds the limit, metric name: '{}' (err-mimir-metric-name-too-long). {FLAG_HINT}",
                trunc(m.metric_family_name, 200)
            ),
        });
    }
    if m.unit.len() > max {
        return Err(ValidationError {
            reason: metadata_reason::UNIT_TOO_LONG,
            message: format!(
                "received a metric metadata whose unit name length exceeds the limit, unit: '{}' metric name: '{}' (err-mimir-unit-too-long). {FLAG_HINT}",
                trunc(m.unit, 200),
                trunc(m.metric_family_name, 200)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md<'a>(name: &'a str, help: &'a str, unit: &'a str) -> MetadataView<'a> {
        MetadataView {
            metric_type: 1,
            metric_family_name: name,
            help,
            unit,
        }
    }

    #[test]
    fn help_is_truncated_not_rejected() {
        let lim = MetadataValidationLimits {
            enforce_metric_name: true,
            max_length: 4,
        };
        let mut m = md("up", "abcdef", "");
        validate_metadata(&mut m, &lim).unwrap();
        assert_eq!(m.help, "abcd");
        // 'é' is 2 bytes at offsets 3..5: the cut stays at a boundary.
        let mut m = md("up", "abcéf", "");
        validate_metadata(&mut m, &lim).unwrap();
        assert_eq!(m.help, "abc");
    }

    #[test]
    fn rejections() {
        let lim = MetadataValidationLimits {
            enforce_metric_name: true,
            max_length: 4,
        };
        let e = validate_metadata(&mut md("", "h", ""), &lim).unwrap_err();
        assert_eq!(e.reason, "missing_metric_name");
        assert_eq!(
            e.message,
            "received a metric metadata with no metric name (err-mimir-metadata-missing-metric-name)"
        );
        let e = validate_metadata(&mut md("toolong", "", ""), &lim).unwrap_err();
        assert_eq!(e.reason, "metric_name_too_long");
        assert_eq!(e.message, format!("received a metric metadata whose metric name length exceeds the limit, metric name: 'toolong' (err-mimir-metric-name-too-long). {FLAG_HINT}"));
        let e = validate_metadata(&mut md("up", "", "seconds"), &lim).unwrap_err();
        assert_eq!(e.reason, "unit_too_long");
        assert_eq!(e.message, format!("received a metric metadata whose unit name length exceeds the limit, unit: 'seconds' metric name: 'up' (err-mimir-unit-too-long). {FLAG_HINT}"));
        let lax = MetadataValidationLimits {
            enforce_metric_name: false,
            max_length: 4,
        };
        assert!(validate_metadata(&mut md("", "", ""), &lax).is_ok());
    }
}

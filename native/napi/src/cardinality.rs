//! cardinality: the N-API face of the head's cardinality analysis
//! (`tsdb_core::head::cardinality`). Answers are JSON strings in Mimir's
//! shapes; a tenant without a head gets empty answers (no head is created).

use napi::Result;
use napi_derive::napi;

use tsdb_core::head::cardinality::CountMethod;
use tsdb_core::index::Matcher;

use crate::LabelMatcher;

/// one_set builds one matcher set (empty for none).
fn one_set(matchers: Vec<LabelMatcher>) -> Result<Vec<Matcher>> {
    if matchers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(crate::matchers(&[matchers])?.pop().unwrap_or_default())
}

fn method(active_since_ms: Option<f64>) -> CountMethod {
    match active_since_ms {
        Some(t) => CountMethod::Active {
            since_ms: crate::ms(t),
        },
        None => CountMethod::InMemory,
    }
}

/// CardinalityAnswer is a JSON answer, or the error Mimir reports when the
/// distinct label names and values are too large.
#[napi(object)]
pub struct CardinalityAnswer {
    pub json: Option<String>,
    pub size_error: Option<String>,
}

/// label_names_cardinality answers /api/v1/cardinality/label_names for the
/// series matching all matchers (all series for none); activeSinceMs set
/// counts only series with a sample since then. Throws on an invalid regexp.
#[napi]
pub fn label_names_cardinality(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    active_since_ms: Option<f64>,
    limit: f64,
    max_size_bytes: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<CardinalityAnswer> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    let limit = crate::to_limit(limit);
    let max = if max_size_bytes.is_finite() && max_size_bytes >= 0.0 {
        max_size_bytes as u64
    } else {
        u64::MAX
    };
    let r = match tsdb_core::tsdb::registry().get_head(&tenant) {
        Some(h) => h.label_names_cardinality(&set, method(active_since_ms), limit, max, &visible),
        None => Ok(
            r#"{"label_values_count_total":0,"label_names_count":0,"cardinality":[]}"#.to_string(),
        ),
    };
    Ok(match r {
        Ok(json) => CardinalityAnswer {
            json: Some(json),
            size_error: None,
        },
        Err(e) => CardinalityAnswer {
            json: None,
            size_error: Some(e),
        },
    })
}

/// label_values_cardinality answers /api/v1/cardinality/label_values for
/// the label names given. Throws on an invalid regexp.
#[napi]
pub fn label_values_cardinality(
    tenant: String,
    label_names: Vec<String>,
    matchers: Vec<LabelMatcher>,
    active_since_ms: Option<f64>,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<String> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    let names: Vec<&str> = label_names.iter().map(String::as_str).collect();
    Ok(match tsdb_core::tsdb::registry().get_head(&tenant) {
        Some(h) => h.label_values_cardinality(
            &names,
            &set,
            method(active_since_ms),
            crate::to_limit(limit),
            &visible,
        ),
        None => r#"{"series_count_total":0,"labels":[]}"#.to_string(),
    })
}

/// active_series answers /api/v1/cardinality/active_series: the label sets
/// of the series matching all matchers with a sample since sinceMs.
#[napi]
pub fn active_series(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    since_ms: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<String> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    Ok(match tsdb_core::tsdb::registry().get_head(&tenant) {
        Some(h) => h.active_series_json(&set, crate::ms(since_ms), &visible),
        None => r#"{"data":[]}"#.to_string(),
    })
}

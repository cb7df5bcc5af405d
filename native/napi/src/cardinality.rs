//! cardinality: the N-API face of the head's cardinality analysis
//! (`tsdb_core::head::cardinality`). Answers are JSON strings in Mimir's
//! shapes; a tenant without a head gets empty answers (no head is created).

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
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

/// Job is a cardinality read's work, moved to the libuv thread pool (it
/// walks every series of the head).
type Job<T> = Box<dyn FnOnce() -> T + Send>;

/// CardinalityTask runs labelNamesCardinality's job off the event loop.
pub struct CardinalityTask {
    job: Option<Job<CardinalityAnswer>>,
}

impl Task for CardinalityTask {
    type Output = CardinalityAnswer;
    type JsValue = CardinalityAnswer;

    fn compute(&mut self) -> Result<Self::Output> {
        run(&mut self.job)
    }

    fn resolve(&mut self, _env: Env, answer: Self::Output) -> Result<Self::JsValue> {
        Ok(answer)
    }
}

/// JsonTask runs a job answering a JSON string off the event loop.
pub struct JsonTask {
    job: Option<Job<String>>,
}

impl Task for JsonTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        run(&mut self.job)
    }

    fn resolve(&mut self, _env: Env, json: Self::Output) -> Result<Self::JsValue> {
        Ok(json)
    }
}

/// run runs a task's job once.
fn run<T>(job: &mut Option<Job<T>>) -> Result<T> {
    let job = job
        .take()
        .ok_or_else(|| Error::new(Status::GenericFailure, "cardinality task run twice"))?;
    Ok(job())
}

/// label_names_cardinality answers /api/v1/cardinality/label_names for the
/// series matching all matchers (all series for none); activeSinceMs set
/// counts only series with a sample since then. Throws at once on an
/// invalid regexp; the count runs on the libuv thread pool.
#[napi(ts_return_type = "Promise<CardinalityAnswer>")]
pub fn label_names_cardinality(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    active_since_ms: Option<f64>,
    limit: f64,
    max_size_bytes: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<AsyncTask<CardinalityTask>> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    let limit = crate::to_limit(limit);
    let max = if max_size_bytes.is_finite() && max_size_bytes >= 0.0 {
        max_size_bytes as u64
    } else {
        u64::MAX
    };
    Ok(AsyncTask::new(CardinalityTask {
        job: Some(Box::new(move || {
            let r = match tsdb_core::tsdb::registry().get_head(&tenant) {
                Some(h) => {
                    h.label_names_cardinality(&set, method(active_since_ms), limit, max, &visible)
                }
                None => Ok(
                    r#"{"label_values_count_total":0,"label_names_count":0,"cardinality":[]}"#
                        .to_string(),
                ),
            };
            match r {
                Ok(json) => CardinalityAnswer {
                    json: Some(json),
                    size_error: None,
                },
                Err(e) => CardinalityAnswer {
                    json: None,
                    size_error: Some(e),
                },
            }
        })),
    }))
}

/// label_values_json is the /api/v1/cardinality/label_values answer.
fn label_values_json(
    tenant: &str,
    label_names: &[String],
    set: &[Matcher],
    active_since_ms: Option<f64>,
    limit: f64,
    visible: &[Vec<Matcher>],
) -> String {
    let names: Vec<&str> = label_names.iter().map(String::as_str).collect();
    match tsdb_core::tsdb::registry().get_head(tenant) {
        Some(h) => h.label_values_cardinality(
            &names,
            set,
            method(active_since_ms),
            crate::to_limit(limit),
            visible,
        ),
        None => r#"{"series_count_total":0,"labels":[]}"#.to_string(),
    }
}

/// label_values_cardinality answers /api/v1/cardinality/label_values for
/// the label names given. Throws at once on an invalid regexp; the count
/// runs on the libuv thread pool.
#[napi(ts_return_type = "Promise<string>")]
pub fn label_values_cardinality(
    tenant: String,
    label_names: Vec<String>,
    matchers: Vec<LabelMatcher>,
    active_since_ms: Option<f64>,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<AsyncTask<JsonTask>> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    Ok(AsyncTask::new(JsonTask {
        job: Some(Box::new(move || {
            label_values_json(
                &tenant,
                &label_names,
                &set,
                active_since_ms,
                limit,
                &visible,
            )
        })),
    }))
}

/// visible_series_count is the number of the tenant's in-memory series
/// matching one of the selectors, from the postings (no walk of the series'
/// labels): /api/v1/user_stats under a label policy.
#[napi]
pub fn visible_series_count(tenant: String, selectors: Vec<Vec<LabelMatcher>>) -> Result<f64> {
    let visible = crate::visible(Some(selectors))?;
    let Some(h) = tsdb_core::tsdb::registry().get_head(&tenant) else {
        return Ok(0.0);
    };
    Ok(h.num_series_visible(CountMethod::InMemory, &visible) as f64)
}

/// active_series answers /api/v1/cardinality/active_series: the label sets
/// of the series matching all matchers with a sample since sinceMs. Throws
/// at once on an invalid regexp; the walk runs on the libuv thread pool.
#[napi(ts_return_type = "Promise<string>")]
pub fn active_series(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    since_ms: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<AsyncTask<JsonTask>> {
    let set = one_set(matchers)?;
    let visible = crate::visible(visibility)?;
    Ok(AsyncTask::new(JsonTask {
        job: Some(Box::new(move || {
            match tsdb_core::tsdb::registry().get_head(&tenant) {
                Some(h) => h.active_series_json(&set, crate::ms(since_ms), &visible),
                None => r#"{"data":[]}"#.to_string(),
            }
        })),
    }))
}

//! tsdb-napi is the thin N-API layer over `tsdb-core`: argument conversion
//! and nothing else. The TSDB state lives in `tsdb_core::tsdb::registry()`, one
//! per process, shared by the main thread and every worker thread that
//! loads this module. The TypeScript contract is `src/storage/native.ts`.

use napi::bindgen_prelude::{AsyncTask, Buffer, Either, Float64Array, Uint32Array, Uint8Array};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::head::{self, build_matcher_sets, DEFAULT_CHUNK_RANGE};
use tsdb_core::index::Matcher;
use tsdb_core::ingest;
use tsdb_core::promql::{self, RangeFn, SeriesSet};

/// The module's allocator is mimalloc: the ingest and query paths allocate
/// many small short-lived buffers on several threads at once, where glibc's
/// malloc spent a tenth of a histogram push's CPU (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod block_verify;
pub mod bucket_reader;
pub mod cardinality;
pub mod compact;
pub mod exemplars;
pub mod ha_tracker;
pub mod histograms;
pub mod otlp;
pub mod rw2;
pub mod select_async;
pub mod store;
pub mod wal;

/// LabelMatcher is one `name op "value"` term of a series selector; `type`
/// follows Prometheus's MatchType (0 `=`, 1 `!=`, 2 `=~`, 3 `!~`).
#[napi(object)]
pub struct LabelMatcher {
    pub name: String,
    #[napi(js_name = "type")]
    pub kind: u32,
    pub value: String,
}

/// IngestLimits are the per-tenant limits applied while ingesting, every
/// one given: TypeScript's `LIMITS` table (src/config/config.ts) is their one
/// definition, with the flags' defaults, and fills this struct.
#[napi(object)]
pub struct IngestLimits {
    /// -validation.max-label-names-per-series.
    pub max_label_names_per_series: u32,
    /// -validation.max-label-names-per-info-series.
    pub max_label_names_per_info_series: u32,
    /// -validation.max-length-label-name.
    pub max_label_name_length: u32,
    /// -validation.max-length-label-value.
    pub max_label_value_length: u32,
    /// -validation.create-grace-period in ms.
    pub creation_grace_period_ms: f64,
    /// -validation.past-grace-period in ms, 0 disables.
    pub past_grace_period_ms: f64,
    /// Wall clock used for the grace periods, unix ms.
    pub now_ms: f64,
    /// -distributor.ingestion-rate-limit (items/s); absent where the
    /// distributor stage already applied it (an ingester behind a distributor).
    pub ingestion_rate: Option<f64>,
    /// -distributor.ingestion-burst-size; used with ingestionRate.
    pub ingestion_burst_size: f64,
    /// -ingester.max-global-series-per-user, 0 for none.
    pub max_global_series_per_user: f64,
    /// -ingester.max-global-series-per-metric, 0 for none.
    pub max_global_series_per_metric: f64,
    /// -ingester.max-global-exemplars-per-user, 0: exemplars are dropped.
    pub max_global_exemplars_per_user: f64,
    /// -ingester.max-global-metadata-per-user, 0 for none.
    pub max_global_metadata_per_user: f64,
    /// -ingester.max-global-metadata-per-metric, 0 for none.
    pub max_global_metadata_per_metric: f64,
    /// -validation.max-metadata-length.
    pub max_metadata_length: f64,
    /// -validation.enforce-metadata-metric-name.
    pub enforce_metadata_metric_name: bool,
    /// -validation.max-native-histogram-buckets, 0 for none.
    pub max_native_histogram_buckets: f64,
    /// -validation.reduce-native-histogram-over-max-buckets.
    pub reduce_native_histogram_over_max_buckets: bool,
    /// -ingester.metadata-retain-period in ms, 0 keeps metadata forever.
    pub metadata_retain_period_ms: f64,
    /// HA deduplication, for a tenant that accepts HA samples; absent otherwise.
    pub ha: Option<HaLimits>,
}

/// HaLimits are the HA tracker's settings for one push of a tenant that
/// accepts HA samples (accept_ha_samples).
#[napi(object)]
pub struct HaLimits {
    /// -distributor.ha-tracker.enable: elect replicas (else HA pushes only lose the replica label).
    pub tracker_enabled: bool,
    /// ha_cluster_label.
    pub cluster_label: String,
    /// ha_replica_label.
    pub replica_label: String,
    /// ha_max_clusters, 0 for none.
    pub max_clusters: f64,
    /// -distributor.ha-tracker.update-timeout with this process's jitter, ms.
    pub update_timeout_ms: f64,
    /// -distributor.ha-tracker.failover-timeout, ms.
    pub failover_timeout_ms: f64,
    /// The HA tracker's clock, unix ms.
    pub now_ms: f64,
}

/// IngestResult summarises one decoded WriteRequest after it was appended.
#[napi(object)]
pub struct IngestResult {
    /// Number of time series in the request.
    pub series: u32,
    /// Number of float samples in the request.
    pub samples: u32,
    /// Number of exemplars in the request.
    pub exemplars: u32,
    /// Number of metadata entries in the request.
    pub metadata: u32,
    /// Number of native histogram samples in the request.
    pub histograms: u32,
    /// Float samples appended to the head.
    pub accepted_samples: u32,
    /// Native histogram samples appended to the head.
    pub accepted_histograms: Option<u32>,
    /// Series that were new to the head.
    pub created_series: u32,
    /// Discarded samples by Mimir reason label, as flat [reason, count, ...].
    pub discarded: Vec<Either<String, f64>>,
    /// Status of the first error: 400 for bad data, absent when everything was accepted.
    pub error_status: Option<u32>,
    /// Message of the first error, worded as Mimir's distributor/ingester.
    pub error_message: Option<String>,
    /// Exemplars stored (exact repeats of a series' newest included).
    pub accepted_exemplars: Option<u32>,
    /// Exemplars the ingester could not store (series missing, out of order).
    pub failed_exemplars: Option<u32>,
    /// Exemplars dropped by validation, as flat [reason, count, ...].
    pub discarded_exemplars: Option<Vec<Either<String, f64>>>,
    /// Metadata entries stored or refreshed.
    pub accepted_metadata: Option<u32>,
    /// Metadata dropped, as flat [reason, count, ...].
    pub discarded_metadata: Option<Vec<Either<String, f64>>>,
    /// The first metadata limit refusal (Mimir logs it; the push succeeds).
    pub metadata_warning: Option<String>,
    /// The HA cluster of the request, when it carried the HA labels.
    pub ha_cluster: Option<String>,
    /// Whether the error is the ingester's (the head refused samples: out of
    /// order, too old, series limits) rather than a validation error.
    pub ingester_error: Option<bool>,
    /// Samples dropped because their replica is not the elected one (202).
    pub deduped_samples: u32,
    /// Samples of an HA-enabled tenant whose request lacked the HA labels.
    pub non_ha_samples: u32,
}

/// HeadStats are the figures /metrics and the status pages show for a tenant.
#[napi(object)]
pub struct HeadStats {
    pub tenant: String,
    pub series: f64,
    pub samples: f64,
    pub chunks: f64,
    /// Smallest sample time (ms), 0 while the head is empty.
    pub min_time: f64,
    /// Largest sample time (ms), 0 while the head is empty.
    pub max_time: f64,
}

/// DecodedChunk holds the samples of one XOR chunk.
#[napi(object)]
pub struct DecodedChunk {
    pub timestamps: Float64Array,
    pub values: Float64Array,
}

/// ms converts a JS number of milliseconds to i64 (saturating; NaN -> 0,
/// so ±Infinity work as open bounds).
fn ms(x: f64) -> i64 {
    x as i64
}

/// to_limit converts a JS limit (0 or negative = none).
fn to_limit(x: f64) -> usize {
    if x.is_finite() && x > 0.0 {
        x as usize
    } else {
        0
    }
}

fn matchers(sets: &[Vec<LabelMatcher>]) -> Result<Vec<Vec<Matcher>>> {
    build_matcher_sets(sets.iter().map(|set| {
        set.iter()
            .map(|m| (m.kind, m.name.as_str(), m.value.as_str()))
    }))
    .map_err(|e| Error::new(Status::InvalidArg, e))
}

/// checkMatchers builds the matchers of a selector without selecting
/// anything: it fails as a selection would on a bad one (an invalid regexp,
/// or a malformed query-sharding `__query_shard__` value, with Mimir's
/// `invalid shard ID: ...`). The distributed querier checks its selections
/// with it before asking ingesters and store-gateways.
#[napi]
pub fn check_matchers(matchers: Vec<LabelMatcher>) -> Result<()> {
    self::matchers(std::slice::from_ref(&matchers)).map(|_| ())
}

/// visible builds a read's label-based access policies (GEM's LBAC): the
/// series it may see match at least one of these sets; none (or absent)
/// leaves every series visible.
fn visible(policies: Option<Vec<Vec<LabelMatcher>>>) -> Result<Vec<Vec<Matcher>>> {
    match policies {
        Some(p) if !p.is_empty() => matchers(&p),
        _ => Ok(Vec::new()),
    }
}

/// restricted is `sets` limited by the read's label-based access policies.
fn restricted(
    sets: Vec<Vec<Matcher>>,
    policies: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<Vec<Vec<Matcher>>> {
    let v = visible(policies)?;
    if v.is_empty() {
        return Ok(sets);
    }
    Ok(tsdb_core::index::visibility::restrict(&sets, &v))
}

/// selector_sets are the matcher sets of one selector (none: every
/// series) limited by the read's label-based access policies.
fn selector_sets(
    matchers: Vec<LabelMatcher>,
    policies: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<Vec<Vec<Matcher>>> {
    let sets = if matchers.is_empty() {
        Vec::new()
    } else {
        self::matchers(std::slice::from_ref(&matchers))?
    };
    restricted(sets, policies)
}

/// core_version is the version of the Rust core.
#[napi]
pub fn core_version() -> String {
    tsdb_core::version().to_string()
}

/// allow_ingestion takes `items` from the tenant's ingestion rate limiter
/// (the same token bucket the ingest path uses) at `rate` items/s with
/// `burst`; returns Mimir's 429 text when refused, null when allowed. A
/// distributor in distributed mode calls it with its share of the tenant's
/// limit (the wording names the configured, global limit: `limit_rate`).
#[napi]
pub fn allow_ingestion(
    tenant: String,
    items: f64,
    rate: f64,
    burst: f64,
    limit_rate: f64,
) -> Option<String> {
    let burst = to_limit(burst) as u64;
    let n = items.max(0.0) as u64;
    let allowed = tsdb_core::tsdb::registry().tenant(&tenant).allow_ingestion(
        tsdb_core::limits::RateLimit { rate, burst },
        n,
        tsdb_core::limits::monotonic_ms(),
    );
    (!allowed).then(|| {
        tsdb_core::limits::rate_limited_message(
            tsdb_core::limits::RateLimit {
                rate: limit_rate,
                burst,
            },
            n,
        )
    })
}

fn core_limits(limits: &IngestLimits) -> ingest::IngestLimits {
    ingest::IngestLimits {
        validation: tsdb_core::remote::ValidationLimits {
            max_label_names_per_series: limits.max_label_names_per_series as usize,
            max_label_names_per_info_series: limits.max_label_names_per_info_series as usize,
            max_label_name_length: limits.max_label_name_length as usize,
            max_label_value_length: limits.max_label_value_length as usize,
            creation_grace_period_ms: ms(limits.creation_grace_period_ms),
            past_grace_period_ms: ms(limits.past_grace_period_ms),
            // Out-of-order ingestion is not supported: the window stays closed.
            out_of_order_time_window_ms: 0,
        },
        now_ms: ms(limits.now_ms),
        ingestion_rate: limits
            .ingestion_rate
            .map(|rate| tsdb_core::limits::RateLimit {
                rate,
                burst: to_limit(limits.ingestion_burst_size) as u64,
            }),
        series: tsdb_core::limits::SeriesLimits {
            per_user: to_limit(limits.max_global_series_per_user) as u64,
            per_metric: to_limit(limits.max_global_series_per_metric) as u64,
        },
        max_exemplars: to_limit(limits.max_global_exemplars_per_user) as u64,
        metadata: tsdb_core::metadata::MetadataLimits {
            per_user: to_limit(limits.max_global_metadata_per_user) as u64,
            per_metric: to_limit(limits.max_global_metadata_per_metric) as u64,
            retain_period_ms: ms(limits.metadata_retain_period_ms),
        },
        metadata_validation: tsdb_core::remote::MetadataValidationLimits {
            enforce_metric_name: limits.enforce_metadata_metric_name,
            max_length: limits.max_metadata_length.max(0.0) as usize,
        },
        ha: ha_tracker::ha_settings(limits),
        histograms: tsdb_core::remote::HistogramLimits {
            max_buckets: to_limit(limits.max_native_histogram_buckets),
            reduce_over_max_buckets: limits.reduce_native_histogram_over_max_buckets,
        },
    }
}

/// flat_counts turns counts by reason into [reason, count, ...].
fn flat_counts(counts: Vec<(&'static str, u64)>) -> Vec<Either<String, f64>> {
    let mut out = Vec::with_capacity(counts.len() * 2);
    for (reason, n) in counts {
        out.push(Either::A(reason.to_string()));
        out.push(Either::B(n as f64));
    }
    out
}

fn js_result(r: ingest::IngestResult) -> IngestResult {
    let mut discarded = Vec::with_capacity(r.discarded.len() * 2);
    for (reason, n) in r.discarded {
        discarded.push(Either::A(reason.to_string()));
        discarded.push(Either::B(n as f64));
    }
    IngestResult {
        series: r.series,
        samples: r.samples,
        exemplars: r.exemplars,
        metadata: r.metadata,
        histograms: r.histograms,
        accepted_samples: r.accepted_samples,
        accepted_histograms: Some(r.accepted_histograms),
        created_series: r.created_series,
        discarded,
        error_status: r.error_status.map(u32::from),
        error_message: r.error_message,
        accepted_exemplars: Some(r.accepted_exemplars),
        failed_exemplars: Some(r.failed_exemplars),
        discarded_exemplars: Some(flat_counts(r.discarded_exemplars)),
        accepted_metadata: Some(r.accepted_metadata),
        discarded_metadata: Some(flat_counts(r.discarded_metadata)),
        metadata_warning: r.metadata_warning,
        ha_cluster: r.ha_cluster,
        ingester_error: Some(r.ingester_error),
        deduped_samples: r.deduped_samples,
        non_ha_samples: r.non_ha_samples,
    }
}

/// ingest_write_request decodes an uncompressed remote-write 1.0 protobuf
/// body, validates it and appends it to the tenant's head. Throws only on
/// internal failure; bad input is reported in the result.
#[napi]
pub fn ingest_write_request(
    tenant: String,
    body: Uint8Array,
    limits: IngestLimits,
) -> IngestResult {
    let head = tsdb_core::tsdb::registry().head(&tenant);
    js_result(wal::ingest(&tenant, &head, &body, &core_limits(&limits)))
}

thread_local! {
    /// SNAPPY_SCRATCH is each thread's reusable buffer for uncompressed
    /// push bodies, so a push allocates nothing per request (a JS Buffer per
    /// body would sit as external memory until V8 collects it).
    static SNAPPY_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// ingest_snappy_write_request is `ingestWriteRequest` for the body as
/// posted: raw (block) snappy is uncompressed into a per-thread buffer first.
/// Returns null when the snappy data is corrupt; the caller checks the
/// uncompressed length against its size limit beforehand.
#[napi]
pub fn ingest_snappy_write_request(
    tenant: String,
    compressed: Uint8Array,
    limits: IngestLimits,
) -> Option<IngestResult> {
    with_snappy_body(&compressed, |body| {
        let head = tsdb_core::tsdb::registry().head(&tenant);
        js_result(wal::ingest(&tenant, &head, body, &core_limits(&limits)))
    })
}

/// with_snappy_body uncompresses raw (block) snappy `compressed` into the
/// thread's SNAPPY_SCRATCH and runs `f` on it; None when the data is
/// corrupt.
pub(crate) fn with_snappy_body<R>(compressed: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    SNAPPY_SCRATCH.with(|scratch| {
        let mut buf = scratch.borrow_mut();
        let len = snap::raw::decompress_len(compressed).ok()?;
        buf.resize(len, 0);
        let n = snap::raw::Decoder::new()
            .decompress(compressed, &mut buf)
            .ok()?;
        let result = f(&buf[..n]);
        // Keep the buffer for the next request unless one huge body grew it.
        if buf.capacity() > 64 << 20 {
            *buf = Vec::new();
        }
        Some(result)
    })
}

/// IngestTask runs `ingestWriteRequestAsync` on the libuv thread pool.
pub struct IngestTask {
    tenant: String,
    body: Uint8Array,
    limits: ingest::IngestLimits,
}

impl Task for IngestTask {
    type Output = ingest::IngestResult;
    type JsValue = IngestResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let head = tsdb_core::tsdb::registry().head(&self.tenant);
        Ok(wal::ingest(&self.tenant, &head, &self.body, &self.limits))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(js_result(output))
    }
}

/// ingest_write_request_async is `ingestWriteRequest` computed off the
/// calling thread (for callers on the main thread). The body must not be
/// modified until the promise settles.
#[napi(ts_return_type = "Promise<IngestResult>")]
pub fn ingest_write_request_async(
    tenant: String,
    body: Uint8Array,
    limits: IngestLimits,
) -> AsyncTask<IngestTask> {
    AsyncTask::new(IngestTask {
        tenant,
        body,
        limits: core_limits(&limits),
    })
}

/// ValidatedItems are the items of a request that pass validation.
#[napi(object)]
pub struct ValidatedItems {
    /// Samples of the valid series (native histograms among them).
    pub samples: f64,
    pub exemplars: f64,
    pub metadata: f64,
}

/// ValidateTask runs `validatedItems` on the libuv thread pool.
pub struct ValidateTask {
    tenant: String,
    body: Uint8Array,
    limits: ingest::IngestLimits,
    v2: bool,
}

impl Task for ValidateTask {
    type Output = ingest::ValidatedItems;
    type JsValue = ValidatedItems;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(ingest::validated_items(
            &self.tenant,
            &self.body,
            self.v2,
            &self.limits,
        ))
    }

    fn resolve(&mut self, _env: Env, n: Self::Output) -> Result<Self::JsValue> {
        Ok(ValidatedItems {
            samples: n.samples as f64,
            exemplars: n.exemplars as f64,
            metadata: n.metadata as f64,
        })
    }
}

/// validated_items runs a push's validation (HA replica label handling as
/// limits.ha says, labels sorted and filtered, samples, native histograms,
/// exemplars, metadata) on an uncompressed remote-write body (v2: a 2.0
/// body) without storing anything, and counts what passes as the ingestion
/// rate limiter counts it: for a distributor that applies the limit before
/// its ingesters validate. Nothing counts for a body that does not decode.
/// It runs on the libuv thread pool, so that a distributor's main thread
/// does not decode every push; the body must not be modified until the
/// promise settles.
#[napi(ts_return_type = "Promise<ValidatedItems>")]
pub fn validated_items(
    tenant: String,
    body: Uint8Array,
    v2: bool,
    limits: IngestLimits,
) -> AsyncTask<ValidateTask> {
    AsyncTask::new(ValidateTask {
        tenant,
        body,
        limits: core_limits(&limits),
        v2,
    })
}

/// SnappyIngestTask runs `ingestSnappyWriteRequestAsync` on the libuv
/// thread pool.
pub struct SnappyIngestTask {
    tenant: String,
    compressed: Uint8Array,
    limits: ingest::IngestLimits,
    v2: bool,
}

impl Task for SnappyIngestTask {
    type Output = Option<ingest::IngestResult>;
    type JsValue = Option<IngestResult>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(with_snappy_body(&self.compressed, |body| {
            let head = tsdb_core::tsdb::registry().head(&self.tenant);
            if self.v2 {
                rw2::ingest_v2(&self.tenant, &head, body, &self.limits)
            } else {
                wal::ingest(&self.tenant, &head, body, &self.limits)
            }
        }))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(js_result))
    }
}

/// ingest_snappy_write_request_async is `ingestSnappyWriteRequest` (or,
/// with v2, `ingestSnappyWriteRequestV2`) computed on the libuv thread
/// pool, so that the main thread only moves bytes and several pushes
/// append at once without a JavaScript worker per push; null when the
/// snappy data is corrupt. The body must not be modified until the
/// promise settles.
#[napi(ts_return_type = "Promise<IngestResult | null>")]
pub fn ingest_snappy_write_request_async(
    tenant: String,
    compressed: Uint8Array,
    limits: IngestLimits,
    v2: bool,
) -> AsyncTask<SnappyIngestTask> {
    AsyncTask::new(SnappyIngestTask {
        tenant,
        compressed,
        limits: core_limits(&limits),
        v2,
    })
}

/// series_json answers /api/v1/series: a JSON array of label objects for
/// series matching any of the sets (all series when there are none) and
/// overlapping [mint, maxt], sorted; limit 0 = no limit. Throws on an
/// invalid regexp.
#[napi]
pub fn series_json(
    tenant: String,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    mint: f64,
    maxt: f64,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<String> {
    let sets = restricted(matchers(&matcher_sets)?, visibility)?;
    tsdb_core::store::series_json(&tenant, &sets, ms(mint), ms(maxt), to_limit(limit))
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// label_names answers /api/v1/labels (sorted). An empty matcherSets means
/// all series. Throws on an invalid regexp.
#[napi]
pub fn label_names(
    tenant: String,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    mint: f64,
    maxt: f64,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<Vec<String>> {
    // Sets from label policies alone count series as a request without sets does.
    let per_series_range = !matcher_sets.is_empty();
    let sets = restricted(matchers(&matcher_sets)?, visibility)?;
    tsdb_core::store::label_strings_ranged(
        &tenant,
        None,
        &sets,
        ms(mint),
        ms(maxt),
        to_limit(limit),
        per_series_range,
    )
    .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// label_values answers /api/v1/label/{name}/values (sorted). Throws on an
/// invalid regexp.
#[napi]
pub fn label_values(
    tenant: String,
    name: String,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    mint: f64,
    maxt: f64,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<Vec<String>> {
    let per_series_range = !matcher_sets.is_empty();
    let sets = restricted(matchers(&matcher_sets)?, visibility)?;
    tsdb_core::store::label_strings_ranged(
        &tenant,
        Some(&name),
        &sets,
        ms(mint),
        ms(maxt),
        to_limit(limit),
        per_series_range,
    )
    .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

/// BlockSeriesJson is blockSeriesJson's answer: the series JSON of the
/// named blocks and the ULIDs of those it read.
#[napi(object)]
pub struct BlockSeriesJson {
    pub json: String,
    pub queried_blocks: Vec<String>,
}

/// block_series_json is seriesJson over the named blocks of the tenant only
/// (by ULID; not its head): a store-gateway's series read for exactly the
/// blocks a querier gave it, with the blocks it read (those named that are
/// queryable and overlap the range).
#[napi]
pub fn block_series_json(
    tenant: String,
    blocks: Vec<String>,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    mint: f64,
    maxt: f64,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<BlockSeriesJson> {
    let sets = restricted(matchers(&matcher_sets)?, visibility)?;
    let (json, queried_blocks) = tsdb_core::store::block_series_json(
        &tenant,
        &blocks,
        &sets,
        ms(mint),
        ms(maxt),
        to_limit(limit),
    )
    .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
    Ok(BlockSeriesJson {
        json,
        queried_blocks,
    })
}

/// BlockLabelStrings is blockLabelStrings' answer: the label names or
/// values of the named blocks and the ULIDs of those it read.
#[napi(object)]
pub struct BlockLabelStrings {
    pub values: Vec<String>,
    pub queried_blocks: Vec<String>,
}

/// block_label_strings is labelNames (name absent) or labelValues of that
/// name over the named blocks of the tenant only (not its head), with the
/// blocks it read, as blockSeriesJson.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn block_label_strings(
    tenant: String,
    blocks: Vec<String>,
    name: Option<String>,
    matcher_sets: Vec<Vec<LabelMatcher>>,
    mint: f64,
    maxt: f64,
    limit: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<BlockLabelStrings> {
    let per_series_range = !matcher_sets.is_empty();
    let sets = restricted(matchers(&matcher_sets)?, visibility)?;
    let (values, queried_blocks) = tsdb_core::store::block_label_strings(
        &tenant,
        &blocks,
        name.as_deref(),
        &sets,
        ms(mint),
        ms(maxt),
        to_limit(limit),
        per_series_range,
    )
    .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
    Ok(BlockLabelStrings {
        values,
        queried_blocks,
    })
}

/// head_stats lists every tenant's head figures (sorted by tenant).
#[napi]
pub fn head_stats() -> Vec<HeadStats> {
    tsdb_core::tsdb::registry()
        .head_stats()
        .into_iter()
        .map(|s| HeadStats {
            tenant: s.tenant,
            series: s.series as f64,
            samples: s.samples as f64,
            chunks: s.chunks as f64,
            min_time: s.min_time as f64,
            max_time: s.max_time as f64,
        })
        .collect()
}

/// encode_xor_chunks encodes samples as Prometheus's head would cut them
/// into XOR chunks (120 samples, 2h range boundaries); returns each chunk's
/// raw bytes (without the encoding byte). Samples not after their
/// predecessor are dropped, as the head drops them.
#[napi]
pub fn encode_xor_chunks(timestamps_ms: Float64Array, values: Float64Array) -> Result<Vec<Buffer>> {
    if timestamps_ms.len() != values.len() {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "encodeXorChunks: {} timestamps but {} values",
                timestamps_ms.len(),
                values.len()
            ),
        ));
    }
    let ts: Vec<i64> = timestamps_ms.iter().map(|&t| ms(t)).collect();
    Ok(head::encode_chunks(&ts, &values, DEFAULT_CHUNK_RANGE)
        .into_iter()
        .map(Buffer::from)
        .collect())
}

/// decode_xor_chunk decodes one raw XOR chunk into timestamps (ms) and
/// values. Throws on a truncated or corrupt chunk.
#[napi]
pub fn decode_xor_chunk(chunk: Uint8Array) -> Result<DecodedChunk> {
    let (ts, vs) = tsdb_core::chunkenc::decode_all(&chunk)
        .map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
    Ok(DecodedChunk {
        timestamps: Float64Array::new(ts.into_iter().map(|t| t as f64).collect()),
        values: Float64Array::new(vs),
    })
}

/// reset_tenant drops a tenant's head (tests and tenant deletion), and its
/// WAL when storage is open (so that the log never outlives its head).
#[napi]
pub fn reset_tenant(tenant: String) -> Result<()> {
    tsdb_core::wal::storage()
        .tsdbs()
        .drop_tenant(&tenant)
        .map(|_| ())
        .map_err(|e| {
            Error::new(
                Status::GenericFailure,
                format!("delete WAL of {tenant}: {e}"),
            )
        })
}

/// SelectedSamples are the raw samples of the series a selector matched,
/// flat: series i (labels i of `labels`) owns samples
/// [offsets[i], offsets[i+1]). Staleness markers are included, bit-exact.
#[napi(object)]
pub struct SelectedSamples {
    /// The series' label sets, sorted by labels: a SeriesLabels flatbuffer
    /// (docs/format/series-labels.fbs).
    pub labels: Buffer,
    /// One more entry than series, starting at 0.
    pub offsets: Uint32Array,
    /// Sample times in ms, ascending within a series.
    pub timestamps: Float64Array,
    pub values: Float64Array,
    /// The series' native-histogram samples; absent when none was selected.
    pub histograms: Option<SelectedHistograms>,
    /// Each float sample's start timestamp in ms (0: unknown); absent when
    /// no selected series has any.
    pub start_timestamps: Option<Float64Array>,
}

/// SelectedHistograms are a selection's native-histogram samples in the
/// hand-off format: series i owns histogram samples [offsets[i],
/// offsets[i+1]), sample j is data[dataOffsets[j] .. dataOffsets[j+1])
/// (`[schema, zeroThreshold, zeroCount, count, sum, counterResetHint,
/// isInt, nPosSpans, nNegSpans, nPosBuckets, nNegBuckets, nCustomValues,
/// spans..., absolute buckets..., custom values...]`).
#[napi(object)]
pub struct SelectedHistograms {
    pub offsets: Uint32Array,
    pub timestamps: Float64Array,
    pub data_offsets: Uint32Array,
    pub data: Float64Array,
    /// Each sample's start timestamp in ms (0: unknown); absent when no
    /// selected series has any.
    pub start_timestamps: Option<Float64Array>,
}

impl From<head::SelectedHistograms> for SelectedHistograms {
    fn from(h: head::SelectedHistograms) -> Self {
        SelectedHistograms {
            offsets: Uint32Array::new(h.offsets),
            timestamps: Float64Array::new(h.timestamps),
            data_offsets: Uint32Array::new(h.data_offsets),
            data: Float64Array::new(h.data),
            start_timestamps: h.start_timestamps.map(Float64Array::new),
        }
    }
}

/// select_samples returns the samples with mintMs <= t <= maxtMs of every
/// series matching all matchers (every series for none). Series without
/// such samples are left out. Throws on an invalid regexp, and with the
/// message `query processing would load too many samples into memory in
/// query execution` when more than maxSamples (if given and > 0) samples
/// would be loaded.
#[napi]
pub fn select_samples(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    max_samples: Option<f64>,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<SelectedSamples> {
    let mut task = select_async::SelectSamplesTask::new(
        tenant,
        matchers,
        mint_ms,
        maxt_ms,
        max_samples,
        visibility,
    )?;
    Ok(task.compute()?.into())
}

impl From<head::SelectedSamples> for SelectedSamples {
    fn from(sel: head::SelectedSamples) -> Self {
        SelectedSamples {
            labels: Buffer::from(sel.labels),
            offsets: Uint32Array::new(sel.offsets),
            timestamps: Float64Array::new(sel.timestamps),
            values: Float64Array::new(sel.values),
            histograms: sel.histograms.map(Into::into),
            start_timestamps: sel.start_timestamps.map(Float64Array::new),
        }
    }
}

/// KernelResult is a kernel's output, row-major: cell series * nSteps + step.
#[napi(object)]
pub struct KernelResult {
    /// Meaningful where present is 1.
    pub values: Float64Array,
    pub present: Uint8Array,
    /// instantKernel with withSampleTimes: each present cell's sample time (ms).
    pub sample_times: Option<Float64Array>,
}

fn series_set<'a>(
    offsets: &'a [u32],
    timestamps: &'a [f64],
    values: &'a [f64],
) -> Result<SeriesSet<'a>> {
    SeriesSet::new(offsets, timestamps, values).map_err(|e| Error::new(Status::InvalidArg, e.0))
}

/// instant_kernel evaluates an instant selector over selected samples: for
/// each series and each time t of evalTimes (ms), the newest sample in
/// (t - lookbackMs, t], absent when none or when it is a staleness marker.
/// With withSampleTimes, also returns each present cell's sample time.
#[napi]
pub fn instant_kernel(
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    eval_times: &[f64],
    lookback_ms: f64,
    with_sample_times: Option<bool>,
) -> Result<KernelResult> {
    let data = series_set(offsets, timestamps, values)?;
    let mut times = Vec::new();
    let want = with_sample_times.unwrap_or(false);
    let out = promql::instant_kernel(&data, eval_times, lookback_ms, want.then_some(&mut times));
    Ok(KernelResult {
        values: Float64Array::new(out.values),
        present: Uint8Array::new(out.present),
        sample_times: want.then(|| Float64Array::new(times)),
    })
}

/// range_kernel evaluates a range-vector function (a RangeFunction name)
/// over the left-open window (t - rangeMs, t] of every series for each t
/// of evalTimes (ms), staleness markers dropped, Prometheus 3.x semantics.
/// params: quantile_over_time [q], predict_linear [seconds],
/// double_exponential_smoothing [sf, tf]; either once for all steps or
/// once per step (step-major). Throws on an unknown function or a wrong
/// parameter count.
#[napi]
pub fn range_kernel(
    func: String,
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    eval_times: &[f64],
    range_ms: f64,
    params: &[f64],
) -> Result<KernelResult> {
    let f = RangeFn::from_name(&func).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("rangeKernel: unknown function {func:?}"),
        )
    })?;
    let data = series_set(offsets, timestamps, values)?;
    let out = promql::range_kernel(f, &data, eval_times, range_ms, params)
        .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
    Ok(KernelResult {
        values: Float64Array::new(out.values),
        present: Uint8Array::new(out.present),
        sample_times: None,
    })
}

/// range_kernel_st is rangeKernel for rate, increase, irate and resets over
/// samples with start timestamps (startTimestamps[j] is sample j's, in ms,
/// 0 when unknown), as Prometheus evaluates them with
/// `use-start-timestamps`. Throws for any other function or when the
/// lengths disagree.
#[napi]
pub fn range_kernel_st(
    func: String,
    offsets: &[u32],
    timestamps: &[f64],
    values: &[f64],
    start_timestamps: &[f64],
    eval_times: &[f64],
    range_ms: f64,
) -> Result<KernelResult> {
    let f = RangeFn::from_name(&func).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("rangeKernelSt: unknown function {func:?}"),
        )
    })?;
    let data = series_set(offsets, timestamps, values)?;
    let out = promql::range_kernel_st(f, &data, start_timestamps, eval_times, range_ms)
        .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
    Ok(KernelResult {
        values: Float64Array::new(out.values),
        present: Uint8Array::new(out.present),
        sample_times: None,
    })
}

/// append_samples_unchecked appends samples to one series of the tenant's
/// head (labels as flat [name, value, ...] in any order; empty values are
/// dropped) without validation or the too-old check, through the same
/// chunk code as pushed data. Samples not after the series' newest one
/// are dropped. Returns the number appended. For the PromQL test runner.
#[napi]
pub fn append_samples_unchecked(
    tenant: String,
    labels: Vec<String>,
    timestamps: &[f64],
    values: &[f64],
    start_timestamps: Option<Float64Array>,
) -> Result<u32> {
    let sts = start_timestamps_of(
        &start_timestamps,
        timestamps.len(),
        "appendSamplesUnchecked",
    )?;
    if !labels.len().is_multiple_of(2) {
        return Err(Error::new(
            Status::InvalidArg,
            "appendSamplesUnchecked: labels must be name, value pairs",
        ));
    }
    if timestamps.len() != values.len() {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "appendSamplesUnchecked: {} timestamps but {} values",
                timestamps.len(),
                values.len()
            ),
        ));
    }
    let mut pairs: Vec<(&str, &str)> = labels
        .chunks_exact(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    pairs.sort_unstable();
    pairs.dedup_by(|a, b| a.0 == b.0);
    wal::append_unchecked(
        &tenant,
        &pairs,
        timestamps
            .iter()
            .zip(values)
            .enumerate()
            .map(|(i, (&t, &v))| (ms(t), v, sts.map_or(0, |s| ms(s[i])))),
    )
}

/// start_timestamps_of checks an optional start-timestamp array against the
/// sample count.
fn start_timestamps_of<'a>(
    sts: &'a Option<Float64Array>,
    n: usize,
    what: &str,
) -> Result<Option<&'a [f64]>> {
    match sts.as_deref() {
        Some(s) if s.len() != n => Err(Error::new(
            Status::InvalidArg,
            format!("{what}: {n} timestamps but {} start timestamps", s.len()),
        )),
        other => Ok(other),
    }
}

/// append_histograms_unchecked appends native-histogram samples to one
/// series of the tenant's head, as `appendSamplesUnchecked` does floats:
/// sample i has time timestamps[i] and the histogram
/// data[dataOffsets[i] .. dataOffsets[i+1]] in the hand-off format
/// (isInt 1 stores an integer histogram). Samples not after the series'
/// newest one are dropped. Returns the number appended. Throws on a
/// malformed histogram (nothing is appended then).
#[napi]
pub fn append_histograms_unchecked(
    tenant: String,
    labels: Vec<String>,
    timestamps: &[f64],
    data: &[f64],
    data_offsets: &[u32],
    start_timestamps: Option<Float64Array>,
) -> Result<u32> {
    let sts = start_timestamps_of(
        &start_timestamps,
        timestamps.len(),
        "appendHistogramsUnchecked",
    )?;
    let bad = |m: String| {
        Error::new(
            Status::InvalidArg,
            format!("appendHistogramsUnchecked: {m}"),
        )
    };
    if !labels.len().is_multiple_of(2) {
        return Err(bad("labels must be name, value pairs".into()));
    }
    if data_offsets.len() != timestamps.len() + 1 {
        return Err(bad(format!(
            "{} timestamps need {} data offsets, got {}",
            timestamps.len(),
            timestamps.len() + 1,
            data_offsets.len()
        )));
    }
    let hists = tsdb_core::model::histogram_flat::decode_flat_all(data, data_offsets)
        .map_err(|e| bad(e.0))?;
    let mut pairs: Vec<(&str, &str)> = labels
        .chunks_exact(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    pairs.sort_unstable();
    pairs.dedup_by(|a, b| a.0 == b.0);
    wal::append_histograms_unchecked(
        &tenant,
        &pairs,
        timestamps
            .iter()
            .zip(hists.iter())
            .enumerate()
            .map(|(i, (&t, h))| (ms(t), h, sts.map_or(0, |s| ms(s[i])))),
    )
}

// ---- Blocks (Prometheus TSDB block format) --------------------------------

/// WrittenBlock describes a block cut by `writeBlock`.
#[napi(object)]
pub struct WrittenBlock {
    /// The block's ULID, also its directory name under `dir`.
    pub ulid: String,
    pub num_series: f64,
    pub num_samples: f64,
    pub num_chunks: f64,
    /// meta.json's minTime (inclusive, ms).
    pub min_time: f64,
    /// meta.json's maxTime (exclusive, ms).
    pub max_time: f64,
}

fn block_error(e: tsdb_core::block::BlockError) -> Error {
    let status = match e {
        tsdb_core::block::BlockError::InvalidArgument(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, e.to_string())
}

fn write_block_core(
    tenant: &str,
    dir: &str,
    mint: i64,
    maxt: i64,
) -> Result<Option<tsdb_core::block::BlockMeta>> {
    let Some(h) = tsdb_core::tsdb::registry().get_head(tenant) else {
        return Ok(None);
    };
    tsdb_core::block::write_block(
        &h,
        std::path::Path::new(dir),
        mint,
        maxt,
        &tsdb_core::block::BlockWriteOptions::default(),
    )
    .map_err(block_error)
}

fn written_block(m: tsdb_core::block::BlockMeta) -> WrittenBlock {
    WrittenBlock {
        ulid: m.ulid.to_string(),
        num_series: m.stats.num_series as f64,
        num_samples: m.stats.num_samples as f64,
        num_chunks: m.stats.num_chunks as f64,
        min_time: m.min_time as f64,
        max_time: m.max_time as f64,
    }
}

/// write_block cuts the tenant head's samples with mintMs <= t < maxtMs into
/// a Prometheus TSDB block `<dir>/<ULID>/` (meta.json, index, chunks/,
/// tombstones), written under `<ULID>.tmp`, fsynced and renamed. Returns
/// null when the range holds no samples. Throws on I/O errors or an empty
/// range.
#[napi]
pub fn write_block(
    tenant: String,
    dir: String,
    mint_ms: f64,
    maxt_ms: f64,
) -> Result<Option<WrittenBlock>> {
    Ok(write_block_core(&tenant, &dir, ms(mint_ms), ms(maxt_ms))?.map(written_block))
}

/// WriteBlockTask runs `writeBlockAsync` on the libuv thread pool.
pub struct WriteBlockTask {
    tenant: String,
    dir: String,
    mint: i64,
    maxt: i64,
}

impl Task for WriteBlockTask {
    type Output = Option<tsdb_core::block::BlockMeta>;
    type JsValue = Option<WrittenBlock>;

    fn compute(&mut self) -> Result<Self::Output> {
        write_block_core(&self.tenant, &self.dir, self.mint, self.maxt)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(written_block))
    }
}

/// write_block_async is `writeBlock` computed off the calling thread.
#[napi(ts_return_type = "Promise<WrittenBlock | null>")]
pub fn write_block_async(
    tenant: String,
    dir: String,
    mint_ms: f64,
    maxt_ms: f64,
) -> AsyncTask<WriteBlockTask> {
    AsyncTask::new(WriteBlockTask {
        tenant,
        dir,
        mint: ms(mint_ms),
        maxt: ms(maxt_ms),
    })
}

/// block_select_samples opens the block directory `blockDir` and returns the
/// samples with mintMs <= t <= maxtMs of every series matching all matchers
/// (every series for none), in the shape of `selectSamples`. Throws on an
/// invalid regexp, on a missing or corrupt block (CRC mismatch, truncated
/// chunk file), naming the file, and with selectSamples' too-many-samples
/// message when more than maxSamples (if given and > 0) would be loaded.
#[napi]
pub fn block_select_samples(
    block_dir: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    max_samples: Option<f64>,
) -> Result<SelectedSamples> {
    let set = if matchers.is_empty() {
        Vec::new()
    } else {
        self::matchers(std::slice::from_ref(&matchers))?
            .pop()
            .unwrap_or_default()
    };
    let b = tsdb_core::block::Block::open(std::path::Path::new(&block_dir)).map_err(block_error)?;
    let sel = b
        .select_samples(
            &set,
            ms(mint_ms),
            ms(maxt_ms),
            to_limit(max_samples.unwrap_or(0.0)),
        )
        .map_err(block_error)?;
    Ok(sel.into())
}

/// SelectedChunks are the raw chunks of the series a selector matched, flat:
/// series i (labels i of `labels`) owns chunks [seriesOffsets[i],
/// seriesOffsets[i+1]); chunk j is data[dataOffsets[j], dataOffsets[j+1])
/// with encoding encodings[j] (1 = XOR) and samples from minTimes[j] to
/// maxTimes[j] (ms).
#[napi(object)]
pub struct SelectedChunks {
    /// The series' label sets, a SeriesLabels flatbuffer.
    pub labels: Buffer,
    pub series_offsets: Uint32Array,
    pub min_times: Float64Array,
    pub max_times: Float64Array,
    pub encodings: Uint8Array,
    pub data_offsets: Uint32Array,
    pub data: Buffer,
}

impl From<tsdb_core::block::SelectedChunks> for SelectedChunks {
    fn from(sel: tsdb_core::block::SelectedChunks) -> Self {
        SelectedChunks {
            labels: Buffer::from(sel.labels),
            series_offsets: Uint32Array::new(sel.series_offsets),
            min_times: Float64Array::new(sel.min_times),
            max_times: Float64Array::new(sel.max_times),
            encodings: Uint8Array::new(sel.encodings),
            data_offsets: Uint32Array::new(sel.data_offsets),
            data: Buffer::from(sel.data),
        }
    }
}

/// block_select_chunks opens the block directory `blockDir` and returns,
/// whole and as stored (CRC checked), the chunks overlapping [mintMs,
/// maxtMs] of every series matching all matchers (every series for none),
/// series sorted by labels. For remote read's streamed chunks and block
/// comparisons. Throws on an invalid regexp and on a missing or corrupt
/// block, naming the file.
#[napi]
pub fn block_select_chunks(
    block_dir: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
) -> Result<SelectedChunks> {
    let set = if matchers.is_empty() {
        Vec::new()
    } else {
        self::matchers(std::slice::from_ref(&matchers))?
            .pop()
            .unwrap_or_default()
    };
    let b = tsdb_core::block::Block::open(std::path::Path::new(&block_dir)).map_err(block_error)?;
    let sel = b
        .select_chunks(&set, ms(mint_ms), ms(maxt_ms))
        .map_err(block_error)?;
    Ok(sel.into())
}

/// select_chunks returns, whole and as stored, the head's XOR chunks
/// overlapping [mintMs, maxtMs] of every series matching all matchers (every
/// series for none), series sorted by labels, the open head chunk with its
/// current bytes. For remote read's streamed chunks. Throws on an invalid
/// regexp.
#[napi]
pub fn select_chunks(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<SelectedChunks> {
    let mut task =
        select_async::SelectChunksTask::new(tenant, matchers, mint_ms, maxt_ms, visibility)?;
    Ok(task.compute()?.into())
}
pub mod query_native;

/// AllocatorStats are glibc malloc's counters for the whole process (the
/// Rust core allocates through the system allocator): what
/// `/debug/pprof/heap` reports beside V8's heap.
#[napi(object)]
pub struct AllocatorStats {
    /// Bytes in blocks malloc has handed out (arena and mmapped).
    pub in_use_bytes: f64,
    /// Bytes of free blocks malloc keeps for reuse.
    pub free_bytes: f64,
    /// Bytes of large blocks obtained with mmap (part of inUseBytes).
    pub mmapped_bytes: f64,
    /// Bytes of the arenas obtained from the system (sbrk and arena heaps).
    pub arena_bytes: f64,
}

/// allocator_stats reads malloc's counters (mallinfo2).
#[napi]
pub fn allocator_stats() -> AllocatorStats {
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's
    // counters under its own locks.
    let m = unsafe { libc::mallinfo2() };
    AllocatorStats {
        in_use_bytes: (m.uordblks + m.hblkhd) as f64,
        free_bytes: m.fordblks as f64,
        mmapped_bytes: m.hblkhd as f64,
        arena_bytes: m.arena as f64,
    }
}

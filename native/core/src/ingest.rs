//! ingest is the write path: decode a remote-write 1.0 request, validate
//! each series as Mimir's distributor does, and append the survivors to a
//! tenant's head with Mimir ingester semantics. Bad data never fails the
//! whole request: each refused series or sample is counted by reason and
//! the first error is reported, as Mimir reports it (HTTP 400). The
//! exception is the tenant's ingestion rate limit (`crate::limits`), checked
//! after validation and before any append: over it, nothing is stored (429).
//! New series beyond the tenant's series limits are refused one by one (400).
//! Exemplars and metric metadata go through `crate::ingest_extra`.

use std::sync::Arc;

use crate::ha_tracker::{self, HaOutcome, HaSettings};
use crate::head::{hash_labels, Head, MemSeries, SeriesAppendResult};
use crate::limits::{self, RateLimit, SeriesLimits};
use crate::metadata::MetadataLimits;
use crate::remote::{
    self, CreatedTimestamps, HistogramLimits, MetadataValidationLimits, ValidationLimits,
    WriteRequestView,
};
use crate::wal::record::SeriesEncoder;
use crate::wal::TenantWal;

/// IngestLimits are the per-tenant limits for one ingest call (mirrors the
/// TypeScript `IngestLimits`).
#[derive(Debug, Clone, PartialEq)]
pub struct IngestLimits {
    /// Series validation: label counts and lengths, grace periods.
    pub validation: ValidationLimits,
    pub now_ms: i64,
    /// The tenant's ingestion rate limit; None applies none.
    pub ingestion_rate: Option<RateLimit>,
    /// The tenant's max global series per user / per metric (0 = none).
    pub series: SeriesLimits,
    /// -ingester.max-global-exemplars-per-user: the size of the tenant's
    /// exemplar ring; 0 (Mimir's default) drops every exemplar.
    pub max_exemplars: u64,
    /// The tenant's metadata limits (stored metadata, see `crate::metadata`).
    pub metadata: MetadataLimits,
    /// -validation.enforce-metadata-metric-name, -validation.max-metadata-length.
    pub metadata_validation: MetadataValidationLimits,
    /// The tenant's HA tracker settings when it accepts HA samples
    /// (`accept_ha_samples`); None leaves pushes untouched.
    pub ha: Option<HaSettings>,
    /// -validation.max-native-histogram-buckets and
    /// -validation.reduce-native-histogram-over-max-buckets.
    pub histograms: HistogramLimits,
}

impl Default for IngestLimits {
    /// default is Mimir's defaults, at time 0.
    fn default() -> Self {
        IngestLimits {
            validation: ValidationLimits::default(),
            now_ms: 0,
            ingestion_rate: None,
            series: SeriesLimits::default(),
            max_exemplars: 0,
            metadata: MetadataLimits::default(),
            metadata_validation: MetadataValidationLimits::default(),
            ha: None,
            histograms: HistogramLimits::default(),
        }
    }
}

/// IngestResult summarises one request (mirrors the TypeScript `IngestResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestResult {
    pub series: u32,
    pub samples: u32,
    pub exemplars: u32,
    pub metadata: u32,
    /// Native histogram samples in the request.
    pub histograms: u32,
    /// Float samples appended to the head.
    pub accepted_samples: u32,
    /// Native histogram samples appended to the head.
    pub accepted_histograms: u32,
    pub created_series: u32,
    /// Discarded samples by Mimir reason, in order of first occurrence.
    pub discarded: Vec<(&'static str, u64)>,
    pub error_status: Option<u16>,
    pub error_message: Option<String>,
    /// Whether the error came from the head (the ingester: out of order,
    /// out of bounds, duplicates, series limits) rather than validation;
    /// OTLP answers those as a partial success.
    pub ingester_error: bool,
    /// Exemplars stored (or already stored: exact repeats).
    pub accepted_exemplars: u32,
    /// Exemplars the ingester could not store (series missing, out of order).
    pub failed_exemplars: u32,
    /// Exemplars dropped by validation, by Mimir reason (`cortex_discarded_exemplars_total`).
    pub discarded_exemplars: Vec<(&'static str, u64)>,
    /// Metadata entries stored or refreshed.
    pub accepted_metadata: u32,
    /// Metadata dropped, by Mimir reason (`cortex_discarded_metadata_total`).
    pub discarded_metadata: Vec<(&'static str, u64)>,
    /// The first metadata limit refusal: Mimir logs it as a warning and
    /// answers the push as if the metadata had been stored.
    pub metadata_warning: Option<String>,
    /// The HA cluster of the request, when it carried the HA labels.
    pub ha_cluster: Option<String>,
    /// Samples dropped because their replica is not the elected one.
    pub deduped_samples: u32,
    /// Samples of a tenant with HA deduplication whose request lacked the HA labels.
    pub non_ha_samples: u32,
}

/// add_count adds n under reason to a list of counts by reason.
fn add_count(list: &mut Vec<(&'static str, u64)>, reason: &'static str, n: u64) {
    if n == 0 {
        return;
    }
    match list.iter_mut().find(|(r, _)| *r == reason) {
        Some((_, c)) => *c += n,
        None => list.push((reason, n)),
    }
}

impl IngestResult {
    /// decode_error is the result for an undecodable body (HTTP 400).
    fn decode_error(message: &str) -> Self {
        IngestResult {
            error_status: Some(400),
            error_message: Some(message.to_string()),
            ..IngestResult::default()
        }
    }

    pub(crate) fn discard_exemplars(&mut self, reason: &'static str, n: u64) {
        add_count(&mut self.discarded_exemplars, reason, n);
    }

    pub(crate) fn discard_metadata(&mut self, reason: &'static str, n: u64) {
        add_count(&mut self.discarded_metadata, reason, n);
    }

    fn discard(&mut self, reason: &'static str, n: u64) {
        add_count(&mut self.discarded, reason, n);
    }
}

/// ingest_write_request decodes `body` (uncompressed protobuf), validates
/// and appends it to `head` (in memory only).
pub fn ingest_write_request(head: &Head, body: &[u8], limits: &IngestLimits) -> IngestResult {
    ingest_write_request_logged(head, None, body, limits)
}

/// ingest_write_request_logged is `ingest_write_request` that also logs
/// what it appended to the tenant's WAL, when there is one: the series it
/// created and the samples that reached the head, one write per request,
/// made durable as the WAL's sync mode asks before returning. When the WAL
/// cannot be written, the result is a 500 (the client retries).
pub fn ingest_write_request_logged(
    head: &Head,
    wal: Option<&TenantWal>,
    body: &[u8],
    limits: &IngestLimits,
) -> IngestResult {
    // Each thread decodes into the vectors its previous request left (the
    // ingest runs on a few native threads), unless they grew past a large
    // request's size.
    thread_local! {
        static SCRATCH: std::cell::RefCell<remote::DecodeScratch> = Default::default();
    }
    let mut scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let res = match remote::decode_write_request_with(body, &mut scratch) {
        Ok(mut req) => {
            let created = std::mem::take(&mut req.created_timestamps);
            let res = ingest_view(head, wal, &mut req, &created, limits);
            scratch = req.into_scratch();
            res
        }
        Err(e) => IngestResult::decode_error(e.message()),
    };
    if scratch.retained_items() <= SCRATCH_KEEP_ITEMS {
        SCRATCH.with(|s| *s.borrow_mut() = scratch);
    }
    res
}

/// SCRATCH_KEEP_ITEMS bounds the decode vectors a thread keeps between
/// requests (items of every kind together).
const SCRATCH_KEEP_ITEMS: usize = 1 << 16;

/// ingest_request_logged is `ingest_decoded` without created timestamps:
/// for requests built by another protocol's translator (OTLP).
pub fn ingest_request_logged(
    head: &Head,
    wal: Option<&TenantWal>,
    req: WriteRequestView<'_>,
    limits: &IngestLimits,
) -> IngestResult {
    ingest_decoded(head, wal, req, &CreatedTimestamps::default(), limits)
}

/// ingest_decoded validates and appends a decoded request (either protocol)
/// as `ingest_write_request_logged` describes; `created_timestamps` are the series'
/// created timestamps (remote write 2.0), each appended as a zero sample
/// before the series' samples when it can be (see `append_created_zero`).
pub fn ingest_decoded(
    head: &Head,
    wal: Option<&TenantWal>,
    mut req: WriteRequestView<'_>,
    created_timestamps: &CreatedTimestamps,
    limits: &IngestLimits,
) -> IngestResult {
    ingest_view(head, wal, &mut req, created_timestamps, limits)
}

/// SeriesPlan is what the first pass of an ingest decided for one series
/// of the request.
enum SeriesPlan {
    /// Not valid, or nothing of it kept.
    Skip,
    /// Exemplars alone, for the series when it exists.
    Exemplars(Option<Arc<MemSeries>>),
    /// Refused before any append: `n` items discarded for `reason`; its
    /// exemplars still go through (without a series) when `exemplars`.
    Refused {
        reason: &'static str,
        n: u64,
        message: String,
        exemplars: bool,
    },
    /// Appended to this series.
    Append(Arc<MemSeries>),
}

impl SeriesPlan {
    /// series is the series the request appends to (samples or exemplars).
    fn series(&self) -> Option<&MemSeries> {
        match self {
            SeriesPlan::Exemplars(Some(s)) | SeriesPlan::Append(s) => Some(s),
            _ => None,
        }
    }
}

/// ingest_view is `ingest_decoded` on a request the caller keeps (to
/// recycle its allocations).
fn ingest_view(
    head: &Head,
    wal: Option<&TenantWal>,
    req: &mut WriteRequestView<'_>,
    created_timestamps: &CreatedTimestamps,
    limits: &IngestLimits,
) -> IngestResult {
    let mut res = IngestResult {
        series: req.series.len() as u32,
        samples: req.total_samples() as u32,
        histograms: req.total_histograms() as u32,
        exemplars: req.total_exemplars() as u32,
        metadata: req.metadata.len() as u32,
        ..IngestResult::default()
    };
    let Validated {
        valid,
        hist_ok,
        exemplars,
        metadata_ok,
        validation_error,
    } = match validate_request(head.tenant(), req, limits, &mut res) {
        Stage::Refused(r) => return *r,
        Stage::Empty => return res,
        Stage::Valid(v) => v,
    };
    if let Some(limit) = limits.ingestion_rate {
        let now = limits::monotonic_ms();
        let counts = ItemCounts {
            exemplars: exemplars.kept_count(),
            metadata: metadata_ok.iter().filter(|ok| **ok).count() as u64,
        };
        if let Err(msg) = check_rate(head.tenant(), &*req, &valid, counts, limit, now, &mut res) {
            res.error_status = Some(429);
            res.error_message = Some(msg);
            return res;
        }
    }
    let tsdb = crate::tsdb::registry().tenant(head.tenant());
    let gate = limits.series.enabled().then(|| tsdb.series_gate());
    let mut append_error: Option<String> = None;
    let mut scratch: Vec<(&str, &str)> = Vec::new();
    // Each valid series' label-set hash, computed once for its lookup.
    let hashes: Vec<u64> = valid
        .iter()
        .enumerate()
        .map(|(i, ok)| {
            if *ok {
                hash_labels(normalized_labels(req.series(i).labels, &mut scratch))
            } else {
                0
            }
        })
        .collect();
    let logging = wal.is_some();
    let mut app = head.appender();
    let mut created_log = SeriesEncoder::default();
    if logging {
        app.log_samples();
        app.collect_closed_chunks();
    }
    let mut ex_app = crate::ingest_extra::ExemplarAppender::new(head.tenant(), limits, logging);
    // Metadata first, as Mimir's ingester (refusals never fail the push);
    // with a WAL, under its writer mutex below, so the log order of a
    // metric's metadata is the order it was stored in.
    if !logging {
        crate::ingest_extra::store_metadata(
            head.tenant(),
            &*req,
            &metadata_ok,
            limits,
            &mut res,
            false,
        );
    }

    // 1. Find or create the series (nothing appended yet).
    let mut plans: Vec<SeriesPlan> = Vec::with_capacity(valid.len());
    for (i, ok) in valid.iter().enumerate() {
        if !ok {
            plans.push(SeriesPlan::Skip);
            continue;
        }
        let s = req.series(i);
        let with_exemplars = ex_app.enabled() && exemplars.any_kept(&*req, i);
        let hists_start = req.series[i].histograms_start;
        let hist_ok = &hist_ok[hists_start..hists_start + s.histograms];
        let n_hists = hist_ok.iter().filter(|ok| **ok).count();
        let n_all = (s.samples.len() + n_hists) as u64;
        let labels = normalized_labels(s.labels, &mut scratch);
        if s.samples.is_empty() && n_hists == 0 {
            // Exemplars alone go to an existing series only.
            plans.push(if with_exemplars {
                SeriesPlan::Exemplars(head.lookup_hashed(labels, hashes[i]))
            } else {
                SeriesPlan::Skip
            });
            continue;
        }
        // Mimir's fast path: a series whose samples are all too old is
        // refused without being created.
        if let Some(min_valid) = app.min_valid_time() {
            let mut times = s.samples.iter().map(|x| x.timestamp_ms).chain(
                s.histogram_list
                    .iter()
                    .zip(hist_ok)
                    .filter(|(_, ok)| **ok)
                    .map(|(h, _)| h.timestamp_ms),
            );
            let first = s
                .samples
                .first()
                .map(|x| x.timestamp_ms)
                .or_else(|| times.clone().next());
            if times.all(|t| t < min_valid) {
                let kind = crate::head::AppendErrorKind::OutOfBounds;
                plans.push(SeriesPlan::Refused {
                    reason: kind.reason(),
                    n: n_all,
                    message: kind.message(first.unwrap_or(0), labels),
                    exemplars: false,
                });
                continue;
            }
        }
        let (series, created) = match &gate {
            None => head.get_or_create_hashed(labels, hashes[i]),
            Some(g) => match g.get_or_create_hashed(head, labels, hashes[i], &limits.series) {
                Ok(x) => x,
                Err(refusal) => {
                    plans.push(SeriesPlan::Refused {
                        reason: refusal.reason(),
                        n: n_all,
                        message: refusal.message(&limits.series, labels),
                        exemplars: with_exemplars,
                    });
                    continue;
                }
            },
        };
        if created {
            res.created_series += 1;
        }
        plans.push(SeriesPlan::Append(series));
    }

    // 2. With a WAL, take the log-order locks of those series (ascending
    // refs, so requests never wait on each other in a cycle) and log the
    // Series record of each series whose record is not in the log yet.
    let mut ordered: Vec<&MemSeries> = if logging {
        plans.iter().filter_map(SeriesPlan::series).collect()
    } else {
        Vec::new()
    };
    ordered.sort_unstable_by_key(|s| s.series_ref);
    ordered.dedup_by_key(|s| s.series_ref);
    let order_locks: Vec<_> = ordered.iter().map(|s| s.log_order.lock()).collect();
    let unlogged: Vec<&MemSeries> = ordered
        .iter()
        .copied()
        .filter(|s| !s.logged.load(std::sync::atomic::Ordering::Acquire))
        .collect();
    for s in &unlogged {
        created_log.add(u64::from(s.series_ref), &s.labels);
    }

    // 3. Append, in request order.
    for (i, plan) in plans.iter().enumerate() {
        let series = match plan {
            SeriesPlan::Skip => continue,
            SeriesPlan::Exemplars(series) => {
                let labels = normalized_labels(req.series(i).labels, &mut scratch);
                ex_app.append(
                    &*req,
                    i,
                    &exemplars,
                    series.as_deref(),
                    labels,
                    &mut res,
                    &mut append_error,
                );
                continue;
            }
            SeriesPlan::Refused {
                reason,
                n,
                message,
                exemplars: with_exemplars,
            } => {
                res.discard(reason, *n);
                if append_error.is_none() {
                    append_error = Some(message.clone());
                }
                if *with_exemplars {
                    let labels = normalized_labels(req.series(i).labels, &mut scratch);
                    ex_app.append(
                        &*req,
                        i,
                        &exemplars,
                        None,
                        labels,
                        &mut res,
                        &mut append_error,
                    );
                }
                continue;
            }
            SeriesPlan::Append(series) => series,
        };
        let s = req.series(i);
        let with_exemplars = ex_app.enabled() && exemplars.any_kept(&*req, i);
        let hists_start = req.series[i].histograms_start;
        let hist_ok = &hist_ok[hists_start..hists_start + s.histograms];
        let n_hists = hist_ok.iter().filter(|ok| **ok).count();
        if let Some(ct) = created_timestamps
            .get(req.series[i].samples_start)
            .filter(|_| !s.samples.is_empty())
        {
            append_created_zero(
                &mut app,
                series,
                ct,
                s.samples[0].timestamp_ms,
                head.chunk_range(),
                limits,
            );
        }
        if let Some(ct) = created_timestamps.get_histograms(hists_start) {
            let first = s.histogram_list.iter().zip(hist_ok).find(|(_, ok)| **ok);
            if let Some((h, _)) = first {
                append_created_zero_histogram(
                    &mut app,
                    series,
                    ct,
                    &h.value,
                    h.timestamp_ms,
                    head.chunk_range(),
                    limits,
                );
            }
        }
        let r: SeriesAppendResult = app.append_series_st(
            series,
            s.samples
                .iter()
                .map(|x| (x.timestamp_ms, x.value, x.start_timestamp_ms)),
        );
        res.accepted_samples += r.appended;
        let mut r = r;
        if n_hists > 0 {
            let hr = app.append_histograms_st(
                series,
                s.histogram_list
                    .iter()
                    .zip(hist_ok)
                    .filter(|(_, ok)| **ok)
                    .map(|(h, _)| (h.timestamp_ms, &h.value, h.start_timestamp_ms)),
            );
            res.accepted_histograms += hr.appended;
            r.out_of_bounds += hr.out_of_bounds;
            r.out_of_order += hr.out_of_order;
            r.duplicate_timestamp += hr.duplicate_timestamp;
            if r.first_error.is_none() {
                r.first_error = hr.first_error;
            }
        }
        if r.rejected() > 0 {
            use crate::head::AppendErrorKind as K;
            res.discard(K::OutOfBounds.reason(), u64::from(r.out_of_bounds));
            res.discard(K::OutOfOrder.reason(), u64::from(r.out_of_order));
            res.discard(
                K::DuplicateTimestamp.reason(),
                u64::from(r.duplicate_timestamp),
            );
            if append_error.is_none() {
                if let Some((kind, t)) = r.first_error {
                    append_error = Some(kind.message(t, &series.labels));
                }
            }
        }
        if with_exemplars {
            let labels = normalized_labels(s.labels, &mut scratch);
            ex_app.append(
                &*req,
                i,
                &exemplars,
                Some(series),
                labels,
                &mut res,
                &mut append_error,
            );
        }
    }
    let mut records = created_log.finish();
    records.extend(app.take_sample_log());
    records.extend(ex_app.take_log());
    let closed = app.take_closed_chunks();
    app.commit();
    if let Some(wal) = wal {
        // Compressed before the writer mutex, which is then held only to lay them out and write.
        let mut prepared = crate::wal::prepare_records(&records, wal.compression());
        let mut writer = wal.lock_writer();
        let metadata_records = crate::ingest_extra::store_metadata(
            head.tenant(),
            &*req,
            &metadata_ok,
            limits,
            &mut res,
            true,
        );
        prepared.extend(crate::wal::prepare_records(
            &metadata_records,
            wal.compression(),
        ));
        let logged = writer.log_prepared(&prepared);
        if logged.is_ok() {
            // Still under the writer mutex and the log-order locks: each series' chunks reach the
            // files in time order. A failed write only turns them off.
            let _ = wal.head_chunks().write(&closed);
        }
        drop(writer);
        if logged.is_ok() {
            for s in &unlogged {
                s.logged.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        drop(order_locks);
        crate::wal::buffers::give_back_all(prepared.into_iter().map(|p| p.into_buffer()));
        crate::wal::buffers::give_back_all(records);
        if let Err(e) = logged.and_then(|seq| wal.commit(seq)) {
            res.error_status = Some(500);
            res.error_message = Some(format!(
                "failed to write to the WAL of tenant {}: {e}",
                head.tenant()
            ));
            return res;
        }
    }

    // Mimir's distributor returns the ingester's error before its own
    // validation error (both are 400s).
    res.ingester_error = append_error.is_some();
    if let Some(msg) = append_error.or(validation_error) {
        res.error_status = Some(400);
        res.error_message = Some(msg);
    }
    res
}

/// ingest_write_request_v2_logged is `ingest_write_request_logged` for a
/// remote write 2.0 body (`io.prometheus.write.v2.Request`).
pub fn ingest_write_request_v2_logged(
    head: &Head,
    wal: Option<&TenantWal>,
    body: &[u8],
    limits: &IngestLimits,
) -> IngestResult {
    match remote::decode_write_request_v2(body) {
        Ok(mut r) => {
            let created = std::mem::take(&mut r.request.created_timestamps);
            ingest_decoded(head, wal, r.request, &created, limits)
        }
        Err(e) => IngestResult::decode_error(e.message()),
    }
}

/// append_created_zero appends the zero sample a created timestamp stands
/// for (the counter started from 0 at `ct`), as Mimir and Prometheus do for
/// remote write 2.0: only before the series' first sample of the request,
/// not in the future nor before `-validation.past-grace-period`, and when
/// the head refuses it (out of order, too old, a different sample already
/// at `ct`) it is dropped without an error. It is not counted as written.
fn append_created_zero(
    app: &mut crate::head::HeadAppender<'_>,
    series: &crate::head::MemSeries,
    ct: i64,
    first_sample_ms: i64,
    head_chunk_range: i64,
    limits: &IngestLimits,
) {
    if created_zero_fits(app, ct, first_sample_ms, head_chunk_range, limits) {
        app.append_series(series, std::iter::once((ct, 0.0)));
    }
}

/// append_created_zero_histogram is `append_created_zero` for a series of
/// native histograms, as Prometheus's `AppendHistogramCTZeroSample`: an
/// empty histogram marked as a counter reset, with the first histogram's
/// schema, zero threshold and custom bounds (so no new chunk is needed).
fn append_created_zero_histogram(
    app: &mut crate::head::HeadAppender<'_>,
    series: &crate::head::MemSeries,
    ct: i64,
    first: &crate::model::histogram::HistogramValue,
    first_ms: i64,
    head_chunk_range: i64,
    limits: &IngestLimits,
) {
    use crate::model::histogram::{CounterResetHint, FloatHistogram, Histogram, HistogramValue};
    if !created_zero_fits(app, ct, first_ms, head_chunk_range, limits) {
        return;
    }
    let zero = match first {
        HistogramValue::Int(h) => HistogramValue::Int(Histogram {
            counter_reset_hint: CounterResetHint::CounterReset,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            custom_values: h.custom_values.clone(),
            ..Histogram::default()
        }),
        HistogramValue::Float(h) => HistogramValue::Float(FloatHistogram {
            counter_reset_hint: CounterResetHint::CounterReset,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            custom_values: h.custom_values.clone(),
            ..FloatHistogram::default()
        }),
    };
    app.append_histograms(series, std::iter::once((ct, &zero)));
}

/// created_zero_fits tells whether a zero sample at created timestamp `ct`
/// goes before a series' first sample at `first_sample_ms`: before it,
/// within the grace periods, and not too old for the head.
fn created_zero_fits(
    app: &crate::head::HeadAppender<'_>,
    ct: i64,
    first_sample_ms: i64,
    head_chunk_range: i64,
    limits: &IngestLimits,
) -> bool {
    let future = limits
        .now_ms
        .saturating_add(limits.validation.creation_grace_period_ms);
    let past = limits
        .now_ms
        .saturating_sub(limits.validation.past_grace_period_ms);
    if ct >= first_sample_ms
        || ct > future
        || (limits.validation.past_grace_period_ms > 0 && ct < past)
    {
        return false;
    }
    // Too old for the head: checked here rather than left to the append so
    // that a created timestamp can never be the sample that opens an empty
    // head's time range (it would stretch it back to when the counter started).
    let min_valid = app
        .min_valid_time()
        .unwrap_or(first_sample_ms.saturating_sub(head_chunk_range / 2));
    ct >= min_valid
}

/// dedupe_ha runs the HA tracker over the request (see `crate::ha_tracker`);
/// Some is the finished result of a refused request (202 for a replica
/// that is not elected, 400 beyond the tenant's clusters limit).
fn dedupe_ha(
    tenant: &str,
    req: &mut WriteRequestView<'_>,
    ha: &HaSettings,
    res: &mut IngestResult,
) -> Option<IngestResult> {
    let samples = (req.total_samples() + req.total_histograms()) as u32;
    match ha_tracker::dedupe(ha_tracker::kv(), tenant, req, ha) {
        HaOutcome::NotHa => res.non_ha_samples = samples,
        HaOutcome::Accepted { cluster } => res.ha_cluster = Some(cluster),
        HaOutcome::Refused { cluster, refusal } => {
            let mut out = std::mem::take(res);
            match refusal {
                ha_tracker::HaRefusal::NotElected { .. } => out.deduped_samples = samples,
                ha_tracker::HaRefusal::TooManyClusters { .. } => {
                    out.discard(ha_tracker::REASON_TOO_MANY_HA_CLUSTERS, u64::from(samples))
                }
            }
            out.error_status = Some(refusal.status());
            out.error_message = Some(refusal.message());
            out.ha_cluster = Some(cluster);
            return Some(out);
        }
    }
    None
}

/// validate_all removes duplicate sample timestamps and validates every
/// series as Mimir's distributor does, counting what it refuses and keeping
/// the first error; the result marks the series to append.
fn validate_all(
    req: &mut WriteRequestView<'_>,
    vlimits: &ValidationLimits,
    now_ms: i64,
    res: &mut IngestResult,
    first_error: &mut Option<String>,
) -> Vec<bool> {
    let mut valid = Vec::with_capacity(req.series.len());
    for i in 0..req.series.len() {
        let dups = req.dedupe_sample_timestamps(i);
        res.discard(remote::reason::SAMPLE_DUPLICATE_TIMESTAMP, dups as u64);
        let s = req.series(i);
        match remote::validate_series(&s, vlimits, now_ms) {
            Ok(()) => valid.push(true),
            Err(e) => {
                res.discard(e.reason, s.samples.len() as u64);
                if first_error.is_none() {
                    *first_error = Some(e.message);
                }
                valid.push(false);
            }
        }
    }
    valid
}

/// validate_histograms checks the native histograms of the valid series
/// as Mimir does: the sample timestamp checks and the schema and bucket
/// limits of the distributor (reducing the resolution in place when the
/// limit allows it), then Prometheus's consistency checks the ingester runs.
/// Each refused histogram is counted by reason; the first error is kept.
/// The result marks, for each histogram of the request, whether to store it.
fn validate_histograms(
    req: &mut WriteRequestView<'_>,
    valid: &[bool],
    vlimits: &ValidationLimits,
    limits: &IngestLimits,
    res: &mut IngestResult,
    first_error: &mut Option<String>,
) -> Vec<bool> {
    let mut keep = vec![true; req.histograms.len()];
    for (i, ok) in valid.iter().enumerate() {
        let e = req.series[i];
        if !ok || e.histograms == 0 {
            continue;
        }
        let labels = &req.labels[e.labels_start..e.labels_end];
        let hists = &mut req.histograms[e.histograms_start..e.histograms_start + e.histograms];
        let keep = &mut keep[e.histograms_start..e.histograms_start + e.histograms];
        for (h, keep) in hists.iter_mut().zip(keep.iter_mut()) {
            if let Err(err) =
                remote::validate_sample(labels, h.timestamp_ms, vlimits, limits.now_ms)
            {
                res.discard(err.reason, 1);
                first_error.get_or_insert(err.message);
                *keep = false;
                continue;
            }
            // The series as Mimir prints it, only made for an error.
            let name = || remote::format_labels(labels);
            let checked = remote::check_histogram_limits(
                &mut h.value,
                h.timestamp_ms,
                name,
                &limits.histograms,
            )
            .and_then(|_| remote::validate_histogram(&h.value));
            if let Err(err) = checked {
                res.discard(err.reason, 1);
                first_error.get_or_insert_with(|| {
                    remote::histogram_error_message(&err, h.timestamp_ms, &name())
                });
                *keep = false;
            }
        }
    }
    keep
}

/// ItemCounts are the validated exemplars and metadata of a request.
#[derive(Debug, Clone, Copy)]
struct ItemCounts {
    exemplars: u64,
    metadata: u64,
}

/// check_rate takes the request's validated samples, exemplars and
/// metadata from the tenant's ingestion rate limiter (as Mimir's
/// distributor, only when some samples or metadata are left); Err is the
/// 429 text, the refused items counted as `rate_limited`.
/// Validated is what the validation stage keeps of a request.
struct Validated {
    /// Per series: whether it is stored.
    valid: Vec<bool>,
    /// Per native histogram of the request: whether it is stored.
    hist_ok: Vec<bool>,
    exemplars: crate::ingest_extra::ValidatedExemplars,
    /// Per metadata entry: whether it is stored.
    metadata_ok: Vec<bool>,
    /// The first validation error (the push's 400 when nothing else fails).
    validation_error: Option<String>,
}

/// Stage is the outcome of the validation stage.
enum Stage {
    /// HA deduplication refused the request (its answer).
    Refused(Box<IngestResult>),
    /// Nothing is left to store; the result holds the validation error.
    Empty,
    Valid(Validated),
}

/// validate_request is the distributor's part of a push before the rate
/// limiter, as Mimir's middlewares run it: HA deduplication on the labels
/// as sent, labels sorted and filtered, then samples, native histograms,
/// exemplars and metadata validated (refusals counted into `res`).
fn validate_request(
    tenant: &str,
    req: &mut WriteRequestView<'_>,
    limits: &IngestLimits,
    res: &mut IngestResult,
) -> Stage {
    // Mimir's prePushHaDedupeMiddleware runs first, on the labels as sent.
    if let Some(ha) = &limits.ha {
        if let Some(refused) = dedupe_ha(tenant, req, ha, res) {
            return Stage::Refused(Box::new(refused));
        }
    }
    // Mimir's prePushSortAndFilterMiddleware: drop empty label values and
    // series left without labels (silently), sort labels by name.
    req.sort_and_filter_labels();

    let vlimits = &limits.validation;
    let mut validation_error: Option<String> = None;
    // The distributor's part comes first for the whole request (validation,
    // then the rate limiter), so that a rate-limited request stores nothing.
    let valid = validate_all(req, vlimits, limits.now_ms, res, &mut validation_error);
    let hist_ok = validate_histograms(req, &valid, vlimits, limits, res, &mut validation_error);
    let exemplars = crate::ingest_extra::validate_exemplars(req, &valid, limits, res);
    let metadata_ok =
        crate::ingest_extra::validate_metadata_all(req, limits, res, &mut validation_error);
    // Mimir's distributor sends nothing on when no sample and no metadata
    // is left (exemplars alone are not enough).
    let any_samples = req
        .iter_series()
        .zip(&valid)
        .any(|(s, ok)| *ok && (!s.samples.is_empty() || s.histograms > 0));
    if !any_samples && !metadata_ok.iter().any(|ok| *ok) {
        if let Some(msg) = validation_error {
            res.error_status = Some(400);
            res.error_message = Some(msg);
        }
        return Stage::Empty;
    }
    Stage::Valid(Validated {
        valid,
        hist_ok,
        exemplars,
        metadata_ok,
        validation_error,
    })
}

/// ValidatedItems are the items of a request that pass validation, as the
/// rate limiter counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidatedItems {
    /// Samples of the valid series (native histograms among them).
    pub samples: u64,
    pub exemplars: u64,
    pub metadata: u64,
}

/// validated_items runs the validation stage of a push (see
/// `validate_request`) on an uncompressed request of either protocol
/// without storing anything, and counts what the rate limiter would take:
/// for a distributor that applies the limit before the ingesters validate.
/// A request that does not decode, or that validation leaves empty, counts
/// nothing.
pub fn validated_items(
    tenant: &str,
    body: &[u8],
    v2: bool,
    limits: &IngestLimits,
) -> ValidatedItems {
    let decoded = if v2 {
        remote::decode_write_request_v2(body).map(|r| r.request)
    } else {
        remote::decode_write_request(body)
    };
    let Ok(mut req) = decoded else {
        return ValidatedItems::default();
    };
    let mut res = IngestResult::default();
    let Stage::Valid(v) = validate_request(tenant, &mut req, limits, &mut res) else {
        return ValidatedItems::default();
    };
    ValidatedItems {
        samples: valid_samples(&req, &v.valid),
        exemplars: v.exemplars.kept_count(),
        metadata: v.metadata_ok.iter().filter(|ok| **ok).count() as u64,
    }
}

/// valid_samples counts the samples and native histograms of the valid series.
fn valid_samples(req: &WriteRequestView<'_>, valid: &[bool]) -> u64 {
    req.iter_series()
        .zip(valid)
        .filter(|(_, ok)| **ok)
        .map(|(s, _)| (s.samples.len() + s.histograms) as u64)
        .sum()
}

fn check_rate(
    tenant: &str,
    req: &WriteRequestView<'_>,
    valid: &[bool],
    counts: ItemCounts,
    limit: RateLimit,
    now_ms: i64,
    res: &mut IngestResult,
) -> Result<(), String> {
    // Native histogram samples count as samples, as in Mimir.
    let samples = valid_samples(req, valid);
    let ItemCounts {
        exemplars,
        metadata,
    } = counts;
    if samples == 0 && metadata == 0 {
        return Ok(());
    }
    let items = samples + exemplars + metadata;
    if crate::tsdb::registry()
        .tenant(tenant)
        .allow_ingestion(limit, items, now_ms)
    {
        return Ok(());
    }
    res.discard(limits::REASON_RATE_LIMITED, samples);
    add_count(
        &mut res.discarded_exemplars,
        limits::REASON_RATE_LIMITED,
        exemplars,
    );
    add_count(
        &mut res.discarded_metadata,
        limits::REASON_RATE_LIMITED,
        metadata,
    );
    Err(limits::rate_limited_message(limit, items))
}

/// normalized_labels returns the labels sorted by name with empty values
/// dropped, borrowing `labels` when it already is (the common case).
fn normalized_labels<'s, 'a: 's>(
    labels: &'s [(&'a str, &'a str)],
    scratch: &'s mut Vec<(&'a str, &'a str)>,
) -> &'s [(&'a str, &'a str)] {
    let clean =
        labels.windows(2).all(|w| w[0].0 < w[1].0) && labels.iter().all(|(_, v)| !v.is_empty());
    if clean {
        return labels;
    }
    scratch.clear();
    scratch.extend(labels.iter().filter(|(_, v)| !v.is_empty()).copied());
    scratch.sort_by(|a, b| a.0.cmp(b.0));
    scratch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::DEFAULT_CHUNK_RANGE;

    type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

    /// body encodes a WriteRequest with the given series.
    fn body(series: &[TestSeries<'_>]) -> Vec<u8> {
        crate::remote::test_encode::write_request(series)
    }

    fn limits(now: i64) -> IngestLimits {
        IngestLimits {
            now_ms: now,
            ..IngestLimits::default()
        }
    }

    #[test]
    fn ingest_counts_and_errors() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let now = 1_700_000_000_000;
        let up: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
        let r = ingest_write_request(
            &h,
            &body(&[(up, &[(now - 1000, 1.0), (now, 2.0)])]),
            &limits(now),
        );
        assert_eq!(
            (r.series, r.samples, r.accepted_samples, r.created_series),
            (1, 2, 2, 1)
        );
        assert_eq!(r.error_status, None);

        // Unsorted labels and an empty value map to the same series.
        let same: &[(&str, &str)] = &[("job", "a"), ("x", ""), ("__name__", "up")];
        let no_name: &[(&str, &str)] = &[("job", "b")];
        let r = ingest_write_request(
            &h,
            &body(&[
                (same, &[(now - 500, 1.0), (now + 1000, 3.0)]),
                (no_name, &[(now, 1.0), (now + 1, 1.0)]),
            ]),
            &limits(now),
        );
        assert_eq!((r.accepted_samples, r.created_series), (1, 0));
        assert_eq!(
            r.discarded,
            // Validation runs over the whole request before the appends.
            vec![("missing_metric_name", 2), ("sample-out-of-order", 1)]
        );
        assert_eq!(r.error_status, Some(400));
        let msg = r.error_message.unwrap();
        assert!(msg.contains("(err-mimir-sample-out-of-order)"), "{msg}");
        assert!(msg.ends_with("is from series up{job=\"a\"}"), "{msg}");
        assert_eq!(h.stats().samples, 3);
    }

    #[test]
    fn too_old_series_is_not_created() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let now = 1_700_000_000_000;
        let hour = 3_600_000;
        let a: &[(&str, &str)] = &[("__name__", "a")];
        let b: &[(&str, &str)] = &[("__name__", "b")];
        ingest_write_request(&h, &body(&[(a, &[(now, 1.0)])]), &limits(now));
        let r = ingest_write_request(
            &h,
            &body(&[(b, &[(now - 2 * hour, 1.0), (now - 3 * hour, 1.0)])]),
            &limits(now),
        );
        assert_eq!((r.created_series, r.accepted_samples), (0, 0));
        assert_eq!(r.discarded, vec![("sample-out-of-bounds", 2)]);
        assert!(r
            .error_message
            .unwrap()
            .contains("(err-mimir-sample-timestamp-too-old)"));
        assert_eq!(h.num_series(), 1);
    }

    #[test]
    fn validated_items_count_what_passes_and_store_nothing() {
        let now = 1_700_000_000_000;
        let a: &[(&str, &str)] = &[("__name__", "a"), ("job", "x")];
        let no_name: &[(&str, &str)] = &[("job", "no-name")];
        let far: &[(&str, &str)] = &[("__name__", "far")];
        let req = body(&[
            (a, &[(now - 2, 1.0), (now - 1, 2.0), (now, 3.0)]),
            (no_name, &[(now, 1.0), (now + 1, 1.0)]),
            // Too far in the future for the creation grace period.
            (far, &[(now + 3_600_000, 1.0)]),
        ]);
        let lim = IngestLimits {
            validation: crate::remote::ValidationLimits {
                creation_grace_period_ms: 600_000,
                ..limits(now).validation
            },
            ..limits(now)
        };
        let tenant = "validated-items-test";
        assert_eq!(
            validated_items(tenant, &req, false, &lim),
            ValidatedItems {
                samples: 3,
                exemplars: 0,
                metadata: 0
            }
        );
        // Nothing valid, bad protobuf: nothing counts.
        assert_eq!(
            validated_items(tenant, &body(&[(no_name, &[(now, 1.0)])]), false, &lim),
            ValidatedItems::default()
        );
        assert_eq!(
            validated_items(tenant, &[0x0a, 0x05, 0x01], false, &lim),
            ValidatedItems::default()
        );
        // The same request ingested takes the same count from the limiter's view.
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        assert_eq!(h.num_series(), 0, "validation stored nothing");
        let r = ingest_write_request(&h, &req, &lim);
        assert_eq!(r.accepted_samples, 3);
    }

    #[test]
    fn ingest_bad_protobuf() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let r = ingest_write_request(&h, &[0x0a, 0x05, 0x01], &limits(0));
        assert_eq!(r.error_status, Some(400));
        assert!(r.error_message.is_some());
        assert_eq!(h.num_series(), 0);
    }

    #[test]
    fn rate_limited_request_stores_nothing() {
        let h = Head::new("ingest-rate-test", DEFAULT_CHUNK_RANGE);
        let _ = crate::tsdb::registry().drop_tenant("ingest-rate-test");
        let now = 1_700_000_000_000;
        let lim = IngestLimits {
            ingestion_rate: Some(RateLimit {
                rate: 10.0,
                burst: 2,
            }),
            ..limits(now)
        };
        let a: &[(&str, &str)] = &[("__name__", "a")];
        let bad: &[(&str, &str)] = &[("job", "no-name")];
        // The invalid series is not counted against the limit.
        let r = ingest_write_request(
            &h,
            &body(&[(a, &[(now - 1, 1.0), (now, 1.0)]), (bad, &[(now, 1.0)])]),
            &lim,
        );
        assert_eq!((r.accepted_samples, r.error_status), (1 + 1, Some(400)));
        let b: &[(&str, &str)] = &[("__name__", "b")];
        let r = ingest_write_request(&h, &body(&[(b, &[(now, 1.0)])]), &lim);
        assert_eq!(r.error_status, Some(429));
        assert_eq!(r.discarded, vec![("rate_limited", 1)]);
        assert!(r
            .error_message
            .unwrap()
            .contains("set to 10 items/s with a maximum allowed burst of 2."));
        assert_eq!(h.num_series(), 1, "nothing of the refused request stored");
        // 10/s: a token is back after 100ms.
        std::thread::sleep(std::time::Duration::from_millis(150));
        let r = ingest_write_request(
            &h,
            &body(&[(b, &[(now + 1000, 1.0)])]),
            &IngestLimits {
                now_ms: now + 1000,
                ..lim
            },
        );
        assert_eq!((r.error_status, r.accepted_samples), (None, 1));
    }

    #[test]
    fn series_limits_refuse_new_series_only() {
        let h = Head::new("ingest-series-test", DEFAULT_CHUNK_RANGE);
        let now = 1_700_000_000_000;
        let lim = IngestLimits {
            series: SeriesLimits {
                per_user: 2,
                per_metric: 0,
            },
            ..limits(now)
        };
        let a: &[(&str, &str)] = &[("__name__", "a")];
        let b: &[(&str, &str)] = &[("__name__", "b")];
        let c: &[(&str, &str)] = &[("__name__", "c")];
        let r = ingest_write_request(&h, &body(&[(a, &[(now, 1.0)]), (b, &[(now, 1.0)])]), &lim);
        assert_eq!(r.error_status, None);
        let r = ingest_write_request(
            &h,
            &body(&[
                (c, &[(now + 1, 1.0), (now + 2, 1.0)]),
                (a, &[(now + 1, 2.0)]),
            ]),
            &lim,
        );
        assert_eq!(r.error_status, Some(400));
        assert_eq!(r.accepted_samples, 1);
        assert_eq!(r.discarded, vec![("per_user_series_limit", 2)]);
        assert!(r
            .error_message
            .unwrap()
            .starts_with("per-user series limit of 2 exceeded (err-mimir-max-series-per-user)."));
        assert_eq!(h.num_series(), 2);
    }

    #[test]
    fn ingest_duplicate_timestamps_in_request() {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let now = 1_700_000_000_000;
        let up: &[(&str, &str)] = &[("__name__", "up")];
        let r = ingest_write_request(
            &h,
            &body(&[(up, &[(now, 1.0), (now, 2.0), (now + 1, 3.0)])]),
            &limits(now),
        );
        assert_eq!(r.accepted_samples, 2);
        assert_eq!(r.discarded, vec![("sample_duplicate_timestamp", 1)]);
    }

    #[test]
    fn ha_dedupe_keeps_the_elected_replica_only() {
        let tenant = "ingest-ha-test";
        crate::ha_tracker::kv().delete_tenant(tenant);
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let now = 1_700_000_000_000;
        let ha = |clock: i64| IngestLimits {
            ha: Some(HaSettings {
                tracker_enabled: true,
                cluster_label: "cluster".into(),
                replica_label: "__replica__".into(),
                max_clusters: 0,
                update_timeout_ms: 15_000,
                failover_timeout_ms: 30_000,
                max_label_value_length: 2048,
                now_ms: clock,
            }),
            ..limits(now)
        };
        let a: &[(&str, &str)] = &[("__name__", "up"), ("__replica__", "a"), ("cluster", "c")];
        let b: &[(&str, &str)] = &[("__replica__", "b"), ("cluster", "c"), ("__name__", "up")];
        let r = ingest_write_request(&h, &body(&[(a, &[(now, 1.0)])]), &ha(0));
        assert_eq!((r.error_status, r.accepted_samples), (None, 1));
        assert_eq!(r.ha_cluster.as_deref(), Some("c"));
        let r = ingest_write_request(&h, &body(&[(b, &[(now + 1, 2.0)])]), &ha(1000));
        assert_eq!(
            (r.error_status, r.accepted_samples, r.deduped_samples),
            (Some(202), 0, 1)
        );
        assert_eq!(
            r.error_message.as_deref(),
            Some("replicas did not match, rejecting sample: replica=b, elected=a")
        );
        // The stored series has no replica label; b takes over after the failover timeout.
        let r = ingest_write_request(&h, &body(&[(b, &[(now + 2, 3.0)])]), &ha(30_000));
        assert_eq!((r.error_status, r.accepted_samples), (None, 1));
        assert_eq!(h.num_series(), 1);
        assert!(h.lookup(&[("__name__", "up"), ("cluster", "c")]).is_some());
        // Without both labels the request is not HA and is stored as sent.
        let plain: &[(&str, &str)] = &[("__name__", "up"), ("__replica__", "z")];
        let r = ingest_write_request(&h, &body(&[(plain, &[(now, 1.0)])]), &ha(30_001));
        assert_eq!(
            (r.error_status, r.non_ha_samples, r.accepted_samples),
            (None, 1, 1)
        );
        assert_eq!(h.num_series(), 2);
    }
}

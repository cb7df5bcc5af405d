//! ingest_extra is the exemplar and metadata part of the write path
//! (`crate::ingest` calls it): Mimir's distributor validation of both,
//! then, in the ingester's order, metadata into `crate::metadata` and each
//! series' exemplars into `crate::exemplars` right after its samples, with
//! what was stored logged to the tenant's WAL (Prometheus's Exemplars and
//! Metadata records) in the same write as the samples.
//!
//! What Mimir does, and this module does:
//! - with `-ingester.max-global-exemplars-per-user` 0 every exemplar is
//!   dropped silently;
//! - an invalid exemplar (see `remote::validate_exemplar`) or one outside
//!   the request's time window is dropped and counted by reason; the rest
//!   of the series is kept; a series' exemplars are sorted by time;
//! - invalid metadata is dropped, the push answers 400 with the first
//!   message after storing the rest; metadata over the tenant's limits is
//!   dropped with a warning only (the push succeeds);
//! - exemplars of a series that does not exist (refused, or sent without
//!   samples for a series never seen) fail with
//!   `err-mimir-exemplar-series-missing`; out-of-order exemplars fail only
//!   when all of the series' exemplars are out of order; exact repeats of
//!   the newest are accepted without being stored again.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::exemplars::{self, Added, ExemplarRing, OUT_OF_ORDER_EXEMPLAR};
use crate::head::{format_rfc3339_nano, MemSeries};
use crate::ingest::{IngestLimits, IngestResult};
use crate::remote::{self, format_labels, WriteRequestView};
use crate::wal::record::{self, ExemplarsEncoder, MetadataEntry};

/// ValidatedExemplars marks which exemplars of a request (indexes into
/// `WriteRequestView::exemplars`) passed validation.
#[derive(Debug, Default)]
pub struct ValidatedExemplars {
    keep: Vec<bool>,
    kept: u64,
}

impl ValidatedExemplars {
    /// kept_count is the number of exemplars kept.
    pub fn kept_count(&self) -> u64 {
        self.kept
    }

    /// any_kept reports whether series `i` has an exemplar left.
    pub fn any_kept(&self, req: &WriteRequestView<'_>, i: usize) -> bool {
        req.exemplar_range(i).any(|k| self.keep[k])
    }
}

/// exemplar_window is Mimir's [min, max] exemplar time for a request: five
/// minutes before its earliest sample or native histogram (or the past
/// grace period, when later), up to the wall clock plus the creation grace
/// period.
fn exemplar_window(req: &WriteRequestView<'_>, limits: &IngestLimits) -> (i64, i64) {
    let earliest = req
        .iter_series()
        .flat_map(|s| {
            s.samples
                .iter()
                .map(|x| x.timestamp_ms)
                .chain(s.histogram_list.iter().map(|h| h.timestamp_ms))
        })
        .min();
    let mut min_ts = 0;
    if let Some(e) = earliest {
        min_ts = e.saturating_sub(remote::MIN_EXEMPLAR_AGE_MS);
        if limits.validation.past_grace_period_ms > 0 {
            min_ts = min_ts.max(
                limits
                    .now_ms
                    .saturating_sub(limits.validation.past_grace_period_ms),
            );
        }
    }
    (
        min_ts,
        limits
            .now_ms
            .saturating_add(limits.validation.creation_grace_period_ms),
    )
}

/// validate_exemplars validates the exemplars of the valid series (the
/// others are not looked at, as in Mimir) and sorts each series'
/// exemplars by time.
pub fn validate_exemplars(
    req: &mut WriteRequestView<'_>,
    valid: &[bool],
    limits: &IngestLimits,
    res: &mut IngestResult,
) -> ValidatedExemplars {
    let mut out = ValidatedExemplars {
        keep: vec![false; req.exemplars.len()],
        kept: 0,
    };
    if limits.max_exemplars == 0 || req.exemplars.is_empty() {
        return out;
    }
    let (min_ts, max_ts) = exemplar_window(req, limits);
    for (i, ok) in valid.iter().enumerate() {
        if !ok {
            continue;
        }
        let range = req.exemplar_range(i);
        req.exemplars[range.clone()].sort_by_key(|e| e.timestamp_ms);
        let e = req.series[i];
        let series = &req.labels[e.labels_start..e.labels_end];
        for k in range {
            let x = req.exemplars[k];
            let labels = req.exemplar_labels_of(&x);
            let reason = match remote::validate_exemplar(series, labels, x.timestamp_ms) {
                Err(err) => Some(err.reason),
                Ok(()) => remote::exemplar_time_reason(x.timestamp_ms, min_ts, max_ts),
            };
            match reason {
                Some(r) => res.discard_exemplars(r, 1),
                None => {
                    out.keep[k] = true;
                    out.kept += 1;
                }
            }
        }
    }
    out
}

/// validate_metadata_all validates (and cleans) every metadata entry;
/// the first error becomes the push's 400 when no earlier one was found.
pub fn validate_metadata_all(
    req: &mut WriteRequestView<'_>,
    limits: &IngestLimits,
    res: &mut IngestResult,
    first_error: &mut Option<String>,
) -> Vec<bool> {
    let mut ok = Vec::with_capacity(req.metadata.len());
    for m in req.metadata.iter_mut() {
        match remote::validate_metadata(m, &limits.metadata_validation) {
            Ok(()) => ok.push(true),
            Err(e) => {
                res.discard_metadata(e.reason, 1);
                first_error.get_or_insert(e.message);
                ok.push(false);
            }
        }
    }
    ok
}

/// store_metadata stores the valid metadata of a request for the tenant;
/// returns the WAL records of the new entries when `log` is set.
pub fn store_metadata(
    tenant: &str,
    req: &WriteRequestView<'_>,
    ok: &[bool],
    limits: &IngestLimits,
    res: &mut IngestResult,
    log: bool,
) -> Vec<Vec<u8>> {
    if !ok.iter().any(|x| *x) {
        return Vec::new();
    }
    let tsdb = crate::tsdb::registry().tenant(tenant);
    let store = tsdb.metadata();
    let mut logged: Vec<MetadataEntry<'_>> = Vec::new();
    for (m, _) in req.metadata.iter().zip(ok).filter(|(_, ok)| **ok) {
        match store.add(m, &limits.metadata, limits.now_ms) {
            Ok(new) => {
                res.accepted_metadata += 1;
                if new && log {
                    logged.push(MetadataEntry {
                        series_ref: 0,
                        metric_type: u8::try_from(m.metric_type).unwrap_or(0),
                        unit: m.unit,
                        help: m.help,
                        family: Some(m.metric_family_name),
                    });
                }
            }
            Err(refusal) => {
                res.discard_metadata(refusal.reason(), 1);
                res.metadata_warning
                    .get_or_insert_with(|| refusal.message());
            }
        }
    }
    if logged.is_empty() {
        Vec::new()
    } else {
        vec![record::encode_metadata(&logged)]
    }
}

/// ExemplarAppender stores the validated exemplars of one request.
pub struct ExemplarAppender {
    ring: Option<Arc<Mutex<ExemplarRing>>>,
    log: Option<ExemplarsEncoder>,
}

impl ExemplarAppender {
    /// new sizes the tenant's ring to its limit (0 drops it) and prepares
    /// the WAL log when `log` is set.
    pub fn new(tenant: &str, limits: &IngestLimits, log: bool) -> Self {
        let capacity = usize::try_from(limits.max_exemplars).unwrap_or(usize::MAX);
        ExemplarAppender {
            ring: crate::tsdb::registry()
                .tenant(tenant)
                .exemplar_ring(capacity),
            log: log.then(ExemplarsEncoder::default),
        }
    }

    /// enabled reports whether the tenant stores exemplars.
    pub fn enabled(&self) -> bool {
        self.ring.is_some()
    }

    /// append stores the kept exemplars of series `i` for `series` (None:
    /// the series does not exist); the first failure to report goes to
    /// `first_error`.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        req: &WriteRequestView<'_>,
        i: usize,
        validated: &ValidatedExemplars,
        series: Option<&MemSeries>,
        series_labels: &[(&str, &str)],
        res: &mut IngestResult,
        first_error: &mut Option<String>,
    ) {
        let Some(ring) = &self.ring else { return };
        let kept: Vec<usize> = req
            .exemplar_range(i)
            .filter(|k| validated.keep[*k])
            .collect();
        let Some(&first) = kept.first() else { return };
        let Some(series) = series else {
            res.failed_exemplars += kept.len() as u32;
            if first_error.is_none() {
                let x = &req.exemplars[first];
                *first_error = Some(exemplar_error(
                    "the exemplar has been rejected because the related series has not been ingested yet (err-mimir-exemplar-series-missing)",
                    x.timestamp_ms,
                    series_labels,
                    req.exemplar_labels_of(x),
                ));
            }
            return;
        };
        let mut ring = ring.lock();
        let mut out_of_order = 0;
        for &k in &kept {
            let x = &req.exemplars[k];
            let labels = req.exemplar_labels_of(x);
            match ring.add(series.series_ref, labels, x.timestamp_ms, x.value) {
                Ok(added) => {
                    res.accepted_exemplars += 1;
                    if let (Added::Stored, Some(log)) = (added, self.log.as_mut()) {
                        let mut sorted: Vec<(&str, &str)> = labels
                            .iter()
                            .filter(|(_, v)| !v.is_empty())
                            .copied()
                            .collect();
                        sorted.sort_by(|a, b| a.0.cmp(b.0));
                        log.push(
                            u64::from(series.series_ref),
                            x.timestamp_ms,
                            x.value,
                            &sorted,
                        );
                    }
                }
                Err(exemplars::OutOfOrder) => {
                    res.failed_exemplars += 1;
                    out_of_order += 1;
                    // Reported only when every exemplar of the series is out of order.
                    if out_of_order == kept.len() && first_error.is_none() {
                        let mut msg = format!("err: {OUT_OF_ORDER_EXEMPLAR}. timestamp=");
                        format_rfc3339_nano(&mut msg, x.timestamp_ms);
                        msg.push_str(", series=");
                        msg.push_str(&format_labels(series_labels));
                        msg.push_str(", exemplar=");
                        msg.push_str(&format_labels(labels));
                        *first_error = Some(msg);
                    }
                }
            }
        }
    }

    /// take_log returns the Exemplars records of what was stored.
    pub fn take_log(&mut self) -> Vec<Vec<u8>> {
        self.log
            .take()
            .map(ExemplarsEncoder::finish)
            .unwrap_or_default()
    }
}

/// exemplar_error is Mimir's ingester exemplar error text.
fn exemplar_error(what: &str, ts: i64, series: &[(&str, &str)], labels: &[(&str, &str)]) -> String {
    let mut out = format!(
        "{what}. The affected exemplar is {} with timestamp ",
        format_labels(labels)
    );
    format_rfc3339_nano(&mut out, ts);
    out.push_str(" for series ");
    out.push_str(&format_labels(series));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::{Head, DEFAULT_CHUNK_RANGE};
    use crate::ingest::ingest_write_request;
    use crate::metadata::{metadata_json, MetadataLimits, MetadataQuery};

    type Ex<'a> = (&'a [(&'a str, &'a str)], f64, i64);

    struct Series<'a> {
        labels: &'a [(&'a str, &'a str)],
        samples: &'a [(i64, f64)],
        exemplars: &'a [Ex<'a>],
    }

    fn body(series: &[Series<'_>], metadata: &[(i32, &str, &str, &str)]) -> Vec<u8> {
        use crate::remote::test_encode as enc;
        let mut req = Vec::new();
        for s in series {
            let mut ts = enc::timeseries(s.labels, s.samples);
            for (labels, v, t) in s.exemplars {
                enc::put_bytes(&mut ts, 3, &enc::exemplar(labels, *v, *t));
            }
            enc::put_bytes(&mut req, 1, &ts);
        }
        for (t, name, help, unit) in metadata {
            enc::put_bytes(&mut req, 3, &enc::metadata(*t, name, help, unit));
        }
        req
    }

    const NOW: i64 = 1_700_000_000_000;

    /// push ingests `series` (no metadata) with room for 10 exemplars.
    fn push(h: &Head, series: &[Series<'_>]) -> IngestResult {
        ingest_write_request(h, &body(series, &[]), &limits(10))
    }

    fn limits(max_exemplars: u64) -> IngestLimits {
        IngestLimits {
            now_ms: NOW,
            max_exemplars,
            metadata: MetadataLimits {
                per_user: 2,
                per_metric: 1,
                retain_period_ms: 0,
            },
            ..IngestLimits::default()
        }
    }

    fn query(tenant: &str, head: &Head) -> String {
        let m =
            crate::index::Matcher::new(crate::index::MatchType::Regexp, "__name__", ".+").unwrap();
        exemplars::exemplars_json(
            Some(head),
            crate::tsdb::registry()
                .get(tenant)
                .and_then(|t| t.exemplars())
                .as_deref(),
            &[vec![m]],
            i64::MIN,
            i64::MAX,
        )
    }

    #[test]
    fn exemplars_disabled_by_default_limit() {
        let h = Head::new("ix-disabled", DEFAULT_CHUNK_RANGE);
        let up: &[(&str, &str)] = &[("__name__", "up")];
        let r = ingest_write_request(
            &h,
            &body(
                &[Series {
                    labels: up,
                    samples: &[(NOW, 1.0)],
                    exemplars: &[(&[("t", "1")], 1.0, NOW)],
                }],
                &[],
            ),
            &limits(0),
        );
        assert_eq!(
            (r.error_status, r.accepted_samples, r.accepted_exemplars),
            (None, 1, 0)
        );
        assert!(r.discarded_exemplars.is_empty(), "dropped without counting");
        assert_eq!(query("ix-disabled", &h), "[]");
    }

    #[test]
    fn exemplars_validated_stored_and_queried() {
        let tenant = "ix-stored";
        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let up: &[(&str, &str)] = &[("job", "a"), ("__name__", "up")];
        let long = "x".repeat(130);
        let exs: &[Ex<'_>] = &[
            (&[("trace_id", "late")], 2.0, NOW),
            (&[("trace_id", "early")], 1.0, NOW - 1000),
            (&[], 3.0, NOW),                                   // labels missing
            (&[("trace_id", "no-ts")], 3.0, 0),                // no timestamp
            (&[("trace_id", &long)], 3.0, NOW),                // too long
            (&[("trace_id", "old")], 3.0, NOW - 10 * 60_000),  // before the window
            (&[("trace_id", "future")], 3.0, NOW + 3_600_000), // after it
        ];
        let r = push(
            &h,
            &[Series {
                labels: up,
                samples: &[(NOW, 1.0)],
                exemplars: exs,
            }],
        );
        assert_eq!(r.error_status, None, "{:?}", r.error_message);
        assert_eq!((r.exemplars, r.accepted_exemplars), (7, 2));
        let mut d = r.discarded_exemplars.clone();
        d.sort();
        assert_eq!(
            d,
            vec![
                ("exemplar_labels_missing", 1),
                ("exemplar_labels_too_long", 1),
                ("exemplar_timestamp_invalid", 1),
                ("exemplar_too_far_in_future", 1),
                ("exemplar_too_old", 1),
            ]
        );
        assert_eq!(
            query(tenant, &h),
            r#"[{"seriesLabels":{"__name__":"up","job":"a"},"exemplars":[{"labels":{"trace_id":"early"},"value":"1","timestamp":1699999999},{"labels":{"trace_id":"late"},"value":"2","timestamp":1700000000}]}]"#
        );
        // All out of order: the push reports it (400), the sample is stored.
        let r = push(
            &h,
            &[Series {
                labels: up,
                samples: &[(NOW + 1, 1.0)],
                exemplars: &[(&[("trace_id", "x")], 1.0, NOW - 2000)],
            }],
        );
        assert_eq!(
            (r.error_status, r.accepted_samples, r.failed_exemplars),
            (Some(400), 1, 1)
        );
        assert_eq!(
            r.error_message.unwrap(),
            "err: out of order exemplar. timestamp=2023-11-14T22:13:18Z, series=up{job=\"a\"}, exemplar={trace_id=\"x\"}"
        );
        // An exact repeat of the newest is accepted, not stored twice.
        let r = push(
            &h,
            &[Series {
                labels: up,
                samples: &[(NOW + 2, 1.0)],
                exemplars: &[(&[("trace_id", "late")], 2.0, NOW)],
            }],
        );
        assert_eq!((r.error_status, r.accepted_exemplars), (None, 1));
        assert_eq!(
            crate::tsdb::registry()
                .get(tenant)
                .and_then(|t| t.exemplars())
                .unwrap()
                .lock()
                .len(),
            2
        );
    }

    #[test]
    fn exemplars_of_histogram_series() {
        use crate::model::histogram::{Histogram, HistogramValue, Span};
        use crate::remote::test_encode as enc;
        let tenant = "ix-histograms";
        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let hist = HistogramValue::Int(Histogram {
            count: 2,
            sum: 1.5,
            positive_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![2],
            ..Histogram::default()
        });
        // A series of native histograms only: its exemplars' window starts
        // five minutes before the histogram, so the 10 minutes older one is
        // dropped as too old.
        let mut ts = Vec::new();
        enc::put_labels(&mut ts, &[("__name__", "latency")]);
        enc::put_bytes(&mut ts, 4, &enc::histogram(&hist, NOW));
        enc::put_bytes(&mut ts, 3, &enc::exemplar(&[("trace_id", "new")], 0.7, NOW));
        enc::put_bytes(
            &mut ts,
            3,
            &enc::exemplar(&[("trace_id", "old")], 0.2, NOW - 10 * 60_000),
        );
        let mut req = Vec::new();
        enc::put_bytes(&mut req, 1, &ts);
        let r = ingest_write_request(&h, &req, &limits(10));
        assert_eq!(r.error_status, None, "{:?}", r.error_message);
        assert_eq!(
            (r.accepted_histograms, r.exemplars, r.accepted_exemplars),
            (1, 2, 1)
        );
        assert_eq!(r.discarded_exemplars, vec![("exemplar_too_old", 1)]);
        assert_eq!(
            query(tenant, &h),
            r#"[{"seriesLabels":{"__name__":"latency"},"exemplars":[{"labels":{"trace_id":"new"},"value":"0.7","timestamp":1700000000}]}]"#
        );
    }

    #[test]
    fn exemplars_of_missing_series() {
        let tenant = "ix-missing";
        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let a: &[(&str, &str)] = &[("__name__", "a")];
        let b: &[(&str, &str)] = &[("__name__", "b")];
        let r = push(
            &h,
            &[
                Series {
                    labels: a,
                    samples: &[(NOW, 1.0)],
                    exemplars: &[],
                },
                Series {
                    labels: b,
                    samples: &[],
                    exemplars: &[(&[("trace_id", "1")], 1.0, NOW)],
                },
            ],
        );
        assert_eq!(
            (r.error_status, r.accepted_samples, r.failed_exemplars),
            (Some(400), 1, 1)
        );
        assert_eq!(
            r.error_message.unwrap(),
            "the exemplar has been rejected because the related series has not been ingested yet (err-mimir-exemplar-series-missing). The affected exemplar is {trace_id=\"1\"} with timestamp 2023-11-14T22:13:20Z for series b"
        );
        // Exemplars alone for an existing series are stored.
        let r = push(
            &h,
            &[
                Series {
                    labels: b,
                    samples: &[(NOW, 1.0)],
                    exemplars: &[],
                },
                Series {
                    labels: a,
                    samples: &[],
                    exemplars: &[(&[("trace_id", "2")], 1.0, NOW)],
                },
            ],
        );
        assert_eq!((r.error_status, r.accepted_exemplars), (None, 1));
        // A request of exemplars only is not sent on by the distributor.
        let r = push(
            &h,
            &[Series {
                labels: a,
                samples: &[],
                exemplars: &[(&[("trace_id", "3")], 1.0, NOW + 5)],
            }],
        );
        assert_eq!((r.error_status, r.accepted_exemplars), (None, 0));
    }

    #[test]
    fn metadata_validation_and_limits() {
        let tenant = "ix-metadata";
        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let up: &[(&str, &str)] = &[("__name__", "up")];
        let r = ingest_write_request(
            &h,
            &body(
                &[Series {
                    labels: up,
                    samples: &[(NOW, 1.0)],
                    exemplars: &[],
                }],
                &[
                    (1, "a_total", "A", ""),
                    (1, "a_total", "A2", ""), // per-metric limit 1
                    (2, "", "no name", ""),   // invalid: 400
                    (2, "b", "B", "bytes"),
                    (2, "c", "C", ""), // per-user limit 2
                ],
            ),
            &limits(0),
        );
        assert_eq!(r.error_status, Some(400));
        assert_eq!(
            r.error_message.as_deref(),
            Some("received a metric metadata with no metric name (err-mimir-metadata-missing-metric-name)")
        );
        assert_eq!((r.accepted_samples, r.accepted_metadata), (1, 2));
        assert_eq!(
            r.discarded_metadata,
            vec![
                ("missing_metric_name", 1),
                ("per_metric_metadata_limit", 1),
                ("per_user_metadata_limit", 1)
            ]
        );
        assert!(r
            .metadata_warning
            .unwrap()
            .starts_with("per-metric metadata limit of 1 exceeded"));
        let all = MetadataQuery {
            limit: -1,
            limit_per_metric: -1,
            metric: "",
        };
        assert_eq!(
            metadata_json(crate::tsdb::registry(), &[tenant], &all, 0, NOW),
            r#"{"a_total":[{"type":"counter","help":"A","unit":""}],"b":[{"type":"gauge","help":"B","unit":"bytes"}]}"#
        );
        // Over the limits only: the push succeeds.
        let r = ingest_write_request(&h, &body(&[], &[(1, "d", "D", "")]), &limits(0));
        assert_eq!((r.error_status, r.accepted_metadata), (None, 0));
        assert_eq!(r.discarded_metadata, vec![("per_user_metadata_limit", 1)]);
    }

    #[test]
    fn wal_replay_restores_exemplars_and_metadata() {
        use crate::ingest::ingest_write_request_logged;
        use crate::wal::{SyncMode, WalOptions, WalStorage};
        let tenant = "ix-wal";
        let dir = std::env::temp_dir().join(format!("ix-wal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = WalOptions {
            dir: dir.clone(),
            segment_size: 4 * 32 * 1024,
            sync_mode: SyncMode::None,
            compress: true,
            zstd: false,
        };
        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let storage = WalStorage::new();
        storage.open(opts.clone()).unwrap();
        let head = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        let wal = storage.tenant(tenant).unwrap().unwrap();
        let up: &[(&str, &str)] = &[("__name__", "up"), ("job", "a")];
        let r = ingest_write_request_logged(
            &head,
            Some(&wal),
            &body(
                &[Series {
                    labels: up,
                    samples: &[(NOW, 1.0)],
                    exemplars: &[
                        (&[("trace_id", "t1"), ("span", "")], 0.5, NOW - 10),
                        (&[("trace_id", "t2")], 1.5, NOW),
                    ],
                }],
                &[(1, "up", "Up or not.", ""), (2, "g", "G", "bytes")],
            ),
            &limits(10),
        );
        assert_eq!(
            (r.error_status, r.accepted_exemplars, r.accepted_metadata),
            (None, 2, 2)
        );
        wal.close().unwrap();
        let all = MetadataQuery {
            limit: -1,
            limit_per_metric: -1,
            metric: "",
        };
        let exemplars_before = query(tenant, &head);
        let metadata_before = metadata_json(crate::tsdb::registry(), &[tenant], &all, 0, NOW);
        assert!(exemplars_before.contains("\"t2\""), "{exemplars_before}");

        let _ = crate::tsdb::registry().drop_tenant(tenant);
        let storage2 = WalStorage::new();
        let found = storage2.open(opts).unwrap();
        let head2 = Head::new(tenant, DEFAULT_CHUNK_RANGE);
        crate::tsdb::registry().tenant(tenant).exemplar_ring(10);
        let w2 = storage2.tenant(tenant).unwrap().unwrap();
        let mut restored = (0, 0);
        for seg in &found[0].segments {
            let st = w2.replay_segment(&head2, *seg).unwrap();
            restored.0 += st.exemplars;
            restored.1 += st.metadata;
        }
        assert_eq!(restored, (2, 2));
        assert_eq!(query(tenant, &head2), exemplars_before);
        assert_eq!(
            metadata_json(crate::tsdb::registry(), &[tenant], &all, 0, NOW),
            metadata_before
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

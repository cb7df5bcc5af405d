//! wal: the N-API face of the write-ahead log (`tsdb_core::wal`): open the
//! storage directory, replay each tenant's segments, close on shutdown,
//! and the logged variants of the append paths used by `lib.rs`.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::head::{self, Head};
use tsdb_core::ingest;
use tsdb_core::wal::{self, ReplayStats, SyncMode, WalOptions};

/// StorageOptions configure the on-disk storage.
#[napi(object)]
pub struct StorageOptions {
    /// -blocks-storage.tsdb.dir: each tenant's WAL is in `<dir>/<tenant>/wal`.
    pub dir: String,
    /// -blocks-storage.tsdb.wal-segment-size-bytes (a multiple of 32768).
    pub wal_segment_size: f64,
    /// -blocks-storage.tsdb.wal-sync-mode: `none` or `always`.
    pub sync_mode: String,
    /// -blocks-storage.tsdb.wal-compression-enabled: snappy-compress WAL
    /// records as Prometheus does (default true).
    pub wal_compression: Option<bool>,
    /// `-blocks-storage.tsdb.wal-compression-type`: "snappy" (default) or "zstd".
    pub wal_compression_type: Option<String>,
    /// -blocks-storage.tsdb.block-ranges-period in ms: the chunk range of
    /// the heads (default 2h), as Prometheus's head takes the block range.
    pub block_range_ms: Option<f64>,
}

/// WalTenant is a tenant whose WAL has segments to replay.
#[napi(object)]
pub struct WalTenant {
    pub tenant: String,
    /// Segment indexes after the checkpoint, ascending.
    pub segments: Vec<u32>,
    /// The newest checkpoint (the last segment it covers), replayed first
    /// with replayWalCheckpoint.
    pub checkpoint: Option<u32>,
}

/// WalReplayResult are one segment's replay figures.
#[napi(object)]
pub struct WalReplayResult {
    pub records: f64,
    pub series: f64,
    pub samples: f64,
    /// Samples whose series record was never seen (lost to corruption).
    pub unknown_refs: f64,
    /// Samples not after their series' newest one (dropped).
    pub dropped: f64,
    /// Bytes of the segment replayed.
    pub bytes: f64,
    /// Why the segment stopped making sense, when it did.
    pub corruption: Option<String>,
    /// Offset of the corrupt data.
    pub corruption_offset: Option<f64>,
    /// Bytes cut off the end of the last segment (a torn tail).
    pub truncated_bytes: f64,
    /// Closed chunks (and their samples) series took from the head chunk
    /// files (`chunks_head`) instead of re-encoding them from the WAL.
    pub head_chunks: f64,
    pub head_chunk_samples: f64,
    /// WAL samples skipped because those chunks held them already.
    pub skipped_samples: f64,
}

fn io_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("{what}: {e}"))
}

/// open_storage configures the on-disk WAL of every tenant (from now on
/// each push is logged before it is acknowledged) and lists the tenants
/// that have segments to replay. Pushes before it live in memory only.
#[napi]
pub fn open_storage(opts: StorageOptions) -> Result<Vec<WalTenant>> {
    let sync_mode = SyncMode::parse(&opts.sync_mode).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!(
                "invalid WAL sync mode {:?} (none or always)",
                opts.sync_mode
            ),
        )
    })?;
    let found = wal::storage()
        .open(WalOptions {
            dir: opts.dir.into(),
            segment_size: opts.wal_segment_size as u64,
            sync_mode,
            compress: opts.wal_compression.unwrap_or(true),
            zstd: opts.wal_compression_type.as_deref() == Some("zstd"),
        })
        .map_err(|e| io_err("open storage", e))?;
    tsdb_core::tsdb::set_head_chunk_range(opts.block_range_ms.map_or(0, |ms| ms as i64));
    Ok(found
        .into_iter()
        .map(|t| WalTenant {
            tenant: t.tenant,
            segments: t.segments.into_iter().map(|s| s as u32).collect(),
            checkpoint: t.checkpoint.map(|c| c as u32),
        })
        .collect())
}

/// open_tenant_wal is the tenant's WAL for a replay by napi function `caller`;
/// an error when storage is not open.
fn open_tenant_wal(tenant: &str, caller: &str) -> Result<std::sync::Arc<wal::TenantWal>> {
    wal::storage()
        .tenant(tenant)
        .map_err(|e| io_err("replay", e))?
        .ok_or_else(|| {
            Error::new(
                Status::GenericFailure,
                format!("{caller}: storage is not open"),
            )
        })
}

/// ReplayTask replays one segment on the libuv thread pool.
pub struct ReplayTask {
    tenant: String,
    segment: u32,
}

fn replay(tenant: &str, segment: u32) -> Result<ReplayStats> {
    let w = open_tenant_wal(tenant, "replayWalSegment")?;
    let head = tsdb_core::tsdb::registry().head(tenant);
    w.replay_segment(&head, u64::from(segment)).map_err(|e| {
        io_err(
            &format!(
                "replay segment {} of tenant {tenant}",
                wal::segment_name(segment.into())
            ),
            e,
        )
    })
}

impl Task for ReplayTask {
    type Output = ReplayStats;
    type JsValue = WalReplayResult;

    fn compute(&mut self) -> Result<Self::Output> {
        if self.segment == u32::MAX {
            return replay_checkpoint(&self.tenant);
        }
        replay(&self.tenant, self.segment)
    }

    fn resolve(&mut self, _env: Env, s: Self::Output) -> Result<Self::JsValue> {
        Ok(WalReplayResult {
            records: s.records as f64,
            series: s.series as f64,
            samples: s.samples as f64,
            unknown_refs: s.unknown_refs as f64,
            dropped: s.dropped as f64,
            bytes: s.bytes as f64,
            corruption_offset: s.corruption.as_ref().map(|c| c.offset as f64),
            corruption: s.corruption.map(|c| c.reason),
            truncated_bytes: s.truncated_bytes as f64,
            head_chunks: s.disk_chunks as f64,
            head_chunk_samples: s.disk_samples as f64,
            skipped_samples: s.skipped_samples as f64,
        })
    }
}

/// replay_wal_segment replays one segment of a tenant's WAL (as listed by
/// openStorage, in order) into its head, off the calling thread. A corrupt
/// end of the last segment is truncated at the last good record; a corrupt
/// segment is reported in the result, never thrown. Throws on I/O errors.
#[napi(ts_return_type = "Promise<WalReplayResult>")]
pub fn replay_wal_segment(tenant: String, segment: u32) -> AsyncTask<ReplayTask> {
    AsyncTask::new(ReplayTask { tenant, segment })
}

fn replay_checkpoint(tenant: &str) -> Result<ReplayStats> {
    let w = open_tenant_wal(tenant, "replayWalCheckpoint")?;
    let head = tsdb_core::tsdb::registry().head(tenant);
    w.replay_checkpoint(&head)
        .map_err(|e| io_err(&format!("replay checkpoint of tenant {tenant}"), e))
        .map(Option::unwrap_or_default)
}

/// replay_wal_checkpoint replays a tenant's WAL checkpoint (as listed by
/// openStorage) into its head, off the calling thread; call it before the
/// segments. A corrupt checkpoint is reported in the result.
#[napi(ts_return_type = "Promise<WalReplayResult>")]
pub fn replay_wal_checkpoint(tenant: String) -> AsyncTask<ReplayTask> {
    AsyncTask::new(ReplayTask {
        tenant,
        segment: u32::MAX,
    })
}

/// finish_wal_replay ends a tenant's replay; returns whether its series
/// were logged again (after refs had to be remapped).
#[napi]
pub fn finish_wal_replay(tenant: String) -> Result<bool> {
    let Some(w) = wal::storage()
        .tenant(&tenant)
        .map_err(|e| io_err("finish replay", e))?
    else {
        return Ok(false);
    };
    let head = tsdb_core::tsdb::registry().head(&tenant);
    w.finish_replay(&head)
        .map_err(|e| io_err(&format!("finish replay of tenant {tenant}"), e))
}

/// close_storage fsyncs and closes every tenant's WAL (shutdown); pushes
/// fail afterwards.
#[napi]
pub fn close_storage() -> Result<()> {
    wal::storage()
        .close()
        .map_err(|e| io_err("close storage", e))
}

/// ingest is `ingest_write_request` logged to the tenant's WAL when storage
/// is open.
pub fn ingest(
    tenant: &str,
    head: &Head,
    body: &[u8],
    limits: &ingest::IngestLimits,
) -> ingest::IngestResult {
    ingest_logged(
        tenant,
        head,
        body,
        limits,
        ingest::ingest_write_request_logged,
    )
}

/// IngestLogged is a core ingest entry point that logs to a tenant's WAL
/// (`ingest_write_request_logged` and its protocol variants).
pub type IngestLogged =
    fn(&Head, Option<&wal::TenantWal>, &[u8], &ingest::IngestLimits) -> ingest::IngestResult;

/// ingest_logged runs `decode_and_append` with the tenant's WAL when
/// storage is open; a WAL that cannot be opened fails the push with 503.
pub fn ingest_logged(
    tenant: &str,
    head: &Head,
    body: &[u8],
    limits: &ingest::IngestLimits,
    decode_and_append: IngestLogged,
) -> ingest::IngestResult {
    match wal::storage().tenant(tenant) {
        Ok(w) => decode_and_append(head, w.as_deref(), body, limits),
        Err(e) => ingest::IngestResult {
            error_status: Some(503),
            error_message: Some(e.to_string()),
            ..Default::default()
        },
    }
}

/// append_unchecked appends to one series without checks, logging the
/// series (when created) and the samples when storage is open.
pub fn append_unchecked(
    tenant: &str,
    labels: &[(&str, &str)],
    samples: impl Iterator<Item = (i64, f64, i64)>,
) -> Result<u32> {
    append_logged(tenant, labels, |app, series| {
        app.append_series_unchecked_st(series, samples)
    })
}

/// append_histograms_unchecked is `append_unchecked` for native-histogram
/// samples (logged as histogram records when the WAL is on).
pub fn append_histograms_unchecked<'v>(
    tenant: &str,
    labels: &[(&str, &str)],
    samples: impl Iterator<Item = (i64, &'v tsdb_core::model::histogram::HistogramValue, i64)>,
) -> Result<u32> {
    append_logged(tenant, labels, |app, series| {
        app.append_histograms_unchecked_st(series, samples)
    })
}

/// append_logged runs `append` on the tenant's head for one series (created
/// if new) and, when storage is open, logs the series record (when
/// created) and the appended samples to the WAL before returning.
fn append_logged(
    tenant: &str,
    labels: &[(&str, &str)],
    append: impl FnOnce(&mut head::HeadAppender<'_>, &head::series::MemSeries) -> u32,
) -> Result<u32> {
    let head = tsdb_core::tsdb::registry().head(tenant);
    let w = wal::storage()
        .tenant(tenant)
        .map_err(|e| io_err("append", e))?;
    let mut writer = w.as_ref().map(|w| w.lock_writer());
    // The appender first: it keeps head truncation from dropping the series.
    let mut app = head.appender();
    let (series, created) = head.get_or_create(labels);
    if writer.is_some() {
        app.log_samples();
        app.collect_closed_chunks();
    }
    let n = append(&mut app, &series);
    let mut records = Vec::new();
    if created && writer.is_some() {
        let mut enc = wal::record::SeriesEncoder::default();
        enc.add(u64::from(series.series_ref), &series.labels);
        records = enc.finish();
    }
    records.extend(app.take_sample_log());
    let closed = app.take_closed_chunks();
    app.commit();
    if let (Some(wr), Some(w)) = (writer.as_mut(), w.as_ref()) {
        let seq = wr.log(&records).map_err(|e| io_err("WAL write", e))?;
        // Under the writer mutex, after the records (see wal::head_chunks).
        let _ = w.head_chunks().write(&closed);
        writer = None;
        w.commit(seq).map_err(|e| io_err("WAL sync", e))?;
    }
    drop(writer);
    Ok(n)
}

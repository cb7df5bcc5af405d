//! store: the N-API face of the block lifecycle — which block directories
//! a tenant's queries read (`setTenantBlocks`), head truncation after a
//! block was cut, and WAL checkpoints.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::tsdb::compact_head::{CompactStep, HeadCompactOptions};
use tsdb_core::wal::{self, checkpoint::CheckpointStats};

use crate::WrittenBlock;

/// BlockOpenFailure is a block directory that could not be opened.
#[napi(object)]
pub struct BlockOpenFailure {
    pub dir: String,
    pub error: String,
}

/// set_tenant_blocks makes `dirs` the tenant's queryable blocks (read
/// together with its head, overlaps deduplicated): blocks already open stay
/// open, new ones are opened, others are closed once no query uses them.
/// Returns the directories that could not be opened (left out).
#[napi]
pub fn set_tenant_blocks(tenant: String, dirs: Vec<String>) -> Vec<BlockOpenFailure> {
    let dirs: Vec<std::path::PathBuf> = dirs.into_iter().map(Into::into).collect();
    let t = if dirs.is_empty() {
        tsdb_core::tsdb::registry().get(&tenant)
    } else {
        Some(tsdb_core::tsdb::registry().tenant(&tenant))
    };
    t.map(|t| t.set_blocks(&dirs))
        .unwrap_or_default()
        .into_iter()
        .map(|f| BlockOpenFailure {
            dir: f.dir,
            error: f.error,
        })
        .collect()
}

/// tenant_block_dirs lists the tenant's queryable block directories.
#[napi]
pub fn tenant_block_dirs(tenant: String) -> Vec<String> {
    tsdb_core::tsdb::registry()
        .get(&tenant)
        .map(|t| t.block_dirs())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.display().to_string())
        .collect()
}

/// HeadTruncation are what truncateHead dropped.
#[napi(object)]
pub struct HeadTruncation {
    pub chunks_removed: f64,
    pub samples_removed: f64,
    pub series_removed: f64,
}

/// truncate_head drops the tenant head's samples before mintMs (cut into a
/// block already) and the series left empty; appends before mintMs are
/// refused from then on.
#[napi]
pub fn truncate_head(tenant: String, mint_ms: f64) -> HeadTruncation {
    let Some(h) = tsdb_core::tsdb::registry().get_head(&tenant) else {
        return HeadTruncation {
            chunks_removed: 0.0,
            samples_removed: 0.0,
            series_removed: 0.0,
        };
    };
    let st = h.truncate(mint_ms as i64);
    HeadTruncation {
        chunks_removed: st.chunks_removed as f64,
        samples_removed: st.samples_removed as f64,
        series_removed: st.series_removed as f64,
    }
}

/// HeadInfo is one tenant head's state for the block lifecycle.
#[napi(object)]
pub struct HeadInfo {
    pub series: f64,
    /// Oldest and newest sample (ms); absent while empty.
    pub min_time: Option<f64>,
    pub max_time: Option<f64>,
    /// Appends before this (ms) are refused; absent before any truncation.
    pub min_valid_time: Option<f64>,
    /// Wall-clock time (unix ms) of the last append, absent before any.
    pub last_append_ms: Option<f64>,
}

/// head_info returns the tenant head's figures, null when there is none.
#[napi]
pub fn head_info(tenant: String) -> Option<HeadInfo> {
    let h = tsdb_core::tsdb::registry().get_head(&tenant)?;
    let mvt = h.min_valid_time();
    Some(HeadInfo {
        series: h.num_series() as f64,
        min_time: h.min_time().map(|t| t as f64),
        max_time: h.max_time().map(|t| t as f64),
        min_valid_time: (mvt != i64::MIN).then_some(mvt as f64),
        last_append_ms: h.last_append_ms().map(|t| t as f64),
    })
}

/// WalCheckpoint describes a checkpoint written by checkpointWal.
#[napi(object)]
pub struct WalCheckpoint {
    /// The last segment the checkpoint covers (its number).
    pub index: f64,
    pub series: f64,
    pub samples: f64,
    pub bytes: f64,
    pub segments_deleted: f64,
}

/// CheckpointTask runs checkpointWal on the libuv thread pool.
pub struct CheckpointTask {
    tenant: String,
}

impl Task for CheckpointTask {
    type Output = Option<CheckpointStats>;
    type JsValue = Option<WalCheckpoint>;

    fn compute(&mut self) -> Result<Self::Output> {
        let err = |e: std::io::Error| {
            Error::new(
                Status::GenericFailure,
                format!("checkpoint WAL of tenant {}: {e}", self.tenant),
            )
        };
        let Some(w) = wal::storage()
            .tenant(&self.tenant)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?
        else {
            return Ok(None);
        };
        let Some(h) = tsdb_core::tsdb::registry().get_head(&self.tenant) else {
            return Ok(None);
        };
        w.checkpoint(&h).map_err(err)
    }

    fn resolve(&mut self, _env: Env, s: Self::Output) -> Result<Self::JsValue> {
        Ok(s.map(wal_checkpoint))
    }
}

/// checkpoint_wal writes the tenant head's state as a WAL checkpoint and
/// deletes the segments it replaces (after truncateHead), off the calling
/// thread. Null when storage is not open or nothing was logged.
#[napi(ts_return_type = "Promise<WalCheckpoint | null>")]
pub fn checkpoint_wal(tenant: String) -> AsyncTask<CheckpointTask> {
    AsyncTask::new(CheckpointTask { tenant })
}

/// HEAD_COMPACTION_CRASH_ENV names the compaction step after which a crash
/// test wants the process killed with SIGKILL (see `CompactStep::name`);
/// unset in production.
const HEAD_COMPACTION_CRASH_ENV: &str = "MIMIR_HEAD_COMPACTION_CRASH_AT";

/// crash_at kills the process when `step` is the one the crash-test
/// environment variable names.
fn crash_at(step: CompactStep) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(HEAD_COMPACTION_CRASH_ENV).ok());
    if at.as_deref() == Some(step.name()) {
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// CutHeadBlock is one block range a head compaction took out of the head.
#[napi(object)]
pub struct CutHeadBlock {
    /// The range [minTime, maxTime) cut (ms).
    pub range_min_time: f64,
    pub range_max_time: f64,
    /// The block written, null when the range held no samples.
    pub block: Option<WrittenBlock>,
    pub truncated: HeadTruncation,
    /// Milliseconds spent writing and publishing the block.
    pub duration_ms: f64,
}

/// HeadCompaction is what compactHead did.
#[napi(object)]
pub struct HeadCompaction {
    pub cuts: Vec<CutHeadBlock>,
    /// The WAL checkpoint written after the cuts (null without a WAL,
    /// without cuts, or when nothing was logged since the last one).
    pub checkpoint: Option<WalCheckpoint>,
}

/// CompactHeadTask runs compactHead on the libuv thread pool.
pub struct CompactHeadTask {
    tenant: String,
    dir: String,
    block_range: i64,
    cut_all: bool,
}

fn wal_checkpoint(s: CheckpointStats) -> WalCheckpoint {
    WalCheckpoint {
        index: s.index as f64,
        series: s.series as f64,
        samples: s.samples as f64,
        bytes: s.bytes as f64,
        segments_deleted: s.segments_deleted as f64,
    }
}

impl Task for CompactHeadTask {
    type Output = tsdb_core::tsdb::compact_head::HeadCompaction;
    type JsValue = HeadCompaction;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(t) = tsdb_core::tsdb::registry().get(&self.tenant) else {
            return Ok(Default::default());
        };
        t.compact_head(
            wal::storage(),
            &HeadCompactOptions {
                dir: std::path::Path::new(&self.dir),
                block_range: self.block_range,
                cut_all: self.cut_all,
            },
            &mut crash_at,
        )
        .map_err(|e| {
            Error::new(
                Status::GenericFailure,
                format!("compact head of tenant {}: {e}", self.tenant),
            )
        })
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> Result<Self::JsValue> {
        Ok(HeadCompaction {
            cuts: out
                .cuts
                .into_iter()
                .map(|c| CutHeadBlock {
                    range_min_time: c.mint as f64,
                    range_max_time: c.maxt as f64,
                    block: c.block.map(crate::written_block),
                    truncated: HeadTruncation {
                        chunks_removed: c.truncated.chunks_removed as f64,
                        samples_removed: c.truncated.samples_removed as f64,
                        series_removed: c.truncated.series_removed as f64,
                    },
                    duration_ms: c.duration_ms,
                })
                .collect(),
            checkpoint: out.checkpoint.map(wal_checkpoint),
        })
    }
}

/// compact_head cuts the tenant head's due block ranges into blocks under
/// `dir` (every range when `cutAll`, otherwise the oldest while the head
/// spans more than 1.5 block ranges), each published to the tenant's
/// queried blocks before the head is truncated, then checkpoints the WAL:
/// the crash-safe order as one call, off the calling thread.
#[napi(ts_return_type = "Promise<HeadCompaction>")]
pub fn compact_head(
    tenant: String,
    dir: String,
    block_range_ms: f64,
    cut_all: bool,
) -> AsyncTask<CompactHeadTask> {
    AsyncTask::new(CompactHeadTask {
        tenant,
        dir,
        block_range: block_range_ms as i64,
        cut_all,
    })
}

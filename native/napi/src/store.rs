//! store: the N-API face of the block lifecycle — which block directories
//! a tenant's queries read (`setTenantBlocks`), head truncation after a
//! block was cut, and WAL checkpoints.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::wal::{self, checkpoint::CheckpointStats};

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
        Ok(s.map(|s| WalCheckpoint {
            index: s.index as f64,
            series: s.series as f64,
            samples: s.samples as f64,
            bytes: s.bytes as f64,
            segments_deleted: s.segments_deleted as f64,
        }))
    }
}

/// checkpoint_wal writes the tenant head's state as a WAL checkpoint and
/// deletes the segments it replaces (after truncateHead), off the calling
/// thread. Null when storage is not open or nothing was logged.
#[napi(ts_return_type = "Promise<WalCheckpoint | null>")]
pub fn checkpoint_wal(tenant: String) -> AsyncTask<CheckpointTask> {
    AsyncTask::new(CheckpointTask { tenant })
}

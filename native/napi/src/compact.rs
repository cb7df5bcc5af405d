//! compact: the N-API face of block compaction (`tsdb_core::block::compact`):
//! merge source block directories into one new block, on the libuv thread
//! pool so the compactor's event loop keeps serving.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::block::{compact_blocks, BlockError, BlockMeta, CompactOptions};

/// CompactedBlock describes the block `compactBlocks` wrote.
#[napi(object)]
pub struct CompactedBlock {
    /// The new block's ULID, also its directory name under `outDir`.
    pub ulid: String,
    /// meta.json's minTime (inclusive, ms).
    pub min_time: f64,
    /// meta.json's maxTime (exclusive, ms).
    pub max_time: f64,
    pub num_series: f64,
    pub num_samples: f64,
    pub num_chunks: f64,
    /// compaction.level: the highest source level + 1.
    pub level: u32,
    /// compaction.sources: every level-1 block merged into it.
    pub sources: Vec<String>,
}

fn compact_error(e: BlockError) -> Error {
    let status = match e {
        BlockError::InvalidArgument(_) => Status::InvalidArg,
        _ => Status::GenericFailure,
    };
    Error::new(status, e.to_string())
}

/// CompactTask runs `compactBlocks` on the libuv thread pool.
pub struct CompactTask {
    sources: Vec<std::path::PathBuf>,
    out_dir: std::path::PathBuf,
    opts: CompactOptions,
}

impl Task for CompactTask {
    type Output = Option<BlockMeta>;
    type JsValue = Option<CompactedBlock>;

    fn compute(&mut self) -> Result<Self::Output> {
        compact_blocks(&self.sources, &self.out_dir, &self.opts).map_err(compact_error)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(|m| CompactedBlock {
            ulid: m.ulid.to_string(),
            min_time: m.min_time as f64,
            max_time: m.max_time as f64,
            num_series: m.stats.num_series as f64,
            num_samples: m.stats.num_samples as f64,
            num_chunks: m.stats.num_chunks as f64,
            level: m.compaction_level as u32,
            sources: m.compaction_sources.iter().map(|u| u.to_string()).collect(),
        }))
    }
}

/// compact_blocks merges the blocks in `sourceDirs` into one new block under
/// `outDir` (written as `<ULID>.tmp`, fsynced, renamed): series merged by
/// labels, overlapping samples deduplicated by timestamp, tombstones
/// applied, meta.json with compaction level, sources and parents and the
/// `__org_id__` label set to `tenant`. Resolves to null when nothing is
/// left once tombstones are applied; rejects on missing or corrupt sources.
#[napi(ts_return_type = "Promise<CompactedBlock | null>")]
pub fn compact_blocks_async(
    source_dirs: Vec<String>,
    out_dir: String,
    tenant: String,
) -> AsyncTask<CompactTask> {
    AsyncTask::new(CompactTask {
        sources: source_dirs.into_iter().map(Into::into).collect(),
        out_dir: out_dir.into(),
        opts: CompactOptions {
            tenant,
            ..Default::default()
        },
    })
}

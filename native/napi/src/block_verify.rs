//! block_verify: the N-API face of `tsdb_core::block::verify`, the check an
//! uploaded block passes before it joins a tenant's data (block upload API).

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;

/// BlockVerifyStats are the totals `verifyBlock` found.
#[napi(object)]
pub struct BlockVerifyStats {
    pub series: f64,
    pub chunks: f64,
    /// Samples decoded (0 unless chunks were checked).
    pub samples: f64,
}

pub struct VerifyBlockTask {
    dir: String,
    min_time: i64,
    max_time: i64,
    check_chunks: bool,
}

impl Task for VerifyBlockTask {
    type Output = tsdb_core::block::verify::VerifyStats;
    type JsValue = BlockVerifyStats;

    fn compute(&mut self) -> Result<Self::Output> {
        tsdb_core::block::verify::verify_block(
            std::path::Path::new(&self.dir),
            self.min_time,
            self.max_time,
            self.check_chunks,
        )
        .map_err(crate::block_error)
    }

    fn resolve(&mut self, _env: Env, s: Self::Output) -> Result<Self::JsValue> {
        Ok(BlockVerifyStats {
            series: s.series as f64,
            chunks: s.chunks as f64,
            samples: s.samples as f64,
        })
    }
}

/// verify_block checks the block in `blockDir` against the time range of
/// its meta.json (`minTime`, `maxTime` in ms), off the calling thread: the
/// index and every series decode, series and their chunks are in order and
/// inside the range, and with `checkChunks` every chunk's CRC and samples.
/// Rejects with the first problem, naming the file and series.
#[napi(js_name = "verifyBlock", ts_return_type = "Promise<BlockVerifyStats>")]
pub fn verify_block(
    block_dir: String,
    min_time: f64,
    max_time: f64,
    check_chunks: bool,
) -> AsyncTask<VerifyBlockTask> {
    AsyncTask::new(VerifyBlockTask {
        dir: block_dir,
        min_time: min_time as i64,
        max_time: max_time as i64,
        check_chunks,
    })
}

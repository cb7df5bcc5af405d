//! bucket_reader: the N-API face of the store-gateway's ranged reads of
//! bucket blocks (`tsdb_core::block::remote`): which S3 bucket they read,
//! writing a block's index-header before it is opened, and the totals of
//! what was fetched.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::block::remote::{self, S3Client, S3Config};
use tsdb_core::block::BucketBlock;

/// BucketReaderConfig is the S3 bucket bucket blocks are read from (the
/// `-blocks-storage.s3.*` flags as the TypeScript bucket resolved them).
#[napi(object)]
pub struct BucketReaderConfig {
    pub endpoint: String,
    pub bucket_name: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub insecure: bool,
    pub path_style: bool,
    pub insecure_skip_verify: bool,
    pub max_attempts: u32,
}

/// set_bucket_reader makes `cfg` the bucket that blocks with a
/// `bucket-block.json` are read from (null: none).
#[napi]
pub fn set_bucket_reader(cfg: Option<BucketReaderConfig>) {
    remote::set_bucket(cfg.map(|c| {
        Arc::new(S3Client::new(S3Config {
            endpoint: c.endpoint,
            bucket: c.bucket_name,
            region: c.region,
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: c.session_token,
            insecure: c.insecure,
            path_style: c.path_style,
            insecure_skip_verify: c.insecure_skip_verify,
            max_attempts: c.max_attempts,
        })) as Arc<dyn remote::RangeSource>
    }));
}

/// BucketReadStats are the requests sent and bytes fetched by ranged reads.
#[napi(object)]
pub struct BucketReadStats {
    pub requests: f64,
    pub bytes: f64,
}

/// bucket_read_stats returns the process's totals so far.
#[napi]
pub fn bucket_read_stats() -> BucketReadStats {
    let s = remote::read_stats();
    BucketReadStats {
        requests: s.requests as f64,
        bytes: s.bytes as f64,
    }
}

pub struct PrepareTask {
    dir: String,
}

impl Task for PrepareTask {
    type Output = u64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<u64> {
        BucketBlock::prepare(std::path::Path::new(&self.dir))
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, n: u64) -> Result<f64> {
        Ok(n as f64)
    }
}

/// prepare_bucket_block writes the index-header of the bucket block whose
/// sync directory is `dir` (off the event loop: it reads the index's
/// tables from the bucket) and resolves to its size in bytes.
#[napi(ts_return_type = "Promise<number>")]
pub fn prepare_bucket_block(dir: String) -> AsyncTask<PrepareTask> {
    AsyncTask::new(PrepareTask { dir })
}

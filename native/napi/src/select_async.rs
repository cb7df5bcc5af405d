//! select_async runs the sample and chunk selections off the calling thread
//! (the libuv pool), for readers on the event loop: remote read and the
//! ingester's internal read API. The synchronous selectSamples and
//! selectChunks run the same tasks on the calling thread.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;
use tsdb_core::index::Matcher;

use crate::{ms, selector_sets, to_limit, LabelMatcher, SelectedChunks, SelectedSamples};

/// SelectSamplesTask is selectSamplesAsync's selection.
pub struct SelectSamplesTask {
    tenant: String,
    sets: Vec<Vec<Matcher>>,
    mint: i64,
    maxt: i64,
    limit: usize,
}

impl Task for SelectSamplesTask {
    type Output = tsdb_core::head::SelectedSamples;
    type JsValue = SelectedSamples;

    fn compute(&mut self) -> Result<Self::Output> {
        tsdb_core::store::select_samples(&self.tenant, &self.sets, self.mint, self.maxt, self.limit)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, sel: Self::Output) -> Result<Self::JsValue> {
        Ok(sel.into())
    }
}

impl SelectSamplesTask {
    /// new checks the matchers (a bad one fails here, before any work).
    pub(crate) fn new(
        tenant: String,
        matchers: Vec<LabelMatcher>,
        mint_ms: f64,
        maxt_ms: f64,
        max_samples: Option<f64>,
        visibility: Option<Vec<Vec<LabelMatcher>>>,
    ) -> Result<Self> {
        Ok(SelectSamplesTask {
            tenant,
            sets: selector_sets(matchers, visibility)?,
            mint: ms(mint_ms),
            maxt: ms(maxt_ms),
            limit: to_limit(max_samples.unwrap_or(0.0)),
        })
    }
}

/// select_samples_async is selectSamples run on the libuv thread pool. A
/// bad matcher throws at once; a selection over maxSamples rejects.
#[napi(ts_return_type = "Promise<SelectedSamples>")]
pub fn select_samples_async(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    max_samples: Option<f64>,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<AsyncTask<SelectSamplesTask>> {
    SelectSamplesTask::new(tenant, matchers, mint_ms, maxt_ms, max_samples, visibility)
        .map(AsyncTask::new)
}

/// SelectedBlockSamples are a block selection's samples and the blocks it
/// read.
#[napi(object)]
pub struct SelectedBlockSamples {
    pub samples: SelectedSamples,
    /// The ULIDs of the named blocks that were read: queryable and
    /// overlapping the range, oldest first.
    pub queried_blocks: Vec<String>,
}

/// SelectBlockSamplesTask is selectBlockSamplesAsync's selection.
pub struct SelectBlockSamplesTask {
    blocks: Vec<String>,
    inner: SelectSamplesTask,
}

impl Task for SelectBlockSamplesTask {
    type Output = (tsdb_core::head::SelectedSamples, Vec<String>);
    type JsValue = SelectedBlockSamples;

    fn compute(&mut self) -> Result<Self::Output> {
        let t = &self.inner;
        tsdb_core::store::select_block_samples(
            &t.tenant,
            &self.blocks,
            &t.sets,
            t.mint,
            t.maxt,
            t.limit,
        )
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, (sel, queried): Self::Output) -> Result<Self::JsValue> {
        Ok(SelectedBlockSamples {
            samples: sel.into(),
            queried_blocks: queried,
        })
    }
}

/// select_block_samples_async is selectSamplesAsync over the named blocks
/// of the tenant only (by ULID; not its head): a store-gateway's answer for
/// exactly the blocks a querier gave it, with the blocks it read.
#[napi(ts_return_type = "Promise<SelectedBlockSamples>")]
pub fn select_block_samples_async(
    tenant: String,
    blocks: Vec<String>,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    max_samples: Option<f64>,
) -> Result<AsyncTask<SelectBlockSamplesTask>> {
    SelectSamplesTask::new(tenant, matchers, mint_ms, maxt_ms, max_samples, None)
        .map(|inner| AsyncTask::new(SelectBlockSamplesTask { blocks, inner }))
}

/// SelectChunksTask is selectChunksAsync's selection.
pub struct SelectChunksTask {
    tenant: String,
    sets: Vec<Vec<Matcher>>,
    mint: i64,
    maxt: i64,
}

impl Task for SelectChunksTask {
    type Output = tsdb_core::block::SelectedChunks;
    type JsValue = SelectedChunks;

    fn compute(&mut self) -> Result<Self::Output> {
        tsdb_core::store::select_chunks(&self.tenant, &self.sets, self.mint, self.maxt)
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, sel: Self::Output) -> Result<Self::JsValue> {
        Ok(sel.into())
    }
}

impl SelectChunksTask {
    /// new checks the matchers (a bad one fails here, before any work).
    pub(crate) fn new(
        tenant: String,
        matchers: Vec<LabelMatcher>,
        mint_ms: f64,
        maxt_ms: f64,
        visibility: Option<Vec<Vec<LabelMatcher>>>,
    ) -> Result<Self> {
        Ok(SelectChunksTask {
            tenant,
            sets: selector_sets(matchers, visibility)?,
            mint: ms(mint_ms),
            maxt: ms(maxt_ms),
        })
    }
}

/// select_chunks_async is selectChunks run on the libuv thread pool. A bad
/// matcher throws at once.
#[napi(ts_return_type = "Promise<SelectedChunks>")]
pub fn select_chunks_async(
    tenant: String,
    matchers: Vec<LabelMatcher>,
    mint_ms: f64,
    maxt_ms: f64,
    visibility: Option<Vec<Vec<LabelMatcher>>>,
) -> Result<AsyncTask<SelectChunksTask>> {
    SelectChunksTask::new(tenant, matchers, mint_ms, maxt_ms, visibility).map(AsyncTask::new)
}

//! compact_head is a tenant's head compaction as one call, in the order
//! that keeps every acknowledged sample in the head, the WAL or a queried
//! block at every instant (Prometheus's `DB.Compact` for the head):
//!
//! 1. write the head's oldest block range as a block `<dir>/<ULID>/`
//!    (written under `<ULID>.tmp`, fsynced, renamed);
//! 2. publish it: the block joins the tenant's queried blocks;
//! 3. truncate the head before the range's end (the samples now live in
//!    the block), repeating 1-3 while the head is due;
//! 4. checkpoint the WAL: the head's remaining state replaces the segments
//!    before the checkpoint.
//!
//! A crash between any two steps loses nothing: the block written before a
//! crash is found again on disk, the samples still in the WAL are replayed
//! into the head, and reads deduplicate a sample found in both. The
//! [`CompactStep`] hook runs after each step so a crash test can kill the
//! process there.

use std::path::Path;
use std::time::Instant;

use super::Tsdb;
use crate::block::{write_block, BlockError, BlockMeta, BlockWriteOptions};
use crate::head::TruncateStats;
use crate::wal::checkpoint::CheckpointStats;
use crate::wal::{WalError, WalStorage};

/// MAX_CUTS bounds the blocks one compaction cuts (a head spanning more
/// ranges is cut further on the next call).
const MAX_CUTS: usize = 100_000;

/// CompactStep names the point a head compaction just passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactStep {
    /// The block is on disk and not queried yet.
    BlockWritten,
    /// The block is queried; the head still holds its samples.
    BlockPublished,
    /// The head dropped the block's samples; the WAL still holds them.
    HeadTruncated,
    /// The new checkpoint is in place; the segments it replaces are not
    /// deleted yet.
    CheckpointWritten,
    /// The WAL checkpoint is done: the compaction is complete.
    WalCheckpointed,
}

impl CompactStep {
    /// ALL lists every step in the order a compaction passes them.
    pub const ALL: [CompactStep; 5] = [
        CompactStep::BlockWritten,
        CompactStep::BlockPublished,
        CompactStep::HeadTruncated,
        CompactStep::CheckpointWritten,
        CompactStep::WalCheckpointed,
    ];

    /// name is the step's kebab-case name (used by the crash hook's
    /// environment variable).
    pub fn name(self) -> &'static str {
        match self {
            CompactStep::BlockWritten => "block-written",
            CompactStep::BlockPublished => "block-published",
            CompactStep::HeadTruncated => "head-truncated",
            CompactStep::CheckpointWritten => "checkpoint-written",
            CompactStep::WalCheckpointed => "wal-checkpointed",
        }
    }
}

/// HeadCompactOptions say where and how much of the head to cut.
#[derive(Debug, Clone)]
pub struct HeadCompactOptions<'a> {
    /// The tenant's block directory (created when missing).
    pub dir: &'a Path,
    /// The block range (ms).
    pub block_range: i64,
    /// Cut the whole head (idle head, flush), not only while it spans more
    /// than 1.5 block ranges.
    pub cut_all: bool,
}

/// Cut is one block range taken out of the head.
#[derive(Debug, Clone)]
pub struct Cut {
    /// The range [mint, maxt) cut.
    pub mint: i64,
    pub maxt: i64,
    /// The block written (None when the range held no samples).
    pub block: Option<BlockMeta>,
    pub truncated: TruncateStats,
    /// Time spent writing and publishing the block.
    pub duration_ms: f64,
}

/// HeadCompaction is what one compaction did.
#[derive(Debug, Clone, Default)]
pub struct HeadCompaction {
    pub cuts: Vec<Cut>,
    /// The WAL checkpoint (None without a WAL or when nothing was cut).
    pub checkpoint: Option<CheckpointStats>,
}

/// CompactError is the step a compaction failed at; the steps before it
/// took effect, the later ones did not.
#[derive(Debug)]
pub enum CompactError {
    /// Writing the block failed (nothing was truncated).
    Write(BlockError),
    /// The written block could not be opened (not truncated either).
    Publish(String, BlockError),
    /// Creating the tenant's block directory failed.
    Dir(std::io::Error),
    /// The head was cut; opening or checkpointing the WAL failed.
    Checkpoint(String),
}

impl std::fmt::Display for CompactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompactError::Write(e) => write!(f, "write block: {e}"),
            CompactError::Publish(dir, e) => write!(f, "open written block {dir}: {e}"),
            CompactError::Dir(e) => write!(f, "create block directory: {e}"),
            CompactError::Checkpoint(e) => write!(f, "checkpoint WAL: {e}"),
        }
    }
}

impl std::error::Error for CompactError {}

impl Tsdb {
    /// compact_head cuts the head's due block ranges into blocks under
    /// `opts.dir`, publishing each before truncating the head, then
    /// checkpoints the WAL through `storage` (see the module docs). Due:
    /// every range while `cut_all`, otherwise the oldest ranges while the
    /// head spans more than 1.5 block ranges. `step` runs after each step.
    pub fn compact_head(
        &self,
        storage: &WalStorage,
        opts: &HeadCompactOptions<'_>,
        step: &mut dyn FnMut(CompactStep),
    ) -> Result<HeadCompaction, CompactError> {
        let mut out = HeadCompaction::default();
        let Some(head) = self.head_if_any() else {
            return Ok(out);
        };
        let range = opts.block_range.max(1);
        while out.cuts.len() < MAX_CUTS {
            let (Some(min), Some(max)) = (head.min_time(), head.max_time()) else {
                break;
            };
            if head.num_series() == 0 {
                break;
            }
            if !opts.cut_all && (max - min) as f64 <= range as f64 * 1.5 {
                break;
            }
            let mint = min.div_euclid(range) * range;
            let maxt = mint + range;
            let began = Instant::now();
            std::fs::create_dir_all(opts.dir).map_err(CompactError::Dir)?;
            let block = write_block(head, opts.dir, mint, maxt, &BlockWriteOptions::default())
                .map_err(CompactError::Write)?;
            if let Some(meta) = &block {
                step(CompactStep::BlockWritten);
                let dir = opts.dir.join(meta.ulid.to_string());
                self.publish_block(&dir)
                    .map_err(|e| CompactError::Publish(dir.display().to_string(), e))?;
                step(CompactStep::BlockPublished);
            }
            let duration_ms = began.elapsed().as_secs_f64() * 1e3;
            let truncated = head.truncate(maxt);
            step(CompactStep::HeadTruncated);
            out.cuts.push(Cut {
                mint,
                maxt,
                block,
                truncated,
                duration_ms,
            });
            // Samples before maxt arrived meanwhile (out of order within
            // the open range): leave them for the next compaction.
            if head.num_series() > 0 && head.min_time().is_some_and(|t| t < maxt) {
                break;
            }
        }
        if out.cuts.is_empty() {
            return Ok(out);
        }
        let wal = self
            .wal(storage)
            .map_err(|e: WalError| CompactError::Checkpoint(e.to_string()))?;
        if let Some(w) = wal {
            out.checkpoint = w
                .checkpoint_with(head, &mut || step(CompactStep::CheckpointWritten))
                .map_err(|e| CompactError::Checkpoint(e.to_string()))?;
        }
        step(CompactStep::WalCheckpointed);
        Ok(out)
    }
}

#[cfg(test)]
mod tests;

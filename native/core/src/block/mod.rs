//! block reads and writes blocks in the Prometheus TSDB format, so that
//! `promtool tsdb analyze|dump`, Prometheus, Thanos and Mimir read ours and
//! we read theirs. A block is a directory named by its ULID holding
//! `meta.json`, `index`, `chunks/000001...` and `tombstones`; the byte
//! layouts are summarised in `docs/format/block.md`.
//!
//! - [`writer`]: cutting a block from a tenant head ([`write_block`]) and the
//!   lower-level [`BlockWriter`].
//! - [`reader`]: [`Block`], an opened block: series selection through the
//!   shared postings code and sample reads with CRC checks.
//! - [`index_writer`] / [`index_reader`]: the index file (format v2).
//! - [`chunks`]: chunk segment files.
//! - [`compact`]: merging blocks into one (the compactor's vertical and
//!   horizontal compaction).
//! - [`meta`], [`tombstones`], [`ulid`]: the small files and block names.

pub mod bucket_cache;
pub mod chunks;
pub mod compact;
pub mod encoding;
pub mod file_bytes;
pub mod index_reader;
pub mod index_writer;
pub mod memcached;
pub mod meta;
pub mod reader;
pub mod remote;
pub mod tombstones;
pub mod ulid;
pub mod verify;
pub mod writer;

#[cfg(test)]
mod compact_tests;
#[cfg(test)]
mod histogram_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

pub use compact::{compact_blocks, CompactOptions};
pub use index_reader::{BlockIndex, SeriesEntry};
pub use index_writer::{ChunkMeta, IndexSeries};
pub use meta::{BlockDesc, BlockMeta, BlockStats};
pub use reader::{Block, BucketBlock, SelectedChunks, BUCKET_BLOCK_FILE};
pub use ulid::Ulid;
pub use writer::{series_chunks, write_block, BlockWriteOptions, BlockWriter, SourceChunk};

/// OwnedChunk is one chunk as stored: min and max time, encoding, bytes.
pub type OwnedChunk = (i64, i64, u8, Vec<u8>);

/// BlockError is what can go wrong reading or writing a block.
#[derive(Debug)]
pub enum BlockError {
    /// A file operation failed: what was done, on which path, and why.
    Io {
        op: String,
        path: String,
        source: std::io::Error,
    },
    /// The data on disk is damaged or not in the expected format.
    Corrupt(String),
    /// The block uses a feature we do not read (e.g. histogram chunks).
    Unsupported(String),
    /// The caller asked for something impossible (empty range, ...).
    InvalidArgument(String),
    /// A read would load more samples than its limit allows.
    TooManySamples,
}

impl BlockError {
    /// io wraps an I/O error with the operation and path.
    pub fn io(op: &str, path: &Path, source: std::io::Error) -> Self {
        BlockError::Io {
            op: op.to_string(),
            path: path.display().to_string(),
            source,
        }
    }

    /// corrupt reports damaged data.
    pub fn corrupt(msg: String) -> Self {
        BlockError::Corrupt(msg)
    }

    /// in_file prefixes a corruption message with the file it was found in.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            BlockError::Corrupt(m) => BlockError::Corrupt(format!("{}: {m}", path.display())),
            other => other,
        }
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockError::Io { op, path, source } => write!(f, "{op} {path}: {source}"),
            BlockError::Corrupt(m) => write!(f, "corrupt block: {m}"),
            BlockError::Unsupported(m) => write!(f, "unsupported block: {m}"),
            BlockError::InvalidArgument(m) => f.write_str(m),
            BlockError::TooManySamples => f.write_str(crate::head::TOO_MANY_SAMPLES_MESSAGE),
        }
    }
}

impl std::error::Error for BlockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BlockError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

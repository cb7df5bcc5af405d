//! file_bytes holds a block file's bytes: in memory, or mapped read-only.
//! Block files (index, chunk segments) can be hundreds of MiB; mapped, a
//! query touches only the pages it reads and the process keeps no heap copy
//! (what a store-gateway with many blocks loaded needs). Block files are
//! never rewritten in place (compaction writes new blocks and removes old
//! directories, which leaves existing mappings valid).

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

use super::BlockError;

/// FileBytes are a file's contents, owned or mapped.
#[derive(Debug)]
pub enum FileBytes {
    Mem(Vec<u8>),
    Map(memmap2::Mmap),
}

impl Deref for FileBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mem(b) => b,
            FileBytes::Map(m) => m,
        }
    }
}

impl FileBytes {
    /// map maps the file at `path` read-only (an empty file is held as no
    /// bytes: an empty mapping is not allowed). `what` names the file in
    /// errors.
    pub fn map(path: &Path, what: &str) -> Result<Self, BlockError> {
        let file =
            File::open(path).map_err(|e| BlockError::io(&format!("open {what}"), path, e))?;
        let len = file
            .metadata()
            .map_err(|e| BlockError::io(&format!("stat {what}"), path, e))?
            .len();
        if len == 0 {
            return Ok(FileBytes::Mem(Vec::new()));
        }
        // SAFETY: block files are immutable once written (see the module docs).
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| BlockError::io(&format!("map {what}"), path, e))?;
        Ok(FileBytes::Map(map))
    }
}

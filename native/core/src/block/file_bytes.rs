//! file_bytes holds a block file's bytes: in memory, or mapped read-only.
//! Block files (index, chunk segments) can be hundreds of MiB; mapped, a
//! query touches only the pages it reads and the process keeps no heap copy
//! (what a store-gateway with many blocks loaded needs). Block files are
//! never rewritten in place (compaction writes new blocks and removes old
//! directories, which leaves existing mappings valid). A block in an S3
//! bucket is read by byte range instead (`Remote`, see `super::remote`).

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use super::encoding::Decbuf;
use super::remote::RemoteFile;
use super::BlockError;

/// be32_len is the `head` of [`FileBytes::framed`] for records led by a
/// 4-byte big-endian body length (index sections, postings lists); `what`
/// names the record in errors.
pub fn be32_len(what: String) -> impl Fn(&[u8]) -> Result<(usize, usize), BlockError> {
    move |h| {
        let b = h.get(..4).ok_or_else(|| {
            BlockError::corrupt(format!("{what}: length is past the end of the file"))
        })?;
        Ok((4, u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize))
    }
}

/// uvarint_len is the `head` of [`FileBytes::framed`] for records led by a
/// uvarint body length read from at most `max` bytes (series entries,
/// chunks).
pub fn uvarint_len(
    what: &'static str,
    max: usize,
) -> impl Fn(&[u8]) -> Result<(usize, usize), BlockError> {
    move |h| {
        let h = &h[..h.len().min(max)];
        let mut d = Decbuf::new(h, what);
        let len = d.uvarint()? as usize;
        Ok((h.len() - d.len(), len))
    }
}

/// FileBytes are a file's contents, owned, mapped or in a bucket.
#[derive(Debug)]
pub enum FileBytes {
    Mem(Vec<u8>),
    Map(memmap2::Mmap),
    Remote(RemoteFile),
}

impl FileBytes {
    /// local is the whole file when it is in memory or mapped.
    #[inline]
    pub fn local(&self) -> Option<&[u8]> {
        match self {
            FileBytes::Mem(b) => Some(b),
            FileBytes::Map(m) => Some(m),
            FileBytes::Remote(_) => None,
        }
    }

    /// len is the file's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            FileBytes::Remote(r) => r.size() as usize,
            _ => self.local().map_or(0, <[u8]>::len),
        }
    }

    /// is_empty says whether the file holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// read returns bytes [off, off + len), clipped to the file's end:
    /// borrowed from a local file, fetched from a bucket.
    pub fn read(&self, off: usize, len: usize) -> Result<Cow<'_, [u8]>, BlockError> {
        match self {
            FileBytes::Remote(r) => Ok(Cow::Owned(r.read(off as u64, len)?)),
            _ => {
                let b = self.local().expect("a local file");
                let s = off.min(b.len());
                Ok(Cow::Borrowed(&b[s..off.saturating_add(len).min(b.len())]))
            }
        }
    }

    /// framed is a window of the file holding the record at `off` whose
    /// body length `head` decodes from its first bytes (returning the
    /// length field's size and the body length), plus a 4-byte CRC after
    /// the body. A local file is returned whole with `off` itself; a bucket
    /// file as the record alone, at 0. Reading the record from the window
    /// checks its bounds.
    pub fn framed(
        &self,
        off: usize,
        head_max: usize,
        head: impl Fn(&[u8]) -> Result<(usize, usize), BlockError>,
    ) -> Result<(Cow<'_, [u8]>, usize), BlockError> {
        match self {
            FileBytes::Remote(r) => {
                let first = r.read(off as u64, head_max)?;
                let (field, body) = head(&first)?;
                let total = field.saturating_add(body).saturating_add(4);
                if total <= first.len() {
                    return Ok((Cow::Owned(first[..total].to_vec()), 0));
                }
                Ok((Cow::Owned(r.read(off as u64, total)?), 0))
            }
            _ => Ok((Cow::Borrowed(self.local().expect("a local file")), off)),
        }
    }

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

//! The `chunks/` directory of a block: numbered segment files (`000001`,
//! `000002`, ...) of at most 512MiB, each an 8-byte header (magic
//! 0x85BD40DD, version 1, 3 zero bytes) followed by chunks written as
//! `len <uvarint> | encoding <1b> | data | crc32c(encoding + data) <4b>`.
//!
//! A chunk is referenced from the index by `segment << 32 | offset`, where
//! `segment` is the 0-based position of the file among the segments (so
//! `000001` is segment 0) and `offset` the position of the chunk's length
//! field within the file.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::encoding::{check_crc, crc32c, put_uvarint};
use super::file_bytes::{uvarint_len, FileBytes};
use super::BlockError;

/// MAGIC_CHUNKS opens every segment file.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// CHUNKS_FORMAT_V1 is the segment format version.
pub const CHUNKS_FORMAT_V1: u8 = 1;
/// SEGMENT_HEADER_SIZE is magic + version + 3 bytes of padding.
pub const SEGMENT_HEADER_SIZE: usize = 8;
/// DEFAULT_SEGMENT_SIZE is Prometheus's 512MiB segment limit.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

/// chunk_ref packs a segment index and an in-file offset.
#[inline]
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

/// segment_name is the file name of the 0-based segment `i`.
pub fn segment_name(i: usize) -> String {
    format!("{:06}", i + 1)
}

/// ChunkWriter streams chunks into the segment files of one `chunks/`
/// directory, cutting a new segment before a chunk that would push the
/// current one past the size limit.
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    /// The open segment and its 0-based index.
    cur: Option<(BufWriter<File>, u32)>,
    /// Bytes written to the open segment, header included.
    n: u64,
    /// Every segment written, in order.
    files: Vec<PathBuf>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    /// new writes into `dir` (created if missing).
    pub fn new(dir: &Path, segment_size: u64) -> Result<Self, BlockError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlockError::io("create chunks directory", dir, e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            segment_size: segment_size.max(SEGMENT_HEADER_SIZE as u64 + 1),
            cur: None,
            n: 0,
            files: Vec::new(),
            buf: Vec::with_capacity(256),
        })
    }

    fn cut(&mut self) -> Result<(), BlockError> {
        self.finish_segment()?;
        let idx = self.files.len();
        let path = self.dir.join(segment_name(idx));
        let f =
            File::create(&path).map_err(|e| BlockError::io("create chunk segment", &path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut head = Vec::with_capacity(SEGMENT_HEADER_SIZE);
        head.extend_from_slice(&MAGIC_CHUNKS.to_be_bytes());
        head.push(CHUNKS_FORMAT_V1);
        head.extend_from_slice(&[0, 0, 0]);
        w.write_all(&head)
            .map_err(|e| BlockError::io("write chunk segment", &path, e))?;
        self.files.push(path);
        let seg = u32::try_from(idx)
            .map_err(|_| BlockError::corrupt("more than 2^32 chunk segments".to_string()))?;
        self.cur = Some((w, seg));
        self.n = SEGMENT_HEADER_SIZE as u64;
        Ok(())
    }

    /// write appends one chunk (`encoding` byte and raw data) and returns its
    /// reference.
    pub fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64, BlockError> {
        self.buf.clear();
        put_uvarint(&mut self.buf, data.len() as u64);
        let len_size = self.buf.len();
        self.buf.push(encoding);
        self.buf.extend_from_slice(data);
        let sum = crc32c(&self.buf[len_size..]);
        self.buf.extend_from_slice(&sum.to_be_bytes());
        let size = self.buf.len() as u64;
        let full = self.n > SEGMENT_HEADER_SIZE as u64 && self.n + size > self.segment_size;
        if self.cur.is_none() || full {
            self.cut()?;
        }
        let offset = u32::try_from(self.n).map_err(|_| {
            BlockError::corrupt(format!("chunk offset {} does not fit 32 bits", self.n))
        })?;
        let (w, seg) = self.cur.as_mut().expect("segment opened above");
        let r = chunk_ref(*seg, offset);
        w.write_all(&self.buf).map_err(|e| {
            BlockError::io(
                "write chunk segment",
                self.files.last().expect("open segment"),
                e,
            )
        })?;
        self.n += size;
        Ok(r)
    }

    fn finish_segment(&mut self) -> Result<(), BlockError> {
        if let Some((w, _)) = self.cur.take() {
            let path = self.files.last().expect("open segment").clone();
            let f = w
                .into_inner()
                .map_err(|e| BlockError::io("flush chunk segment", &path, e.into_error()))?;
            f.sync_all()
                .map_err(|e| BlockError::io("fsync chunk segment", &path, e))?;
        }
        Ok(())
    }

    /// finish flushes and fsyncs the last segment and returns every segment
    /// path, in order.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, BlockError> {
        self.finish_segment()?;
        Ok(std::mem::take(&mut self.files))
    }
}

/// ChunkReader hands out the chunks of a block's segment files by
/// reference, checking that each lies within its segment and that its CRC
/// matches.
#[derive(Debug)]
pub struct ChunkReader {
    /// The segment files, mapped (see `FileBytes`): a query touches the
    /// pages of the chunks it reads, and chunks are handed out without a copy.
    segments: Vec<FileBytes>,
}

impl ChunkReader {
    /// open opens every segment of `dir` (files named by 6 digits, in name
    /// order) and checks their headers; chunks are read on demand.
    pub fn open(dir: &Path) -> Result<Self, BlockError> {
        let rd =
            std::fs::read_dir(dir).map_err(|e| BlockError::io("list chunks directory", dir, e))?;
        let mut names: Vec<String> = Vec::new();
        for e in rd {
            let e = e.map_err(|e| BlockError::io("list chunks directory", dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()) {
                names.push(name);
            }
        }
        names.sort();
        let mut segments = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            segments.push(FileBytes::map(&path, "chunk segment")?);
        }
        Self::from_files(segments)
    }

    /// from_files checks the headers of segment files already opened
    /// (mapped, or in a bucket), in segment order. A bucket segment's
    /// header is not fetched: opening a bucket block reads nothing from
    /// the bucket, and each chunk's CRC is still checked when read.
    pub fn from_files(segments: Vec<FileBytes>) -> Result<Self, BlockError> {
        for (i, s) in segments.iter().enumerate() {
            if let Some(b) = s.local() {
                Self::check_header(&b[..b.len().min(SEGMENT_HEADER_SIZE)], &segment_name(i))?;
            }
        }
        Ok(ChunkReader { segments })
    }

    /// from_segments wraps segment contents already in memory.
    pub fn from_segments(segments: Vec<Vec<u8>>) -> Result<Self, BlockError> {
        for (i, s) in segments.iter().enumerate() {
            Self::check_header(s, &segment_name(i))?;
        }
        Ok(ChunkReader {
            segments: segments.into_iter().map(FileBytes::Mem).collect(),
        })
    }

    fn check_header(b: &[u8], name: &str) -> Result<(), BlockError> {
        if b.len() < SEGMENT_HEADER_SIZE {
            return Err(BlockError::corrupt(format!(
                "chunk segment {name}: {} bytes is shorter than the {SEGMENT_HEADER_SIZE}-byte header",
                b.len()
            )));
        }
        let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if magic != MAGIC_CHUNKS {
            return Err(BlockError::corrupt(format!(
                "chunk segment {name}: invalid magic number {magic:x}"
            )));
        }
        if b[4] != CHUNKS_FORMAT_V1 {
            return Err(BlockError::corrupt(format!(
                "chunk segment {name}: unknown format version {}",
                b[4]
            )));
        }
        Ok(())
    }

    /// num_segments is the number of segment files.
    pub fn num_segments(&self) -> usize {
        self.segments.len()
    }

    /// chunk returns the encoding byte and data of the chunk at `r`.
    pub fn chunk(&self, r: u64) -> Result<(u8, Cow<'_, [u8]>), BlockError> {
        let seg = (r >> 32) as usize;
        let off = (r & 0xffff_ffff) as usize;
        let name = segment_name(seg);
        let segment = self.segments.get(seg).ok_or_else(|| {
            BlockError::corrupt(format!(
                "chunk ref {r:#x}: segment {name} does not exist ({} segments)",
                self.segments.len()
            ))
        })?;
        let seg_len = segment.len();
        if off < SEGMENT_HEADER_SIZE || off >= seg_len {
            return Err(BlockError::corrupt(format!(
                "chunk ref {r:#x}: offset {off} is outside segment {name} ({seg_len} bytes): truncated chunk file?"
            )));
        }
        // The length field: a uvarint of at most 5 bytes for a chunk.
        let length = uvarint_len("chunk length", 5);
        let (w, at) = segment.framed(off, 256, |h| {
            length(h).map(|(field, len)| (field, len.saturating_add(1)))
        })?;
        let (len_size, len) = length(&w[at..])?;
        let total = len_size
            .saturating_add(1)
            .saturating_add(len)
            .saturating_add(4);
        if at.saturating_add(total) > w.len() {
            return Err(BlockError::corrupt(format!(
                "chunk ref {r:#x}: chunk of {len} bytes runs past the end of segment {name} ({seg_len} bytes): truncated chunk file"
            )));
        }
        let c = &w[at..at + total];
        let body = len_size..len_size + 1 + len;
        check_crc(&c[body.clone()], &c[body.end..], "chunk")
            .map_err(|e| BlockError::corrupt(format!("chunk ref {r:#x} in segment {name}: {e}")))?;
        let enc = c[len_size];
        let (start, end) = (at + len_size + 1, at + body.end);
        Ok((
            enc,
            match w {
                Cow::Borrowed(b) => Cow::Borrowed(&b[start..end]),
                Cow::Owned(mut v) => {
                    v.truncate(end);
                    v.drain(..start);
                    Cow::Owned(v)
                }
            },
        ))
    }
}

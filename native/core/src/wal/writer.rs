//! writer: appends records to numbered segments in 32 KiB pages, split into
//! fragments as Prometheus's `wlog` does (layout in `docs/format/wal.md`).
//!
//! A batch (one request) is laid out in memory and handed to the kernel
//! with one `write`: after it returns the bytes are in the page cache and
//! survive the death of the process. Pages are not padded until they are
//! full, so the last page of the open segment is usually partial on disk,
//! which readers accept. A record never spans two segments: when it does
//! not fit in what is left of the segment, the current page is padded with
//! zeros and the record starts a new segment.
//!
//! With compression on, each record is compressed whole with snappy's block
//! format before it is fragmented, and every fragment's type byte carries
//! the `SNAPPY` bit, as Prometheus's `wlog` writes them (or, with zstd, as
//! one zstd frame with the `ZSTD` bit); a record that does not get smaller
//! is written plain.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{segment_path, FIRST, FULL, HEADER_SIZE, LAST, MIDDLE, PAGE_SIZE, SNAPPY, ZSTD};

/// Compression is how records are compressed before they are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Snappy,
    Zstd,
}

impl Compression {
    /// of is the compression the WAL options ask for (zstd only when compression is on).
    pub fn of(compress: bool, zstd: bool) -> Self {
        match (compress, zstd) {
            (false, _) => Compression::None,
            (true, false) => Compression::Snappy,
            (true, true) => Compression::Zstd,
        }
    }
}

thread_local! {
    /// Each thread's snappy encoder (its hash table is reused). Boxed: a
    /// thread-local holds only a pointer, as the module is loaded with
    /// dlopen, whose static TLS block has little room.
    static SNAPPY_ENCODER: std::cell::RefCell<Box<snap::raw::Encoder>> =
        std::cell::RefCell::new(Box::new(snap::raw::Encoder::new()));
    /// Each thread's zstd context, level 1: the WAL is written on every
    /// push; Prometheus's encoder is a fast level too.
    static ZSTD_ENCODER: std::cell::RefCell<Option<Box<zstd::bulk::Compressor<'static>>>> =
        std::cell::RefCell::new(zstd::bulk::Compressor::new(1).ok().map(Box::new));
}

/// compress_record compresses `rec` into `out` as `compression` asks and
/// returns the fragment flag (SNAPPY or ZSTD), or 0 when the record is to
/// be logged as it is (no compression, or it would not get smaller).
fn compress_record(rec: &[u8], compression: Compression, out: &mut Vec<u8>) -> u8 {
    match compression {
        Compression::None => 0,
        Compression::Snappy => SNAPPY_ENCODER.with(|enc| {
            out.resize(snap::raw::max_compress_len(rec.len()), 0);
            match enc.borrow_mut().compress(rec, out) {
                Ok(n) if n < rec.len() => {
                    out.truncate(n);
                    SNAPPY
                }
                _ => 0,
            }
        }),
        Compression::Zstd => ZSTD_ENCODER.with(|enc| {
            let mut enc = enc.borrow_mut();
            let Some(enc) = enc.as_mut() else { return 0 };
            out.resize(zstd::zstd_safe::compress_bound(rec.len()), 0);
            match enc.compress_to_buffer(rec, &mut out[..]) {
                Ok(n) if n < rec.len() => {
                    out.truncate(n);
                    ZSTD
                }
                _ => 0,
            }
        }),
    }
}

/// PreparedRecord is a record compressed before the writer mutex is taken
/// (`prepare_records`), to be written by `SegmentWriter::log_prepared`.
#[derive(Debug)]
pub struct PreparedRecord<'a> {
    plain: &'a [u8],
    compressed: Vec<u8>,
    flag: u8,
}

impl PreparedRecord<'_> {
    /// into_buffer gives the compressed copy's buffer, for `buffers::give_back`.
    pub fn into_buffer(self) -> Vec<u8> {
        self.compressed
    }

    fn bytes(&self) -> &[u8] {
        if self.flag == 0 {
            self.plain
        } else {
            &self.compressed
        }
    }
}

/// prepare_records compresses a batch on the calling thread, so that the
/// writer mutex is held only to lay the records out and write them.
pub fn prepare_records<R: AsRef<[u8]>>(
    records: &[R],
    compression: Compression,
) -> Vec<PreparedRecord<'_>> {
    records
        .iter()
        .map(|r| {
            let plain = r.as_ref();
            let mut compressed = super::buffers::take_buffer();
            let flag = compress_record(plain, compression, &mut compressed);
            PreparedRecord {
                plain,
                compressed,
                flag,
            }
        })
        .collect()
}

/// SegmentWriter is the open end of one tenant's WAL.
#[derive(Debug)]
pub struct SegmentWriter {
    dir: PathBuf,
    segment_size: u64,
    /// fsync the directory after creating a segment (sync mode `always`).
    sync_dir: bool,
    /// The segment being written, None until the first write.
    file: Option<Arc<File>>,
    /// Index of `file`.
    index: u64,
    /// Bytes written to `file`.
    offset: u64,
    /// Index of the next segment to create.
    next_index: u64,
    /// Batches written so far (the group-commit sequence).
    written_seq: u64,
    /// Scratch for one batch.
    buf: Vec<u8>,
    /// How records are compressed.
    compression: Compression,
}

impl SegmentWriter {
    /// new prepares a writer whose first segment will be `next_index`
    /// (segments are created on the first write, never appended to after a
    /// restart).
    pub fn new(dir: &Path, segment_size: u64, sync_dir: bool, next_index: u64) -> Self {
        SegmentWriter {
            dir: dir.to_path_buf(),
            segment_size,
            sync_dir,
            file: None,
            index: 0,
            offset: 0,
            next_index,
            written_seq: 0,
            buf: Vec::new(),
            compression: Compression::None,
        }
    }

    /// with_compression turns snappy compression of records on or off.
    pub fn with_compression(self, on: bool) -> Self {
        self.compressed_with(if on {
            Compression::Snappy
        } else {
            Compression::None
        })
    }

    /// compressed_with sets how records are compressed.
    pub fn compressed_with(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// with_zstd turns zstd compression of records on (it takes the place
    /// of snappy) or off (snappy, if it was on, stays off too).
    pub fn with_zstd(mut self, on: bool) -> Self {
        if on {
            self.compression = Compression::Zstd;
        } else if self.compression == Compression::Zstd {
            self.compression = Compression::None;
        }
        self
    }

    /// written_seq counts the batches written.
    pub fn written_seq(&self) -> u64 {
        self.written_seq
    }

    /// current returns the open segment's file and the batch sequence it
    /// holds up to (for group commit).
    pub fn current(&self) -> (Option<Arc<File>>, u64) {
        (self.file.clone(), self.written_seq)
    }

    /// segment is the index and size of the open segment.
    pub fn segment(&self) -> Option<(u64, u64)> {
        self.file.as_ref().map(|_| (self.index, self.offset))
    }

    fn pages_per_segment(&self) -> u64 {
        (self.segment_size / PAGE_SIZE as u64).max(1)
    }

    /// fits reports whether a record of `len` bytes fits in the open
    /// segment starting at `off` (Prometheus's rule: what is left of the
    /// current page and of every later page, each less one header).
    fn fits(&self, off: u64, len: usize) -> bool {
        let page = PAGE_SIZE as u64;
        let hdr = HEADER_SIZE as u64;
        let cur_page = off / page;
        let pages = self.pages_per_segment();
        if cur_page >= pages {
            return false;
        }
        let left = (page - off % page).saturating_sub(hdr) + (page - hdr) * (pages - cur_page - 1);
        len as u64 <= left
    }

    fn open_next(&mut self) -> io::Result<()> {
        let path = segment_path(&self.dir, self.next_index);
        std::fs::create_dir_all(&self.dir)?;
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("create {}: {e}", path.display())))?;
        if self.sync_dir {
            // The new name, and the directories when they were just made.
            for d in self.dir.ancestors().take(3) {
                File::open(d)?.sync_all()?;
            }
        }
        self.file = Some(Arc::new(f));
        self.index = self.next_index;
        self.next_index += 1;
        self.offset = 0;
        Ok(())
    }

    /// roll closes the open segment (fsynced) so that later records go to
    /// a new one, and returns that new segment's index: every record
    /// logged before lives in segments below it.
    pub fn roll(&mut self) -> io::Result<u64> {
        self.close_segment()?;
        Ok(self.next_index)
    }

    /// close_segment fsyncs and closes the open segment.
    pub fn close_segment(&mut self) -> io::Result<()> {
        if let Some(f) = self.file.take() {
            f.sync_data()?;
        }
        Ok(())
    }

    /// write_buf hands `buf` to the open segment. On failure the segment is
    /// cut back to where the batch started (or abandoned when that fails
    /// too), so a failed batch never leaves half a record before later ones.
    fn write_buf(&mut self, start: u64) -> io::Result<()> {
        let Some(f) = self.file.clone() else {
            return Ok(());
        };
        let res = (&*f).write_all(&self.buf);
        self.buf.clear();
        match res {
            Ok(()) => Ok(()),
            Err(e) => {
                if f.set_len(start).is_err() {
                    self.file = None;
                }
                self.offset = start;
                Err(e)
            }
        }
    }

    /// log writes a batch of records and returns its sequence number,
    /// compressing them here (`prepare_records` + `log_prepared` compress
    /// them before the writer mutex is taken).
    pub fn log<R: AsRef<[u8]>>(&mut self, records: &[R]) -> io::Result<u64> {
        let prepared = prepare_records(records, self.compression);
        self.log_prepared(&prepared)
    }

    /// log_prepared writes a batch compressed by `prepare_records` and
    /// returns its sequence number.
    pub fn log_prepared(&mut self, records: &[PreparedRecord<'_>]) -> io::Result<u64> {
        if records.is_empty() {
            return Ok(self.written_seq);
        }
        if self.file.is_none() {
            self.open_next()?;
        }
        let page = PAGE_SIZE as u64;
        let mut start = self.offset;
        self.buf.clear();
        for r in records {
            let (rec, flag) = (r.bytes(), r.flag);
            if self.offset > 0 && !self.fits(self.offset, rec.len()) {
                // Pad the current page, finish this segment, start the next.
                let rem = self.offset % page;
                if rem != 0 {
                    self.buf.resize(self.buf.len() + (page - rem) as usize, 0);
                    self.offset += page - rem;
                }
                self.write_buf(start)
                    .and_then(|()| self.close_segment())
                    .and_then(|()| self.open_next())?;
                start = 0;
            }
            self.fragment(rec, flag);
        }
        self.write_buf(start)?;
        self.written_seq += 1;
        Ok(self.written_seq)
    }

    /// fragment lays one record out as fragments in `buf`, padding a page
    /// when fewer than a header's bytes are left in it; `flag` (the
    /// compression bit or 0) is or-ed into every fragment's type.
    fn fragment(&mut self, rec: &[u8], flag: u8) {
        let page = PAGE_SIZE as u64;
        let mut rest = rec;
        let mut first = true;
        loop {
            let room = (page - self.offset % page) as usize - HEADER_SIZE;
            let n = rest.len().min(room);
            let last = n == rest.len();
            let typ = match (first, last) {
                (true, true) => FULL,
                (true, false) => FIRST,
                (false, false) => MIDDLE,
                (false, true) => LAST,
            };
            let (part, tail) = rest.split_at(n);
            self.buf.push(typ | flag);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
            self.buf
                .extend_from_slice(&crc32c::crc32c(part).to_be_bytes());
            self.buf.extend_from_slice(part);
            self.offset += (HEADER_SIZE + n) as u64;
            let rem = self.offset % page;
            if rem != 0 && page - rem < HEADER_SIZE as u64 {
                self.buf.resize(self.buf.len() + (page - rem) as usize, 0);
                self.offset += page - rem;
            }
            rest = tail;
            first = false;
            if last {
                return;
            }
        }
    }
}

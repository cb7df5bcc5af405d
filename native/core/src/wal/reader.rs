//! reader: reads one segment's records back, a page at a time. Memory is
//! one page plus the record being assembled; the caller decodes a record
//! before asking for the next one.
//!
//! Anything that is not a well-formed sequence of fragments with good
//! checksums (a torn page, a short read inside a record, a bad CRC, a
//! non-zero byte in page padding, a fragment out of sequence) stops the
//! reader with a [`Corruption`] that names the offset just past the last
//! good record: truncating the segment there keeps every record that was
//! read. Compressed records (the `SNAPPY` or `ZSTD` bit on every
//! fragment) are decompressed after their last fragment.

use std::io::{self, Read};

use super::{FIRST, FULL, HEADER_SIZE, LAST, MIDDLE, PAGE_SIZE, SNAPPY, TYPE_MASK, ZSTD};

/// Corruption says where and why a segment stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// Offset in the segment just past the last complete record.
    pub good_offset: u64,
    /// Offset of the bad byte sequence.
    pub offset: u64,
    pub reason: String,
}

/// Next is what the reader found next.
#[derive(Debug)]
pub enum Next<'a> {
    Record(&'a [u8]),
    /// Clean end of the segment.
    End,
    Corrupt(Corruption),
}

/// SegmentReader reads records from one segment.
pub struct SegmentReader<R: Read> {
    r: R,
    page: Box<[u8]>,
    /// Bytes of `page` that were read (less than a page only at the end).
    page_len: usize,
    pos: usize,
    /// Offset of `page` in the segment.
    page_start: u64,
    /// Whether a page was read at all.
    started: bool,
    rec: Vec<u8>,
    /// A compressed record, decompressed.
    plain: Vec<u8>,
    good_offset: u64,
}

impl<R: Read> SegmentReader<R> {
    pub fn new(r: R) -> Self {
        SegmentReader {
            r,
            page: vec![0u8; PAGE_SIZE].into_boxed_slice(),
            page_len: 0,
            pos: 0,
            page_start: 0,
            started: false,
            rec: Vec::new(),
            plain: Vec::new(),
            good_offset: 0,
        }
    }

    /// good_offset is the offset just past the last complete record read.
    pub fn good_offset(&self) -> u64 {
        self.good_offset
    }

    /// load_page reads the next page (fewer bytes at the end of the file).
    fn load_page(&mut self) -> io::Result<()> {
        if self.started {
            self.page_start += self.page_len as u64;
        }
        self.started = true;
        let mut n = 0;
        while n < PAGE_SIZE {
            match self.r.read(&mut self.page[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.page_len = n;
        self.pos = 0;
        Ok(())
    }

    fn corrupt(&self, at: usize, reason: impl Into<String>) -> Next<'_> {
        Next::Corrupt(Corruption {
            good_offset: self.good_offset,
            offset: self.page_start + at as u64,
            reason: reason.into(),
        })
    }

    /// next_record returns the next record. I/O errors are returned as errors;
    /// malformed content as `Next::Corrupt`.
    pub fn next_record(&mut self) -> io::Result<Next<'_>> {
        self.rec.clear();
        let mut in_record = false;
        // The compression bits of the record's fragments (0: plain).
        let mut compressed = 0u8;
        loop {
            if self.pos >= self.page_len {
                if self.started && self.page_len < PAGE_SIZE {
                    // The previous page was the last one.
                    return Ok(self.end(in_record));
                }
                self.load_page()?;
                if self.page_len == 0 {
                    return Ok(self.end(in_record));
                }
                continue;
            }
            let pos = self.pos;
            let flags = self.page[pos];
            if flags == 0 {
                // Padding: zeros up to the end of the page.
                if let Some(i) = self.page[pos..self.page_len].iter().position(|&b| b != 0) {
                    return Ok(self.corrupt(pos + i, "non-zero byte in page padding"));
                }
                self.pos = self.page_len;
                continue;
            }
            if flags & !(TYPE_MASK | SNAPPY | ZSTD) != 0 || flags & (SNAPPY | ZSTD) == SNAPPY | ZSTD
            {
                return Ok(self.corrupt(pos, format!("unsupported fragment flags {flags:#04x}")));
            }
            let typ = flags & TYPE_MASK;
            let kind = flags & (SNAPPY | ZSTD);
            if in_record && kind != compressed {
                return Ok(self.corrupt(pos, "fragments of one record disagree on compression"));
            }
            compressed = kind;
            if self.page_len - pos < HEADER_SIZE {
                return Ok(self.corrupt(pos, "truncated fragment header"));
            }
            let len = u16::from_be_bytes([self.page[pos + 1], self.page[pos + 2]]) as usize;
            let crc = u32::from_be_bytes(self.page[pos + 3..pos + 7].try_into().expect("4 bytes"));
            let start = pos + HEADER_SIZE;
            if start + len > PAGE_SIZE {
                return Ok(self.corrupt(pos, format!("fragment length {len} crosses the page end")));
            }
            if start + len > self.page_len {
                return Ok(self.corrupt(pos, "truncated fragment"));
            }
            let data = &self.page[start..start + len];
            let got = crc32c::crc32c(data);
            if got != crc {
                return Ok(self.corrupt(
                    pos,
                    format!("checksum mismatch: stored {crc:08x}, computed {got:08x}"),
                ));
            }
            let ok = match typ {
                FULL | FIRST => !in_record,
                MIDDLE | LAST => in_record,
                _ => false,
            };
            if !ok {
                return Ok(self.corrupt(pos, format!("fragment of type {typ} out of sequence")));
            }
            self.rec.extend_from_slice(data);
            self.pos = start + len;
            if typ == FULL || typ == LAST {
                if compressed == 0 {
                    self.good_offset = self.page_start + self.pos as u64;
                    return Ok(Next::Record(&self.rec));
                }
                if compressed == ZSTD {
                    self.plain.clear();
                    let mut dec = match zstd::stream::read::Decoder::with_buffer(&self.rec[..]) {
                        Ok(d) => d,
                        Err(e) => return Ok(self.corrupt(pos, format!("bad zstd record: {e}"))),
                    };
                    if let Err(e) = dec.read_to_end(&mut self.plain) {
                        return Ok(self.corrupt(pos, format!("bad zstd record: {e}")));
                    }
                    self.good_offset = self.page_start + self.pos as u64;
                    return Ok(Next::Record(&self.plain));
                }
                let n = match snap::raw::decompress_len(&self.rec) {
                    Ok(n) => n,
                    Err(e) => return Ok(self.corrupt(pos, format!("bad snappy record: {e}"))),
                };
                self.plain.resize(n, 0);
                if let Err(e) = snap::raw::Decoder::new().decompress(&self.rec, &mut self.plain) {
                    return Ok(self.corrupt(pos, format!("bad snappy record: {e}")));
                }
                self.good_offset = self.page_start + self.pos as u64;
                return Ok(Next::Record(&self.plain));
            }
            in_record = true;
        }
    }

    fn end(&self, in_record: bool) -> Next<'_> {
        if in_record {
            let at = self.page_len;
            self.corrupt(at, "segment ends inside a record")
        } else {
            Next::End
        }
    }
}

//! head_chunks keeps a tenant's full (closed) float head chunks on disk
//! beside its WAL, in Prometheus's head chunk files (`chunks_head/000001`,
//! ...; `tsdb/chunks/head_chunks.go`, `docs/format/head_chunks.md`), so a
//! restart loads them instead of re-encoding their samples from the WAL:
//!
//! ```text
//! file:  magic 0x0130BC91 <4b> | version 1 <1b> | padding <3b> | chunk ...
//! chunk: series ref <8b> | mint <8b> | maxt <8b> | encoding <1b>
//!        | len <uvarint> | data | CRC32-Castagnoli of all of it <4b>
//! ```
//!
//! The files only speed replay up; the WAL stays complete. Every chunk on
//! disk also has its samples in the WAL (segments or checkpoint):
//!
//! - a chunk is written after the WAL records of its request, under the
//!   WAL writer mutex, so one series' chunks are in the files in time
//!   order and a torn tail loses the newest ones only;
//! - a checkpoint (the WAL dropping samples older than the head) first
//!   deletes every file, before the segments it replaces go;
//! - a replay that had to remap series refs deletes every file and writes
//!   none until the next checkpoint, because a ref in the files could then
//!   mean another series than in the log.
//!
//! Replay loads the chunks first ([`HeadChunkFiles::load`]), gives each
//! series its chunks when its Series record declares it, and drops WAL
//! samples the chunks already hold. Only float (XOR) chunks of series that
//! never took a histogram are kept: a histogram chunk's counter-reset
//! header depends on the appender before it, which a load cannot restore.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::block::encoding::{crc32c, put_uvarint, Decbuf};

/// MAGIC is the head chunk file magic (`MagicHeadChunks`).
pub const MAGIC: u32 = 0x0130_BC91;
/// VERSION is the head chunk file format version.
pub const VERSION: u8 = 1;
/// FILE_HEADER_SIZE is magic, version and padding.
pub const FILE_HEADER_SIZE: usize = 8;
/// MAX_FILE_SIZE is Prometheus's `MaxHeadChunkFileSize` (128 MiB).
pub const MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;
/// Bytes buffered before a write reaches the file (per tenant, allocated
/// with the first chunk; lost chunks on a crash are rebuilt from the WAL).
const BUFFER_SIZE: usize = 256 * 1024;

/// file_name is a head chunk file's name: its sequence in 6 digits.
pub fn file_name(seq: u32) -> String {
    format!("{seq:06}")
}

/// PendingChunk is a closed chunk waiting to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChunk {
    pub series_ref: u32,
    pub min_t: i64,
    pub max_t: i64,
    pub data: Box<[u8]>,
}

/// DiskChunk is a chunk loaded from the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskChunk {
    pub min_t: i64,
    pub max_t: i64,
    pub data: Box<[u8]>,
}

/// LoadedChunks are the files' chunks by series ref, each series' in time
/// order, and what loading found.
#[derive(Debug, Default)]
pub struct LoadedChunks {
    pub by_ref: HashMap<u64, Vec<DiskChunk>>,
    pub chunks: u64,
    pub files: u32,
    /// Bytes cut off a torn or corrupt file, and files deleted after it.
    pub truncated_bytes: u64,
    pub deleted_files: u32,
}

#[derive(Debug)]
struct Writer {
    /// Sequence of the file written to (0: none open).
    seq: u32,
    out: Option<BufWriter<File>>,
    size: u64,
    /// The next file's sequence.
    next_seq: u32,
    /// False after a remapped replay (until a checkpoint) or a write error.
    enabled: bool,
    buf: Vec<u8>,
}

/// HeadChunkFiles is one tenant's `chunks_head` directory.
#[derive(Debug)]
pub struct HeadChunkFiles {
    dir: PathBuf,
    w: Mutex<Writer>,
}

/// list_files returns the sequences of the head chunk files in `dir`,
/// ascending (none when it does not exist).
fn list_files(dir: &Path) -> io::Result<Vec<u32>> {
    Ok(super::list_numbered(dir, 1)?
        .into_iter()
        .filter_map(|n| u32::try_from(n).ok())
        .collect())
}

/// parse_file reads one file's chunks into `out`; returns the offset after
/// the last good chunk and whether the file ended there cleanly.
fn parse_file(data: &[u8], out: &mut LoadedChunks) -> (usize, bool) {
    if data.len() < FILE_HEADER_SIZE
        || u32::from_be_bytes([data[0], data[1], data[2], data[3]]) != MAGIC
        || data[4] != VERSION
    {
        return (0, false);
    }
    let mut off = FILE_HEADER_SIZE;
    while off < data.len() {
        let mut d = Decbuf::new(&data[off..], "head chunk");
        let parsed = (|| {
            let series_ref = d.be64()?;
            let min_t = d.be64()? as i64;
            let max_t = d.be64()? as i64;
            let encoding = d.byte()?;
            let body = d.uvarint_bytes()?;
            let sum = d.be32()?;
            Ok::<_, crate::block::BlockError>((series_ref, min_t, max_t, encoding, body, sum))
        })();
        let Ok((series_ref, min_t, max_t, encoding, body, sum)) = parsed else {
            return (off, false);
        };
        let end = data.len() - d.len();
        if series_ref == 0 && min_t == 0 && max_t == 0 {
            // Zeroed space after the data (a preallocated file).
            return (off, true);
        }
        if crc32c(&data[off..end - 4]) != sum || encoding != crate::chunkenc::ENCODING_XOR {
            return (off, false);
        }
        out.by_ref.entry(series_ref).or_default().push(DiskChunk {
            min_t,
            max_t,
            data: body.into(),
        });
        out.chunks += 1;
        off = end;
    }
    (off, true)
}

impl HeadChunkFiles {
    /// open prepares the directory's files: writes go to a new file after
    /// the ones found (the directory is created on the first write).
    pub fn open(dir: PathBuf) -> io::Result<HeadChunkFiles> {
        let next_seq = list_files(&dir)?.last().map_or(1, |l| l + 1);
        Ok(HeadChunkFiles {
            dir,
            w: Mutex::new(Writer {
                seq: 0,
                out: None,
                size: 0,
                next_seq,
                enabled: true,
                buf: Vec::new(),
            }),
        })
    }

    /// dir is the `chunks_head` directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// load reads every file written before this process: the chunks by
    /// series ref. A torn or corrupt chunk ends the load there: its file is
    /// cut before it and the later files are deleted (the WAL holds all of
    /// their samples).
    pub fn load(&self) -> io::Result<LoadedChunks> {
        let mut out = LoadedChunks::default();
        let seqs: Vec<u32> = {
            let w = self.w.lock();
            list_files(&self.dir)?
                .into_iter()
                .filter(|&s| s != w.seq)
                .collect()
        };
        let mut bad = false;
        for seq in seqs {
            let path = self.dir.join(file_name(seq));
            if bad {
                out.truncated_bytes += fs::metadata(&path)?.len();
                fs::remove_file(&path)?;
                out.deleted_files += 1;
                continue;
            }
            let data = fs::read(&path)?;
            out.files += 1;
            let (good, clean) = parse_file(&data, &mut out);
            if !clean {
                bad = true;
                out.truncated_bytes += (data.len() - good) as u64;
                if good < FILE_HEADER_SIZE {
                    fs::remove_file(&path)?;
                    out.deleted_files += 1;
                } else {
                    let f = OpenOptions::new().write(true).open(&path)?;
                    f.set_len(good as u64)?;
                    f.sync_all()?;
                }
            }
        }
        for chunks in out.by_ref.values_mut() {
            chunks.sort_by_key(|c| c.min_t);
        }
        Ok(out)
    }

    /// write appends closed chunks (in the order given, which must be each
    /// series' time order). A failed write turns the files off and deletes
    /// them (replay then reads the WAL only) and is returned.
    pub fn write(&self, chunks: &[PendingChunk]) -> io::Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let mut w = self.w.lock();
        if !w.enabled {
            return Ok(());
        }
        let res = self.write_locked(&mut w, chunks);
        if res.is_err() {
            w.enabled = false;
            w.out = None;
            w.seq = 0;
            let _ = self.delete_all();
        }
        res
    }

    fn write_locked(&self, w: &mut Writer, chunks: &[PendingChunk]) -> io::Result<()> {
        for c in chunks {
            let mut buf = std::mem::take(&mut w.buf);
            buf.clear();
            buf.extend_from_slice(&u64::from(c.series_ref).to_be_bytes());
            buf.extend_from_slice(&c.min_t.to_be_bytes());
            buf.extend_from_slice(&c.max_t.to_be_bytes());
            buf.push(crate::chunkenc::ENCODING_XOR);
            put_uvarint(&mut buf, c.data.len() as u64);
            buf.extend_from_slice(&c.data);
            let sum = crc32c(&buf);
            buf.extend_from_slice(&sum.to_be_bytes());
            if w.out.is_none() || w.size + buf.len() as u64 > MAX_FILE_SIZE {
                self.cut(w)?;
            }
            let out = w.out.as_mut().expect("open head chunk file");
            out.write_all(&buf)?;
            w.size += buf.len() as u64;
            w.buf = buf;
        }
        Ok(())
    }

    /// cut closes the open file and starts the next one.
    fn cut(&self, w: &mut Writer) -> io::Result<()> {
        if let Some(mut out) = w.out.take() {
            out.flush()?;
        }
        fs::create_dir_all(&self.dir)?;
        let seq = w.next_seq;
        let mut f = BufWriter::with_capacity(
            BUFFER_SIZE,
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.dir.join(file_name(seq)))?,
        );
        let mut header = [0u8; FILE_HEADER_SIZE];
        header[..4].copy_from_slice(&MAGIC.to_be_bytes());
        header[4] = VERSION;
        f.write_all(&header)?;
        w.out = Some(f);
        w.seq = seq;
        w.next_seq = seq + 1;
        w.size = FILE_HEADER_SIZE as u64;
        Ok(())
    }

    /// flush writes the buffered chunks to the open file (shutdown).
    pub fn flush(&self) -> io::Result<()> {
        let mut w = self.w.lock();
        match w.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }

    /// reset closes the open file and deletes every file; writes go on into
    /// new files when `enabled` (a checkpoint), stop otherwise (a replay
    /// that remapped refs).
    pub fn reset(&self, enabled: bool) -> io::Result<()> {
        let mut w = self.w.lock();
        w.out = None;
        w.seq = 0;
        w.enabled = enabled;
        self.delete_all()
    }

    fn delete_all(&self) -> io::Result<()> {
        for seq in list_files(&self.dir)? {
            match fs::remove_file(self.dir.join(file_name(seq))) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// remove deletes the directory (tenant deletion).
    pub fn remove(&self) -> io::Result<()> {
        let mut w = self.w.lock();
        w.out = None;
        w.seq = 0;
        w.enabled = false;
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(r: u32, t: i64) -> PendingChunk {
        let mut app = crate::chunkenc::XorAppender::new();
        app.append(t, 1.0);
        app.append(t + 15_000, 2.0);
        PendingChunk {
            series_ref: r,
            min_t: t,
            max_t: t + 15_000,
            data: app.finish().into_boxed_slice(),
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("head-chunks-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn written_chunks_load_by_series_in_time_order() {
        let dir = tmp("roundtrip");
        let f = HeadChunkFiles::open(dir.clone()).unwrap();
        f.write(&[chunk(1, 0), chunk(2, 0), chunk(1, 30_000)])
            .unwrap();
        f.flush().unwrap();
        let bytes = fs::read(dir.join("000001")).unwrap();
        assert_eq!(&bytes[..8], &[0x01, 0x30, 0xBC, 0x91, 1, 0, 0, 0]);
        // A new process writes to a new file and loads the old one.
        let g = HeadChunkFiles::open(dir.clone()).unwrap();
        let l = g.load().unwrap();
        assert_eq!((l.chunks, l.files), (3, 1));
        let one = &l.by_ref[&1];
        assert_eq!(
            one.iter().map(|c| c.min_t).collect::<Vec<_>>(),
            vec![0, 30_000]
        );
        assert_eq!(one[0].data, chunk(1, 0).data);
        g.write(&[chunk(3, 0)]).unwrap();
        g.flush().unwrap();
        assert!(dir.join("000002").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_tail_is_cut_and_later_files_go() {
        let dir = tmp("torn");
        let f = HeadChunkFiles::open(dir.clone()).unwrap();
        f.write(&[chunk(1, 0), chunk(1, 30_000)]).unwrap();
        f.flush().unwrap();
        let g = HeadChunkFiles::open(dir.clone()).unwrap();
        g.write(&[chunk(2, 0)]).unwrap();
        g.flush().unwrap();
        let first = dir.join("000001");
        let len = fs::metadata(&first).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&first)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let h = HeadChunkFiles::open(dir.clone()).unwrap();
        let l = h.load().unwrap();
        assert_eq!(l.chunks, 1, "the chunk before the torn one is kept");
        assert_eq!(l.deleted_files, 1, "the file after it is deleted");
        assert!(!dir.join("000002").exists());
        assert!(fs::metadata(&first).unwrap().len() < len - 3);
        // Loading again finds the cut file clean.
        let l = HeadChunkFiles::open(dir.clone()).unwrap().load().unwrap();
        assert_eq!((l.chunks, l.truncated_bytes), (1, 0));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn reset_deletes_and_can_stop_writes() {
        let dir = tmp("reset");
        let f = HeadChunkFiles::open(dir.clone()).unwrap();
        f.write(&[chunk(1, 0)]).unwrap();
        f.reset(false).unwrap();
        f.write(&[chunk(1, 30_000)]).unwrap();
        assert!(list_files(&dir).unwrap().is_empty());
        f.reset(true).unwrap();
        f.write(&[chunk(1, 60_000)]).unwrap();
        f.flush().unwrap();
        assert_eq!(list_files(&dir).unwrap(), vec![2]);
        let _ = fs::remove_dir_all(&dir);
    }
}

//! wal is the write-ahead log of each tenant's head, in Prometheus's WAL
//! format (`tsdb/wlog` segments and pages, `tsdb/record` payloads; byte
//! layout in `docs/format/wal.md`): `<dir>/<tenant>/wal/00000000`, ...
//!
//! - [`record`]: Series and Samples record codecs;
//! - [`writer`]: pages, fragments and segments on the write side;
//! - [`reader`]: the streaming reader that spots torn and corrupt data;
//! - [`replay`]: rebuilding a head from its segments;
//! - [`head_chunks`]: the head's full chunks on disk (`chunks_head`), which
//!   replay loads instead of re-encoding their samples.
//!
//! # Write path and locks
//!
//! A request's ingestion first finds or creates every series it appends
//! to, then takes their log-order locks ([`MemSeries::log_order`], in
//! ascending ref order) and holds them from its appends until its records
//! are written (one `write` per request, under the short
//! [`TenantWal::writer`] mutex). So for each series the log order is the
//! append order, while requests over other series append at the same time.
//! The first request that logs a series writes its Series record before
//! its samples ([`MemSeries::logged`]), whichever request created it; the
//! records of concurrently created series may reach the log out of ref
//! order, and replay gives each series the ref its record names
//! (`Head::get_or_create_at`). Lock order: `Db::tenants` < log-order
//! locks < `TenantWal::writer` < `Head::index` < `MemSeries::state`.
//!
//! [`MemSeries::log_order`]: crate::head::MemSeries::log_order
//! [`MemSeries::logged`]: crate::head::MemSeries::logged
//!
//! With [`SyncMode::Always`], the request then waits in [`TenantWal::sync_to`]
//! for an fsync that covers its batch: one thread fsyncs for everyone who
//! wrote before it started (group commit), outside the writer mutex.

pub mod buffers;
pub mod checkpoint;
pub mod head_chunks;
pub mod histogram_record;
pub mod reader;
pub mod record;
pub mod replay;
pub mod st_record;
pub mod writer;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};

pub use reader::{Corruption, Next, SegmentReader};
pub use replay::{ReplayState, ReplayStats};
pub use writer::{prepare_records, Compression, PreparedRecord, SegmentWriter};

/// PAGE_SIZE is the size of a WAL page.
pub const PAGE_SIZE: usize = 32 * 1024;
/// HEADER_SIZE is the size of a fragment header: type, u16 length, CRC32.
pub const HEADER_SIZE: usize = 7;
/// DEFAULT_SEGMENT_SIZE is Prometheus's (and Mimir's) 128 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;

/// Fragment types (the low three bits of a fragment's first byte; 0 is
/// page padding).
pub const FULL: u8 = 1;
pub const FIRST: u8 = 2;
pub const MIDDLE: u8 = 3;
pub const LAST: u8 = 4;
/// SNAPPY is the fragment-type bit of a record compressed with snappy's
/// block format (the whole record is compressed, then fragmented; every
/// fragment carries the bit).
pub const SNAPPY: u8 = 1 << 3;
/// ZSTD is the fragment-type bit of a record compressed whole as one zstd
/// frame (Prometheus 3.x's `--storage.tsdb.wal-compression-type=zstd`).
pub const ZSTD: u8 = 1 << 4;
/// TYPE_MASK keeps a fragment type's record-type bits.
pub const TYPE_MASK: u8 = SNAPPY - 1;

/// SyncMode is `-blocks-storage.tsdb.wal-sync-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Written to the kernel before the answer: survives the process.
    None,
    /// fsynced before the answer (group commit): survives power loss.
    Always,
}

impl SyncMode {
    pub fn parse(s: &str) -> Option<SyncMode> {
        match s {
            "none" => Some(SyncMode::None),
            "always" => Some(SyncMode::Always),
            _ => None,
        }
    }
}

/// WalOptions configure every tenant's WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// `-blocks-storage.tsdb.dir`: tenant WALs are in `<dir>/<tenant>/wal`.
    pub dir: PathBuf,
    /// `-blocks-storage.tsdb.wal-segment-size-bytes`, a multiple of 32 KiB.
    pub segment_size: u64,
    pub sync_mode: SyncMode,
    /// `-blocks-storage.tsdb.wal-compression-enabled`: snappy-compress
    /// records (segments and checkpoints). Replay reads both kinds.
    pub compress: bool,
    /// `-blocks-storage.tsdb.wal-compression-type=zstd`: with `compress`,
    /// records are zstd frames instead of snappy blocks.
    pub zstd: bool,
}

/// segment_name is a segment's file name: its index in 8 digits.
pub fn segment_name(index: u64) -> String {
    format!("{index:08}")
}

/// segment_path is `dir/segment_name(index)`.
pub fn segment_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(segment_name(index))
}

/// list_segments returns the indexes of the segments in a WAL directory,
/// ascending (an absent directory has none). Other files are ignored.
pub fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    list_numbered(dir, 8)
}

/// list_numbered returns the numbers of the files in `dir` named by at
/// least `min_digits` digits, ascending (an absent directory has none).
pub(crate) fn list_numbered(dir: &Path, min_digits: usize) -> io::Result<Vec<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() >= min_digits
            && name.bytes().all(|b| b.is_ascii_digit())
            && e.file_type()?.is_file()
        {
            if let Ok(i) = name.parse::<u64>() {
                out.push(i);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// SyncState is the group-commit bookkeeping behind `TenantWal::sync`.
#[derive(Debug, Default)]
struct SyncState {
    /// Every batch up to this sequence is on stable storage.
    synced_seq: u64,
    /// A thread is fsyncing (others wait for it, then maybe go themselves).
    in_progress: bool,
}

/// TenantWal is one tenant's WAL: its directory, writer, group commit and,
/// during start-up, its replay state.
#[derive(Debug)]
pub struct TenantWal {
    dir: PathBuf,
    sync_mode: SyncMode,
    /// The open end; held by a request while it writes its records.
    writer: Mutex<SegmentWriter>,
    /// Group commit state; never held while taking `writer` for long.
    sync: Mutex<SyncState>,
    synced: Condvar,
    /// Replay bookkeeping between `replay_segment` calls.
    replay: Mutex<Option<ReplayState>>,
    /// Segments found at open after the checkpoint (replay reads these;
    /// writes go after them).
    existing: Vec<u64>,
    /// The newest checkpoint found at open (replayed before `existing`).
    checkpoint: Option<u64>,
    /// -blocks-storage.tsdb.wal-segment-size-bytes (checkpoints use it too).
    segment_size: u64,
    /// How records are compressed (checkpoints too).
    compression: Compression,
    /// One checkpoint at a time.
    checkpoint_lock: Mutex<()>,
    /// The head's closed chunks on disk (`<tenant>/chunks_head`).
    head_chunks: head_chunks::HeadChunkFiles,
}

impl TenantWal {
    /// open prepares a tenant's WAL in `dir` (created on the first write).
    pub fn open(dir: PathBuf, opts: &WalOptions) -> io::Result<TenantWal> {
        let checkpoint = checkpoint::clean_wal_dir(&dir)?;
        let existing = list_segments(&dir)?;
        let chunks_dir = dir
            .parent()
            .map_or_else(|| dir.join("chunks_head"), |p| p.join("chunks_head"));
        let next = existing
            .last()
            .map_or(0, |l| l + 1)
            .max(checkpoint.map_or(0, |c| c + 1));
        Ok(TenantWal {
            writer: Mutex::new(
                SegmentWriter::new(
                    &dir,
                    opts.segment_size,
                    opts.sync_mode == SyncMode::Always,
                    next,
                )
                .compressed_with(Compression::of(opts.compress, opts.zstd)),
            ),
            dir,
            sync_mode: opts.sync_mode,
            sync: Mutex::new(SyncState::default()),
            synced: Condvar::new(),
            replay: Mutex::new(None),
            existing,
            checkpoint,
            segment_size: opts.segment_size,
            compression: Compression::of(opts.compress, opts.zstd),
            checkpoint_lock: Mutex::new(()),
            head_chunks: head_chunks::HeadChunkFiles::open(chunks_dir)?,
        })
    }

    /// dir is the WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// head_chunks are the head's closed chunks on disk.
    pub fn head_chunks(&self) -> &head_chunks::HeadChunkFiles {
        &self.head_chunks
    }

    /// existing_segments are the segments found when the WAL was opened.
    pub fn existing_segments(&self) -> &[u64] {
        &self.existing
    }

    /// checkpoint_found is the checkpoint found at open, replayed first.
    pub fn checkpoint_found(&self) -> Option<u64> {
        self.checkpoint
    }

    /// sync_mode is the fsync policy.
    pub fn sync_mode(&self) -> SyncMode {
        self.sync_mode
    }

    /// compression is how this WAL compresses its records.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// lock_writer takes the writer mutex (see the module docs).
    pub fn lock_writer(&self) -> MutexGuard<'_, SegmentWriter> {
        self.writer.lock()
    }

    /// commit makes a written batch as durable as the sync mode asks.
    pub fn commit(&self, seq: u64) -> io::Result<()> {
        match self.sync_mode {
            SyncMode::None => Ok(()),
            SyncMode::Always => self.sync_to(seq),
        }
    }

    /// sync_to returns once batch `seq` is on stable storage, fsyncing the
    /// open segment unless another thread's fsync already covers it.
    pub fn sync_to(&self, seq: u64) -> io::Result<()> {
        let mut st = self.sync.lock();
        loop {
            if st.synced_seq >= seq {
                return Ok(());
            }
            if !st.in_progress {
                break;
            }
            self.synced.wait(&mut st);
        }
        st.in_progress = true;
        drop(st);
        // Segments closed before this point were fsynced when closed, so
        // the open one is all that can hold batches up to `target`.
        let (file, target) = self.writer.lock().current();
        let res = match file {
            Some(f) => f.sync_data(),
            None => Ok(()),
        };
        let mut st = self.sync.lock();
        st.in_progress = false;
        if res.is_ok() {
            st.synced_seq = st.synced_seq.max(target);
        }
        self.synced.notify_all();
        res
    }

    /// close fsyncs and closes the open segment and writes out the
    /// buffered head chunks.
    pub fn close(&self) -> io::Result<()> {
        let mut w = self.writer.lock();
        self.head_chunks.flush()?;
        w.close_segment()
    }
}

/// WalStorage is the WAL configuration of the process, set once by `open`
/// (the binding's `openStorage`); until then, heads live in memory only
/// (unit tests). Each tenant's open WAL belongs to the tenant's
/// [`crate::tsdb::Tsdb`]; the storage of the binding ([`storage`]) serves
/// the process-wide registry, one made by [`WalStorage::new`] its own.
#[derive(Debug, Default)]
pub struct WalStorage {
    opts: RwLock<Option<WalOptions>>,
    closed: RwLock<bool>,
    /// The tenants this storage serves (None: the process-wide registry).
    own: Option<crate::tsdb::Registry>,
}

static STORAGE: LazyLock<WalStorage> = LazyLock::new(WalStorage::default);

/// storage is the process-wide WAL configuration used by the binding.
pub fn storage() -> &'static WalStorage {
    &STORAGE
}

/// TenantSegments lists a tenant's WAL segments found at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSegments {
    pub tenant: String,
    /// Segments after the checkpoint.
    pub segments: Vec<u64>,
    /// The newest complete checkpoint, replayed before the segments.
    pub checkpoint: Option<u64>,
}

/// WalError is why a WAL operation failed.
#[derive(Debug)]
pub enum WalError {
    Closed,
    Io(io::Error),
}

impl std::fmt::Display for WalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalError::Closed => f.write_str("the WAL is closed (shutting down)"),
            WalError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl WalStorage {
    /// new creates a storage with its own tenants (tests; the binding uses
    /// [`storage`] and the process-wide registry).
    pub fn new() -> Self {
        WalStorage {
            own: Some(crate::tsdb::Registry::new()),
            ..Self::default()
        }
    }

    /// tsdbs is the registry whose tenants this storage serves.
    pub fn tsdbs(&self) -> &crate::tsdb::Registry {
        self.own.as_ref().unwrap_or_else(|| crate::tsdb::registry())
    }

    /// open configures the WALs under `opts.dir` and lists the tenants
    /// that have segments, sorted. Opening again closes the tenant WALs
    /// opened before (one process, one storage directory at a time).
    pub fn open(&self, opts: WalOptions) -> io::Result<Vec<TenantSegments>> {
        if opts.segment_size == 0 || !opts.segment_size.is_multiple_of(PAGE_SIZE as u64) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid WAL segment size {}: must be a positive multiple of {PAGE_SIZE}",
                    opts.segment_size
                ),
            ));
        }
        std::fs::create_dir_all(&opts.dir)?;
        let mut found = Vec::new();
        for e in std::fs::read_dir(&opts.dir)? {
            let e = e?;
            if !e.file_type()?.is_dir() {
                continue;
            }
            let Some(tenant) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let wal_dir = e.path().join("wal");
            let checkpoint = checkpoint::clean_wal_dir(&wal_dir)?;
            let segments = list_segments(&wal_dir)?;
            if !segments.is_empty() || checkpoint.is_some() {
                found.push(TenantSegments {
                    tenant,
                    segments,
                    checkpoint,
                });
            }
        }
        found.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        for w in self.tsdbs().take_wals() {
            w.close()?;
        }
        *self.opts.write() = Some(opts);
        *self.closed.write() = false;
        Ok(found)
    }

    /// is_open reports whether `open` was called (and `close` not since).
    pub fn is_open(&self) -> bool {
        self.opts.read().is_some() && !*self.closed.read()
    }

    /// tenant returns the tenant's WAL, opening it on first use; None when
    /// storage was never opened (in-memory heads).
    pub fn tenant(&self, tenant: &str) -> Result<Option<Arc<TenantWal>>, WalError> {
        self.tsdbs().tenant(tenant).wal(self)
    }

    /// check_open fails once `close` was called.
    pub fn check_open(&self) -> Result<(), WalError> {
        if *self.closed.read() {
            return Err(WalError::Closed);
        }
        Ok(())
    }

    /// open_tenant opens a tenant's WAL directory (None when storage was
    /// never opened); the tenant's `Tsdb` keeps it.
    pub fn open_tenant(&self, tenant: &str) -> Result<Option<Arc<TenantWal>>, WalError> {
        let Some(opts) = self.opts.read().clone() else {
            return Ok(None);
        };
        let dir = opts.dir.join(tenant).join("wal");
        Ok(Some(Arc::new(
            TenantWal::open(dir, &opts).map_err(WalError::Io)?,
        )))
    }

    /// close fsyncs and closes every tenant's WAL; writes fail afterwards.
    pub fn close(&self) -> io::Result<()> {
        *self.closed.write() = true;
        let mut first_err = None;
        for w in self.tsdbs().open_wals() {
            if let Err(e) = w.close() {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// forget drops a tenant's WAL and deletes its directory.
    pub fn forget(&self, tenant: &str) -> io::Result<()> {
        match self.tsdbs().get(tenant) {
            Some(t) => t.forget_wal(),
            None => Ok(()),
        }
    }
}

/// sync_dir fsyncs a directory (after creating or truncating files in it).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests;

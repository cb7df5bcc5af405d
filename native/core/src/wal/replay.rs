//! replay rebuilds a head from its WAL, one segment per call: Series
//! records recreate series (in log order, so they get the refs they had),
//! Samples records go through the head's unchecked append (the same chunk
//! cutting as pushed data). Records are decoded straight from the
//! reader's buffer; nothing else of a segment is held in memory.
//!
//! A log ref normally equals the ref the series gets again. Where it does
//! not (a record was lost to corruption, or the log holds series from an
//! older head), the ref is remapped and the replay is not "clean": the
//! writer then logs every series again before new samples, so that later
//! replays find each ref declared with its current meaning.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::head_chunks::{DiskChunk, HeadChunkFiles, PendingChunk};
use super::histogram_record;
use super::reader::{Corruption, Next, SegmentReader};
use super::record::{self, SeriesEncoder};
use super::st_record;
use super::{segment_path, TenantWal};
use crate::head::chunks::ClosedChunk;
use crate::head::{Head, HeadAppender, MemSeries};
use crate::model::histogram::HistogramValue;

/// ReplayState carries the ref mapping from one segment to the next.
#[derive(Debug)]
pub struct ReplayState {
    /// Bit r is set when log ref r is declared and means head ref r.
    identity: Vec<u64>,
    /// Log refs that mean another head ref.
    remap: HashMap<u64, u32>,
    /// No remapping and no unknown refs so far.
    clean: bool,
    /// The series declared so far, by head ref (slot r - 1): samples find
    /// their series without the head's index lock.
    series: Vec<Option<Arc<MemSeries>>>,
    /// Chunks loaded from the head chunk files, by log ref, until a Series
    /// record declares their series.
    disk: HashMap<u64, Vec<DiskChunk>>,
    /// By head ref slot: the declared series' chunks from the files not
    /// attached yet, newest first (`pop` gives the next).
    pending: Vec<Vec<DiskChunk>>,
    /// By head ref slot: the newest time of the chunks attached from the
    /// files; the log's samples up to it are in them.
    covered: Vec<i64>,
}

impl Default for ReplayState {
    fn default() -> Self {
        ReplayState {
            identity: Vec::new(),
            remap: HashMap::new(),
            clean: true,
            series: Vec::new(),
            disk: HashMap::new(),
            pending: Vec::new(),
            covered: Vec::new(),
        }
    }
}

impl ReplayState {
    /// with_disk_chunks starts a replay with the chunks loaded from the
    /// head chunk files.
    pub fn with_disk_chunks(disk: HashMap<u64, Vec<DiskChunk>>) -> Self {
        ReplayState {
            disk,
            ..ReplayState::default()
        }
    }

    /// claim hands a newly declared series the chunks the files hold
    /// under its log ref; they are attached as its samples reach them.
    fn claim(&mut self, log_ref: u64, s: &MemSeries) {
        let Some(mut chunks) = self.disk.remove(&log_ref) else {
            return;
        };
        chunks.reverse();
        let slot = s.series_ref as usize - 1;
        if self.pending.len() <= slot {
            self.pending.resize_with(slot + 1, Vec::new);
        }
        self.pending[slot] = chunks;
    }

    /// next_pending is the first time of the next chunk from the files of
    /// the series in head ref slot `slot`.
    #[inline]
    fn next_pending(&self, slot: usize) -> Option<i64> {
        Some(self.pending.get(slot)?.last()?.min_t)
    }

    /// attach_next gives a series its next chunk from the files (a sample
    /// at or after its start came): the open chunk is closed first and
    /// goes to `app`'s chunks for the files, as it would have when the
    /// chunk was cut. A chunk the series refuses is dropped.
    fn attach_next(
        &mut self,
        head: &Head,
        s: &MemSeries,
        app: &mut HeadAppender<'_>,
        stats: &mut ReplayStats,
    ) {
        let slot = s.series_ref as usize - 1;
        let Some(c) = self.pending.get_mut(slot).and_then(Vec::pop) else {
            return;
        };
        let max_t = c.max_t;
        let chunk = ClosedChunk {
            min_t: c.min_t,
            max_t,
            data: c.data,
        };
        let Some(attached) = head.attach_closed_chunk(s, chunk) else {
            return;
        };
        if let Some(p) = attached.closed {
            app.note_chunk(PendingChunk {
                series_ref: s.series_ref,
                min_t: p.min_t,
                max_t: p.max_t,
                data: p.data,
            });
        }
        stats.disk_chunks += 1;
        stats.disk_samples += attached.samples;
        if self.covered.len() <= slot {
            self.covered.resize(slot + 1, i64::MIN);
        }
        self.covered[slot] = max_t;
    }

    /// is_clean reports whether every log ref meant the same head ref.
    pub fn is_clean(&self) -> bool {
        self.clean
    }

    fn set_identity(&mut self, r: u64, on: bool) {
        let (w, b) = ((r / 64) as usize, r % 64);
        if on {
            if self.identity.len() <= w {
                self.identity.resize(w + 1, 0);
            }
            self.identity[w] |= 1 << b;
        } else if let Some(x) = self.identity.get_mut(w) {
            *x &= !(1 << b);
        }
    }

    fn declare(&mut self, log_ref: u64, head_ref: u32) {
        if log_ref == u64::from(head_ref) {
            self.remap.remove(&log_ref);
            self.set_identity(log_ref, true);
        } else {
            self.clean = false;
            self.set_identity(log_ref, false);
            self.remap.insert(log_ref, head_ref);
        }
    }

    /// keep remembers a declared series for `series_of`.
    fn keep(&mut self, s: &Arc<MemSeries>) {
        let slot = s.series_ref as usize - 1;
        if self.series.len() <= slot {
            self.series.resize(slot + 1, None);
        }
        self.series[slot] = Some(Arc::clone(s));
    }

    /// borrow_series is the series head ref `h` means: borrowed from the
    /// declared ones, or looked up in the head and held in `held`.
    fn borrow_series<'a>(
        &'a self,
        head: &Head,
        h: u32,
        held: &'a mut Option<Arc<MemSeries>>,
    ) -> Option<&'a MemSeries> {
        match self.series.get(h as usize - 1) {
            Some(Some(s)) => Some(s),
            _ => {
                *held = head.series_by_ref(h);
                held.as_deref()
            }
        }
    }

    /// series_of returns the series a log ref means, if declared.
    fn series_of(&self, head: &Head, log_ref: u64) -> Option<Arc<MemSeries>> {
        let h = self.resolve(log_ref)?;
        match self.series.get(h as usize - 1) {
            Some(Some(s)) => Some(Arc::clone(s)),
            _ => head.series_by_ref(h),
        }
    }

    fn resolve(&self, log_ref: u64) -> Option<u32> {
        if let Some(&h) = self.remap.get(&log_ref) {
            return Some(h);
        }
        let (w, b) = ((log_ref / 64) as usize, log_ref % 64);
        let hit = self.identity.get(w).is_some_and(|x| x & (1 << b) != 0);
        hit.then_some(log_ref as u32)
    }
}

/// ReplayStats are one segment's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub records: u64,
    pub series: u64,
    pub samples: u64,
    /// Samples whose series was never declared (their Series record lost).
    pub unknown_refs: u64,
    /// Samples not after their series' newest sample.
    pub dropped: u64,
    /// Exemplars restored into the tenant's exemplar ring.
    pub exemplars: u64,
    /// Metadata entries restored.
    pub metadata: u64,
    /// Segment bytes read up to the end or the corruption.
    pub bytes: u64,
    /// Chunks (and their samples) series got from the head chunk files
    /// instead of from WAL samples.
    pub disk_chunks: u64,
    pub disk_samples: u64,
    /// WAL samples skipped because those chunks already held them.
    pub skipped_samples: u64,
    /// Where the segment stopped making sense, if it did.
    pub corruption: Option<Corruption>,
    /// Bytes cut off the end of the segment (the last one only).
    pub truncated_bytes: u64,
}

/// Records the reading thread hands over at a time, and batches in flight.
const RECORD_BATCH: usize = 64;
const BATCHES_IN_FLIGHT: usize = 4;

/// replay_reader applies every record `r` yields to `head`; the float
/// chunks it closes go to `files` when given. A second thread reads and
/// decompresses the records ahead of the one applying them.
pub fn replay_reader<R: io::Read + Send>(
    head: &Head,
    st: &mut ReplayState,
    r: R,
    files: Option<&HeadChunkFiles>,
) -> io::Result<ReplayStats> {
    let mut rp = Replayer {
        head,
        st,
        run: Vec::new(),
        stats: ReplayStats::default(),
        files,
    };
    std::thread::scope(|scope| {
        // Each record with the offset after it.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(Vec<u8>, u64)>>(BATCHES_IN_FLIGHT);
        let reader = scope.spawn(move || -> io::Result<(u64, Option<Corruption>)> {
            let mut rd = SegmentReader::new(r);
            let mut batch = Vec::with_capacity(RECORD_BATCH);
            let corruption = loop {
                match rd.next_record()? {
                    Next::Record(rec) => {
                        let rec = rec.to_vec();
                        batch.push((rec, rd.good_offset()));
                        if batch.len() == RECORD_BATCH {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(RECORD_BATCH));
                            if tx.send(full).is_err() {
                                // The replay stopped at an undecodable record.
                                return Ok((rd.good_offset(), None));
                            }
                        }
                    }
                    Next::End => break None,
                    Next::Corrupt(c) => break Some(c),
                }
            };
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            Ok((rd.good_offset(), corruption))
        });
        let mut failed: Option<(u64, String)> = None;
        'batches: for batch in rx.iter() {
            for (rec, end) in batch {
                rp.stats.records += 1;
                if let Err(e) = rp.record(&rec) {
                    failed = Some((end, e.to_string()));
                    break 'batches;
                }
            }
        }
        drop(rx);
        let mut stats = rp.stats;
        let (good, corruption) = reader.join().expect("WAL reader thread")?;
        match failed {
            Some((end, reason)) => {
                stats.corruption = Some(Corruption {
                    good_offset: end,
                    offset: end,
                    reason: format!("undecodable record: {reason}"),
                });
                stats.bytes = end;
            }
            None => {
                stats.corruption = corruption;
                stats.bytes = good;
            }
        }
        Ok(stats)
    })
}

/// Replayer is what applying a run of WAL records needs: the head, the
/// replay's ref map and chunk-file state, a buffer for one series' run of
/// samples, the figures so far, and the head chunk files closed float
/// chunks go to.
struct Replayer<'a> {
    head: &'a Head,
    st: &'a mut ReplayState,
    run: Vec<(i64, f64, i64)>,
    stats: ReplayStats,
    files: Option<&'a HeadChunkFiles>,
}

impl Replayer<'_> {
    /// record applies one WAL record to the head.
    fn record(&mut self, rec: &[u8]) -> Result<(), record::DecodeError> {
        let (head, st, stats) = (self.head, &mut *self.st, &mut self.stats);
        match rec.first() {
            Some(&record::SERIES) => {
                let mut scratch: Vec<(&str, &str)> = Vec::new();
                record::decode_series(rec, |log_ref, labels| {
                    let labels = normalize(labels, &mut scratch);
                    let (s, _) = head.get_or_create_at(labels, log_ref);
                    s.logged.store(true, std::sync::atomic::Ordering::Release);
                    st.declare(log_ref, s.series_ref);
                    st.keep(&s);
                    st.claim(log_ref, &s);
                    stats.series += 1;
                })
                .map(|_| ())
            }
            Some(&record::SAMPLES | &st_record::SAMPLES_V2) => {
                apply_samples(head, st, rec, &mut self.run, stats, self.files)
            }
            Some(&record::EXEMPLARS) => apply_exemplars(head, st, rec, stats),
            Some(&record::METADATA) => apply_metadata(head, st, rec, stats),
            Some(
                &histogram_record::HISTOGRAM_SAMPLES
                | &histogram_record::CUSTOM_BUCKETS_HISTOGRAM_SAMPLES
                | &histogram_record::FLOAT_HISTOGRAM_SAMPLES
                | &histogram_record::CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES
                | &st_record::HISTOGRAM_SAMPLES_V2
                | &st_record::FLOAT_HISTOGRAM_SAMPLES_V2,
            ) => apply_histograms(head, st, rec, stats),
            // Other record types (tombstones) are not written by this store;
            // skip them.
            _ => Ok(()),
        }
    }
}

/// apply_exemplars adds an Exemplars record to the tenant's exemplar ring,
/// when the tenant stores exemplars (see `crate::exemplars::ExemplarStore::ring`,
/// sized before replay); otherwise the exemplars are skipped.
fn apply_exemplars(
    head: &Head,
    st: &ReplayState,
    rec: &[u8],
    stats: &mut ReplayStats,
) -> Result<(), record::DecodeError> {
    let ring = crate::tsdb::registry()
        .get(head.tenant())
        .and_then(|t| t.exemplars());
    let mut guard = ring.as_ref().map(|r| r.lock());
    record::decode_exemplars(rec, |r, t, v, labels| {
        let Some(ring) = guard.as_mut() else { return };
        match st.resolve(r) {
            // Out-of-order and repeated exemplars are dropped, as on push.
            Some(h) => {
                if let Ok(crate::exemplars::Added::Stored) = ring.add(h, labels, t, v) {
                    stats.exemplars += 1;
                }
            }
            None => stats.unknown_refs += 1,
        }
    })
    .map(|_| ())
}

/// apply_metadata restores a Metadata record into the tenant's metadata,
/// stamped with the wall clock (it was within the limits when logged).
/// Entries without our metric family field name the family by their
/// series' metric name.
fn apply_metadata(
    head: &Head,
    st: &ReplayState,
    rec: &[u8],
    stats: &mut ReplayStats,
) -> Result<(), record::DecodeError> {
    let tsdb = crate::tsdb::registry().tenant(head.tenant());
    let store = tsdb.metadata();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let unlimited = crate::metadata::MetadataLimits {
        per_user: 0,
        per_metric: 0,
        retain_period_ms: 0,
    };
    record::decode_metadata(rec, |m| {
        let series = match m.family {
            Some(_) => None,
            None => st.resolve(m.series_ref).and_then(|h| head.series_by_ref(h)),
        };
        let family = match (m.family, &series) {
            (Some(f), _) => f,
            (None, Some(s)) => s.labels.get("__name__").unwrap_or(""),
            (None, None) => return,
        };
        let view = crate::remote::MetadataView {
            metric_type: i32::from(m.metric_type),
            metric_family_name: family,
            help: m.help,
            unit: m.unit,
        };
        if !family.is_empty() && store.add(&view, &unlimited, now).is_ok() {
            stats.metadata += 1;
        }
    })
    .map(|_| ())
}

/// normalize returns labels sorted by name without empty values (as the
/// head keys them), borrowing them when they already are.
fn normalize<'s, 'a: 's>(
    labels: &'s [(&'a str, &'a str)],
    scratch: &'s mut Vec<(&'a str, &'a str)>,
) -> &'s [(&'a str, &'a str)] {
    if labels.windows(2).all(|w| w[0].0 < w[1].0) && labels.iter().all(|(_, v)| !v.is_empty()) {
        return labels;
    }
    scratch.clear();
    scratch.extend(labels.iter().filter(|(_, v)| !v.is_empty()).copied());
    scratch.sort_by(|a, b| a.0.cmp(b.0));
    scratch.dedup_by(|a, b| a.0 == b.0);
    scratch
}

/// apply_histograms appends a histogram record (types 7 to 10), one run
/// of consecutive samples of the same series at a time; histogram samples
/// count in the replay's samples.
fn apply_histograms(
    head: &Head,
    st: &ReplayState,
    rec: &[u8],
    stats: &mut ReplayStats,
) -> Result<(), record::DecodeError> {
    let mut all: Vec<(u64, i64, HistogramValue, i64)> = Vec::new();
    let res = histogram_record::decode_any_histograms(rec, |r, t, h, start| {
        all.push((r, t, h, start));
    });
    let mut app = head.appender();
    let mut i = 0;
    while i < all.len() {
        let r = all[i].0;
        let end = all[i..]
            .iter()
            .position(|x| x.0 != r)
            .map_or(all.len(), |p| i + p);
        let run = &all[i..end];
        match st.series_of(head, r) {
            Some(s) => {
                let n = app.append_histograms_unchecked_st(
                    &s,
                    run.iter().map(|(_, t, v, start)| (*t, v, *start)),
                );
                stats.samples += u64::from(n);
                stats.dropped += run.len() as u64 - u64::from(n);
            }
            None => stats.unknown_refs += run.len() as u64,
        }
        i = end;
    }
    app.commit();
    res.map(|_| ())
}

/// apply_samples appends a Samples record, one run of consecutive samples
/// of the same series at a time.
fn apply_samples(
    head: &Head,
    st: &mut ReplayState,
    rec: &[u8],
    run: &mut Vec<(i64, f64, i64)>,
    stats: &mut ReplayStats,
    files: Option<&HeadChunkFiles>,
) -> Result<(), record::DecodeError> {
    let mut app = head.appender();
    if files.is_some() {
        app.collect_closed_chunks();
    }
    let mut cur: Option<u64> = None;
    let mut flush = |log_ref: u64, run: &mut Vec<(i64, f64, i64)>, stats: &mut ReplayStats| {
        if run.is_empty() {
            return;
        }
        let Some(h) = st.resolve(log_ref) else {
            stats.unknown_refs += run.len() as u64;
            run.clear();
            return;
        };
        let slot = h as usize - 1;
        let (mut n, mut skipped, mut unknown) = (0u32, 0u64, 0u64);
        let mut rest: &[(i64, f64, i64)] = run;
        // Chunks from the files are attached one at a time, when the
        // samples reach them; the log's samples a chunk holds are skipped.
        // Samples the files lack (a torn file) are appended from the log.
        loop {
            let covered = st.covered.get(slot).copied().unwrap_or(i64::MIN);
            if covered != i64::MIN {
                let k = rest
                    .iter()
                    .position(|(t, _, _)| *t > covered)
                    .unwrap_or(rest.len());
                skipped += k as u64;
                rest = &rest[k..];
            }
            let Some(min) = st.next_pending(slot) else {
                break;
            };
            let i = rest
                .iter()
                .position(|(t, _, _)| *t >= min)
                .unwrap_or(rest.len());
            if i > 0 {
                let mut held = None;
                match st.borrow_series(head, h, &mut held) {
                    Some(s) => n += app.append_series_unchecked_st(s, rest[..i].iter().copied()),
                    None => unknown += i as u64,
                }
            }
            rest = &rest[i..];
            if rest.is_empty() {
                break;
            }
            let Some(s) = st.series_of(head, log_ref) else {
                break;
            };
            st.attach_next(head, &s, &mut app, stats);
        }
        if !rest.is_empty() {
            // Borrowed: no reference count for the common case.
            let mut held = None;
            match st.borrow_series(head, h, &mut held) {
                Some(s) => n += app.append_series_unchecked_st(s, rest.iter().copied()),
                None => unknown += rest.len() as u64,
            }
        }
        stats.samples += u64::from(n);
        stats.skipped_samples += skipped;
        stats.unknown_refs += unknown;
        stats.dropped += run.len() as u64 - u64::from(n) - skipped - unknown;
        run.clear();
    };
    let res = record::decode_any_samples(rec, |r, t, v, start| {
        if cur != Some(r) {
            if let Some(prev) = cur {
                flush(prev, run, stats);
            }
            cur = Some(r);
        }
        run.push((t, v, start));
    });
    if let Some(prev) = cur {
        flush(prev, run, stats);
    }
    if let Some(f) = files {
        // A failed write turns the files off; the WAL still holds it all.
        let _ = f.write(&app.take_closed_chunks());
    }
    app.commit();
    res.map(|_| ())
}

impl TenantWal {
    /// start_replay loads the head chunk files for a replay. Files that
    /// cannot be read are deleted (the WAL holds all of their samples).
    fn start_replay(&self) -> ReplayState {
        match self.head_chunks.load() {
            Ok(l) => ReplayState::with_disk_chunks(l.by_ref),
            Err(_) => {
                let _ = self.head_chunks.reset(true);
                ReplayState::default()
            }
        }
    }

    /// replay_segment replays one of the segments found at open into
    /// `head`. A corrupt end of the last segment is cut off (the records
    /// before it are kept); a corrupt middle segment is left as it is and
    /// reported, and replay goes on with the next one.
    pub fn replay_segment(&self, head: &Head, index: u64) -> io::Result<ReplayStats> {
        let mut guard = self.replay.lock();
        let st = guard.get_or_insert_with(|| self.start_replay());
        let path = segment_path(self.dir(), index);
        let f = File::open(&path)?;
        let size = f.metadata()?.len();
        let mut stats = replay_reader(head, st, f, Some(&self.head_chunks))?;
        let last = self.existing_segments().last() == Some(&index);
        if last {
            if let Some(c) = &stats.corruption {
                let f = OpenOptions::new().write(true).open(&path)?;
                f.set_len(c.good_offset)?;
                f.sync_all()?;
                stats.truncated_bytes = size - c.good_offset.min(size);
            } else {
                // Written by a process that may not have fsynced it.
                File::open(&path)?.sync_all()?;
            }
        }
        if stats.unknown_refs > 0 {
            st.clean = false;
        }
        Ok(stats)
    }

    /// replay_checkpoint replays the checkpoint found at open (all of its
    /// segments) into `head`; call it before the segments. None when
    /// there is none. A corrupt checkpoint is reported, not truncated.
    pub fn replay_checkpoint(&self, head: &Head) -> io::Result<Option<ReplayStats>> {
        let Some(n) = self.checkpoint_found() else {
            return Ok(None);
        };
        let mut guard = self.replay.lock();
        let st = guard.get_or_insert_with(|| self.start_replay());
        let dir = self.dir().join(super::checkpoint::checkpoint_name(n));
        let mut total = ReplayStats::default();
        for s in super::list_segments(&dir)? {
            let part = replay_reader(
                head,
                st,
                File::open(segment_path(&dir, s))?,
                Some(&self.head_chunks),
            )?;
            total.records += part.records;
            total.series += part.series;
            total.samples += part.samples;
            total.disk_chunks += part.disk_chunks;
            total.disk_samples += part.disk_samples;
            total.skipped_samples += part.skipped_samples;
            total.unknown_refs += part.unknown_refs;
            total.dropped += part.dropped;
            total.bytes += part.bytes;
            if part.corruption.is_some() {
                total.corruption = part.corruption;
                break;
            }
        }
        if total.unknown_refs > 0 {
            st.clean = false;
        }
        Ok(Some(total))
    }

    /// finish_replay ends the replay. When refs were remapped, every series
    /// of the head is logged again at the start of a new segment, so that
    /// later samples (logged with the new refs) resolve. Returns whether
    /// it did.
    pub fn finish_replay(&self, head: &Head) -> io::Result<bool> {
        let st = self.replay.lock().take();
        let clean = st.as_ref().is_none_or(ReplayState::is_clean);
        if clean {
            return Ok(false);
        }
        // A ref in the head chunk files may mean another series than the
        // refs logged from now on: none are kept or written until the next
        // checkpoint logs the head afresh.
        self.head_chunks.reset(false)?;
        let mut w = self.lock_writer();
        let mut enc = SeriesEncoder::default();
        for s in head.all_series() {
            enc.add(u64::from(s.series_ref), &s.labels);
        }
        let recs = enc.finish();
        let seq = w.log(&recs)?;
        drop(w);
        self.sync_to(seq)?;
        Ok(true)
    }
}

/// replay_file replays a whole segment file into `head` (tests, tools).
pub fn replay_file(head: &Head, st: &mut ReplayState, path: &Path) -> io::Result<ReplayStats> {
    replay_reader(head, st, File::open(path)?, None)
}

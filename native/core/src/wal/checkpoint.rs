//! checkpoint replaces the WAL segments that only describe truncated data
//! with one checkpoint, as Prometheus's `wlog.Checkpoint` does: a
//! directory `checkpoint.NNNNNNNN` (N = the last segment it covers) of
//! ordinary segments holding Series and Samples records. Replay reads the
//! newest checkpoint, then the segments after N.
//!
//! Ours is written from the head itself rather than by filtering the old
//! segments: after `Head::truncate`, the head holds exactly what those
//! segments still contribute. The steps keep every acknowledged sample in
//! the log at every moment:
//!
//! 1. roll: under the writer mutex, close the open segment; later
//!    requests log into segments numbered from K, the checkpoint is K-1;
//! 2. write every series and every sample of the head into
//!    `checkpoint.K-1.tmp` (series by series, so a sample logged in
//!    segment K or later may also be in the checkpoint: replay drops such
//!    repeats, which are the same sample);
//! 3. fsync, rename to `checkpoint.K-1`, fsync the directory;
//! 4. delete segments below K and older checkpoints.
//!
//! A crash before (3) leaves a `.tmp` directory, removed at open; a crash
//! after it leaves segments the checkpoint covers, also removed at open.

use crate::model::histogram::HistogramValue;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::record::{SamplesEncoder, SeriesEncoder};
use super::{list_segments, segment_path, sync_dir, SegmentWriter, TenantWal};
use crate::chunkenc::XorIterator;
use crate::head::Head;

/// Series per Series-record batch, and samples per write, while writing.
const SERIES_BATCH: usize = 10_000;
const SAMPLES_BATCH: usize = 1 << 20;

/// checkpoint_name is `checkpoint.` and the last covered segment, 8 digits.
pub fn checkpoint_name(index: u64) -> String {
    format!("checkpoint.{index:08}")
}

/// CheckpointStats describe one checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Last segment covered (the checkpoint's number).
    pub index: u64,
    pub series: u64,
    pub samples: u64,
    pub bytes: u64,
    pub segments_deleted: u64,
}

/// last_checkpoint finds the newest complete checkpoint in a WAL
/// directory: its number and path.
pub fn last_checkpoint(dir: &Path) -> io::Result<Option<(u64, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut best: Option<(u64, PathBuf)> = None;
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(num) = name.strip_prefix("checkpoint.") else {
            continue;
        };
        if !e.file_type()?.is_dir() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(n) = num.parse::<u64>() else { continue };
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, e.path()));
        }
    }
    Ok(best)
}

/// clean_wal_dir removes unfinished checkpoints, checkpoints older than the
/// newest and the segments it covers (leftovers of an interrupted
/// checkpoint). Returns the newest checkpoint.
pub fn clean_wal_dir(dir: &Path) -> io::Result<Option<u64>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let last = last_checkpoint(dir)?.map(|(n, _)| n);
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(rest) = name.strip_prefix("checkpoint.") {
            let stale =
                rest.ends_with(".tmp") || rest.parse::<u64>().is_ok_and(|n| Some(n) != last);
            if stale {
                fs::remove_dir_all(e.path())?;
            }
        }
    }
    if let Some(n) = last {
        for s in list_segments(dir)? {
            if s <= n {
                fs::remove_file(segment_path(dir, s))?;
            }
        }
    }
    Ok(last)
}

impl TenantWal {
    /// checkpoint logs the head's whole state as a checkpoint and deletes
    /// the segments before it (see the module docs). Call it after
    /// `Head::truncate`; it runs beside appends, blocking them only while
    /// the open segment is closed. None when nothing was ever logged.
    pub fn checkpoint(&self, head: &Head) -> io::Result<Option<CheckpointStats>> {
        self.checkpoint_with(head, &mut || {})
    }

    /// checkpoint_with is `checkpoint` calling `written` once the new
    /// checkpoint is in place and before the segments it replaces are
    /// deleted (the crash tests' hook between the two).
    pub fn checkpoint_with(
        &self,
        head: &Head,
        written: &mut dyn FnMut(),
    ) -> io::Result<Option<CheckpointStats>> {
        let _one = self.checkpoint_lock.lock();
        let first_kept = self.lock_writer().roll()?;
        if first_kept == 0 {
            return Ok(None);
        }
        let index = first_kept - 1;
        let dir = self.dir().to_path_buf();
        let final_dir = dir.join(checkpoint_name(index));
        if final_dir.is_dir() {
            // Nothing was logged since that checkpoint: it holds the head's
            // state or, after a truncation, more (samples now in a block,
            // which reads deduplicate). Replacing it in place could leave no
            // checkpoint at all after a crash; the next one replaces it.
            return Ok(None);
        }
        // The checkpoint drops the samples the head no longer holds: the
        // head chunk files go first, so each chunk on disk stays in the WAL.
        self.head_chunks.reset(true)?;
        let tmp = dir.join(format!("{}.tmp", checkpoint_name(index)));
        match fs::remove_dir_all(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut stats = CheckpointStats {
            index,
            ..CheckpointStats::default()
        };
        let mut w =
            SegmentWriter::new(&tmp, self.segment_size, false, 0).compressed_with(self.compression);
        let series = head.all_series();
        for batch in series.chunks(SERIES_BATCH) {
            let mut enc = SeriesEncoder::default();
            for s in batch {
                enc.add(u64::from(s.series_ref), &s.labels);
            }
            w.log(&enc.finish())?;
            stats.series += batch.len() as u64;
        }
        let mut enc = SamplesEncoder::default();
        let mut pending = 0usize;
        for s in &series {
            {
                let st = s.state.lock();
                // Chunks of both kinds in time order (they never overlap),
                // so replay meets the samples in the order they came.
                let mut all: Vec<(i64, Option<u8>, &[u8])> = st
                    .chunks
                    .chunk_bytes()
                    .map(|(a, _, b)| (a, None, b))
                    .collect();
                if let Some(h) = st.chunks.hist.as_deref() {
                    all.extend(h.chunks().map(|(a, _, e, b)| (a, Some(e), b)));
                    all.sort_by_key(|c| c.0);
                }
                for (_, hist_enc, bytes) in all {
                    let Some(e) = hist_enc else {
                        let mut it = XorIterator::new(bytes);
                        while it.next() {
                            let (t, bits) = it.at_bits();
                            let start = st.chunks.start_time(t);
                            enc.push_st(u64::from(s.series_ref), t, f64::from_bits(bits), start);
                            pending += 1;
                        }
                        continue;
                    };
                    // Float samples logged so far go first.
                    if pending > 0 {
                        w.log(&std::mem::take(&mut enc).finish())?;
                        stats.samples += pending as u64;
                        pending = 0;
                    }
                    let r = u64::from(s.series_ref);
                    let (recs, n) = if st.chunks.st.is_some() {
                        // With start timestamps: the v2 records.
                        let mut hist = super::histogram_record::HistogramLogEncoder::default();
                        let hs = if e == crate::chunkenc::ENCODING_HISTOGRAM {
                            crate::chunkenc::decode_histogram_chunk(bytes).map(|hs| {
                                hs.into_iter()
                                    .map(|(t, h)| (t, HistogramValue::Int(h)))
                                    .collect::<Vec<_>>()
                            })
                        } else {
                            crate::chunkenc::decode_float_histogram_chunk(bytes).map(|hs| {
                                hs.into_iter()
                                    .map(|(t, h)| (t, HistogramValue::Float(h)))
                                    .collect()
                            })
                        }
                        .map_err(|e| io::Error::other(e.to_string()))?;
                        for (t, h) in &hs {
                            hist.push_st(r, *t, h, st.chunks.start_time(*t));
                        }
                        (hist.finish(), hs.len())
                    } else if e == crate::chunkenc::ENCODING_HISTOGRAM {
                        let hs = crate::chunkenc::decode_histogram_chunk(bytes)
                            .map_err(|e| io::Error::other(e.to_string()))?;
                        let batch: Vec<_> = hs.iter().map(|(t, h)| (r, *t, h)).collect();
                        (super::histogram_record::encode_histograms(&batch), hs.len())
                    } else {
                        let hs = crate::chunkenc::decode_float_histogram_chunk(bytes)
                            .map_err(|e| io::Error::other(e.to_string()))?;
                        let batch: Vec<_> = hs.iter().map(|(t, h)| (r, *t, h)).collect();
                        (
                            super::histogram_record::encode_float_histograms(&batch),
                            hs.len(),
                        )
                    };
                    w.log(&recs)?;
                    stats.samples += n as u64;
                }
            }
            if pending >= SAMPLES_BATCH {
                w.log(&std::mem::take(&mut enc).finish())?;
                stats.samples += pending as u64;
                pending = 0;
            }
        }
        if pending > 0 {
            w.log(&enc.finish())?;
            stats.samples += pending as u64;
        }
        if w.segment().is_none() && stats.series == 0 {
            // An empty head: an empty checkpoint directory says so.
            fs::create_dir_all(&tmp)?;
        }
        w.close_segment()?;
        for s in list_segments(&tmp)? {
            stats.bytes += fs::metadata(segment_path(&tmp, s))?.len();
        }
        sync_dir(&tmp)?;
        fs::rename(&tmp, &final_dir)?;
        sync_dir(&dir)?;
        written();
        for s in list_segments(&dir)? {
            if s < first_kept {
                fs::remove_file(segment_path(&dir, s))?;
                stats.segments_deleted += 1;
            }
        }
        clean_wal_dir(&dir)?;
        Ok(Some(stats))
    }
}

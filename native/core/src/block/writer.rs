//! Cutting a block from a tenant head: the series with samples in
//! [mint, maxt), their chunks, the index, an empty tombstones file and
//! meta.json, written under `<dir>/<ULID>.tmp` and renamed to `<dir>/<ULID>`
//! once everything is on disk (fsynced), so a crash leaves either no block
//! or a complete one (plus a `.tmp` directory to clean up).
//!
//! Chunks follow Prometheus's head compaction: a head chunk that lies
//! wholly in the range is copied as is (head chunks are cut at 2h-aligned
//! boundaries, so with aligned ranges that is every chunk); a chunk that
//! straddles a range edge has its in-range samples re-encoded, as
//! `populateWithDelChunkSeriesIterator` does. Native-histogram chunks
//! (encodings 2 and 3) go in beside the XOR ones, in time order. The head's
//! cut and the compactor (`compact.rs`) turn a series' stored chunks into
//! the new block's with one function, [`series_chunks`], and write them with
//! one [`BlockWriter`].

use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::chunks::{ChunkWriter, DEFAULT_SEGMENT_SIZE};
use super::index_writer::{encode_index, ChunkMeta, IndexSeries};
use super::meta::{BlockFile, BlockMeta, BlockStats};
use super::tombstones::{encode_tombstones, Tombstones};
use super::ulid::Ulid;
use super::{BlockError, OwnedChunk};
use crate::chunkenc::recode::{self, SampleValue};
use crate::chunkenc::{ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM, ENCODING_XOR};
use crate::head::Head;

/// BlockWriteOptions tune how a block is written.
#[derive(Debug, Clone)]
pub struct BlockWriteOptions {
    /// Maximum size of a chunk segment file (512MiB in Prometheus).
    pub segment_size: u64,
    /// `thanos.source` of meta.json.
    pub source: String,
}

impl Default for BlockWriteOptions {
    fn default() -> Self {
        BlockWriteOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            source: "ingester".to_string(),
        }
    }
}

/// BlockWriter assembles one block in its temporary directory. Series must
/// be added in label order; `finish` writes the index and metadata and
/// moves the block into place. Dropping it unfinished removes the
/// temporary directory.
pub struct BlockWriter {
    ulid: Ulid,
    parent: PathBuf,
    tmp: PathBuf,
    mint: i64,
    maxt: i64,
    tenant: String,
    source: String,
    chunks: Option<ChunkWriter>,
    series: Vec<IndexSeries>,
    stats: BlockStats,
    done: bool,
}

/// sync_dir fsyncs a directory so renames and new entries in it persist.
fn sync_dir(dir: &Path) -> Result<(), BlockError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| BlockError::io("fsync directory", dir, e))
}

/// write_synced writes `data` to a new file and fsyncs it; returns its size.
fn write_synced(path: &Path, data: &[u8]) -> Result<u64, BlockError> {
    let mut f = File::create(path).map_err(|e| BlockError::io("create", path, e))?;
    f.write_all(data)
        .map_err(|e| BlockError::io("write", path, e))?;
    f.sync_all().map_err(|e| BlockError::io("fsync", path, e))?;
    Ok(data.len() as u64)
}

impl BlockWriter {
    /// create starts a block covering [mint, maxt) for `tenant` under
    /// `parent`.
    pub fn create(
        parent: &Path,
        tenant: &str,
        mint: i64,
        maxt: i64,
        opts: &BlockWriteOptions,
    ) -> Result<Self, BlockError> {
        if maxt <= mint {
            return Err(BlockError::InvalidArgument(format!(
                "block range is empty: mint {mint} >= maxt {maxt}"
            )));
        }
        let ulid = Ulid::new();
        std::fs::create_dir_all(parent)
            .map_err(|e| BlockError::io("create directory", parent, e))?;
        let tmp = parent.join(format!("{ulid}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| BlockError::io("remove stale", &tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| BlockError::io("create directory", &tmp, e))?;
        let chunks = ChunkWriter::new(&tmp.join("chunks"), opts.segment_size)?;
        Ok(BlockWriter {
            ulid,
            parent: parent.to_path_buf(),
            tmp,
            mint,
            maxt,
            tenant: tenant.to_string(),
            source: opts.source.clone(),
            chunks: Some(chunks),
            series: Vec::new(),
            stats: BlockStats::default(),
            done: false,
        })
    }

    /// ulid is the block's ID.
    pub fn ulid(&self) -> Ulid {
        self.ulid
    }

    /// add_series writes one series' XOR chunks `(min_t, max_t, data)`,
    /// which must lie in the block range, in time order. Series without
    /// chunks are skipped.
    pub fn add_series(
        &mut self,
        labels: Vec<(String, String)>,
        chunks: &[(i64, i64, &[u8])],
    ) -> Result<(), BlockError> {
        let enc: Vec<(i64, i64, u8, &[u8])> = chunks
            .iter()
            .map(|&(a, b, d)| (a, b, ENCODING_XOR, d))
            .collect();
        self.add_series_encoded(labels, &enc)
    }

    /// add_series_encoded is `add_series` for chunks of any encoding
    /// `(min_t, max_t, encoding, data)`: XOR, histogram or float histogram.
    pub fn add_series_encoded(
        &mut self,
        labels: Vec<(String, String)>,
        chunks: &[(i64, i64, u8, &[u8])],
    ) -> Result<(), BlockError> {
        if chunks.is_empty() {
            return Ok(());
        }
        if self.series.last().is_some_and(|l| l.labels >= labels) {
            return Err(BlockError::InvalidArgument(format!(
                "series added out of label order: {labels:?}"
            )));
        }
        let w = self
            .chunks
            .as_mut()
            .expect("chunk writer open until finish");
        let mut metas = Vec::with_capacity(chunks.len());
        for &(min_t, max_t, enc, data) in chunks {
            if min_t < self.mint || max_t >= self.maxt {
                return Err(BlockError::InvalidArgument(format!(
                    "chunk [{min_t}, {max_t}] is outside the block range [{}, {})",
                    self.mint, self.maxt
                )));
            }
            if data.len() < 2 {
                return Err(BlockError::InvalidArgument(format!(
                    "chunk [{min_t}, {max_t}] has no header"
                )));
            }
            let chunk_ref = w.write(enc, data)?;
            let n = u64::from(crate::chunkenc::num_samples(data));
            self.stats.num_samples += n;
            match enc {
                ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM => {
                    self.stats.num_histogram_samples += n
                }
                _ => self.stats.num_float_samples += n,
            }
            metas.push(ChunkMeta {
                min_t,
                max_t,
                chunk_ref,
            });
        }
        self.stats.num_series += 1;
        self.stats.num_chunks += metas.len() as u64;
        self.series.push(IndexSeries {
            labels,
            chunks: metas,
        });
        Ok(())
    }

    /// finish writes index, tombstones and meta.json, fsyncs everything and
    /// renames the directory into place. Returns the block's metadata.
    pub fn finish(self) -> Result<BlockMeta, BlockError> {
        self.finish_with(|_| {})
    }

    /// finish_with is `finish` with a last say on meta.json before it is
    /// written (the compactor sets the compaction level, sources, parents
    /// and external labels there).
    pub fn finish_with(
        mut self,
        adjust: impl FnOnce(&mut BlockMeta),
    ) -> Result<BlockMeta, BlockError> {
        let segments = self
            .chunks
            .take()
            .expect("chunk writer open until finish")
            .finish()?;
        sync_dir(&self.tmp.join("chunks"))?;
        let index = encode_index(&self.series)?;
        let index_size = write_synced(&self.tmp.join("index"), &index)?;
        drop(index);
        write_synced(
            &self.tmp.join("tombstones"),
            &encode_tombstones(&Tombstones::new()),
        )?;
        let mut files = Vec::with_capacity(segments.len() + 2);
        for p in &segments {
            let size = std::fs::metadata(p)
                .map_err(|e| BlockError::io("stat", p, e))?
                .len();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push(BlockFile {
                rel_path: format!("chunks/{name}"),
                size_bytes: Some(size),
            });
        }
        files.push(BlockFile {
            rel_path: "index".to_string(),
            size_bytes: Some(index_size),
        });
        files.push(BlockFile {
            rel_path: "meta.json".to_string(),
            size_bytes: None,
        });
        let mut meta = BlockMeta {
            ulid: self.ulid,
            min_time: self.mint,
            max_time: self.maxt,
            stats: self.stats,
            compaction_level: 1,
            compaction_sources: vec![self.ulid],
            compaction_parents: Vec::new(),
            thanos_labels: vec![("__org_id__".to_string(), self.tenant.clone())],
            thanos_source: self.source.clone(),
            downsample_resolution: 0,
            files,
        };
        adjust(&mut meta);
        write_synced(&self.tmp.join("meta.json"), meta.to_json().as_bytes())?;
        sync_dir(&self.tmp)?;
        let dest = self.parent.join(self.ulid.to_string());
        std::fs::rename(&self.tmp, &dest)
            .map_err(|e| BlockError::io("rename block into", &dest, e))?;
        self.done = true;
        sync_dir(&self.parent)?;
        Ok(meta)
    }
}

impl Drop for BlockWriter {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// SourceChunk is one stored chunk of a series being written: the source
/// it comes from (the lower source wins a timestamp tie), its time range,
/// encoding and bytes, and the deleted intervals (tombstones) touching it.
pub struct SourceChunk<'d> {
    pub source: usize,
    pub min_t: i64,
    pub max_t: i64,
    pub encoding: u8,
    pub data: Cow<'d, [u8]>,
    pub deleted: Vec<(i64, i64)>,
}

/// series_chunks turns one series' chunks from every source into the
/// chunks a block of range [mint, maxt) holds for it, in time order, as
/// both the head's cut and the compactor write them. The chunks are cut
/// into runs that overlap each other: a run of one chunk inside the range
/// and untouched by tombstones is copied as stored; any other run is
/// decoded, cut to the range, its deleted samples dropped, merged with one
/// sample per timestamp (the lowest source's, as Prometheus's chained
/// merge) and re-encoded into chunks of at most 120 samples of the
/// samples' kind (see `chunkenc::recode`).
pub fn series_chunks(
    mut chunks: Vec<SourceChunk<'_>>,
    mint: i64,
    maxt: i64,
) -> Result<Vec<OwnedChunk>, BlockError> {
    chunks.retain(|c| c.max_t >= mint && c.min_t < maxt);
    chunks.sort_by_key(|c| (c.min_t, c.max_t, c.source));
    let mut out: Vec<OwnedChunk> = Vec::with_capacity(chunks.len());
    let mut samples: Vec<(i64, usize, SampleValue)> = Vec::new();
    let mut i = 0;
    while i < chunks.len() {
        // The run of chunks overlapping each other, starting at i.
        let mut end = i + 1;
        let mut run_max = chunks[i].max_t;
        while end < chunks.len() && chunks[end].min_t <= run_max {
            run_max = run_max.max(chunks[end].max_t);
            end += 1;
        }
        let run = &mut chunks[i..end];
        if let [c] = run {
            if c.deleted.is_empty() && c.min_t >= mint && c.max_t < maxt {
                let data = std::mem::take(&mut c.data).into_owned();
                out.push((c.min_t, c.max_t, c.encoding, data));
                i = end;
                continue;
            }
        }
        samples.clear();
        for c in run.iter() {
            recode::decode_chunk(c.encoding, &c.data, |t, v| {
                let gone = c.deleted.iter().any(|&(a, b)| a <= t && t <= b);
                if t >= mint && t < maxt && !gone {
                    samples.push((t, c.source, v));
                }
            })
            .map_err(|e| {
                BlockError::corrupt(format!(
                    "chunk [{}, {}] of source {}: {e}",
                    c.min_t, c.max_t, c.source
                ))
            })?;
        }
        // Stable by time then source: the first source wins a tie.
        samples.sort_by_key(|&(t, source, _)| (t, source));
        samples.dedup_by_key(|s| s.0);
        for c in recode::encode(samples.iter().map(|(t, _, v)| (*t, v))) {
            out.push((c.min_t, c.max_t, c.encoding, c.data));
        }
        i = end;
    }
    Ok(out)
}

/// write_block cuts the samples of `head` with `mint <= t < maxt` into a new
/// block under `dir`. Returns None (and writes nothing) when the range holds
/// no samples.
pub fn write_block(
    head: &Head,
    dir: &Path,
    mint: i64,
    maxt: i64,
    opts: &BlockWriteOptions,
) -> Result<Option<BlockMeta>, BlockError> {
    if maxt <= mint {
        return Err(BlockError::InvalidArgument(format!(
            "block range is empty: mint {mint} >= maxt {maxt}"
        )));
    }
    let mut writer: Option<BlockWriter> = None;
    for s in head.select_series(&[], mint, maxt - 1) {
        let chunks = {
            let st = s.state.lock();
            let all = st
                .chunks
                .all_chunks()
                .into_iter()
                .map(|(a, b, enc, data)| SourceChunk {
                    source: 0,
                    min_t: a,
                    max_t: b,
                    encoding: enc,
                    data: Cow::Borrowed(data),
                    deleted: Vec::new(),
                });
            series_chunks(all.collect(), mint, maxt)?
        };
        if chunks.is_empty() {
            continue;
        }
        let w = match writer.as_mut() {
            Some(w) => w,
            None => writer.insert(BlockWriter::create(dir, head.tenant(), mint, maxt, opts)?),
        };
        let refs: Vec<(i64, i64, u8, &[u8])> = chunks
            .iter()
            .map(|(a, b, e, d)| (*a, *b, *e, &d[..]))
            .collect();
        w.add_series_encoded(s.labels.to_vec(), &refs)?;
    }
    writer.map(BlockWriter::finish).transpose()
}

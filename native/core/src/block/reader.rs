//! Opening a block directory and reading samples from it.
//!
//! [`Block::open`] reads `meta.json`, the index and the tombstones into
//! memory and opens the chunk segments (chunks are read on demand),
//! checking magic numbers, versions, the TOC and the symbol and postings
//! offset tables up front; series entries, postings lists and chunks are
//! checked (CRC, bounds) when they are read. Damage
//! is reported as [`BlockError::Corrupt`] naming the file and what was
//! wrong, never as a panic.

use std::path::{Path, PathBuf};

use super::chunks::ChunkReader;
use super::file_bytes::FileBytes;
use super::index_reader::BlockIndex;
use super::meta::BlockMeta;
use super::tombstones::{decode_tombstones, Tombstones};
use super::BlockError;
use crate::chunkenc::recode::decode_histograms_flat;
use crate::chunkenc::{read_range, ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM, ENCODING_XOR};
use crate::head::SelectedSamples;
use crate::index::{postings, select_postings, Matcher};

/// SelectedChunks are the raw chunks of the selected series, flat: series
/// `i` (labels `i` of the JSON array) owns chunks
/// `series_offsets[i]..series_offsets[i + 1]`, and chunk `j` is
/// `data[data_offsets[j]..data_offsets[j + 1]]` with encoding
/// `encodings[j]` and sample times `min_times[j]..=max_times[j]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectedChunks {
    /// The series' label sets, a SeriesLabels flatbuffer.
    pub labels: Vec<u8>,
    pub series_offsets: Vec<u32>,
    pub min_times: Vec<f64>,
    pub max_times: Vec<f64>,
    pub encodings: Vec<u8>,
    pub data_offsets: Vec<u32>,
    pub data: Vec<u8>,
}

/// Block is an opened, read-only block.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: BlockIndex,
    chunks: ChunkReader,
    tombstones: Tombstones,
}

impl Block {
    /// open loads the block in `dir`: its files there, or, when `dir`
    /// holds a `bucket-block.json` (see [`BucketBlock`]), its meta.json and
    /// tombstones there and its index and chunks in the bucket.
    pub fn open(dir: &Path) -> Result<Self, BlockError> {
        let meta = BlockMeta::read(dir)?;
        let index_path = dir.join("index");
        let chunks_dir = dir.join("chunks");
        let (index, chunks) = match BucketBlock::read(dir)? {
            Some(remote) => remote.open(dir)?,
            None => {
                let data = FileBytes::map(&index_path, "index")?;
                let index = BlockIndex::parse_bytes(data).map_err(|e| e.in_file(&index_path))?;
                let chunks = ChunkReader::open(&chunks_dir).map_err(|e| e.in_file(&chunks_dir))?;
                (index, chunks)
            }
        };
        let ts_path = dir.join("tombstones");
        let tombstones = match std::fs::read(&ts_path) {
            Ok(b) => decode_tombstones(&b).map_err(|e| e.in_file(&ts_path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tombstones::new(),
            Err(e) => return Err(BlockError::io("read", &ts_path, e)),
        };
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            tombstones,
        })
    }

    /// meta is the block's meta.json.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// index is the block's index, an `IndexReader` for series selection.
    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    /// dir is the block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// tombstones are the block's deleted ranges by series id.
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// chunks reads the block's chunk data.
    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }

    /// select_series returns the ids of the series matching every matcher
    /// (all series for none), in label order.
    pub fn select_series(&self, matchers: &[Matcher]) -> Result<Vec<u32>, BlockError> {
        let mut p = if matchers.is_empty() {
            crate::index::IndexReader::all_postings(&self.index)
        } else {
            select_postings(&self.index, matchers)
        };
        let ids = postings::expand(&mut *p);
        if let Some(e) = p.err() {
            return Err(BlockError::Corrupt(format!(
                "{}: {e}",
                self.dir.join("index").display()
            )));
        }
        Ok(ids)
    }

    /// select_chunks returns, whole and as stored, the chunks overlapping
    /// [mint, maxt] of every series matching all matchers (all series for
    /// none), series in label order, series without such chunks left out
    /// (what remote read's streamed chunks and a compactor need). Each
    /// chunk's CRC is checked. Tombstones are not applied.
    pub fn select_chunks(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<SelectedChunks, BlockError> {
        self.selection(matchers, mint, maxt)?
            .chunks(mint, maxt)
            .map_err(select_error)
    }

    /// selection is the querier's selection of this block alone for one
    /// matcher set (all series for none).
    fn selection(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<crate::querier::Selection<'_>, BlockError> {
        let sets = [matchers.to_vec()];
        let sets: &[Vec<Matcher>] = if matchers.is_empty() { &[] } else { &sets };
        crate::querier::select(&[crate::querier::Reader::Block(self)], sets, mint, maxt)
    }

    /// has_histograms reports whether the block holds native-histogram
    /// samples (by its meta.json stats).
    pub fn has_histograms(&self) -> bool {
        self.meta.stats.num_histogram_samples > 0
    }

    /// skip_non_float tells the float readers to pass over a chunk: true
    /// for native-histogram chunks (read by `read_histograms`), an error
    /// for an encoding we do not know.
    fn skip_non_float(&self, enc: u8) -> Result<bool, BlockError> {
        match enc {
            ENCODING_XOR => Ok(false),
            ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM => Ok(true),
            other => Err(BlockError::Unsupported(format!(
                "{}: chunk encoding {other}",
                self.dir.display()
            ))),
        }
    }

    /// read_histograms appends to `out` (the hand-off format, see
    /// `crate::model::histogram_flat`) the native-histogram samples with
    /// `mint <= t <= maxt` of series `id` from its chunks `chunks`, deleted
    /// ranges skipped; float chunks are passed over. Leaves `out.offsets`
    /// to the caller. Returns the number of samples added.
    pub fn read_histograms(
        &self,
        id: u32,
        chunks: &[super::ChunkMeta],
        mint: i64,
        maxt: i64,
        out: &mut crate::head::SelectedHistograms,
    ) -> Result<usize, BlockError> {
        let chunks_err = |e: BlockError| e.in_file(&self.dir.join("chunks"));
        let deleted = self.tombstones.get(&id);
        let gone = |t: i64| deleted.is_some_and(|iv| iv.iter().any(|&(a, b)| a <= t && t <= b));
        let before = out.timestamps.len();
        for c in chunks.iter().filter(|c| c.max_t >= mint && c.min_t <= maxt) {
            let (enc, data) = self.chunks.chunk(c.chunk_ref).map_err(chunks_err)?;
            match enc {
                ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM => {
                    decode_histograms_flat(
                        enc,
                        &data,
                        |t| t >= mint && t <= maxt && !gone(t),
                        &mut out.timestamps,
                        &mut out.data_offsets,
                        &mut out.data,
                    )
                    .map_err(|e| {
                        chunks_err(BlockError::Corrupt(format!(
                            "chunk ref {:#x}: {e}",
                            c.chunk_ref
                        )))
                    })?;
                }
                _ => {
                    self.skip_non_float(enc)?;
                }
            }
        }
        Ok(out.timestamps.len() - before)
    }

    /// read_chunks_into appends to `ts`/`vs` the samples with
    /// `mint <= t <= maxt` of series `id` from its chunks `chunks` (as
    /// `BlockIndex::series_refs_into` gives them), deleted ranges skipped.
    pub fn read_chunks_into(
        &self,
        id: u32,
        chunks: &[super::ChunkMeta],
        mint: i64,
        maxt: i64,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<(), BlockError> {
        let chunks_err = |e: BlockError| e.in_file(&self.dir.join("chunks"));
        let deleted = self.tombstones.get(&id);
        for c in chunks.iter().filter(|c| c.max_t >= mint && c.min_t <= maxt) {
            let (enc, data) = self.chunks.chunk(c.chunk_ref).map_err(chunks_err)?;
            if self.skip_non_float(enc)? {
                continue;
            }
            let kept =
                |t: i64| !deleted.is_some_and(|iv| iv.iter().any(|&(a, b)| a <= t && t <= b));
            read_range(&data, mint, maxt, kept, ts, vs).map_err(|e| {
                chunks_err(BlockError::Corrupt(format!(
                    "chunk ref {:#x}: {e}",
                    c.chunk_ref
                )))
            })?;
        }
        Ok(())
    }

    /// select_samples returns the samples with `mint <= t <= maxt` of every
    /// series matching all matchers (all series for none), in the shape of
    /// the head's `select_samples`: series sorted by labels, series without
    /// samples in range left out, deleted ranges (tombstones) skipped.
    /// `max_samples` (0 = no limit) bounds the samples loaded, as the head's.
    pub fn select_samples(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        max_samples: usize,
    ) -> Result<SelectedSamples, BlockError> {
        self.selection(matchers, mint, maxt)?
            .samples(mint, maxt, max_samples)
            .map_err(select_error)
    }
}

/// BucketBlock is `bucket-block.json`, which a store-gateway writes into a
/// bucket block's sync directory beside meta.json and tombstones: where
/// the block lies in the bucket and the sizes of its index and chunk
/// segments (from the bucket listing). The block's index-header is kept
/// beside it (`index-header`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketBlock {
    /// The block's key prefix in the bucket (`<tenant>/<ULID>`).
    pub key: String,
    pub index_size: u64,
    /// The sizes of `chunks/000001`, `chunks/000002`, ...
    pub chunk_sizes: Vec<u64>,
}

/// BUCKET_BLOCK_FILE names the descriptor of a bucket block.
pub const BUCKET_BLOCK_FILE: &str = "bucket-block.json";

impl BucketBlock {
    /// read reads `dir`'s descriptor, None when there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>, BlockError> {
        let path = dir.join(BUCKET_BLOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BlockError::io("read", &path, e)),
        };
        let bad = |what: &str| BlockError::corrupt(format!("{}: {what}", path.display()));
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON: {e}")))?;
        let key = v["key"].as_str().ok_or_else(|| bad("no key"))?.to_string();
        let index_size = v["index"].as_u64().ok_or_else(|| bad("no index size"))?;
        let chunk_sizes = v["chunks"]
            .as_array()
            .ok_or_else(|| bad("no chunk sizes"))?
            .iter()
            .map(|n| {
                n.as_u64()
                    .ok_or_else(|| bad("a chunk size is not a number"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(BucketBlock {
            key,
            index_size,
            chunk_sizes,
        }))
    }

    /// prepare writes the index-header of the bucket block in `dir` if it
    /// is missing or damaged (fetching the index's tables from the bucket),
    /// so that opening the block reads nothing remote; returns its size.
    pub fn prepare(dir: &Path) -> Result<u64, BlockError> {
        let Some(b) = Self::read(dir)? else {
            return Err(BlockError::corrupt(format!(
                "{}: no {BUCKET_BLOCK_FILE}",
                dir.display()
            )));
        };
        let index = b.file(dir, "index".into(), b.index_size)?;
        let h = super::index_reader::index_header(&index, &dir.join("index-header"))
            .map_err(|e| b.in_bucket(e, "index"))?;
        Ok(h.len() as u64)
    }

    /// in_bucket names the bucket file `name` of the block in an error.
    fn in_bucket(&self, e: BlockError, name: &str) -> BlockError {
        BlockError::corrupt(format!("{}/{name} (bucket): {e}", self.key))
    }

    /// file is the block's file `name` of `size` bytes in the bucket.
    fn file(&self, dir: &Path, name: String, size: u64) -> Result<FileBytes, BlockError> {
        let source = super::remote::bucket().ok_or_else(|| {
            BlockError::corrupt(format!(
                "{}: the block is in a bucket, but no bucket is configured to read it from",
                dir.display()
            ))
        })?;
        Ok(FileBytes::Remote(super::remote::RemoteFile::new(
            source,
            format!("{}/{name}", self.key),
            size,
        )))
    }

    /// open opens the block's index (from the index-header in `dir`) and
    /// chunk segments in the configured bucket.
    fn open(&self, dir: &Path) -> Result<(BlockIndex, ChunkReader), BlockError> {
        let index = BlockIndex::open_remote(
            self.file(dir, "index".into(), self.index_size)?,
            &dir.join("index-header"),
        )
        .map_err(|e| self.in_bucket(e, "index"))?;
        let segments = self
            .chunk_sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| self.file(dir, format!("chunks/{}", super::chunks::segment_name(i)), n))
            .collect::<Result<_, _>>()?;
        let chunks = ChunkReader::from_files(segments).map_err(|e| self.in_bucket(e, "chunks"))?;
        Ok((index, chunks))
    }
}

/// select_error turns a querier error back into the block's own.
fn select_error(e: crate::querier::SelectError) -> BlockError {
    match e {
        crate::querier::SelectError::TooManySamples => BlockError::TooManySamples,
        crate::querier::SelectError::Block(e) => e,
    }
}

//! Compaction: merging N source blocks into one block covering their union,
//! as Prometheus's `LeveledCompactor` and Mimir's compactor do.
//!
//! Series are merged by label set across the sources, walking every
//! source's series in label order at once, so only one series' chunks are
//! held in memory at a time (plus each source's index). Per series, the
//! chunks of all sources, each with the deleted ranges (tombstones) of its
//! source, go through `writer::series_chunks`, the one merge the head's cut
//! uses too: a chunk overlapping nothing and untouched by tombstones is
//! copied as raw bytes; an overlapping run is decoded, merged with samples
//! deduplicated by timestamp (the first source in argument order wins a
//! tie, as Prometheus's chained merge), and re-encoded into chunks of at
//! most 120 samples, Prometheus's target chunk size, of the samples' kind.
//!
//! The new block's meta.json has `compaction.level` = the highest source
//! level plus one, `sources` = the union of the sources' sources, `parents`
//! = the source blocks, the first source's external labels with
//! `__org_id__` set to the tenant, its downsampling resolution, and
//! `thanos.source` = `compactor`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::chunks::DEFAULT_SEGMENT_SIZE;
use super::index_writer::ChunkMeta;
use super::meta::{BlockDesc, BlockMeta};
use super::reader::Block;
use super::writer::{series_chunks, BlockWriteOptions, BlockWriter, SourceChunk};
use super::BlockError;
use crate::chunkenc::recode;
use crate::chunkenc::{ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM, ENCODING_XOR};

/// SAMPLES_PER_CHUNK is the size Prometheus cuts re-encoded chunks at.
pub const SAMPLES_PER_CHUNK: usize = recode::SAMPLES_PER_CHUNK;

/// CompactOptions tune a compaction.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// tenant becomes the `__org_id__` external label of the new block.
    pub tenant: String,
    /// Maximum size of a chunk segment file (512MiB in Prometheus).
    pub segment_size: u64,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions {
            tenant: String::new(),
            segment_size: DEFAULT_SEGMENT_SIZE,
        }
    }
}

/// CurrentSeries is a decoded series of a source: its id, labels and chunks.
type CurrentSeries = (u32, Vec<(String, String)>, Vec<ChunkMeta>);

/// Cursor walks one source block's series in label order.
struct Cursor {
    block: Block,
    ids: Vec<u32>,
    pos: usize,
    /// The series at `pos`: its id, labels and chunks.
    cur: Option<CurrentSeries>,
}

impl Cursor {
    fn open(dir: &Path) -> Result<Self, BlockError> {
        let block = Block::open(dir)?;
        let ids = block.select_series(&[])?;
        let mut c = Cursor {
            block,
            ids,
            pos: 0,
            cur: None,
        };
        c.load()?;
        Ok(c)
    }

    /// load decodes the series at `pos` (None past the end).
    fn load(&mut self) -> Result<(), BlockError> {
        self.cur = match self.ids.get(self.pos) {
            None => None,
            Some(&id) => {
                let s = self
                    .block
                    .index()
                    .series(id)
                    .map_err(|e| e.in_file(&self.block_dir().join("index")))?;
                Some((id, s.labels, s.chunks))
            }
        };
        Ok(())
    }

    fn advance(&mut self) -> Result<(), BlockError> {
        self.pos += 1;
        self.load()
    }

    fn block_dir(&self) -> &Path {
        self.block.dir()
    }
}

/// read_chunk returns the encoding and bytes of a chunk of a source block.
fn read_chunk(cur: &Cursor, meta: &ChunkMeta) -> Result<(u8, Vec<u8>), BlockError> {
    let (enc, data) = cur
        .block
        .chunks()
        .chunk(meta.chunk_ref)
        .map_err(|e| e.in_file(&cur.block_dir().join("chunks")))?;
    if !matches!(
        enc,
        ENCODING_XOR | ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM
    ) {
        return Err(BlockError::Unsupported(format!(
            "block {}: chunk encoding {enc}",
            cur.block.meta().ulid
        )));
    }
    Ok((enc, data.into_owned()))
}

/// compact_blocks merges the blocks in `sources` (block directories) into
/// one new block under `dest`, written as `<ULID>.tmp` and renamed into
/// place once complete. Returns its meta, or None (and writes nothing) when
/// the sources hold no samples once tombstones are applied.
pub fn compact_blocks(
    sources: &[PathBuf],
    dest: &Path,
    opts: &CompactOptions,
) -> Result<Option<BlockMeta>, BlockError> {
    if sources.is_empty() {
        return Err(BlockError::InvalidArgument(
            "compaction needs at least one source block".to_string(),
        ));
    }
    let mut cursors = sources
        .iter()
        .map(|d| Cursor::open(d))
        .collect::<Result<Vec<_>, _>>()?;
    let metas: Vec<BlockMeta> = cursors.iter().map(|c| c.block.meta().clone()).collect();
    let mint = metas.iter().map(|m| m.min_time).min().unwrap_or(0);
    let maxt = metas.iter().map(|m| m.max_time).max().unwrap_or(0);
    let level = metas.iter().map(|m| m.compaction_level).max().unwrap_or(0) + 1;
    let all_sources: BTreeSet<_> = metas
        .iter()
        .flat_map(|m| {
            if m.compaction_sources.is_empty() {
                vec![m.ulid]
            } else {
                m.compaction_sources.clone()
            }
        })
        .collect();
    let mut parents: Vec<BlockDesc> = metas
        .iter()
        .map(|m| BlockDesc {
            ulid: m.ulid,
            min_time: m.min_time,
            max_time: m.max_time,
        })
        .collect();
    parents.sort_by_key(|p| p.ulid);
    let mut labels = metas[0].thanos_labels.clone();
    labels.retain(|(n, _)| n != "__org_id__");
    if !opts.tenant.is_empty() {
        labels.push(("__org_id__".to_string(), opts.tenant.clone()));
    }
    labels.sort();
    let write_opts = BlockWriteOptions {
        segment_size: opts.segment_size,
        source: "compactor".to_string(),
    };
    let mut writer: Option<BlockWriter> = None;

    // Each round takes the smallest label set among the cursors' current series.
    while let Some(next) = cursors
        .iter()
        .filter_map(|c| c.cur.as_ref().map(|(_, l, _)| l))
        .min()
        .cloned()
    {
        let mut chunks: Vec<SourceChunk<'_>> = Vec::new();
        for (source, c) in cursors.iter_mut().enumerate() {
            let Some((id, l, metas)) = c.cur.as_ref() else {
                continue;
            };
            if *l != next {
                continue;
            }
            let stones = c.block.tombstones().get(id);
            for m in metas {
                let deleted: Vec<(i64, i64)> = stones
                    .map(|iv| {
                        iv.iter()
                            .filter(|&&(a, b)| a <= m.max_t && b >= m.min_t)
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                let (encoding, data) = read_chunk(c, m)?;
                chunks.push(SourceChunk {
                    source,
                    min_t: m.min_t,
                    max_t: m.max_t,
                    encoding,
                    data: Cow::Owned(data),
                    deleted,
                });
            }
            c.advance()?;
        }
        let merged = series_chunks(chunks, i64::MIN, i64::MAX)?;
        if merged.is_empty() {
            continue;
        }
        let w = match writer.as_mut() {
            Some(w) => w,
            None => writer.insert(BlockWriter::create(
                dest,
                &opts.tenant,
                mint,
                maxt,
                &write_opts,
            )?),
        };
        let refs: Vec<(i64, i64, u8, &[u8])> = merged
            .iter()
            .map(|(a, b, e, d)| (*a, *b, *e, &d[..]))
            .collect();
        w.add_series_encoded(next, &refs)?;
    }
    let Some(w) = writer else {
        return Ok(None);
    };
    let downsample = metas[0].downsample_resolution;
    w.finish_with(|m| {
        m.compaction_level = level;
        m.compaction_sources = all_sources.into_iter().collect();
        m.compaction_parents = parents;
        m.thanos_labels = labels;
        m.downsample_resolution = downsample;
    })
    .map(Some)
}

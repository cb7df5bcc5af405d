//! Reading a block's `index` file (format v2): the TOC, the symbol table and
//! the postings offset table are parsed when the index is opened; series and
//! postings lists are decoded (and their CRCs checked) when asked for.
//!
//! [`BlockIndex`] implements [`crate::index::IndexReader`], so series
//! selection (`postings_for_matchers`) runs on a block exactly as on the
//! head. Postings that fail to decode surface through `Postings::err`.

use std::collections::BTreeMap;

use super::encoding::{check_crc, Decbuf};
use super::file_bytes::FileBytes;
use super::index_writer::{
    ChunkMeta, Toc, INDEX_HEADER_LEN, INDEX_TOC_LEN, MAGIC_INDEX, SERIES_ALIGN,
};
use super::BlockError;
use crate::index::postings::{self, BoxPostings, Postings, VecPostings};
use crate::index::IndexReader;

/// ErrPostings is the postings of a list that could not be read: empty, with
/// the reason in `err()`.
#[derive(Debug, Clone)]
pub struct ErrPostings(pub String);

impl Postings for ErrPostings {
    fn next(&mut self) -> bool {
        false
    }
    fn seek(&mut self, _v: u32) -> bool {
        false
    }
    fn at(&self) -> u32 {
        0
    }
    fn err(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

/// SeriesEntry is a decoded series: its labels and chunk metas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesEntry {
    pub labels: Vec<(String, String)>,
    pub chunks: Vec<ChunkMeta>,
}

/// BlockIndex is an opened index file.
#[derive(Debug)]
pub struct BlockIndex {
    /// The index file, mapped for a block on disk (see `FileBytes`): only
    /// the symbol and postings offset tables below are copied to the heap,
    /// postings lists and series entries are read from it when selected.
    data: FileBytes,
    toc: Toc,
    /// The symbol table, by reference number.
    symbols: Vec<Box<str>>,
    /// Postings list offsets by label name, then value (both sorted).
    postings: BTreeMap<Box<str>, Vec<(Box<str>, u64)>>,
    /// Where the series section ends: the next section's start.
    series_end: u64,
}

impl BlockIndex {
    /// parse checks the header and TOC and loads the symbol and postings
    /// offset tables of an index held in memory.
    pub fn parse(data: Vec<u8>) -> Result<Self, BlockError> {
        Self::parse_bytes(FileBytes::Mem(data))
    }

    /// parse_bytes is `parse` for an index in memory or mapped.
    pub fn parse_bytes(data: FileBytes) -> Result<Self, BlockError> {
        if data.len() < INDEX_HEADER_LEN + INDEX_TOC_LEN {
            return Err(BlockError::corrupt(format!(
                "index: {} bytes is too short for a header and a TOC",
                data.len()
            )));
        }
        let magic = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        if magic != MAGIC_INDEX {
            return Err(BlockError::corrupt(format!(
                "index: invalid magic number {magic:x}"
            )));
        }
        if data[4] != 2 {
            return Err(BlockError::corrupt(format!(
                "index: unsupported index file version {}",
                data[4]
            )));
        }
        let toc_bytes = &data[data.len() - INDEX_TOC_LEN..];
        check_crc(&toc_bytes[..48], &toc_bytes[48..], "index TOC")?;
        let mut d = Decbuf::new(&toc_bytes[..48], "index TOC");
        let toc = Toc {
            symbols: d.be64()?,
            series: d.be64()?,
            label_indices: d.be64()?,
            label_indices_table: d.be64()?,
            postings: d.be64()?,
            postings_table: d.be64()?,
        };
        let limit = (data.len() - INDEX_TOC_LEN) as u64;
        for (what, off) in [
            ("symbols", toc.symbols),
            ("series", toc.series),
            ("label indices", toc.label_indices),
            ("label offset table", toc.label_indices_table),
            ("postings", toc.postings),
            ("postings offset table", toc.postings_table),
        ] {
            if off > limit {
                return Err(BlockError::corrupt(format!(
                    "index TOC: {what} offset {off} is past the end of the index ({limit} bytes)"
                )));
            }
        }

        let mut symbols = Vec::new();
        if toc.symbols != 0 {
            let mut d = Decbuf::at_crc32(&data, toc.symbols as usize, "index symbol table")?;
            let n = d.be32()?;
            symbols.reserve(n as usize);
            for _ in 0..n {
                symbols.push(Box::<str>::from(d.uvarint_str()?));
            }
        }

        let mut postings: BTreeMap<Box<str>, Vec<(Box<str>, u64)>> = BTreeMap::new();
        if toc.postings_table != 0 {
            let mut d = Decbuf::at_crc32(
                &data,
                toc.postings_table as usize,
                "index postings offset table",
            )?;
            let n = d.be32()?;
            let mut last: Option<(&str, &str)> = None;
            for _ in 0..n {
                let keys = d.uvarint()?;
                if keys != 2 {
                    return Err(BlockError::corrupt(format!(
                        "index postings offset table: entry with {keys} keys, want 2"
                    )));
                }
                let name = d.uvarint_str()?;
                let value = d.uvarint_str()?;
                let off = d.uvarint()?;
                if last.is_some_and(|l| l >= (name, value)) {
                    return Err(BlockError::corrupt(format!(
                        "index postings offset table: entries out of order at {name:?}={value:?}"
                    )));
                }
                last = Some((name, value));
                postings
                    .entry(Box::from(name))
                    .or_default()
                    .push((Box::from(value), off));
            }
        }
        // The label indices and their offset table are not needed to
        // answer queries (as in Prometheus), but damage there is damage:
        // check their CRCs too. Prometheus 2.49+ no longer writes them and
        // points the label offset table entry at the postings offset table.
        if toc.label_indices_table != 0 && toc.label_indices_table != toc.postings_table {
            let mut d = Decbuf::at_crc32(
                &data,
                toc.label_indices_table as usize,
                "index label offset table",
            )?;
            let n = d.be32()?;
            for _ in 0..n {
                let keys = d.uvarint()?;
                for _ in 0..keys {
                    d.uvarint_bytes()?;
                }
                let off = d.uvarint()?;
                let mut li = Decbuf::at_crc32(&data, off as usize, "index label index")?;
                let names = li.be32()? as usize;
                let entries = li.be32()? as usize;
                if names == 0
                    || !entries.is_multiple_of(names)
                    || li.len() != entries.saturating_mul(4)
                {
                    return Err(BlockError::corrupt(format!(
                        "index label index at {off}: {names} names and {entries} entries do not fit {} bytes",
                        li.len()
                    )));
                }
            }
        }
        let series_end = [
            toc.label_indices,
            toc.postings,
            toc.label_indices_table,
            toc.postings_table,
        ]
        .into_iter()
        .filter(|&o| o > toc.series)
        .min()
        .unwrap_or(limit);
        Ok(BlockIndex {
            data,
            toc,
            symbols,
            postings,
            series_end,
        })
    }

    /// toc is the table of contents.
    pub fn toc(&self) -> Toc {
        self.toc
    }

    /// symbols is the symbol table.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.symbols.iter().map(|s| &**s)
    }

    fn symbol(&self, r: u32) -> Result<&str, BlockError> {
        self.symbols.get(r as usize).map(|s| &**s).ok_or_else(|| {
            BlockError::corrupt(format!("index series: unknown symbol reference {r}"))
        })
    }

    /// postings_list decodes the postings list at `off`.
    pub fn postings_list(&self, off: u64) -> Result<Vec<u32>, BlockError> {
        let mut d = Decbuf::at_crc32(&self.data, off as usize, "index postings list")?;
        let n = d.be32()? as usize;
        if d.len() != n * 4 {
            return Err(BlockError::corrupt(format!(
                "index postings list: {n} entries announced but {} bytes hold them",
                d.len()
            )));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(d.be32()?);
        }
        if out.windows(2).any(|w| w[0] >= w[1]) {
            return Err(BlockError::corrupt(
                "index postings list: references not increasing".to_string(),
            ));
        }
        Ok(out)
    }

    /// postings_offset finds the offset of the list for `name=value`.
    fn postings_offset(&self, name: &str, value: &str) -> Option<u64> {
        let values = self.postings.get(name)?;
        let i = values.binary_search_by(|(v, _)| (**v).cmp(value)).ok()?;
        Some(values[i].1)
    }

    /// series decodes the series with id `id` (its offset / 16).
    pub fn series(&self, id: u32) -> Result<SeriesEntry, BlockError> {
        let mut refs = Vec::new();
        let mut chunks = Vec::new();
        self.series_refs_into(id, &mut refs, &mut chunks)?;
        Ok(SeriesEntry {
            labels: refs
                .chunks_exact(2)
                .map(|p| {
                    (
                        self.symbol_at(p[0]).to_string(),
                        self.symbol_at(p[1]).to_string(),
                    )
                })
                .collect(),
            chunks,
        })
    }

    /// series_refs_into replaces the contents of `refs` with the labels of
    /// series `id` as symbol references (name, value, name, value...), each
    /// checked against the symbol table, and of `chunks` with its chunks,
    /// without allocating: a selection holding many series keeps 8 bytes
    /// per label instead of two string references (see `symbol_at`).
    pub fn series_refs_into(
        &self,
        id: u32,
        refs: &mut Vec<u32>,
        chunks: &mut Vec<ChunkMeta>,
    ) -> Result<(), BlockError> {
        refs.clear();
        chunks.clear();
        let mut d = self.series_decbuf(id)?;
        let n = d.uvarint()? as usize;
        for _ in 0..2 * n {
            let r = d.uvarint32()?;
            self.symbol(r)?;
            refs.push(r);
        }
        decode_chunk_metas(&mut d, chunks)
    }

    /// symbol_at is the symbol of a reference `series_refs_into` checked
    /// ("" for any other).
    #[inline]
    pub fn symbol_at(&self, r: u32) -> &str {
        self.symbols.get(r as usize).map_or("", |s| s)
    }

    /// series_chunks_into is `series_refs_into` for the chunk metas only.
    pub fn series_chunks_into(
        &self,
        id: u32,
        chunks: &mut Vec<ChunkMeta>,
    ) -> Result<(), BlockError> {
        chunks.clear();
        let mut d = self.series_decbuf(id)?;
        let n = d.uvarint()? as usize;
        for _ in 0..2 * n {
            d.uvarint32()?;
        }
        decode_chunk_metas(&mut d, chunks)
    }

    /// series_decbuf checks the bounds and CRC of series `id`'s entry.
    fn series_decbuf(&self, id: u32) -> Result<Decbuf<'_>, BlockError> {
        let off = id as usize * SERIES_ALIGN;
        if self.toc.series == 0 || (off as u64) < self.toc.series || (off as u64) >= self.series_end
        {
            return Err(BlockError::corrupt(format!(
                "index: series reference {id} is outside the series section"
            )));
        }
        Decbuf::at_uvarint_crc32(&self.data, off, "index series")
    }

    fn list_postings(&self, off: u64) -> BoxPostings<'_> {
        match self.postings_list(off) {
            Ok(l) => Box::new(VecPostings::new(l)),
            Err(e) => Box::new(ErrPostings(e.to_string())),
        }
    }
}

/// decode_chunk_metas appends the chunk metas that end a series entry.
fn decode_chunk_metas(d: &mut Decbuf<'_>, chunks: &mut Vec<ChunkMeta>) -> Result<(), BlockError> {
    let k = d.uvarint()? as usize;
    chunks.reserve(k.min(1024));
    for i in 0..k {
        let c = if i == 0 {
            let min_t = d.varint()?;
            let max_t = min_t.wrapping_add(d.uvarint()? as i64);
            ChunkMeta {
                min_t,
                max_t,
                chunk_ref: d.uvarint()?,
            }
        } else {
            let p = chunks[chunks.len() - 1];
            let min_t = p.max_t.wrapping_add(d.uvarint()? as i64);
            let max_t = min_t.wrapping_add(d.uvarint()? as i64);
            ChunkMeta {
                min_t,
                max_t,
                chunk_ref: (p.chunk_ref as i64).wrapping_add(d.varint()?) as u64,
            }
        };
        chunks.push(c);
    }
    Ok(())
}

impl IndexReader for BlockIndex {
    fn postings(&self, name: &str, values: &[&str]) -> BoxPostings<'_> {
        let its: Vec<BoxPostings<'_>> = values
            .iter()
            .filter_map(|v| self.postings_offset(name, v))
            .map(|off| self.list_postings(off))
            .collect();
        postings::merge(its)
    }

    fn all_postings(&self) -> BoxPostings<'_> {
        match self.postings_offset("", "") {
            Some(off) => self.list_postings(off),
            None => postings::empty(),
        }
    }

    fn label_values(&self, name: &str) -> Vec<&str> {
        if name.is_empty() {
            return Vec::new();
        }
        self.postings
            .get(name)
            .map(|vs| vs.iter().map(|(v, _)| &**v).collect())
            .unwrap_or_default()
    }

    fn label_names(&self) -> Vec<&str> {
        self.postings
            .keys()
            .map(|k| &**k)
            .filter(|k| !k.is_empty())
            .collect()
    }

    fn postings_for_label_matching(
        &self,
        name: &str,
        prefix: &str,
        pred: &dyn Fn(&str) -> bool,
    ) -> BoxPostings<'_> {
        let Some(vs) = self.postings.get(name) else {
            return postings::empty();
        };
        let start = vs.partition_point(|(v, _)| **v < *prefix);
        let its: Vec<BoxPostings<'_>> = vs[start..]
            .iter()
            .take_while(|(v, _)| v.starts_with(prefix))
            .filter(|(v, _)| pred(v))
            .map(|(_, off)| self.list_postings(*off))
            .collect();
        postings::merge(its)
    }
}

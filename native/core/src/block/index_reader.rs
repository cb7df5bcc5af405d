//! Reading a block's `index` file (format v2): the TOC, the symbol table and
//! the postings offset table are parsed when the index is opened; series and
//! postings lists are decoded (and their CRCs checked) when asked for.
//!
//! [`BlockIndex`] implements [`crate::index::IndexReader`], so series
//! selection (`postings_for_matchers`) runs on a block exactly as on the
//! head. Postings that fail to decode surface through `Postings::err`.

use std::collections::BTreeMap;

use super::encoding::{check_crc, Decbuf};
use super::file_bytes::{be32_len, uvarint_len, FileBytes};
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
        let Some(b) = data.local() else {
            return Err(BlockError::corrupt(
                "index: a bucket block's index is opened from its index-header".to_string(),
            ));
        };
        check_index_header(b, b.len())?;
        let toc = parse_toc(&b[b.len() - INDEX_TOC_LEN..], b.len())?;
        let at = |off: u64| (off != 0).then_some(off as usize);
        let tables = parse_tables(b, at(toc.symbols), at(toc.postings_table))?;
        check_label_indices(b, &toc)?;
        Ok(Self::from_tables(data, toc, tables))
    }

    /// open_remote opens the index of a bucket block: the symbol and
    /// postings offset tables come from the index-header at `header_path`,
    /// which is written from ranges of the index when missing or damaged;
    /// postings lists and series entries are read from the bucket when
    /// selected.
    pub fn open_remote(data: FileBytes, header_path: &std::path::Path) -> Result<Self, BlockError> {
        let header = index_header(&data, header_path)?;
        let (toc, sym, pt) = IndexHeader::check(&header, data.len())?;
        let tables = parse_tables(&header, sym, pt)?;
        Ok(Self::from_tables(data, toc, tables))
    }

    /// from_tables is the opened index of `data` with its TOC and tables.
    fn from_tables(
        data: FileBytes,
        toc: Toc,
        (symbols, postings): (Symbols, PostingsTable),
    ) -> Self {
        let series_end = series_end(&toc, data.len());
        BlockIndex {
            data,
            toc,
            symbols,
            postings,
            series_end,
        }
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
        let (w, at) = self.data.framed(
            off as usize,
            64,
            be32_len(format!("index postings list at offset {off}")),
        )?;
        let mut d = Decbuf::at_crc32(&w, at, "index postings list")?;
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
        let (w, at) = self.series_window(id)?;
        let mut d = Decbuf::at_uvarint_crc32(&w, at, "index series")?;
        let n = d.uvarint()? as usize;
        for _ in 0..2 * n {
            let r = d.uvarint32()?;
            self.symbol(r)?;
            refs.push(r);
        }
        decode_chunk_metas(&mut d, chunks)
    }

    /// series_labels_hash is the label-set hash (`labels::stable_hash`) of
    /// series `id`, read from its labels alone (its chunks are not decoded).
    pub fn series_labels_hash(&self, id: u32) -> Result<u64, BlockError> {
        let (w, at) = self.series_window(id)?;
        let mut d = Decbuf::at_uvarint_crc32(&w, at, "index series")?;
        let n = d.uvarint()? as usize;
        let mut h = crate::model::xxhash::Xxh64::new();
        for _ in 0..n {
            for _ in 0..2 {
                h.write(self.symbol(d.uvarint32()?)?.as_bytes());
                h.write(&[0xff]);
            }
        }
        Ok(h.finish())
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
        let (w, at) = self.series_window(id)?;
        let mut d = Decbuf::at_uvarint_crc32(&w, at, "index series")?;
        let n = d.uvarint()? as usize;
        for _ in 0..2 * n {
            d.uvarint32()?;
        }
        decode_chunk_metas(&mut d, chunks)
    }

    /// series_window checks that series `id` is in the series section and
    /// returns the bytes holding its entry and where it starts in them.
    fn series_window(&self, id: u32) -> Result<(std::borrow::Cow<'_, [u8]>, usize), BlockError> {
        let off = id as usize * SERIES_ALIGN;
        if self.toc.series == 0 || (off as u64) < self.toc.series || (off as u64) >= self.series_end
        {
            return Err(BlockError::corrupt(format!(
                "index: series reference {id} is outside the series section"
            )));
        }
        self.data
            .framed(off, 256, uvarint_len("index series", usize::MAX))
    }

    fn list_postings(&self, off: u64) -> BoxPostings<'_> {
        match self.postings_list(off) {
            Ok(l) => Box::new(VecPostings::new(l)),
            Err(e) => Box::new(ErrPostings(e.to_string())),
        }
    }
}

/// Symbols are the symbol table by reference number; Postings the
/// postings offset table by label name, then value (both sorted).
type Symbols = Vec<Box<str>>;
type PostingsTable = BTreeMap<Box<str>, Vec<(Box<str>, u64)>>;

/// check_index_header checks the index's size (`file_len`) and, from its
/// first bytes `b`, its magic number and version.
fn check_index_header(b: &[u8], file_len: usize) -> Result<(), BlockError> {
    if file_len < INDEX_HEADER_LEN + INDEX_TOC_LEN || b.len() < INDEX_HEADER_LEN {
        return Err(BlockError::corrupt(format!(
            "index: {file_len} bytes is too short for a header and a TOC"
        )));
    }
    let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if magic != MAGIC_INDEX {
        return Err(BlockError::corrupt(format!(
            "index: invalid magic number {magic:x}"
        )));
    }
    if b[4] != 2 {
        return Err(BlockError::corrupt(format!(
            "index: unsupported index file version {}",
            b[4]
        )));
    }
    Ok(())
}

/// parse_toc checks and decodes the TOC that ends an index of `file_len`
/// bytes.
fn parse_toc(toc_bytes: &[u8], file_len: usize) -> Result<Toc, BlockError> {
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
    let limit = (file_len - INDEX_TOC_LEN) as u64;
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
    Ok(toc)
}

/// parse_tables decodes the symbol table and the postings offset table
/// framed at `sym` and `pt` of `src` (an index or an index-header).
fn parse_tables(
    src: &[u8],
    sym: Option<usize>,
    pt: Option<usize>,
) -> Result<(Symbols, PostingsTable), BlockError> {
    let mut symbols = Vec::new();
    if let Some(off) = sym {
        let mut d = Decbuf::at_crc32(src, off, "index symbol table")?;
        let n = d.be32()?;
        symbols.reserve(n as usize);
        for _ in 0..n {
            symbols.push(Box::<str>::from(d.uvarint_str()?));
        }
    }
    let mut postings: PostingsTable = BTreeMap::new();
    if let Some(off) = pt {
        let mut d = Decbuf::at_crc32(src, off, "index postings offset table")?;
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
    Ok((symbols, postings))
}

/// check_label_indices checks the CRCs of the label indices and their
/// offset table: queries do not need them (as in Prometheus), but damage
/// there is damage. Prometheus 2.49+ no longer writes them and points the
/// label offset table entry at the postings offset table.
fn check_label_indices(b: &[u8], toc: &Toc) -> Result<(), BlockError> {
    if toc.label_indices_table == 0 || toc.label_indices_table == toc.postings_table {
        return Ok(());
    }
    let mut d = Decbuf::at_crc32(
        b,
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
        let mut li = Decbuf::at_crc32(b, off as usize, "index label index")?;
        let names = li.be32()? as usize;
        let entries = li.be32()? as usize;
        if names == 0 || !entries.is_multiple_of(names) || li.len() != entries.saturating_mul(4) {
            return Err(BlockError::corrupt(format!(
                "index label index at {off}: {names} names and {entries} entries do not fit {} bytes",
                li.len()
            )));
        }
    }
    Ok(())
}

/// series_end is where the series section ends: the next section's start.
fn series_end(toc: &Toc, file_len: usize) -> u64 {
    [
        toc.label_indices,
        toc.postings,
        toc.label_indices_table,
        toc.postings_table,
    ]
    .into_iter()
    .filter(|&o| o > toc.series)
    .min()
    .unwrap_or((file_len - INDEX_TOC_LEN) as u64)
}

/// index_header returns the index-header at `path` for the bucket index
/// `data`, building it from ranges of the index (and writing it) when it
/// is missing or damaged.
pub fn index_header(data: &FileBytes, path: &std::path::Path) -> Result<Vec<u8>, BlockError> {
    if let Ok(h) = std::fs::read(path) {
        if IndexHeader::check(&h, data.len()).is_ok() {
            return Ok(h);
        }
    }
    let h = IndexHeader::build(data)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &h)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| BlockError::io("write index-header", path, e))?;
    Ok(h)
}

/// IndexHeader is the local file a store-gateway keeps for a bucket block
/// (`index-header` in its sync directory), so opening the block reads
/// nothing from the bucket but what queries select. Layout (ours, in the
/// spirit of Thanos's index-header; `docs/format/block.md`):
/// `magic <4b> | version <1b> | index length <8b> | the index's TOC <52b> |
/// symbols length <4b> | the index's symbol table as framed there |
/// postings table length <4b> | the index's postings offset table as framed
/// there | crc32c of everything before <4b>`.
struct IndexHeader;

/// MAGIC_INDEX_HEADER opens an index-header file.
const MAGIC_INDEX_HEADER: u32 = 0x1DE4_EAD1;

impl IndexHeader {
    /// build reads the index's header, TOC and two tables from the bucket.
    fn build(data: &FileBytes) -> Result<Vec<u8>, BlockError> {
        let len = data.len();
        check_index_header(&data.read(0, INDEX_HEADER_LEN)?, len)?;
        let toc_bytes = data.read(len - INDEX_TOC_LEN, INDEX_TOC_LEN)?;
        let toc = parse_toc(&toc_bytes, len)?;
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC_INDEX_HEADER.to_be_bytes());
        out.push(1);
        out.extend_from_slice(&(len as u64).to_be_bytes());
        out.extend_from_slice(&toc_bytes);
        for off in [toc.symbols, toc.postings_table] {
            if off == 0 {
                out.extend_from_slice(&0u32.to_be_bytes());
                continue;
            }
            let (section, _) =
                data.framed(off as usize, 4, be32_len(format!("index section at {off}")))?;
            out.extend_from_slice(&(section.len() as u32).to_be_bytes());
            out.extend_from_slice(&section);
        }
        let sum = super::encoding::crc32c(&out);
        out.extend_from_slice(&sum.to_be_bytes());
        Self::check(&out, len)?;
        Ok(out)
    }

    /// check verifies an index-header for an index of `index_len` bytes and
    /// returns the TOC and where the two tables are framed in it.
    fn check(
        h: &[u8],
        index_len: usize,
    ) -> Result<(Toc, Option<usize>, Option<usize>), BlockError> {
        let bad = |what: &str| BlockError::corrupt(format!("index-header: {what}"));
        let fixed = 4 + 1 + 8 + INDEX_TOC_LEN;
        if h.len() < fixed + 12 {
            return Err(bad("too short"));
        }
        check_crc(&h[..h.len() - 4], &h[h.len() - 4..], "index-header")?;
        if u32::from_be_bytes([h[0], h[1], h[2], h[3]]) != MAGIC_INDEX_HEADER || h[4] != 1 {
            return Err(bad("not an index-header (magic or version)"));
        }
        let mut d = Decbuf::new(&h[5..h.len() - 4], "index-header");
        if d.be64()? != index_len as u64 {
            return Err(bad("made for an index of another size"));
        }
        let toc = parse_toc(d.bytes(INDEX_TOC_LEN)?, index_len)?;
        let mut at = fixed;
        let mut sections = [None, None];
        for s in &mut sections {
            let n = d.be32()? as usize;
            d.skip(n)?;
            at += 4;
            if n > 0 {
                *s = Some(at);
            }
            at += n;
        }
        Ok((toc, sections[0], sections[1]))
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

    fn series_hash(&self, r: u32) -> Option<u64> {
        self.series_labels_hash(r).ok()
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

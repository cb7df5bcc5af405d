//! Writing a block's `index` file, format v2 (see `docs/format/block.md`
//! and Prometheus's `tsdb/docs/format/index.md`):
//!
//! ```text
//! magic 0xBAAAD700 <4b> | version 2 <1b>
//! symbol table         len <4b> | #symbols <4b> | (len <uvarint> | str)* | crc <4b>
//! series               each 16-byte aligned, id = offset / 16:
//!                      len <uvarint> | #labels | (name ref | value ref)* |
//!                      #chunks | chunk metas (delta encoded) | crc <4b>
//! label indices        per name, 4-byte aligned: len | #names=1 | #values | value refs <4b>* | crc
//! postings             4-byte aligned lists, the all-series list ("", "") first:
//!                      len <4b> | #refs <4b> | series id <4b>* | crc <4b>
//! label offset table   len | #entries | (1 | name | offset <uvarint64>)* | crc
//! postings offset table len | #entries | (2 | name | value | offset <uvarint64>)* | crc
//! TOC                  6 offsets <8b> | crc <4b>
//! ```
//!
//! Symbol references are indexes into the sorted symbol table. CRCs are
//! CRC32-Castagnoli over the bytes counted by each section's `len`.

use std::collections::BTreeMap;

use ahash::{AHashMap, AHashSet};

use super::encoding::{
    crc32c, pad_to, put_be32, put_be64, put_uvarint, put_uvarint_str, put_varint,
};
use super::BlockError;

/// MAGIC_INDEX opens an index file.
pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
/// INDEX_FORMAT_V2 is the index version we write.
pub const INDEX_FORMAT_V2: u8 = 2;
/// INDEX_HEADER_LEN is magic + version.
pub const INDEX_HEADER_LEN: usize = 5;
/// INDEX_TOC_LEN is six 8-byte offsets plus a CRC.
pub const INDEX_TOC_LEN: usize = 6 * 8 + 4;
/// SERIES_ALIGN is the alignment of series entries (ids are offset / 16).
pub const SERIES_ALIGN: usize = 16;

/// ChunkMeta locates one chunk of a series: its first and last sample times
/// and its reference into the chunk segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    pub min_t: i64,
    pub max_t: i64,
    pub chunk_ref: u64,
}

/// IndexSeries is one series to index: sorted labels (no empty values) and
/// its chunks in time order.
#[derive(Debug, Clone)]
pub struct IndexSeries {
    pub labels: Vec<(String, String)>,
    pub chunks: Vec<ChunkMeta>,
}

/// Toc is the index's table of contents: where each section starts (0 for
/// an absent section).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Toc {
    pub symbols: u64,
    pub series: u64,
    pub label_indices: u64,
    pub label_indices_table: u64,
    pub postings: u64,
    pub postings_table: u64,
}

/// begin_section writes a 4-byte length placeholder and returns its position.
fn begin_section(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    at
}

/// end_section fills in the length of the section opened at `at` (bytes
/// after the length field) and appends the CRC of those bytes.
fn end_section(out: &mut Vec<u8>, at: usize, what: &str) -> Result<(), BlockError> {
    let len = out.len() - at - 4;
    let len32 = u32::try_from(len)
        .map_err(|_| BlockError::corrupt(format!("index {what} exceeds 4GiB")))?;
    out[at..at + 4].copy_from_slice(&len32.to_be_bytes());
    let sum = crc32c(&out[at + 4..]);
    put_be32(out, sum);
    Ok(())
}

/// encode_index builds the complete index file for `series`, which must be
/// sorted by label set without duplicates, each series' chunks ordered by
/// time with increasing references.
pub fn encode_index(series: &[IndexSeries]) -> Result<Vec<u8>, BlockError> {
    for w in series.windows(2) {
        if w[0].labels >= w[1].labels {
            return Err(BlockError::corrupt(format!(
                "index: series out of order or duplicated: {:?} then {:?}",
                w[0].labels, w[1].labels
            )));
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(4096 + series.len() * 64);
    put_be32(&mut out, MAGIC_INDEX);
    out.push(INDEX_FORMAT_V2);
    let mut toc = Toc::default();

    // Symbol table: every label name and value, sorted (hashed first and
    // sorted once: a tree of a million values costs seconds in compares).
    let mut unique: AHashSet<&str> = AHashSet::with_capacity(series.len() + 64);
    for s in series {
        for (n, v) in &s.labels {
            unique.insert(n.as_str());
            unique.insert(v.as_str());
        }
    }
    let mut symbols: Vec<&str> = unique.into_iter().collect();
    symbols.sort_unstable();
    let mut sym_ref: AHashMap<&str, u32> = AHashMap::with_capacity(symbols.len());
    toc.symbols = out.len() as u64;
    let at = begin_section(&mut out);
    let n_symbols = u32::try_from(symbols.len())
        .map_err(|_| BlockError::corrupt("index: more than 2^32 symbols".to_string()))?;
    put_be32(&mut out, n_symbols);
    for (i, s) in symbols.iter().enumerate() {
        sym_ref.insert(s, i as u32);
        put_uvarint_str(&mut out, s);
    }
    end_section(&mut out, at, "symbol table")?;

    // Series, collecting postings by label pair as ids are assigned.
    toc.series = out.len() as u64;
    let mut by_pair: AHashMap<(&str, &str), Vec<u32>> = AHashMap::new();
    let mut all: Vec<u32> = Vec::with_capacity(series.len());
    let mut body: Vec<u8> = Vec::with_capacity(256);
    for s in series {
        pad_to(&mut out, SERIES_ALIGN);
        let id = u32::try_from(out.len() / SERIES_ALIGN)
            .map_err(|_| BlockError::corrupt("index: series section exceeds 64GiB".to_string()))?;
        all.push(id);
        body.clear();
        put_uvarint(&mut body, s.labels.len() as u64);
        for (n, v) in &s.labels {
            put_uvarint(&mut body, u64::from(sym_ref[n.as_str()]));
            put_uvarint(&mut body, u64::from(sym_ref[v.as_str()]));
            by_pair
                .entry((n.as_str(), v.as_str()))
                .or_default()
                .push(id);
        }
        put_uvarint(&mut body, s.chunks.len() as u64);
        let mut prev: Option<ChunkMeta> = None;
        for c in &s.chunks {
            if c.max_t < c.min_t {
                return Err(BlockError::corrupt(format!(
                    "index: chunk maxt {} < mint {}",
                    c.max_t, c.min_t
                )));
            }
            match prev {
                None => {
                    put_varint(&mut body, c.min_t);
                    put_uvarint(&mut body, (c.max_t - c.min_t) as u64);
                    put_uvarint(&mut body, c.chunk_ref);
                }
                Some(p) => {
                    if c.min_t <= p.max_t || c.chunk_ref < p.chunk_ref {
                        return Err(BlockError::corrupt(format!(
                            "index: chunks of {:?} overlap or are out of order",
                            s.labels
                        )));
                    }
                    put_uvarint(&mut body, (c.min_t - p.max_t) as u64);
                    put_uvarint(&mut body, (c.max_t - c.min_t) as u64);
                    put_varint(&mut body, c.chunk_ref as i64 - p.chunk_ref as i64);
                }
            }
            prev = Some(*c);
        }
        put_uvarint(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
        put_be32(&mut out, crc32c(&body));
    }

    // The postings by label pair, sorted by name then value.
    let mut postings: Vec<((&str, &str), Vec<u32>)> = by_pair.into_iter().collect();
    postings.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    // Label indices: the values of each label name (no longer read by
    // Prometheus, still written by 2.x and part of the format).
    toc.label_indices = out.len() as u64;
    let mut by_name: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for &((n, v), _) in &postings {
        by_name.entry(n).or_default().push(sym_ref[v]);
    }
    let mut label_index_offsets: Vec<(&str, u64)> = Vec::with_capacity(by_name.len());
    for (name, values) in &by_name {
        pad_to(&mut out, 4);
        label_index_offsets.push((name, out.len() as u64));
        let at = begin_section(&mut out);
        put_be32(&mut out, 1);
        put_be32(&mut out, values.len() as u32);
        for &v in values {
            put_be32(&mut out, v);
        }
        end_section(&mut out, at, "label index")?;
    }

    // Postings lists, the all-series list under ("", "") first.
    pad_to(&mut out, 4);
    toc.postings = out.len() as u64;
    let mut postings_offsets: Vec<(&str, &str, u64)> = Vec::with_capacity(postings.len() + 1);
    let lists = std::iter::once((("", ""), &all)).chain(postings.iter().map(|(k, v)| (*k, v)));
    for ((name, value), list) in lists {
        pad_to(&mut out, 4);
        postings_offsets.push((name, value, out.len() as u64));
        let at = begin_section(&mut out);
        put_be32(&mut out, list.len() as u32);
        for &id in list {
            put_be32(&mut out, id);
        }
        end_section(&mut out, at, "postings list")?;
    }

    // Label offset table.
    toc.label_indices_table = out.len() as u64;
    let at = begin_section(&mut out);
    put_be32(&mut out, label_index_offsets.len() as u32);
    for (name, off) in &label_index_offsets {
        put_uvarint(&mut out, 1);
        put_uvarint_str(&mut out, name);
        put_uvarint(&mut out, *off);
    }
    end_section(&mut out, at, "label offset table")?;

    // Postings offset table, sorted by name then value.
    toc.postings_table = out.len() as u64;
    let at = begin_section(&mut out);
    put_be32(&mut out, postings_offsets.len() as u32);
    for (name, value, off) in &postings_offsets {
        put_uvarint(&mut out, 2);
        put_uvarint_str(&mut out, name);
        put_uvarint_str(&mut out, value);
        put_uvarint(&mut out, *off);
    }
    end_section(&mut out, at, "postings offset table")?;

    // TOC.
    let toc_at = out.len();
    for x in [
        toc.symbols,
        toc.series,
        toc.label_indices,
        toc.label_indices_table,
        toc.postings,
        toc.postings_table,
    ] {
        put_be64(&mut out, x);
    }
    let sum = crc32c(&out[toc_at..]);
    put_be32(&mut out, sum);
    if out.len() as u64 > 16 * u64::from(u32::MAX) {
        return Err(BlockError::corrupt(
            "index: exceeding max size of 64GiB".to_string(),
        ));
    }
    Ok(out)
}

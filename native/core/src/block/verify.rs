//! Checking a whole block before it is accepted (the block upload API's
//! validation): every series of the index is read and checked for order and
//! sanity, every chunk reference is followed, and with `check_chunks` every
//! chunk is decoded, as Mimir's `VerifyBlock` does for uploaded blocks.

use std::cmp::Ordering;
use std::path::Path;

use super::reader::Block;
use super::BlockError;
use crate::chunkenc::{ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM, ENCODING_XOR};
use crate::index::postings;

/// VerifyStats are the totals found while verifying.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyStats {
    pub series: u64,
    pub chunks: u64,
    /// Samples decoded (0 unless chunks were checked).
    pub samples: u64,
}

/// labels_string renders labels as Prometheus prints them: `{a="b", c="d"}`.
fn labels_string(labels: &[(String, String)]) -> String {
    let parts: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// compare_labels orders label sets as Prometheus's `labels.Compare`.
fn compare_labels(a: &[(String, String)], b: &[(String, String)]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        match x.0.cmp(&y.0).then_with(|| x.1.cmp(&y.1)) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    a.len().cmp(&b.len())
}

/// verify_block opens the block in `dir` and checks it against the time
/// range its meta.json declares (`min_time` inclusive, `max_time` as
/// Thanos compares it):
///
/// - the index parses (header, TOC, symbols, postings tables) and every
///   series listed by the all-postings list decodes (CRC checked);
/// - each series has labels, sorted by name without duplicates or empty
///   names, and series are in strictly increasing label order;
/// - each series' chunks are ordered, do not overlap, have min <= max and lie
///   within the block's range, and every chunk reference points into a
///   segment;
/// - with `check_chunks`, each chunk's CRC matches, its encoding is XOR and
///   its samples decode, strictly increasing in time, from exactly the
///   chunk's min time to exactly its max time.
///
/// The first problem is returned as `BlockError::Corrupt` naming the file
/// and the series.
pub fn verify_block(
    dir: &Path,
    min_time: i64,
    max_time: i64,
    check_chunks: bool,
) -> Result<VerifyStats, BlockError> {
    let block = Block::open(dir)?;
    let index_path = dir.join("index");
    let chunks_path = dir.join("chunks");
    let index_err = |m: String| BlockError::corrupt(format!("{}: {m}", index_path.display()));
    let chunks_err = |m: String| BlockError::corrupt(format!("{}: {m}", chunks_path.display()));

    let mut all = crate::index::IndexReader::all_postings(block.index());
    let ids = postings::expand(&mut *all);
    if let Some(e) = all.err() {
        return Err(index_err(format!("all-postings list: {e}")));
    }
    drop(all);

    let mut stats = VerifyStats::default();
    let mut prev_labels: Option<Vec<(String, String)>> = None;
    for id in ids {
        let s = block
            .index()
            .series(id)
            .map_err(|e| e.in_file(&index_path))?;
        let name = labels_string(&s.labels);
        if s.labels.is_empty() {
            return Err(index_err(format!("series {id} has no labels")));
        }
        for (i, (n, _)) in s.labels.iter().enumerate() {
            if n.is_empty() {
                return Err(index_err(format!("series {name} has an empty label name")));
            }
            if i > 0 && s.labels[i - 1].0 >= *n {
                return Err(index_err(format!(
                    "series {name} has labels out of order or duplicated"
                )));
            }
        }
        if let Some(prev) = &prev_labels {
            if compare_labels(prev, &s.labels) != Ordering::Less {
                return Err(index_err(format!(
                    "series {name} is not after the previous series {} (out of order)",
                    labels_string(prev)
                )));
            }
        }
        let mut prev_max: Option<i64> = None;
        for c in &s.chunks {
            if c.min_t > c.max_t {
                return Err(index_err(format!(
                    "series {name}: chunk {:#x} has min time {} after max time {}",
                    c.chunk_ref, c.min_t, c.max_t
                )));
            }
            if let Some(pm) = prev_max {
                if c.min_t <= pm {
                    return Err(index_err(format!(
                        "series {name}: chunk {:#x} starting at {} overlaps the previous chunk ending at {pm} (out of order chunks)",
                        c.chunk_ref, c.min_t
                    )));
                }
            }
            prev_max = Some(c.max_t);
            if c.min_t < min_time || c.max_t > max_time {
                return Err(index_err(format!(
                    "series {name}: chunk {:#x} [{}, {}] lies outside the block time range [{min_time}, {max_time}]",
                    c.chunk_ref, c.min_t, c.max_t
                )));
            }
            stats.chunks += 1;
            if !check_chunks {
                continue;
            }
            let (enc, data) = block
                .chunks()
                .chunk(c.chunk_ref)
                .map_err(|e| e.in_file(&chunks_path))?;
            let mut first: Option<i64> = None;
            let mut last = i64::MIN;
            let mut n = 0u64;
            let mut order_err: Option<(i64, i64)> = None;
            let decoded = crate::chunkenc::recode::decode_chunk(enc, &data, |t, _| {
                if first.is_some() && t <= last && order_err.is_none() {
                    order_err = Some((t, last));
                }
                first.get_or_insert(t);
                last = last.max(t);
                n += 1;
            });
            if let Err(e) = decoded {
                if !matches!(
                    enc,
                    ENCODING_XOR | ENCODING_HISTOGRAM | ENCODING_FLOAT_HISTOGRAM
                ) {
                    return Err(BlockError::Unsupported(format!(
                        "{}: series {name}: chunk {:#x} has encoding {enc}",
                        chunks_path.display(),
                        c.chunk_ref
                    )));
                }
                return Err(chunks_err(format!(
                    "series {name}: chunk {:#x}: {e}",
                    c.chunk_ref
                )));
            }
            if let Some((t, last)) = order_err {
                return Err(chunks_err(format!(
                    "series {name}: chunk {:#x}: sample at {t} is not after the previous one at {last}",
                    c.chunk_ref
                )));
            }
            match first {
                None => {
                    return Err(chunks_err(format!(
                        "series {name}: chunk {:#x} holds no samples",
                        c.chunk_ref
                    )))
                }
                Some(f) if f != c.min_t || last != c.max_t => {
                    return Err(chunks_err(format!(
                        "series {name}: chunk {:#x} holds samples from {f} to {last}, the index says {} to {}",
                        c.chunk_ref, c.min_t, c.max_t
                    )))
                }
                Some(_) => {}
            }
            stats.samples += n;
        }
        stats.series += 1;
        prev_labels = Some(s.labels);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::tests::TempDir;
    use crate::block::{BlockWriteOptions, BlockWriter};
    use crate::chunkenc::XorAppender;
    use std::path::PathBuf;

    fn chunk(from: i64, n: i64, step: i64) -> (i64, i64, Vec<u8>) {
        let mut a = XorAppender::new();
        for i in 0..n {
            a.append(from + i * step, i as f64 * 1.5);
        }
        (from, from + (n - 1) * step, a.finish())
    }

    /// two_series_block writes a block over [0, 10000) with two series of two chunks each.
    fn two_series_block(parent: &Path) -> PathBuf {
        let mut w =
            BlockWriter::create(parent, "t", 0, 10_000, &BlockWriteOptions::default()).unwrap();
        for name in ["a", "b"] {
            let c1 = chunk(0, 10, 100);
            let c2 = chunk(5_000, 20, 100);
            w.add_series(
                vec![("__name__".into(), name.into()), ("job".into(), "x".into())],
                &[(c1.0, c1.1, &c1.2), (c2.0, c2.1, &c2.2)],
            )
            .unwrap();
        }
        let meta = w.finish().unwrap();
        parent.join(meta.ulid.to_string())
    }

    #[test]
    fn a_good_block_verifies_with_its_totals() {
        let dir = TempDir::new();
        let b = two_series_block(dir.path());
        let stats = verify_block(&b, 0, 10_000, true).unwrap();
        assert_eq!(
            stats,
            VerifyStats {
                series: 2,
                chunks: 4,
                samples: 60
            }
        );
        let stats = verify_block(&b, 0, 10_000, false).unwrap();
        assert_eq!(stats.samples, 0, "chunks not decoded without check_chunks");
    }

    #[test]
    fn chunks_outside_the_declared_range_are_refused() {
        let dir = TempDir::new();
        let b = two_series_block(dir.path());
        let err = verify_block(&b, 0, 6_000, false).unwrap_err().to_string();
        assert!(
            err.contains(r#"series {__name__="a", job="x"}: chunk"#)
                && err.contains("lies outside the block time range [0, 6000]"),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_chunk_fails_only_when_chunks_are_checked() {
        let dir = TempDir::new();
        let b = two_series_block(dir.path());
        let seg = b.join("chunks").join("000001");
        let mut data = std::fs::read(&seg).unwrap();
        let n = data.len();
        data[n - 10] ^= 0xff;
        std::fs::write(&seg, &data).unwrap();
        verify_block(&b, 0, 10_000, false).unwrap();
        let err = verify_block(&b, 0, 10_000, true).unwrap_err().to_string();
        assert!(
            err.starts_with("corrupt block: ") && err.contains("checksum mismatch"),
            "{err}"
        );
    }

    #[test]
    fn a_truncated_chunk_file_or_missing_index_fails() {
        let dir = TempDir::new();
        let b = two_series_block(dir.path());
        let seg = b.join("chunks").join("000001");
        let len = std::fs::metadata(&seg).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
        let err = verify_block(&b, 0, 10_000, true).unwrap_err().to_string();
        assert!(err.contains("chunk ref"), "{err}");
        std::fs::remove_file(b.join("index")).unwrap();
        let err = verify_block(&b, 0, 10_000, true).unwrap_err().to_string();
        assert!(err.contains("index"), "{err}");
    }
}

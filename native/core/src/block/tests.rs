//! Block tests: the index sections read back through our reader, blocks cut
//! from a head read back sample for sample, and damaged files reported as
//! errors.

use crate::model::series_labels::labels_json;
use std::path::{Path, PathBuf};

use super::chunks::{chunk_ref, ChunkReader, ChunkWriter, SEGMENT_HEADER_SIZE};
use super::encoding::Decbuf;
use super::index_writer::encode_index;
use super::*;
use crate::chunkenc::{decode_all, ENCODING_XOR};
use crate::head::{Head, DEFAULT_CHUNK_RANGE};
use crate::index::{postings_for_matchers, IndexReader, MatchType, Matcher};

/// TempDir is a directory under the system temp dir removed on drop (the
/// block module's tests share it).
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new() -> Self {
        let p = std::env::temp_dir().join(format!("tsdb-block-test-{}", Ulid::new()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn m(t: MatchType, n: &str, v: &str) -> Matcher {
    Matcher::new(t, n, v).unwrap()
}

fn sample_series() -> Vec<IndexSeries> {
    let mk = |pairs: &[(&str, &str)], n: u64| IndexSeries {
        labels: labels(pairs),
        chunks: (0..n)
            .map(|i| ChunkMeta {
                min_t: i as i64 * 1000,
                max_t: i as i64 * 1000 + 500,
                chunk_ref: chunk_ref(0, 8 + i as u32 * 40),
            })
            .collect(),
    };
    vec![
        mk(
            &[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("job", "api"),
            ],
            3,
        ),
        mk(
            &[
                ("__name__", "http_requests_total"),
                ("code", "500"),
                ("job", "api"),
            ],
            1,
        ),
        mk(
            &[("__name__", "up"), ("instance", "a:9090"), ("job", "api")],
            2,
        ),
        mk(
            &[("__name__", "up"), ("instance", "b:9090"), ("job", "db")],
            0,
        ),
    ]
}

#[test]
fn index_round_trips_through_reader() {
    let series = sample_series();
    let bytes = encode_index(&series).unwrap();
    // Header and TOC framing.
    assert_eq!(&bytes[..5], &[0xba, 0xaa, 0xd7, 0x00, 2]);
    let ix = BlockIndex::parse(bytes).unwrap();
    let syms: Vec<&str> = ix.symbols().collect();
    let mut want: Vec<&str> = series
        .iter()
        .flat_map(|s| s.labels.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]))
        .collect();
    want.sort();
    want.dedup();
    assert_eq!(syms, want);

    let all = ix.postings_list_all();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|id| (*id as u64 * 16) >= ix.toc().series));
    for (id, s) in all.iter().zip(&series) {
        let e = ix.series(*id).unwrap();
        assert_eq!(e.labels, s.labels);
        assert_eq!(e.chunks, s.chunks);
    }

    assert_eq!(
        ix.label_names(),
        vec!["__name__", "code", "instance", "job"]
    );
    assert_eq!(ix.label_values("job"), vec!["api", "db"]);
    let sel = |ms: &[Matcher]| postings_for_matchers(&ix, ms);
    assert_eq!(
        sel(&[m(MatchType::Equal, "__name__", "up")]),
        all[2..].to_vec()
    );
    assert_eq!(
        sel(&[
            m(MatchType::Equal, "job", "api"),
            m(MatchType::NotEqual, "code", "200")
        ]),
        vec![all[1], all[2]]
    );
    assert_eq!(
        sel(&[m(MatchType::Regexp, "instance", "a.*|b:9090")]),
        all[2..].to_vec()
    );
    assert_eq!(sel(&[m(MatchType::Equal, "code", "")]), all[2..].to_vec());
    assert_eq!(sel(&[m(MatchType::Regexp, "job", ".+")]), all.clone());
    assert!(sel(&[m(MatchType::Equal, "nope", "x")]).is_empty());
}

impl BlockIndex {
    fn postings_list_all(&self) -> Vec<u32> {
        let mut p = self.all_postings();
        crate::index::expand(&mut *p)
    }
}

#[test]
fn index_sections_carry_valid_crcs() {
    let bytes = encode_index(&sample_series()).unwrap();
    let ix = BlockIndex::parse(bytes.clone()).unwrap();
    let toc = ix.toc();
    // Every length-framed section checks out with its CRC.
    for off in [toc.symbols, toc.label_indices_table, toc.postings_table] {
        Decbuf::at_crc32(&bytes, off as usize, "section").unwrap();
    }
    // Label offset table lists the four names; the first label index holds
    // one name with two values (`__name__`), 4-byte aligned.
    let mut d = Decbuf::at_crc32(&bytes, toc.label_indices_table as usize, "lot").unwrap();
    assert_eq!(d.be32().unwrap(), 4);
    assert_eq!(
        (d.uvarint().unwrap(), d.uvarint_str().unwrap()),
        (1, "__name__")
    );
    let off = d.uvarint().unwrap();
    assert!(off >= toc.label_indices && off.is_multiple_of(4));
    let mut d = Decbuf::at_crc32(&bytes, off as usize, "label index").unwrap();
    assert_eq!((d.be32().unwrap(), d.be32().unwrap()), (1, 2));
    // The all-postings list comes first in the postings section.
    let mut d = Decbuf::at_crc32(&bytes, toc.postings_table as usize, "pot").unwrap();
    assert_eq!(d.be32().unwrap(), 1 + 8);
    assert_eq!(
        (
            d.uvarint().unwrap(),
            d.uvarint_str().unwrap(),
            d.uvarint_str().unwrap(),
            d.uvarint().unwrap()
        ),
        (2, "", "", toc.postings)
    );
}

#[test]
fn corrupt_index_is_an_error() {
    let bytes = encode_index(&sample_series()).unwrap();
    let toc = BlockIndex::parse(bytes.clone()).unwrap().toc();
    let flip = |at: usize| {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        b
    };
    let err = |b: Vec<u8>| BlockIndex::parse(b).unwrap_err().to_string();
    assert!(err(flip(0)).contains("magic"));
    assert!(err(flip(bytes.len() - 10)).contains("TOC"));
    assert!(err(flip(toc.symbols as usize + 9)).contains("symbol table"));
    assert!(err(flip(toc.postings_table as usize + 9)).contains("postings offset table"));
    assert!(err(bytes[..30].to_vec()).contains("too short"));
    // Damage to a series or a postings list is found when it is read.
    let ix = BlockIndex::parse(flip(toc.series as usize + 16 + 3)).unwrap();
    let first = ix.postings_list_all()[0];
    assert!(ix
        .series(first)
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    let ix = BlockIndex::parse(flip(toc.postings as usize + 9)).unwrap();
    let mut p = ix.all_postings();
    assert!(!p.next());
    assert!(p.err().unwrap().contains("checksum"));
    assert!(ix.series(1).is_err());
}

#[test]
fn index_without_label_indices_reads() {
    // Newer Prometheus writers leave the label indices out: the TOC then
    // points the label offset table at the postings offset table.
    let mut bytes = encode_index(&sample_series()).unwrap();
    let toc = BlockIndex::parse(bytes.clone()).unwrap().toc();
    let at = bytes.len() - 52;
    bytes[at + 24..at + 32].copy_from_slice(&toc.postings_table.to_be_bytes());
    let sum = super::encoding::crc32c(&bytes[at..at + 48]);
    bytes[at + 48..].copy_from_slice(&sum.to_be_bytes());
    let ix = BlockIndex::parse(bytes).unwrap();
    assert_eq!(ix.label_values("code"), vec!["200", "500"]);
    assert_eq!(
        postings_for_matchers(&ix, &[m(MatchType::Equal, "code", "500")]).len(),
        1
    );
}

fn head_with_samples(tenant: &str, n: i64, step: i64) -> (Head, Vec<Vec<(i64, f64)>>) {
    let h = Head::new(tenant, DEFAULT_CHUNK_RANGE);
    let mut all = Vec::new();
    for (i, job) in ["b", "a", "c"].iter().enumerate() {
        let (s, _) = h.get_or_create(&[("__name__", "m"), ("job", job)]);
        let samples: Vec<(i64, f64)> = (0..n)
            .map(|k| (k * step, (k * (i as i64 + 1)) as f64 / 3.0))
            .collect();
        let mut app = h.appender();
        app.append_series_unchecked(&s, samples.iter().copied());
        app.commit();
        all.push(samples);
    }
    (h, all)
}

#[test]
fn block_from_head_reads_back_exactly() {
    let dir = TempDir::new();
    // 15s scrapes over 3h: the block [0, 2h) takes the first 480 samples.
    let (h, all) = head_with_samples("tenant-1", 720, 15_000);
    let meta = write_block(
        &h,
        dir.path(),
        0,
        DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        meta.stats,
        BlockStats {
            num_samples: 3 * 480,
            num_float_samples: 3 * 480,
            num_histogram_samples: 0,
            num_series: 3,
            num_chunks: 12
        }
    );
    let bdir = dir.path().join(meta.ulid.to_string());
    assert!(!dir.path().join(format!("{}.tmp", meta.ulid)).exists());
    for f in ["meta.json", "index", "tombstones", "chunks/000001"] {
        assert!(bdir.join(f).is_file(), "{f} missing");
    }
    let b = Block::open(&bdir).unwrap();
    assert_eq!(b.meta(), &meta);
    assert_eq!(
        b.meta().thanos_labels,
        vec![("__org_id__".to_string(), "tenant-1".to_string())]
    );
    let sel = b.select_samples(&[], i64::MIN, i64::MAX, 0).unwrap();
    assert_eq!(
        labels_json(&sel.labels),
        r#"[{"__name__":"m","job":"a"},{"__name__":"m","job":"b"},{"__name__":"m","job":"c"}]"#
    );
    assert_eq!(sel.offsets, vec![0, 480, 960, 1440]);
    // Series a is the second one appended.
    let want_a: Vec<f64> = all[1][..480].iter().map(|s| s.1).collect();
    assert_eq!(&sel.values[..480], &want_a[..]);
    // Same answer as the head for the same range.
    let ms = vec![m(MatchType::Regexp, "job", "a|c")];
    let from_head = h
        .select_samples(std::slice::from_ref(&ms), 100_000, 5_000_000, 0)
        .unwrap();
    assert_eq!(
        b.select_samples(&ms, 100_000, 5_000_000, 0).unwrap(),
        from_head
    );
    // The sample limit is the head's, with its message.
    let e = b.select_samples(&[], i64::MIN, i64::MAX, 1000).unwrap_err();
    assert_eq!(e.to_string(), crate::head::TOO_MANY_SAMPLES_MESSAGE);
    assert!(b.select_samples(&[], i64::MIN, i64::MAX, 1440).is_ok());
    // select_chunks hands out the stored chunks whole.
    let sc = b
        .select_chunks(&[m(MatchType::Equal, "job", "b")], 1_800_000, 1_800_000)
        .unwrap();
    assert_eq!(labels_json(&sc.labels), r#"[{"__name__":"m","job":"b"}]"#);
    assert_eq!(
        (sc.series_offsets.clone(), sc.encodings.clone()),
        (vec![0, 1], vec![ENCODING_XOR])
    );
    assert_eq!(
        (sc.min_times[0], sc.max_times[0]),
        (1_800_000.0, 3_585_000.0)
    );
    let (ts, _) =
        decode_all(&sc.data[sc.data_offsets[0] as usize..sc.data_offsets[1] as usize]).unwrap();
    assert_eq!(ts.len(), 120);
    // Chunks in the block are the head's chunks, byte for byte.
    let s = h.select_series(&[], 0, 0)[0].clone();
    let head_chunks: Vec<Vec<u8>> = s
        .state
        .lock()
        .chunks
        .chunk_bytes()
        .take(4)
        .map(|c| c.2.to_vec())
        .collect();
    let id = b.select_series(&[m(MatchType::Equal, "job", "a")]).unwrap()[0];
    let e = b.index().series(id).unwrap();
    let block_chunks: Vec<Vec<u8>> = e
        .chunks
        .iter()
        .map(|c| b.chunks().chunk(c.chunk_ref).unwrap().1.to_vec())
        .collect();
    assert_eq!(block_chunks, head_chunks);
    // Nothing in range: no block, no directory.
    assert!(write_block(
        &h,
        dir.path(),
        100 * DEFAULT_CHUNK_RANGE,
        101 * DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default()
    )
    .unwrap()
    .is_none());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn unaligned_range_reencodes_straddling_chunks() {
    let dir = TempDir::new();
    let (h, all) = head_with_samples("t", 720, 15_000);
    // [1h, 2h30m): cuts the chunk [45m, 1h15m) and the one of [2h, 2h30m) in two.
    let (mint, maxt) = (3_600_000 + 7_000, 9_000_000);
    let meta = write_block(&h, dir.path(), mint, maxt, &BlockWriteOptions::default())
        .unwrap()
        .unwrap();
    let b = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
    let sel = b
        .select_samples(&[m(MatchType::Equal, "job", "c")], i64::MIN, i64::MAX, 0)
        .unwrap();
    let want: Vec<(i64, f64)> = all[2]
        .iter()
        .copied()
        .filter(|(t, _)| *t >= mint && *t < maxt)
        .collect();
    let got: Vec<(i64, f64)> = sel
        .timestamps
        .iter()
        .zip(&sel.values)
        .map(|(t, v)| (*t as i64, *v))
        .collect();
    assert_eq!(got, want);
    assert_eq!(meta.stats.num_samples, 3 * want.len() as u64);
    // Every chunk's metadata matches its content.
    let id = b.select_series(&[m(MatchType::Equal, "job", "c")]).unwrap()[0];
    for c in b.index().series(id).unwrap().chunks {
        let (ts, _) = decode_all(&b.chunks().chunk(c.chunk_ref).unwrap().1).unwrap();
        assert_eq!((ts[0], *ts.last().unwrap()), (c.min_t, c.max_t));
    }
}

#[test]
fn truncated_chunk_file_is_an_error() {
    let dir = TempDir::new();
    let (h, _) = head_with_samples("t", 480, 15_000);
    let meta = write_block(
        &h,
        dir.path(),
        0,
        DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .unwrap()
    .unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let seg = bdir.join("chunks/000001");
    let len = std::fs::metadata(&seg).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 100).unwrap();
    drop(f);
    let b = Block::open(&bdir).unwrap();
    let e = b
        .select_samples(&[], i64::MIN, i64::MAX, 0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("truncated chunk file") && e.contains("000001"),
        "{e}"
    );
    // A segment shorter than its header fails at open.
    std::fs::write(&seg, [0x85, 0xbd]).unwrap();
    let e = Block::open(&bdir).unwrap_err().to_string();
    assert!(e.contains("shorter than the 8-byte header"), "{e}");
    // A flipped byte inside a chunk fails its CRC.
    std::fs::write(&seg, {
        let mut w = ChunkWriter::new(&dir.path().join("x"), 1 << 20).unwrap();
        w.write(ENCODING_XOR, &[0, 1, 2, 3]).unwrap();
        let p = w.finish().unwrap();
        let mut b = std::fs::read(&p[0]).unwrap();
        b[SEGMENT_HEADER_SIZE + 3] ^= 1;
        b
    })
    .unwrap();
    let r = ChunkReader::open(&bdir.join("chunks")).unwrap();
    assert!(r
        .chunk(chunk_ref(0, 8))
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    assert!(r
        .chunk(chunk_ref(3, 8))
        .unwrap_err()
        .to_string()
        .contains("does not exist"));
    let e = r.chunk(chunk_ref(0, 4)).unwrap_err().to_string();
    assert!(e.contains("outside segment"), "{e}");
    // The same checks on segments held in memory.
    let mut w = ChunkWriter::new(&dir.path().join("y"), 1 << 20).unwrap();
    let a = w.write(ENCODING_XOR, &[9; 300]).unwrap();
    let b2 = w.write(ENCODING_XOR, &[7; 3]).unwrap();
    let seg = std::fs::read(&w.finish().unwrap()[0]).unwrap();
    let r = ChunkReader::from_segments(vec![seg.clone()]).unwrap();
    assert_eq!(r.chunk(a).unwrap(), (ENCODING_XOR, vec![9u8; 300].into()));
    assert_eq!(r.chunk(b2).unwrap().1.as_ref(), &[7, 7, 7]);
    let r = ChunkReader::from_segments(vec![seg[..seg.len() - 2].to_vec()]).unwrap();
    let e = r.chunk(b2).unwrap_err().to_string();
    assert!(e.contains("truncated chunk file"), "{e}");
    let e = ChunkReader::from_segments(vec![vec![1, 2, 3, 4, 1, 0, 0, 0]]).unwrap_err();
    assert!(e.to_string().contains("magic"));
}

#[test]
fn corrupt_index_file_fails_open_or_read() {
    let dir = TempDir::new();
    let (h, _) = head_with_samples("t", 100, 15_000);
    let meta = write_block(
        &h,
        dir.path(),
        0,
        DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .unwrap()
    .unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let path = bdir.join("index");
    let mut b = std::fs::read(&path).unwrap();
    let n = b.len();
    b[n - 20] ^= 0xff;
    std::fs::write(&path, &b).unwrap();
    let e = Block::open(&bdir).unwrap_err().to_string();
    assert!(e.contains("index") && e.contains("checksum"), "{e}");
}

#[test]
fn segments_are_cut_at_the_size_limit() {
    let dir = TempDir::new();
    let (h, _) = head_with_samples("t", 480, 15_000);
    let opts = BlockWriteOptions {
        segment_size: 600,
        ..Default::default()
    };
    let meta = write_block(&h, dir.path(), 0, DEFAULT_CHUNK_RANGE, &opts)
        .unwrap()
        .unwrap();
    let segs: Vec<&str> = meta
        .files
        .iter()
        .map(|f| f.rel_path.as_str())
        .filter(|p| p.starts_with("chunks/"))
        .collect();
    assert!(segs.len() > 2, "{segs:?}");
    assert_eq!(segs[1], "chunks/000002");
    let b = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
    assert_eq!(b.chunks().num_segments(), segs.len());
    let sel = b.select_samples(&[], i64::MIN, i64::MAX, 0).unwrap();
    assert_eq!(sel.timestamps.len(), 3 * 480);
}

#[test]
fn meta_json_round_trips() {
    let u = Ulid::new();
    let meta = BlockMeta {
        ulid: u,
        min_time: 0,
        max_time: 7_200_000,
        stats: BlockStats {
            num_samples: 10,
            num_series: 2,
            num_chunks: 3,
            ..BlockStats::default()
        },
        compaction_level: 1,
        compaction_sources: vec![u],
        compaction_parents: Vec::new(),
        thanos_labels: vec![("__org_id__".into(), "team \"a\"".into())],
        thanos_source: "ingester".into(),
        downsample_resolution: 0,
        files: vec![
            meta::BlockFile {
                rel_path: "chunks/000001".into(),
                size_bytes: Some(100),
            },
            meta::BlockFile {
                rel_path: "meta.json".into(),
                size_bytes: None,
            },
        ],
    };
    let text = meta.to_json();
    assert!(text.starts_with("{\n\t\"ulid\": \""));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["thanos"]["files"][1],
        serde_json::json!({"rel_path": "meta.json"})
    );
    assert_eq!(v["compaction"]["sources"][0], u.to_string());
    assert_eq!(BlockMeta::parse(&text).unwrap(), meta);
    assert!(BlockMeta::parse("{\"version\": 2}")
        .unwrap_err()
        .to_string()
        .contains("version"));
}

/// read_everything opens a block and reads all of it every way we can,
/// returning the first error (if any).
fn read_everything(dir: &Path) -> Result<usize, BlockError> {
    let b = Block::open(dir)?;
    let n = b
        .select_samples(&[], i64::MIN, i64::MAX, 0)?
        .timestamps
        .len();
    b.select_samples(&[m(MatchType::Regexp, "job", "a|c")], 0, i64::MAX, 0)?;
    b.select_chunks(&[m(MatchType::NotEqual, "job", "b")], i64::MIN, i64::MAX)?;
    let _ = b.index().label_values("job");
    Ok(n)
}

#[test]
fn damaged_files_never_panic() {
    let dir = TempDir::new();
    let (h, _) = head_with_samples("t", 300, 15_000);
    let meta = write_block(
        &h,
        dir.path(),
        0,
        DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .unwrap()
    .unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    assert_eq!(read_everything(&bdir).unwrap(), 900);
    for file in ["index", "chunks/000001", "tombstones"] {
        let path = bdir.join(file);
        let good = std::fs::read(&path).unwrap();
        let mut damaged: Vec<Vec<u8>> = Vec::new();
        // Every byte of small files; a spread of bytes of large ones.
        let step = (good.len() / 500).max(1);
        for i in (0..good.len()).step_by(step) {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= mask;
                damaged.push(b);
            }
        }
        for n in (0..good.len()).step_by(7) {
            damaged.push(good[..n].to_vec());
        }
        let mut errors = 0;
        for b in &damaged {
            std::fs::write(&path, b).unwrap();
            let r = std::panic::catch_unwind(|| read_everything(&bdir).map_err(|e| e.to_string()));
            match r {
                Err(_) => panic!("{file}: reading a damaged file panicked"),
                Ok(Err(_)) => errors += 1,
                // Flips in zero padding between index sections and in the
                // segment header's padding go unseen, as in Prometheus.
                Ok(Ok(_)) => {}
            }
        }
        assert!(
            errors * 10 > damaged.len() * 9,
            "{file}: only {errors} of {} damaged copies detected",
            damaged.len()
        );
        std::fs::write(&path, &good).unwrap();
    }
}

/// series_chunks, the one merge of the head's cut and the compactor: a
/// chunk inside the range and alone is copied as stored; overlapping
/// chunks are merged with the lower source winning a tie, cut to
/// [mint, maxt) and stripped of deleted samples.
#[test]
fn series_chunks_copy_merge_cut_and_delete() {
    use crate::chunkenc::recode::{decode_chunk, encode, SampleValue};
    use std::borrow::Cow;
    let chunk = |source: usize, ts: std::ops::Range<i64>, v: f64, deleted: Vec<(i64, i64)>| {
        let vals: Vec<(i64, SampleValue)> =
            ts.map(|t| (t, SampleValue::Float(v.to_bits()))).collect();
        let c = encode(vals.iter().map(|(t, v)| (*t, v))).remove(0);
        SourceChunk {
            source,
            min_t: c.min_t,
            max_t: c.max_t,
            encoding: c.encoding,
            data: Cow::Owned(c.data),
            deleted,
        }
    };
    let samples = |out: &[OwnedChunk]| {
        let mut all = Vec::new();
        for (_, _, enc, data) in out {
            decode_chunk(*enc, data, |t, v| {
                if let SampleValue::Float(bits) = v {
                    all.push((t, f64::from_bits(bits)));
                }
            })
            .unwrap();
        }
        all
    };
    // Alone and inside: the stored bytes.
    let alone = chunk(0, 0..10, 1.0, vec![]);
    let bytes = alone.data.to_vec();
    let out = series_chunks(vec![alone], 0, 100).unwrap();
    assert_eq!(out, vec![(0, 9, ENCODING_XOR, bytes)]);
    // Overlapping, given in any order: source 0 wins 5..10; source 1 fills
    // 10..15; 12 is deleted from source 1; 15.. is past maxt.
    let out = series_chunks(
        vec![
            chunk(1, 5..20, 2.0, vec![(12, 12)]),
            chunk(0, 0..10, 1.0, vec![]),
        ],
        0,
        15,
    )
    .unwrap();
    let want: Vec<(i64, f64)> = (0..15)
        .filter(|&t| t != 12)
        .map(|t| (t, if t < 10 { 1.0 } else { 2.0 }))
        .collect();
    assert_eq!(samples(&out), want);
    // Straddling mint: cut to the range.
    let out = series_chunks(vec![chunk(0, 0..10, 1.0, vec![])], 4, 100).unwrap();
    assert_eq!(samples(&out), (4..10).map(|t| (t, 1.0)).collect::<Vec<_>>());
    assert!(series_chunks(vec![chunk(0, 0..10, 1.0, vec![])], 10, 20)
        .unwrap()
        .is_empty());
}

#[test]
fn bucket_block_reads_as_the_local_block() {
    use super::remote::{set_bucket, tests::MemSource};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    let dir = TempDir::new();
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    for i in 0..3000usize {
        let id = format!("{i:05}");
        let (s, _) = h.get_or_create(&[
            ("__name__", "m"),
            ("i", &id),
            ("job", ["a", "b", "c"][i % 3]),
        ]);
        let mut app = h.appender();
        app.append_series_unchecked(&s, (0..240i64).map(|k| (k * 15_000, (i as i64 * k) as f64)));
        app.commit();
    }
    let opts = BlockWriteOptions {
        segment_size: 256 * 1024,
        ..Default::default()
    };
    let meta = write_block(&h, dir.path(), 0, DEFAULT_CHUNK_RANGE, &opts)
        .unwrap()
        .unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    let key = format!("t/{}", meta.ulid);
    let src = Arc::new(MemSource::default());
    let index = std::fs::read(bdir.join("index")).unwrap();
    let index_size = index.len();
    src.objects.lock().insert(format!("{key}/index"), index);
    let mut sizes = Vec::new();
    for i in 0.. {
        let name = format!("chunks/{}", chunks::segment_name(i));
        let Ok(b) = std::fs::read(bdir.join(&name)) else {
            break;
        };
        sizes.push(b.len().to_string());
        src.objects.lock().insert(format!("{key}/{name}"), b);
    }
    assert!(sizes.len() > 2, "{sizes:?}");
    let sync = dir.path().join("sync");
    std::fs::create_dir_all(&sync).unwrap();
    std::fs::copy(bdir.join("meta.json"), sync.join("meta.json")).unwrap();
    std::fs::write(
        sync.join(BUCKET_BLOCK_FILE),
        format!(
            r#"{{"key":"{key}","index":{index_size},"chunks":[{}]}}"#,
            sizes.join(",")
        ),
    )
    .unwrap();
    set_bucket(Some(src.clone()));
    let local = Block::open(&bdir).unwrap();
    let remote = Block::open(&sync).unwrap();
    assert!(sync.join("index-header").is_file());
    let opened = src.bytes.load(Ordering::Relaxed);
    // Opening fetches the index's tables (page by page), nothing more.
    let header = std::fs::metadata(sync.join("index-header")).unwrap().len();
    assert!(
        opened <= header + 4 * super::remote::PAGE_SIZE as u64 && opened < index_size as u64 / 2,
        "opening fetched {opened} of {index_size} index bytes for a {header}-byte index-header"
    );
    let sets = [
        vec![],
        vec![m(MatchType::Equal, "job", "b")],
        vec![m(MatchType::Regexp, "i", "0001.*")],
        vec![m(MatchType::Equal, "i", "02999")],
        vec![m(MatchType::Equal, "i", "none")],
    ];
    for ms in &sets {
        assert_eq!(
            remote.select_samples(ms, 100_000, 2_000_000, 0).unwrap(),
            local.select_samples(ms, 100_000, 2_000_000, 0).unwrap(),
            "{ms:?}"
        );
        assert_eq!(
            remote.select_chunks(ms, i64::MIN, i64::MAX).unwrap(),
            local.select_chunks(ms, i64::MIN, i64::MAX).unwrap(),
            "{ms:?}"
        );
    }
    // One series reads a few pages, not the block.
    let before = src.bytes.load(Ordering::Relaxed);
    let fresh = Block::open(&sync).unwrap();
    assert_eq!(
        src.bytes.load(Ordering::Relaxed),
        before,
        "a reopen reads the local index-header"
    );
    let one = fresh
        .select_samples(&sets[3], i64::MIN, i64::MAX, 0)
        .unwrap();
    assert_eq!(one.timestamps.len(), 240);
    let read = src.bytes.load(Ordering::Relaxed) - before;
    let total: u64 =
        index_size as u64 + sizes.iter().map(|s| s.parse::<u64>().unwrap()).sum::<u64>();
    assert!(
        read <= 4 * super::remote::PAGE_SIZE as u64,
        "one series read {read} of {total} bytes"
    );
    // A damaged index-header is rebuilt from the bucket.
    std::fs::write(sync.join("index-header"), b"garbage").unwrap();
    let rebuilt = Block::open(&sync).unwrap();
    assert_eq!(
        rebuilt
            .select_samples(&sets[1], i64::MIN, i64::MAX, 0)
            .unwrap(),
        local
            .select_samples(&sets[1], i64::MIN, i64::MAX, 0)
            .unwrap()
    );
    // A chunk segment gone from the bucket is an error naming its key.
    src.objects.lock().remove(&format!("{key}/chunks/000002"));
    let gone = Block::open(&sync).unwrap();
    let e = gone
        .select_samples(&[], i64::MIN, i64::MAX, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("chunks/000002"), "{e}");
}

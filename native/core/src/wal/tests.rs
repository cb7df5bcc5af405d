use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::reader::{Next, SegmentReader};
use super::record::{self, SamplesEncoder, SeriesEncoder};
use super::replay::{replay_file, ReplayState};
use super::*;
use crate::head::{Head, DEFAULT_CHUNK_RANGE};
use crate::ingest::{ingest_write_request_logged, IngestLimits};

/// TempDir is a directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "wal-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// rng is a small fixed-seed xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn record_of(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

/// read_all reads every record of a segment file; also returns the
/// corruption, if any.
fn read_all(path: &Path) -> (Vec<Vec<u8>>, Option<Corruption>) {
    let mut r = SegmentReader::new(fs::File::open(path).unwrap());
    let mut out = Vec::new();
    loop {
        match r.next_record().unwrap() {
            Next::Record(rec) => out.push(rec.to_vec()),
            Next::End => return (out, None),
            Next::Corrupt(c) => return (out, Some(c)),
        }
    }
}

fn read_dir_records(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in list_segments(dir).unwrap() {
        let (recs, c) = read_all(&segment_path(dir, i));
        assert_eq!(c, None, "segment {i}");
        out.extend(recs);
    }
    out
}

#[test]
fn varints_like_go() {
    let mut b = Vec::new();
    record::put_varint(&mut b, -1);
    record::put_varint(&mut b, 1);
    record::put_varint(&mut b, i64::MIN);
    record::put_uvarint(&mut b, 300);
    assert_eq!(&b[..2], &[0x01, 0x02]);
    let mut d = record::Decbuf::new(&b);
    assert_eq!(d.varint().unwrap(), -1);
    assert_eq!(d.varint().unwrap(), 1);
    assert_eq!(d.varint().unwrap(), i64::MIN);
    assert_eq!(d.uvarint().unwrap(), 300);
    assert!(d.is_empty());
}

#[test]
fn series_record_round_trip() {
    let mut enc = SeriesEncoder::default();
    let a: Vec<(String, String)> = vec![
        ("__name__".into(), "up".into()),
        ("job".into(), "a\u{e9}".into()),
    ];
    enc.add(1, &a);
    enc.add(u64::MAX, &[("x", "")]);
    enc.add(7, &Vec::<(String, String)>::new());
    let recs = enc.finish();
    assert_eq!(recs.len(), 1);
    // Layout: type, BE ref, uvarint count, uvarint-prefixed strings.
    assert_eq!(&recs[0][..11], &[1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 8]);
    let mut got = Vec::new();
    let n = record::decode_series(&recs[0], |r, l| {
        got.push((
            r,
            l.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        ))
    })
    .unwrap();
    assert_eq!(n, 3);
    assert_eq!(got[0], (1, a));
    assert_eq!(got[1], (u64::MAX, vec![("x".to_string(), String::new())]));
    assert_eq!(got[2], (7, vec![]));
    assert!(record::decode_series(&recs[0][..recs[0].len() - 1], |_, _| {}).is_err());
}

#[test]
fn samples_record_round_trip() {
    let mut rng = Rng(0x5eed);
    let mut want = Vec::new();
    let mut enc = SamplesEncoder::default();
    let specials = [
        f64::NAN,
        f64::INFINITY,
        -0.0,
        f64::from_bits(0x7ff0_0000_0000_0002),
    ];
    for i in 0..(record::MAX_SAMPLES_PER_RECORD * 2 + 17) {
        let r = 1 + rng.below(1000);
        let t = 1_700_000_000_000 + rng.below(7_200_000) as i64 - 3_600_000;
        let v = if i % 97 == 0 {
            specials[i % specials.len()]
        } else {
            f64::from_bits(rng.next())
        };
        enc.push(r, t, v);
        want.push((r, t, v.to_bits()));
    }
    let recs = enc.finish();
    assert_eq!(recs.len(), 3);
    // The first sample's ref and time, big-endian, after the type byte.
    assert_eq!(recs[0][0], record::SAMPLES);
    assert_eq!(
        u64::from_be_bytes(recs[0][1..9].try_into().unwrap()),
        want[0].0
    );
    assert_eq!(
        i64::from_be_bytes(recs[0][9..17].try_into().unwrap()),
        want[0].1
    );
    let mut got = Vec::new();
    for rec in &recs {
        record::decode_samples(rec, |r, t, v| got.push((r, t, v.to_bits()))).unwrap();
    }
    assert_eq!(got, want);
    assert_eq!(
        record::decode_samples(&[record::SAMPLES], |_, _, _| {}),
        Ok(0)
    );
}

/// A writer with `pages`-page segments logging records of awkward sizes:
/// every record comes back, in order, and none crosses a segment.
#[test]
fn fragmentation_across_pages_and_segments() {
    let tmp = TempDir::new("frag");
    let dir = tmp.0.join("wal");
    let pages = 3u64;
    let mut w = SegmentWriter::new(&dir, pages * PAGE_SIZE as u64, false, 0);
    let room = PAGE_SIZE - HEADER_SIZE;
    let sizes = [
        1,
        room,
        room - 1,
        room + 1,
        PAGE_SIZE,
        2 * room,
        2 * room + 5,
        100,
        room - 8,
        1,
        3 * room,
        10,
        17,
        room - 7,
        5000,
    ];
    let mut want = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let rec = record_of(n, i as u8);
        want.push(rec.clone());
        w.log(&[rec]).unwrap();
    }
    // A batch of several records in one write.
    let batch: Vec<Vec<u8>> = (0..40).map(|i| record_of(1000 + i * 37, i as u8)).collect();
    want.extend(batch.iter().cloned());
    w.log(&batch).unwrap();
    w.close_segment().unwrap();

    let segs = list_segments(&dir).unwrap();
    assert!(segs.len() > 3, "{segs:?}");
    for &i in &segs {
        let len = fs::metadata(segment_path(&dir, i)).unwrap().len();
        // Only a record larger than a segment may overflow one.
        assert!(len <= pages * PAGE_SIZE as u64, "segment {i}: {len}");
        let (recs, c) = read_all(&segment_path(&dir, i));
        assert_eq!(c, None);
        assert!(!recs.is_empty());
    }
    assert_eq!(read_dir_records(&dir), want);
    assert_eq!(segment_name(7), "00000007");
}

#[test]
fn fragment_types_and_padding() {
    let tmp = TempDir::new("types");
    let dir = tmp.0.join("wal");
    let mut w = SegmentWriter::new(&dir, DEFAULT_SEGMENT_SIZE, false, 0);
    // Leaves 6 bytes in the first page: they are padded.
    let first = PAGE_SIZE - HEADER_SIZE - 6;
    w.log(&[record_of(first, 1)]).unwrap();
    w.log(&[record_of(PAGE_SIZE, 2)]).unwrap();
    w.close_segment().unwrap();
    let b = fs::read(segment_path(&dir, 0)).unwrap();
    assert_eq!(b[0], FULL);
    let pad = HEADER_SIZE + first;
    assert_eq!(&b[pad..PAGE_SIZE], &[0u8; 6]);
    // The second record: a FIRST fragment filling page 2, LAST in page 3.
    assert_eq!(b[PAGE_SIZE], FIRST);
    assert_eq!(
        u16::from_be_bytes([b[PAGE_SIZE + 1], b[PAGE_SIZE + 2]]) as usize,
        PAGE_SIZE - HEADER_SIZE
    );
    assert_eq!(b[2 * PAGE_SIZE], LAST);
    assert_eq!(b.len(), 2 * PAGE_SIZE + HEADER_SIZE * 2);
    let crc = u32::from_be_bytes(b[3..7].try_into().unwrap());
    assert_eq!(crc, crc32c::crc32c(&b[7..7 + first]));
}

/// read_bytes reads every record of an in-memory segment.
fn read_bytes(b: &[u8]) -> (Vec<Vec<u8>>, Option<Corruption>) {
    let mut r = SegmentReader::new(b);
    let mut out = Vec::new();
    loop {
        match r.next_record().unwrap() {
            Next::Record(rec) => out.push(rec.to_vec()),
            Next::End => return (out, None),
            Next::Corrupt(c) => return (out, Some(c)),
        }
    }
}

/// Cutting the segment at every byte offset inside the last record keeps
/// exactly the records before it; so does flipping any of its bytes.
#[test]
fn corrupt_tail_is_cut_at_the_last_good_record() {
    let tmp = TempDir::new("tail");
    let dir = tmp.0.join("wal");
    let mut w = SegmentWriter::new(&dir, DEFAULT_SEGMENT_SIZE, false, 0);
    // Records that leave 1000 bytes in the first page, so that the last
    // record starts in the middle of a page and spans its end.
    let want = vec![
        record_of(500, 1),
        record_of(PAGE_SIZE - (HEADER_SIZE + 500) - HEADER_SIZE - 1000, 2),
    ];
    for rec in &want {
        w.log(&[rec]).unwrap();
    }
    let start = w.segment().unwrap().1;
    assert_eq!(start, PAGE_SIZE as u64 - 1000);
    w.log(&[record_of(2500, 99)]).unwrap();
    let end = w.segment().unwrap().1;
    w.close_segment().unwrap();
    let full = fs::read(segment_path(&dir, 0)).unwrap();
    assert_eq!(full.len() as u64, end);

    let (all, c) = read_bytes(&full);
    assert_eq!(c, None);
    assert_eq!(all.len(), 3);

    for cut in start..end {
        let (recs, c) = read_bytes(&full[..cut as usize]);
        assert_eq!(recs, want, "cut at {cut}");
        if cut == start {
            assert_eq!(c, None);
        } else {
            assert_eq!(c.expect("corruption").good_offset, start, "cut at {cut}");
        }
    }
    let mut bad = full.clone();
    for at in start..end {
        bad[at as usize] ^= 0x40;
        let (recs, c) = read_bytes(&bad);
        assert_eq!(recs, want, "flip at {at}");
        assert_eq!(c.expect("corruption").good_offset, start, "flip at {at}");
        bad[at as usize] ^= 0x40;
    }
    // Garbage after good records; zeros to the end of a page are fine.
    let mut garbage = full.clone();
    garbage.extend_from_slice(b"\x01\xff\xffgarbage");
    let (recs, c) = read_bytes(&garbage);
    assert_eq!(recs.len(), 3);
    assert_eq!(c.unwrap().good_offset, end);
    let mut zeros = full.clone();
    zeros.resize(zeros.len() + 100, 0);
    assert_eq!(read_bytes(&zeros), (all, None));
}

/// TestSeries is one series of a test request: labels and samples.
type TestSeries<'a> = (Vec<(&'a str, String)>, Vec<(i64, f64)>);

/// body encodes a remote-write WriteRequest.
fn body(series: &[TestSeries<'_>]) -> Vec<u8> {
    crate::remote::test_encode::write_request(series)
}

/// Dump is every series' labels and (time, value bits) samples, by ref.
type Dump = Vec<(Vec<(String, String)>, Vec<(i64, u64)>)>;

fn dump(head: &Head) -> Dump {
    let mut out = Vec::new();
    for s in head.all_series() {
        let st = s.state.lock();
        let mut samples = Vec::new();
        for (_, _, bytes) in st.chunks.chunk_bytes() {
            let (ts, vs) = crate::chunkenc::decode_all(bytes).unwrap();
            samples.extend(ts.into_iter().zip(vs.into_iter().map(f64::to_bits)));
        }
        out.push((s.labels.to_vec(), samples));
    }
    out
}

const NOW: i64 = 1_700_000_000_000;

fn limits() -> IngestLimits {
    IngestLimits {
        now_ms: NOW,
        ..IngestLimits::default()
    }
}

fn opts(dir: &Path, segment_size: u64, sync_mode: SyncMode) -> WalOptions {
    WalOptions {
        dir: dir.to_path_buf(),
        segment_size,
        sync_mode,
        compress: true,
        zstd: false,
    }
}

/// replay_all replays every segment of a tenant into a new head.
fn replay_all(storage: &WalStorage, tenant: &str) -> (Head, Vec<ReplayStats>) {
    let wal = storage.tenant(tenant).unwrap().unwrap();
    let head = Head::new(tenant, DEFAULT_CHUNK_RANGE);
    let mut stats: Vec<ReplayStats> = wal.replay_checkpoint(&head).unwrap().into_iter().collect();
    stats.extend(
        wal.existing_segments()
            .to_vec()
            .into_iter()
            .map(|i| wal.replay_segment(&head, i).unwrap()),
    );
    wal.finish_replay(&head).unwrap();
    (head, stats)
}

/// log_by_hand writes tenant t's first WAL segment by hand in `tmp`
/// (Series records `(ref, metric name)`, then Samples `(ref, t, v)`) and
/// opens a storage on it.
fn log_by_hand(tmp: &TempDir, series: &[(u64, &str)], samples: &[(u64, i64, f64)]) -> WalStorage {
    let mut w = SegmentWriter::new(&tmp.0.join("t").join("wal"), DEFAULT_SEGMENT_SIZE, false, 0);
    let mut se = SeriesEncoder::default();
    for (r, name) in series {
        se.add(*r, &[("__name__", *name)]);
    }
    let mut sa = SamplesEncoder::default();
    for (r, t, v) in samples {
        sa.push(*r, *t, *v);
    }
    let mut recs = se.finish();
    recs.extend(sa.finish());
    w.log(&recs).unwrap();
    w.close_segment().unwrap();
    let s = WalStorage::new();
    s.open(opts(&tmp.0, DEFAULT_SEGMENT_SIZE, SyncMode::None))
        .unwrap();
    s
}

/// Pushes through the ingest path, logged, then replayed into a fresh head,
/// give the same series (same refs) and samples; rejected samples were not
/// logged.
#[test]
fn ingest_then_replay_rebuilds_the_head() {
    let tmp = TempDir::new("replay");
    let storage = WalStorage::new();
    assert!(storage
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap()
        .is_empty());
    let head = Head::new("t1", DEFAULT_CHUNK_RANGE);
    let wal = storage.tenant("t1").unwrap().unwrap();
    let mut rng = Rng(42);
    let mut accepted = 0u64;
    for round in 0..60i64 {
        let mut series = Vec::new();
        for s in 0..(1 + rng.below(20)) {
            let labels = vec![
                ("__name__", format!("m{}", s % 3)),
                ("i", format!("{}", rng.below(50))),
            ];
            let samples = (0..rng.below(30))
                .map(|k| {
                    (
                        NOW - 100_000 + round * 1000 + k as i64,
                        rng.below(1000) as f64,
                    )
                })
                .collect();
            series.push((labels, samples));
        }
        let r = ingest_write_request_logged(&head, Some(&wal), &body(&series), &limits());
        assert!(r.error_status.is_none() || r.error_status == Some(400));
        accepted += u64::from(r.accepted_samples);
    }
    // Rejected (too old) samples are not in the log.
    let old = vec![(
        vec![("__name__", "m0".to_string()), ("i", "1".to_string())],
        vec![(1, 1.0)],
    )];
    let r = ingest_write_request_logged(&head, Some(&wal), &body(&old), &limits());
    assert_eq!(r.accepted_samples, 0);
    assert_eq!(head.stats().samples, accepted);
    wal.close().unwrap();
    let dir = tmp.0.join("t1").join("wal");
    assert!(list_segments(&dir).unwrap().len() > 2);

    let storage2 = WalStorage::new();
    let found = storage2
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].tenant, "t1");
    let (replayed, stats) = replay_all(&storage2, "t1");
    // Full chunks come from the head chunk files, the rest from the WAL.
    let from_files: u64 = stats.iter().map(|s| s.disk_samples).sum();
    assert!(from_files > 0);
    assert_eq!(
        stats.iter().map(|s| s.samples).sum::<u64>() + from_files,
        accepted
    );
    assert_eq!(
        stats.iter().map(|s| s.skipped_samples).sum::<u64>(),
        from_files
    );
    assert!(stats
        .iter()
        .all(|s| s.corruption.is_none() && s.unknown_refs == 0 && s.dropped == 0));
    assert_eq!(dump(&replayed), dump(&head));

    // Pushes after the replay land in a new segment and replay again.
    let wal2 = storage2.tenant("t1").unwrap().unwrap();
    let more = vec![(vec![("__name__", "new".to_string())], vec![(NOW, 5.0)])];
    let r = ingest_write_request_logged(&replayed, Some(&wal2), &body(&more), &limits());
    assert_eq!(r.accepted_samples, 1);
    wal2.close().unwrap();
    let storage3 = WalStorage::new();
    storage3
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (again, _) = replay_all(&storage3, "t1");
    assert_eq!(dump(&again), dump(&replayed));
}

/// ingest_scrapes pushes `n` series scraped every 15 s for `steps` steps
/// from `start` (one request per step).
fn ingest_scrapes(
    head: &Head,
    wal: Option<&TenantWal>,
    n: usize,
    start: i64,
    steps: i64,
    lim: &IngestLimits,
) {
    for step in 0..steps {
        let t = start + step * 15_000;
        let series: Vec<TestSeries<'_>> = (0..n)
            .map(|i| {
                (
                    vec![("__name__", "scraped".to_string()), ("i", i.to_string())],
                    vec![(t, (step * (i as i64 + 1)) as f64 * 0.5)],
                )
            })
            .collect();
        let r = ingest_write_request_logged(head, wal, &body(&series), lim);
        assert_eq!(r.error_status, None, "{:?}", r.error_message);
    }
}

/// scrape_setup opens a storage in `tmp` (small segments) with tenant t1's
/// head and WAL, a 2h-aligned start time and limits that accept 10 h.
fn scrape_setup(tmp: &TempDir) -> (WalStorage, Head, Arc<TenantWal>, i64, IngestLimits) {
    let storage = WalStorage::new();
    storage
        .open(opts(&tmp.0, 4 * PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let head = Head::new("t1", DEFAULT_CHUNK_RANGE);
    let wal = storage.tenant("t1").unwrap().unwrap();
    let base = (NOW / DEFAULT_CHUNK_RANGE) * DEFAULT_CHUNK_RANGE;
    let lim = IngestLimits {
        now_ms: base + 10 * 3_600_000,
        ..IngestLimits::default()
    };
    (storage, head, wal, base, lim)
}

/// The head's full chunks are written to `chunks_head` in Prometheus's head
/// chunk format; a replay takes them from there (same bytes, same refs) and
/// re-encodes only the rest from the WAL, whose replay alone still gives
/// the same head. A torn chunk file loses nothing either.
#[test]
fn head_chunk_files_replace_re_encoding_on_replay() {
    let tmp = TempDir::new("head-chunks");
    let (_storage, head, wal, base, lim) = scrape_setup(&tmp);
    // 300 scrapes: two full 120-sample chunks per series, 60 samples open.
    ingest_scrapes(&head, Some(&wal), 20, base, 300, &lim);
    wal.close().unwrap();
    let chunks_dir = tmp.0.join("t1").join("chunks_head");
    let file = chunks_dir.join("000001");
    let bytes = fs::read(&file).unwrap();
    assert_eq!(&bytes[..5], &[0x01, 0x30, 0xBC, 0x91, 1]);
    let want = dump(&head);

    let reopen = || {
        let s = WalStorage::new();
        s.open(opts(&tmp.0, 4 * PAGE_SIZE as u64, SyncMode::None))
            .unwrap();
        s
    };
    let s2 = reopen();
    let (replayed, stats) = replay_all(&s2, "t1");
    let sum = |f: fn(&ReplayStats) -> u64| stats.iter().map(f).sum::<u64>();
    assert_eq!(sum(|s| s.disk_chunks), 40);
    assert_eq!(sum(|s| s.disk_samples), 20 * 240);
    assert_eq!(sum(|s| s.samples), 20 * 60);
    assert_eq!(sum(|s| s.dropped) + sum(|s| s.unknown_refs), 0);
    assert_eq!(dump(&replayed), want);
    for (a, b) in replayed.all_series().iter().zip(head.all_series().iter()) {
        assert_eq!(a.series_ref, b.series_ref);
        let (x, y) = (a.state.lock(), b.state.lock());
        let cx: Vec<_> = x.chunks.chunk_bytes().collect();
        let cy: Vec<_> = y.chunks.chunk_bytes().collect();
        assert_eq!(cx, cy, "same chunks, same bytes");
    }
    // Appends after the replay go on cutting chunks where they would have.
    let wal2 = s2.tenant("t1").unwrap().unwrap();
    ingest_scrapes(&head, None, 20, base + 300 * 15_000, 100, &lim);
    ingest_scrapes(&replayed, Some(&wal2), 20, base + 300 * 15_000, 100, &lim);
    wal2.close().unwrap();
    assert_eq!(dump(&replayed), dump(&head));
    let want = dump(&head);

    // The WAL alone rebuilds the same head.
    fs::remove_dir_all(&chunks_dir).unwrap();
    let (from_wal, stats) = replay_all(&reopen(), "t1");
    assert_eq!(stats.iter().map(|s| s.disk_chunks).sum::<u64>(), 0);
    assert_eq!(dump(&from_wal), want);

    // That replay wrote the chunks it cut; tear the file's last chunk.
    let files = fs::read_dir(&chunks_dir).unwrap().count();
    assert_eq!(files, 1);
    let file = fs::read_dir(&chunks_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let len = fs::metadata(&file).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let (torn, stats) = replay_all(&reopen(), "t1");
    assert_eq!(stats.iter().map(|s| s.disk_chunks).sum::<u64>(), 20 * 3 - 1);
    assert_eq!(dump(&torn), want);
}

/// A checkpoint deletes the head chunk files first (the WAL then drops the
/// truncated samples); a replay that remaps refs deletes them and writes
/// none until the next checkpoint.
#[test]
fn head_chunk_files_follow_checkpoints_and_remaps() {
    let tmp = TempDir::new("head-chunks-cp");
    let (_storage, head, wal, base, lim) = scrape_setup(&tmp);
    ingest_scrapes(&head, Some(&wal), 5, base, 960, &lim);
    let chunks_dir = tmp.0.join("t1").join("chunks_head");
    assert!(fs::read_dir(&chunks_dir).unwrap().count() > 0);
    head.truncate(base + DEFAULT_CHUNK_RANGE);
    wal.checkpoint(&head).unwrap().unwrap();
    assert_eq!(
        fs::read_dir(&chunks_dir).unwrap().count(),
        0,
        "files deleted by the checkpoint"
    );
    ingest_scrapes(&head, Some(&wal), 5, base + 960 * 15_000, 240, &lim);
    wal.close().unwrap();
    assert_eq!(fs::read_dir(&chunks_dir).unwrap().count(), 1);
    let (replayed, stats) = replay_all(
        &{
            let s = WalStorage::new();
            s.open(opts(&tmp.0, 4 * PAGE_SIZE as u64, SyncMode::None))
                .unwrap();
            s
        },
        "t1",
    );
    assert!(stats.iter().map(|s| s.disk_chunks).sum::<u64>() > 0);
    assert_eq!(dump(&replayed), dump(&head));
    assert_eq!(replayed.min_time(), head.min_time());

    // A log whose refs get remapped: the files go and stay off.
    let tmp = TempDir::new("head-chunks-remap");
    let mut samples: Vec<(u64, i64, f64)> = (0..300).map(|k| (10, NOW + k * 15_000, 1.0)).collect();
    // A sample of a series whose record was lost: the replay is not clean.
    samples.push((12, NOW, 3.0));
    let s = log_by_hand(&tmp, &[(10, "a")], &samples);
    let (h, _) = replay_all(&s, "t");
    let chunks_dir = tmp.0.join("t").join("chunks_head");
    let count = || fs::read_dir(&chunks_dir).map_or(0, |d| d.count());
    assert_eq!(count(), 0);
    let wal = s.tenant("t").unwrap().unwrap();
    let b = body(&[(
        vec![("__name__", "a".to_string())],
        (1..300).map(|k| (NOW + (300 + k) * 15_000, 2.0)).collect(),
    )]);
    let lim = IngestLimits {
        now_ms: NOW + 3 * 3_600_000,
        ..IngestLimits::default()
    };
    assert_eq!(
        ingest_write_request_logged(&h, Some(&wal), &b, &lim).accepted_samples,
        299
    );
    wal.close().unwrap();
    assert_eq!(count(), 0, "no chunks written until a checkpoint");
}

/// A torn last segment is truncated at its last good record during replay;
/// a corrupt middle segment is reported and replay goes on.
#[test]
fn replay_truncates_a_torn_tail_and_skips_a_corrupt_middle() {
    let tmp = TempDir::new("torn");
    let storage = WalStorage::new();
    storage
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let head = Head::new("t", DEFAULT_CHUNK_RANGE);
    let wal = storage.tenant("t").unwrap().unwrap();
    for i in 0..1500i64 {
        let b = body(&[(
            vec![("__name__", format!("s{}", i % 7))],
            vec![(NOW + i, i as f64)],
        )]);
        assert_eq!(
            ingest_write_request_logged(&head, Some(&wal), &b, &limits()).accepted_samples,
            1
        );
    }
    wal.close().unwrap();
    let dir = tmp.0.join("t").join("wal");
    let segs = list_segments(&dir).unwrap();
    assert!(segs.len() >= 2);
    let last = segment_path(&dir, *segs.last().unwrap());
    let len = fs::metadata(&last).unwrap().len();
    let mut f = fs::OpenOptions::new().append(true).open(&last).unwrap();
    std::io::Write::write_all(&mut f, b"\x02\x00\x20torn").unwrap();
    drop(f);

    let s2 = WalStorage::new();
    s2.open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (h2, stats) = replay_all(&s2, "t");
    let tail = stats.last().unwrap();
    assert!(tail.corruption.is_some());
    assert_eq!(tail.truncated_bytes, 7);
    assert_eq!(fs::metadata(&last).unwrap().len(), len);
    assert_eq!(dump(&h2), dump(&head));

    // Flip a byte in the middle of the first segment.
    let first = segment_path(&dir, segs[0]);
    let mut b = fs::read(&first).unwrap();
    b[1000] ^= 0xff;
    fs::write(&first, &b).unwrap();
    let s3 = WalStorage::new();
    s3.open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (h3, stats) = replay_all(&s3, "t");
    assert!(stats[0].corruption.is_some());
    assert_eq!(stats[0].truncated_bytes, 0);
    assert!(stats[1..].iter().all(|s| s.corruption.is_none()));
    let total: u64 = stats.iter().map(|s| s.samples).sum();
    assert!(total > 500 && total < 1500, "{total}");
    assert_eq!(h3.num_series(), 7);
    // Refs matched (every series was declared in segment 0's first page).
    assert_eq!(dump(&h3)[0].0, dump(&head)[0].0);
}

/// When replay had to remap refs, the series are logged again so that the
/// next replay resolves samples logged afterwards with the new refs.
#[test]
fn remapped_refs_are_logged_again() {
    let tmp = TempDir::new("remap");
    let dir = tmp.0.join("t").join("wal");
    // A log whose refs do not start at 1 (as if older series were lost).
    let s = log_by_hand(
        &tmp,
        &[(10, "a"), (11, "b")],
        &[(10, NOW, 1.0), (11, NOW, 2.0), (12, NOW, 3.0)],
    );
    let (h, stats) = replay_all(&s, "t");
    assert_eq!(stats[0].samples, 2);
    assert_eq!(stats[0].unknown_refs, 1);
    assert_eq!(list_segments(&dir).unwrap(), vec![0, 1]);
    // New samples for "a" are logged with head ref 1.
    let wal = s.tenant("t").unwrap().unwrap();
    let b = body(&[(vec![("__name__", "a".to_string())], vec![(NOW + 1, 4.0)])]);
    assert_eq!(
        ingest_write_request_logged(&h, Some(&wal), &b, &limits()).accepted_samples,
        1
    );
    wal.close().unwrap();

    let s2 = WalStorage::new();
    s2.open(opts(&tmp.0, DEFAULT_SEGMENT_SIZE, SyncMode::None))
        .unwrap();
    let (h2, _) = replay_all(&s2, "t");
    assert_eq!(dump(&h2), dump(&h));
    let mut st = ReplayState::default();
    let h3 = Head::new("t", DEFAULT_CHUNK_RANGE);
    replay_file(&h3, &mut st, &segment_path(&dir, 1)).unwrap();
    assert_eq!(h3.num_series(), 2);
}

/// Concurrent pushes with sync mode `always` share fsyncs and all land.
#[test]
fn group_commit_under_concurrency() {
    let tmp = TempDir::new("group");
    let storage = Arc::new(WalStorage::new());
    storage
        .open(opts(&tmp.0, 4 * PAGE_SIZE as u64, SyncMode::Always))
        .unwrap();
    let head = Arc::new(Head::new("g", DEFAULT_CHUNK_RANGE));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let (storage, head) = (Arc::clone(&storage), Arc::clone(&head));
            std::thread::spawn(move || {
                let wal = storage.tenant("g").unwrap().unwrap();
                for i in 0..50i64 {
                    let b = body(&[(
                        vec![("__name__", format!("t{k}"))],
                        vec![(NOW + i, i as f64)],
                    )]);
                    let r = ingest_write_request_logged(&head, Some(&wal), &b, &limits());
                    assert_eq!(r.accepted_samples, 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    storage.close().unwrap();
    assert!(storage.tenant("g").is_err());
    let s2 = WalStorage::new();
    s2.open(opts(&tmp.0, 4 * PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (h2, _) = replay_all(&s2, "g");
    assert_eq!(dump(&h2), dump(&head));
    assert_eq!(h2.stats().samples, 200);
}

/// Concurrent pushes over shared and new series (each request locks only
/// its own series' log order): the WAL replays into exactly the head the
/// pushes built, with the same refs and no remapping, although samples of
/// one series raced (some refused as out of order) and Series records of
/// concurrently created series reached the log out of ref order.
#[test]
fn concurrent_pushes_replay_exactly() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let tmp = TempDir::new("stripes");
    let storage = Arc::new(WalStorage::new());
    storage
        .open(opts(&tmp.0, 8 * PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let head = Arc::new(Head::new("c", DEFAULT_CHUNK_RANGE));
    let clock = Arc::new(AtomicI64::new(NOW));
    let start = Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4u64)
        .map(|k| {
            let (storage, head, clock, start) = (
                Arc::clone(&storage),
                Arc::clone(&head),
                Arc::clone(&clock),
                Arc::clone(&start),
            );
            std::thread::spawn(move || {
                let wal = storage.tenant("c").unwrap().unwrap();
                let mut rng = Rng(7 + k);
                start.wait();
                for i in 0..2000u64 {
                    let mut series: Vec<TestSeries<'_>> = Vec::new();
                    for _ in 0..(1 + rng.below(12)) {
                        let t = clock.fetch_add(1, Ordering::Relaxed);
                        let name = format!("shared_{}", rng.below(10));
                        series.push((vec![("__name__", name)], vec![(t, rng.below(100) as f64)]));
                    }
                    // A series of this thread's own, new in this request.
                    let t = clock.fetch_add(1, Ordering::Relaxed);
                    series.push((vec![("__name__", format!("own_{k}_{i}"))], vec![(t, 1.0)]));
                    ingest_write_request_logged(&head, Some(&wal), &body(&series), &limits());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    storage.close().unwrap();
    let s2 = WalStorage::new();
    s2.open(opts(&tmp.0, 8 * PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let wal = s2.tenant("c").unwrap().unwrap();
    let h2 = Head::new("c", DEFAULT_CHUNK_RANGE);
    assert!(wal.replay_checkpoint(&h2).unwrap().is_none());
    for i in wal.existing_segments().to_vec() {
        let st = wal.replay_segment(&h2, i).unwrap();
        assert_eq!(st.unknown_refs, 0);
    }
    assert!(!wal.finish_replay(&h2).unwrap(), "replay remapped refs");
    assert_eq!(h2.num_series(), 10 + 4 * 2000);
    assert_eq!(dump(&h2), dump(&head));
}

/// A push waits for the log-order locks of its own series only: while
/// series a's lock is held, a push to a does not complete and one to b
/// does; releasing it lets the first finish.
#[test]
fn pushes_wait_for_their_series_log_order_only() {
    use std::sync::mpsc;
    use std::time::Duration;
    let tmp = TempDir::new("order-wait");
    let storage = Arc::new(WalStorage::new());
    storage
        .open(opts(&tmp.0, DEFAULT_SEGMENT_SIZE, SyncMode::None))
        .unwrap();
    let head = Arc::new(Head::new("w", DEFAULT_CHUNK_RANGE));
    let wal = storage.tenant("w").unwrap().unwrap();
    let first = body(&[
        (vec![("__name__", "a".to_string())], vec![(NOW, 1.0)]),
        (vec![("__name__", "b".to_string())], vec![(NOW, 1.0)]),
    ]);
    assert_eq!(
        ingest_write_request_logged(&head, Some(&wal), &first, &limits()).accepted_samples,
        2
    );
    let a = head.lookup(&[("__name__", "a")]).unwrap();
    assert!(
        a.logged.load(std::sync::atomic::Ordering::Acquire),
        "logged by the first push"
    );
    let held = a.log_order.lock();
    let push = |name: &'static str| {
        let (storage, head) = (Arc::clone(&storage), Arc::clone(&head));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let wal = storage.tenant("w").unwrap().unwrap();
            let b = body(&[(vec![("__name__", name.to_string())], vec![(NOW + 1, 2.0)])]);
            let r = ingest_write_request_logged(&head, Some(&wal), &b, &limits());
            tx.send(r.accepted_samples).unwrap();
        });
        rx
    };
    let to_a = push("a");
    let to_b = push("b");
    assert_eq!(to_b.recv_timeout(Duration::from_secs(10)), Ok(1));
    assert!(to_a.recv_timeout(Duration::from_millis(200)).is_err());
    drop(held);
    assert_eq!(to_a.recv_timeout(Duration::from_secs(10)), Ok(1));
}

#[test]
fn bad_segment_size_is_refused() {
    let tmp = TempDir::new("size");
    let s = WalStorage::new();
    assert!(s.open(opts(&tmp.0, 1000, SyncMode::None)).is_err());
    assert_eq!(SyncMode::parse("always"), Some(SyncMode::Always));
    assert_eq!(SyncMode::parse("sometimes"), None);
}

/// A head truncated after a block cut is checkpointed: the old segments
/// go, the checkpoint plus the later segments replay to the same head
/// (same refs, gaps included), and a checkpoint's leftovers are cleaned.
#[test]
fn checkpoint_replaces_old_segments() {
    let tmp = TempDir::new("checkpoint");
    let storage = WalStorage::new();
    storage
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let head = Head::new("t1", DEFAULT_CHUNK_RANGE);
    let wal = storage.tenant("t1").unwrap().unwrap();
    let hour = 3_600_000i64;
    let base = (NOW / DEFAULT_CHUNK_RANGE) * DEFAULT_CHUNK_RANGE;
    let lim = IngestLimits {
        now_ms: base + 10 * hour,
        ..IngestLimits::default()
    };
    // "old" only has samples in the first 2h; "live" goes on for 4h.
    for step in 0..(4 * 60) {
        let t = base + step * 60_000;
        let mut series = vec![(
            vec![("__name__", "live".to_string()), ("i", "1".to_string())],
            vec![(t, step as f64)],
        )];
        if t < base + DEFAULT_CHUNK_RANGE {
            series.push((vec![("__name__", "old".to_string())], vec![(t, 1.0)]));
        }
        let r = ingest_write_request_logged(&head, Some(&wal), &body(&series), &lim);
        assert_eq!(r.error_status, None, "{:?}", r.error_message);
    }
    let dir = tmp.0.join("t1").join("wal");
    let before = list_segments(&dir).unwrap();
    assert!(!before.is_empty());
    let cut = base + DEFAULT_CHUNK_RANGE;
    let t = head.truncate(cut);
    assert_eq!(t.series_removed, 1);
    assert_eq!(head.num_series(), 1);
    assert_eq!(head.min_valid_time(), cut);
    let cp = wal.checkpoint(&head).unwrap().unwrap();
    assert_eq!(cp.series, 1);
    assert_eq!(cp.samples, 120);
    assert_eq!(cp.index, *before.last().unwrap());
    assert!(list_segments(&dir).unwrap().is_empty());
    assert!(dir.join(checkpoint::checkpoint_name(cp.index)).is_dir());
    // Too old now: refused; new samples land after the checkpoint.
    let late = vec![(vec![("__name__", "old".to_string())], vec![(cut - 1, 1.0)])];
    let r = ingest_write_request_logged(&head, Some(&wal), &body(&late), &lim);
    assert_eq!(r.accepted_samples, 0);
    let more = vec![
        (
            vec![("__name__", "new".to_string())],
            vec![(base + 5 * hour, 2.0)],
        ),
        (
            vec![("__name__", "live".to_string()), ("i", "1".to_string())],
            vec![(base + 5 * hour, 3.0)],
        ),
    ];
    let r = ingest_write_request_logged(&head, Some(&wal), &body(&more), &lim);
    assert_eq!(r.accepted_samples, 2);
    wal.close().unwrap();
    // Leftovers of an interrupted later checkpoint are removed at open.
    fs::create_dir_all(dir.join("checkpoint.00000099.tmp")).unwrap();

    let storage2 = WalStorage::new();
    let found = storage2
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    assert_eq!(found[0].checkpoint, Some(cp.index));
    assert!(found[0].segments.iter().all(|s| *s > cp.index));
    assert!(!dir.join("checkpoint.00000099.tmp").exists());
    let (replayed, stats) = replay_all(&storage2, "t1");
    assert!(stats
        .iter()
        .all(|s| s.unknown_refs == 0 && s.corruption.is_none()));
    assert_eq!(dump(&replayed), dump(&head));
    let refs: Vec<u32> = replayed.all_series().iter().map(|s| s.series_ref).collect();
    let want: Vec<u32> = head.all_series().iter().map(|s| s.series_ref).collect();
    assert_eq!(refs, want);
}

/// noise is `len` bytes snappy cannot shrink.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// With compression on, records are snappy-compressed (or zstd-compressed)
/// whole and every fragment carries the SNAPPY (ZSTD) bit (Prometheus's
/// layout); a record that cannot shrink is written plain; all come back,
/// fragmented across pages and segments, and the segments are smaller than
/// the plain ones.
#[test]
fn compressed_records_round_trip() {
    let tmp = TempDir::new("snappy");
    let pages = 3u64;
    let room = PAGE_SIZE - HEADER_SIZE;
    let mut want = Vec::new();
    for (i, &n) in [1, room, 3 * room, 5 * room + 3, 100, 2 * PAGE_SIZE]
        .iter()
        .enumerate()
    {
        want.push(record_of(n, i as u8));
    }
    want.push(noise(2 * PAGE_SIZE, 7));
    want.push(record_of(room + 1, 9));
    let mut sizes = Vec::new();
    for (compress, zstd) in [(false, false), (true, false), (true, true)] {
        let dir = tmp.0.join(format!("wal-{compress}-{zstd}"));
        let bit = if zstd { ZSTD } else { SNAPPY };
        let mut w = SegmentWriter::new(&dir, pages * PAGE_SIZE as u64, false, 0)
            .with_compression(compress)
            .with_zstd(zstd);
        for rec in &want {
            w.log(&[rec]).unwrap();
        }
        w.log(&want[..3]).unwrap();
        w.close_segment().unwrap();
        let mut all = want.clone();
        all.extend_from_slice(&want[..3]);
        assert_eq!(
            read_dir_records(&dir),
            all,
            "compress={compress} zstd={zstd}"
        );
        let b = fs::read(segment_path(&dir, 0)).unwrap();
        // A 1-byte record does not shrink: written plain either way; the
        // next one (compressible) carries the SNAPPY bit when compressing.
        assert_eq!(b[0], FULL);
        let second = b[HEADER_SIZE + 1];
        assert_eq!(second, if compress { FULL | bit } else { FIRST });
        if compress {
            // The noise record went in plain: its bytes are on disk, after a
            // header without the SNAPPY bit.
            let head = &want[6][..64];
            let types: Vec<u8> = list_segments(&dir)
                .unwrap()
                .into_iter()
                .filter_map(|i| {
                    let b = fs::read(segment_path(&dir, i)).unwrap();
                    let p = b.windows(64).position(|w| w == head)?;
                    Some(b[p - HEADER_SIZE])
                })
                .collect();
            assert_eq!(types, vec![FIRST], "incompressible record written plain");
        }
        let total: u64 = list_segments(&dir)
            .unwrap()
            .into_iter()
            .map(|i| fs::metadata(segment_path(&dir, i)).unwrap().len())
            .sum();
        sizes.push(total);
    }
    assert!(
        sizes[1] * 4 < sizes[0] && sizes[2] * 4 < sizes[0],
        "plain {} B, snappy {} B, zstd {} B",
        sizes[0],
        sizes[1],
        sizes[2]
    );
}

/// A WAL written plain, then compressed (the flag turned on between
/// restarts), replays whole; a zstd record or a broken snappy record stops
/// the reader as corruption after the good records.
#[test]
fn mixed_and_bad_compressed_records() {
    let tmp = TempDir::new("mixed");
    let dir = tmp.0.join("wal");
    let mut w = SegmentWriter::new(&dir, DEFAULT_SEGMENT_SIZE, false, 0);
    w.log(&[record_of(5000, 1)]).unwrap();
    w.close_segment().unwrap();
    let mut w = SegmentWriter::new(&dir, DEFAULT_SEGMENT_SIZE, false, 1).with_compression(true);
    w.log(&[record_of(5000, 2), record_of(70_000, 3)]).unwrap();
    w.close_segment().unwrap();
    assert_eq!(
        read_dir_records(&dir),
        vec![record_of(5000, 1), record_of(5000, 2), record_of(70_000, 3)]
    );
    let seg = fs::read(segment_path(&dir, 1)).unwrap();
    let first_len = HEADER_SIZE + u16::from_be_bytes([seg[1], seg[2]]) as usize;
    // The second record's type byte marked zstd.
    let mut z = seg.clone();
    z[first_len] = (z[first_len] & !SNAPPY) | ZSTD;
    let (recs, c) = read_bytes(&z);
    assert_eq!(recs, vec![record_of(5000, 2)]);
    let c = c.unwrap();
    assert_eq!(c.good_offset, first_len as u64);
    assert!(c.reason.contains("zstd"), "{}", c.reason);
    // The first record's snappy data made invalid (with a good CRC).
    let mut bad = seg.clone();
    for b in &mut bad[HEADER_SIZE..first_len] {
        *b = 0xff;
    }
    let crc = crc32c::crc32c(&bad[HEADER_SIZE..first_len]);
    bad[3..7].copy_from_slice(&crc.to_be_bytes());
    let (recs, c) = read_bytes(&bad);
    assert!(recs.is_empty());
    let c = c.unwrap();
    assert_eq!(c.good_offset, 0);
    assert!(c.reason.contains("snappy"), "{}", c.reason);
}

/// Histogram samples pushed with the WAL on are logged as Prometheus 3.x
/// logs them (records 7 to 10) and replay into the same head; a checkpoint
/// of a series that switches between floats and histograms keeps every
/// sample in order.
#[test]
fn histograms_are_logged_replayed_and_checkpointed() {
    use crate::head::histogram_tests::{fh, ih, nhcb, sel_all};
    use crate::remote::test_encode::write_request_histograms;
    let tmp = TempDir::new("hist");
    let storage = WalStorage::new();
    storage
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let head = Head::new("t1", DEFAULT_CHUNK_RANGE);
    let wal = storage.tenant("t1").unwrap().unwrap();
    let push_h = |series: &[crate::remote::test_encode::HistogramSeries<'_>]| {
        let r = ingest_write_request_logged(
            &head,
            Some(&wal),
            &write_request_histograms(series),
            &limits(),
        );
        assert_eq!(r.error_status, None, "{:?}", r.error_message);
        r.accepted_histograms
    };
    let push_f = |t: i64, v: f64| {
        let s = vec![(vec![("__name__", "mixed".to_string())], vec![(t, v)])];
        let r = ingest_write_request_logged(&head, Some(&wal), &body(&s), &limits());
        assert_eq!(r.accepted_samples, 1);
    };
    push_f(NOW - 10_000, 1.0);
    assert_eq!(
        push_h(&[
            (
                vec![("__name__", "mixed")],
                vec![(NOW - 9000, ih(1)), (NOW - 8000, ih(2))]
            ),
            (
                vec![("__name__", "nhcb")],
                vec![(NOW - 9000, nhcb(3)), (NOW - 8000, fh(2.0))]
            ),
            (vec![("__name__", "float_h")], vec![(NOW - 9000, fh(1.0))]),
        ]),
        5
    );
    push_f(NOW - 7000, 2.0);
    assert_eq!(
        push_h(&[(vec![("__name__", "mixed")], vec![(NOW - 6000, fh(3.0))])]),
        1
    );
    wal.close().unwrap();
    let types: Vec<u8> = read_dir_records(&tmp.0.join("t1").join("wal"))
        .iter()
        .map(|r| r[0])
        .collect();
    for t in [7u8, 8, 9] {
        assert!(types.contains(&t), "record type {t} in {types:?}");
    }
    let want = sel_all(&head.select_samples(&[], 0, NOW, 0).unwrap());
    assert_eq!(want.iter().map(|s| s.1.len()).sum::<usize>(), 6);

    let storage2 = WalStorage::new();
    storage2
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (replayed, stats) = replay_all(&storage2, "t1");
    assert!(stats
        .iter()
        .all(|s| s.corruption.is_none() && s.dropped == 0 && s.unknown_refs == 0));
    assert_eq!(stats.iter().map(|s| s.samples).sum::<u64>(), 8);
    assert_eq!(
        sel_all(&replayed.select_samples(&[], 0, NOW, 0).unwrap()),
        want
    );

    // A checkpoint of everything replays the same.
    let wal2 = storage2.tenant("t1").unwrap().unwrap();
    // One more segment so the checkpoint covers the replayed ones.
    let s = vec![(vec![("__name__", "late".to_string())], vec![(NOW, 1.0)])];
    ingest_write_request_logged(&replayed, Some(&wal2), &body(&s), &limits());
    let cp = wal2.checkpoint(&replayed).unwrap().unwrap();
    assert_eq!(cp.samples, 9);
    wal2.close().unwrap();
    let storage3 = WalStorage::new();
    storage3
        .open(opts(&tmp.0, PAGE_SIZE as u64, SyncMode::None))
        .unwrap();
    let (again, stats) = replay_all(&storage3, "t1");
    assert!(stats.iter().all(|s| s.dropped == 0 && s.unknown_refs == 0));
    assert_eq!(
        sel_all(&again.select_samples(&[], 0, NOW, 0).unwrap()),
        sel_all(&replayed.select_samples(&[], 0, NOW, 0).unwrap())
    );
}

/// Samples with start timestamps are logged in the v2 records (a batch
/// turns v2 at its first start timestamp, earlier samples kept in order)
/// and replay with them, from segments and from a checkpoint.
#[test]
fn start_timestamps_are_logged_replayed_and_checkpointed() {
    use crate::head::histogram_tests::{fh, ih};
    let tmp = TempDir::new("st");
    let head = Head::new("t", DEFAULT_CHUNK_RANGE);
    let (a, _) = head.get_or_create(&[("__name__", "a")]);
    let (b, _) = head.get_or_create(&[("__name__", "b")]);
    let (h, _) = head.get_or_create(&[("__name__", "h")]);
    let (f, _) = head.get_or_create(&[("__name__", "f")]);
    let mut se = SeriesEncoder::default();
    for s in [&a, &b, &h, &f] {
        se.add(u64::from(s.series_ref), &s.labels);
    }
    let mut recs = se.finish();
    let mut app = head.appender();
    app.log_samples();
    app.append_series(&b, [(NOW, 7.0)]);
    app.append_series_st(
        &a,
        [
            (NOW, 1.0, 0),
            (NOW + 1000, 2.0, NOW - 500),
            (NOW + 2000, 3.0, NOW - 500),
        ],
    );
    // Integer and float histograms go to separate records (as Prometheus's), so one series each.
    let (h1, h2, h3, f1) = (ih(1), ih(2), ih(3), fh(2.0));
    app.append_histograms(&h, [(NOW, &h1)]);
    app.append_histograms_st(
        &h,
        [(NOW + 1000, &h2, NOW + 500), (NOW + 2000, &h3, NOW + 1000)],
    );
    app.append_histograms_st(&f, [(NOW, &f1, NOW - 1)]);
    let logged = app.take_sample_log();
    app.commit();
    let kinds: Vec<u8> = logged.iter().map(|r| r[0]).collect();
    assert_eq!(
        kinds,
        vec![11, 12, 13],
        "v2 records once a start timestamp was seen"
    );
    recs.extend(logged);
    let mut w = SegmentWriter::new(&tmp.0.join("t").join("wal"), DEFAULT_SEGMENT_SIZE, false, 0);
    w.log(&recs).unwrap();
    w.close_segment().unwrap();
    let storage = WalStorage::new();
    storage
        .open(opts(&tmp.0, DEFAULT_SEGMENT_SIZE, SyncMode::None))
        .unwrap();
    let want = head.select_samples(&[], 0, i64::MAX, 0).unwrap();
    assert!(want.start_timestamps.is_some());
    let (replayed, _) = replay_all(&storage, "t");
    assert_eq!(replayed.select_samples(&[], 0, i64::MAX, 0).unwrap(), want);

    let wal = storage.tenant("t").unwrap().unwrap();
    wal.checkpoint(&replayed).unwrap().unwrap();
    wal.close().unwrap();
    let reopened = WalStorage::new();
    reopened
        .open(opts(&tmp.0, DEFAULT_SEGMENT_SIZE, SyncMode::None))
        .unwrap();
    let (again, _) = replay_all(&reopened, "t");
    assert_eq!(
        again.select_samples(&[], 0, i64::MAX, 0).unwrap(),
        want,
        "from the checkpoint"
    );
}

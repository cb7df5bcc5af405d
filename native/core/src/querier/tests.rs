use super::*;
use crate::block::{write_block, BlockWriteOptions};
use crate::head::{SampleBudget, DEFAULT_CHUNK_RANGE};
use crate::index::MatchType;
use crate::promql::{RangeEval, RangeFn, RowEval};

const R: i64 = DEFAULT_CHUNK_RANGE;

/// Fixture is two overlapping blocks and a head. Series `a` is in all
/// three with different values where they overlap (block one: 1.0 at
/// t = 0..10 s, block two: 2.0 at 5..15 s, the head: 3.0 at 12..20 s);
/// `b` is only in block one, `c` only in block two, `d` only in the head.
struct Fixture {
    dir: std::path::PathBuf,
    one: Block,
    two: Block,
    head: Head,
}

fn head_with(series: &[(&str, std::ops::Range<i64>, f64)]) -> Head {
    let h = Head::new("querier-test", R);
    let mut app = h.appender();
    for (name, range, v) in series {
        let (s, _) = h.get_or_create(&[("__name__", name), ("x", "1")]);
        app.append_series(&s, range.clone().map(|i| (i * 1000, *v)));
    }
    app.commit();
    h
}

fn block_of(h: &Head, dir: &std::path::Path) -> Block {
    let meta = write_block(h, dir, 0, R, &BlockWriteOptions::default())
        .unwrap()
        .unwrap();
    Block::open(&dir.join(meta.ulid.to_string())).unwrap()
}

fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("querier-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let one = block_of(&head_with(&[("a", 0..10, 1.0), ("b", 0..3, 1.0)]), &dir);
    let two = block_of(&head_with(&[("a", 5..15, 2.0), ("c", 0..3, 2.0)]), &dir);
    let head = head_with(&[("a", 12..20, 3.0), ("d", 0..3, 3.0)]);
    Fixture {
        dir,
        one,
        two,
        head,
    }
}

impl Fixture {
    /// readers are block one, block two and the head, in that merge order.
    fn readers(&self) -> [Reader<'_>; 3] {
        [
            Reader::Block(&self.one),
            Reader::Block(&self.two),
            Reader::Head(&self.head),
        ]
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn names(sel: &Selection<'_>) -> Vec<String> {
    (0..sel.len())
        .map(|i| sel.labels(i).next().unwrap().1.to_string())
        .collect()
}

#[test]
fn series_of_every_reader_merge_in_label_order() {
    let f = fixture("order");
    let readers = f.readers();
    let sel = select(&readers, &[], 0, R).unwrap();
    assert_eq!(names(&sel), ["a", "b", "c", "d"]);
    assert_eq!(sel.series(0).len(), 3, "a has a part in every reader");
    assert!(
        sel.series(0)[2].head_series().is_some(),
        "parts keep reader order"
    );
    assert_eq!(sel.series(3).len(), 1);
    assert_eq!(
        sel.series_json(2),
        r#"[{"__name__":"a","x":"1"},{"__name__":"b","x":"1"}]"#
    );
    // A series without data in the range is not selected from any reader.
    let late = select(&readers, &[], 16_000, R).unwrap();
    assert_eq!(names(&late), ["a"]);
    assert_eq!(late.series(0).len(), 1, "only the head holds a after 15 s");
    let m = vec![vec![
        Matcher::new(MatchType::Regexp, "__name__", "b|d").unwrap()
    ]];
    assert_eq!(names(&select(&readers, &m, 0, R).unwrap()), ["b", "d"]);
}

#[test]
fn samples_merge_one_per_timestamp_from_the_earliest_reader() {
    let f = fixture("samples");
    let readers = f.readers();
    let sel = select(&readers, &[], 0, R).unwrap();
    let got = sel.samples(0, R, 0).unwrap();
    let a = got.offsets[0] as usize..got.offsets[1] as usize;
    let ts: Vec<f64> = (0..20).map(|i| f64::from(i) * 1000.0).collect();
    assert_eq!(got.timestamps[a.clone()], ts[..]);
    let want: Vec<f64> = (0..20)
        .map(|i| match i {
            0..=9 => 1.0,
            10..=14 => 2.0,
            _ => 3.0,
        })
        .collect();
    assert_eq!(got.values[a], want[..]);
    // The reader order decides: the head first wins where it overlaps.
    let reversed = [
        Reader::Head(&f.head),
        Reader::Block(&f.two),
        Reader::Block(&f.one),
    ];
    let got = select(&reversed, &[], 0, R)
        .unwrap()
        .samples(0, R, 0)
        .unwrap();
    assert_eq!(got.values[..5], [1.0; 5]);
    assert_eq!(got.values[5..12], [2.0; 7]);
    assert_eq!(got.values[12..20], [3.0; 8]);
    // The limit counts merged samples: 20 + 3 × 3.
    assert!(sel.samples(0, R, 29).is_ok());
    assert!(matches!(
        sel.samples(0, R, 28),
        Err(SelectError::TooManySamples)
    ));
}

#[test]
fn chunks_held_twice_are_sent_once() {
    let f = fixture("chunks");
    let twice = [Reader::Block(&f.one), Reader::Block(&f.one)];
    let once = [Reader::Block(&f.one)];
    let a = select(&twice, &[], 0, R).unwrap().chunks(0, R).unwrap();
    let b = select(&once, &[], 0, R).unwrap().chunks(0, R).unwrap();
    assert_eq!(a, b);
    assert_eq!(b.series_offsets, [0, 1, 2]);
    let c = select(&f.readers(), &[], 0, R)
        .unwrap()
        .chunks(0, R)
        .unwrap();
    // a: one chunk from each reader, in time order; b, c, d one each.
    assert_eq!(c.series_offsets, [0, 3, 4, 5, 6]);
    assert_eq!(c.min_times[..3], [0.0, 5000.0, 12000.0]);
}

#[test]
fn rows_evaluate_the_merged_samples() {
    let f = fixture("rows");
    let readers = f.readers();
    let sel = select(&readers, &[], 0, R).unwrap();
    let eval = [19_000.0, 30_000.0];
    let ev = RowEval::Range(RangeEval::new(RangeFn::CountOverTime, &[], 2, 60_000.0).unwrap());
    let rows = sel
        .eval_rows(0, 30_000, &ev, &eval, &SampleBudget::new(0))
        .unwrap();
    assert_eq!(rows.samples, [20, 3, 3, 3]);
    assert_eq!(rows.values[..2], [20.0, 20.0]);
    assert_eq!(rows.present, [1; 8]);
    // The instant selector reads the head-only series' newest sample.
    let rows = sel
        .eval_rows(
            0,
            30_000,
            &RowEval::Instant(300_000.0),
            &eval,
            &SampleBudget::new(0),
        )
        .unwrap();
    assert_eq!(rows.values, [3.0, 3.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    assert!(matches!(
        sel.eval_rows(0, 30_000, &ev, &eval, &SampleBudget::new(25)),
        Err(SelectError::TooManySamples)
    ));
}

/// The query-sharding matcher splits a selection over blocks and the head
/// into disjoint shards whose union is the unsharded selection, each series
/// in the shard its label-set hash (Prometheus's labels.StableHash) picks.
#[test]
fn shard_matcher_partitions_the_selection() {
    let dir = std::env::temp_dir().join(format!("querier-shard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = |from: usize, to: usize| {
        let h = Head::new("querier-test", R);
        let mut app = h.appender();
        for i in from..to {
            let inst = format!("i{i}");
            let (s, _) = h.get_or_create(&[("__name__", "m"), ("inst", &inst)]);
            app.append_series(&s, (0..3).map(|t| (t * 1000, i as f64)));
        }
        app.commit();
        h
    };
    // 60 series: 0..40 in a block, 20..60 in the head (20..40 in both).
    let block = block_of(&h(0, 40), &dir);
    let head = h(20, 60);
    let readers = [Reader::Block(&block), Reader::Head(&head)];
    let name = Matcher::new(MatchType::Equal, "__name__", "m").unwrap();
    let all_sel = select(&readers, &[vec![name.clone()]], 0, R).unwrap();
    let all: Vec<String> = (0..all_sel.len())
        .map(|i| all_sel.labels(i).nth(1).unwrap().1.to_string())
        .collect();
    assert_eq!(all.len(), 60);
    for count in [1u64, 2, 3, 4, 16] {
        let mut union: Vec<String> = Vec::new();
        for n in 1..=count {
            let shard = Matcher::new(
                MatchType::Equal,
                "__query_shard__",
                &format!("{n}_of_{count}"),
            )
            .unwrap();
            let sets = [vec![shard, name.clone()]];
            let sel = select(&readers, &sets, 0, R).unwrap();
            for i in 0..sel.len() {
                let hash = crate::labels::stable_hash(sel.labels(i));
                assert_eq!(hash % count, n - 1, "series in its hash's shard");
                union.push(sel.labels(i).nth(1).unwrap().1.to_string());
            }
            // The samples read agree with the selection (one series per label set).
            let got = sel.samples(0, R, 0).unwrap();
            assert_eq!(got.offsets.len(), sel.len() + 1);
        }
        let n = union.len();
        union.sort();
        union.dedup();
        assert_eq!(union.len(), n, "shards of {count} are disjoint");
        let mut want = all.clone();
        want.sort();
        assert_eq!(union, want, "shards of {count} cover every series");
    }
    // A malformed shard is refused with Mimir's text.
    assert_eq!(
        Matcher::new(MatchType::Equal, "__query_shard__", "5_of_4").unwrap_err(),
        "invalid shard ID: \"5_of_4\""
    );
    // Other match types on the label are ordinary matchers.
    let re = Matcher::new(MatchType::Regexp, "__query_shard__", ".*").unwrap();
    assert!(re.shard().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

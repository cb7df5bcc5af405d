//! store is what a tenant's reads see: its head plus its queryable blocks
//! (the ingester's local blocks and the blocks the store-gateway synced
//! from the bucket), merged series by series with samples deduplicated by
//! timestamp, as Mimir's querier merges ingesters and store-gateways.
//!
//! The TypeScript side decides which block directories are queryable
//! ([`BlockRegistry::set`], after cutting, shipping, syncing and
//! compaction); the registry keeps each block open across queries (the
//! open-block cache) and drops it when it leaves the set. Every read goes
//! through the one read path of [`crate::querier`], the head and each block
//! a reader of it.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use crate::block::Block;
use crate::head::{Head, SelectedSamples};
use crate::index::Matcher;

pub mod select_range;
pub use select_range::{
    select_histogram_rate_sum, select_range, select_rows_aggregate, SelectRangeError,
};

/// OpenFailure is a block directory that could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFailure {
    pub dir: String,
    pub error: String,
}

/// tenant_parts returns the tenant's head (if any) and its blocks with
/// samples in [mint, maxt].
pub(crate) fn tenant_parts(
    tenant: &str,
    mint: i64,
    maxt: i64,
) -> (Option<Arc<Head>>, Vec<Arc<Block>>) {
    tenant_parts_in(crate::tsdb::registry(), tenant, mint, maxt)
}

/// tenant_parts_in is `tenant_parts` over the tenants of `reg`.
fn tenant_parts_in(
    reg: &crate::tsdb::Registry,
    tenant: &str,
    mint: i64,
    maxt: i64,
) -> (Option<Arc<Head>>, Vec<Arc<Block>>) {
    match reg.get(tenant) {
        Some(t) => (t.head_if_any().cloned(), t.overlapping_blocks(mint, maxt)),
        None => (None, Vec::new()),
    }
}

pub use crate::querier::SelectError;
use crate::querier::{select, Reader};

/// with_readers runs `f` over the tenant's readers with data in
/// [mint, maxt]: its blocks oldest first, then its head (the merge order).
fn with_readers<R>(
    reg: &crate::tsdb::Registry,
    tenant: &str,
    mint: i64,
    maxt: i64,
    f: impl FnOnce(&[Reader<'_>]) -> R,
) -> R {
    let (head, blocks) = tenant_parts_in(reg, tenant, mint, maxt);
    let readers: Vec<Reader<'_>> = blocks
        .iter()
        .map(|b| Reader::Block(b))
        .chain(head.as_deref().map(Reader::Head))
        .collect();
    f(&readers)
}

/// select_samples is `Head::select_samples` over the tenant's head and
/// blocks: series sorted by labels, each with its samples from every
/// source in time order, one sample per timestamp (the block's, when a
/// block and the head both hold one).
pub fn select_samples(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    max_samples: usize,
) -> Result<SelectedSamples, SelectError> {
    select_samples_in(
        crate::tsdb::registry(),
        tenant,
        sets,
        mint,
        maxt,
        max_samples,
    )
}

/// select_samples_in is `select_samples` over the tenants of `reg`.
pub fn select_samples_in(
    reg: &crate::tsdb::Registry,
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    max_samples: usize,
) -> Result<SelectedSamples, SelectError> {
    with_readers(reg, tenant, mint, maxt, |readers| {
        select(readers, sets, mint, maxt)?.samples(mint, maxt, max_samples)
    })
}

/// select_block_samples is `select_samples` over the named blocks of the
/// tenant only, without its head: a store-gateway's read, which answers for
/// exactly the blocks a querier gave it (Mimir's block matchers). It answers
/// the ULIDs of the blocks it read as well: the named blocks that are
/// queryable and overlap [mint, maxt], oldest first (Mimir's queried
/// blocks, which the querier's consistency check counts).
pub fn select_block_samples(
    tenant: &str,
    blocks: &[String],
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    max_samples: usize,
) -> Result<(SelectedSamples, Vec<String>), SelectError> {
    let named = named_blocks(tenant, blocks, mint, maxt);
    let readers: Vec<Reader<'_>> = named.iter().map(|b| Reader::Block(b)).collect();
    let sel = select(&readers, sets, mint, maxt)?.samples(mint, maxt, max_samples)?;
    Ok((sel, ulids(&named)))
}

/// block_series_json is [`series_json`] over the named blocks of the tenant
/// only (a store-gateway's series read), with the ULIDs of the blocks read
/// (as [`select_block_samples`] names them).
pub fn block_series_json(
    tenant: &str,
    blocks: &[String],
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
) -> Result<(String, Vec<String>), SelectError> {
    let named = named_blocks(tenant, blocks, mint, maxt);
    let readers: Vec<Reader<'_>> = named.iter().map(|b| Reader::Block(b)).collect();
    let json = select(&readers, sets, mint, maxt)?.series_json(limit);
    Ok((json, ulids(&named)))
}

/// block_label_strings is [`label_strings_ranged`] over the named blocks of
/// the tenant only (a store-gateway's label names or values read), with the
/// ULIDs of the blocks read.
#[allow(clippy::too_many_arguments)]
pub fn block_label_strings(
    tenant: &str,
    blocks: &[String],
    name: Option<&str>,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
    per_series_range: bool,
) -> Result<(Vec<String>, Vec<String>), SelectError> {
    let named = named_blocks(tenant, blocks, mint, maxt);
    let out = label_strings_of(
        None,
        &named,
        name,
        sets,
        mint,
        maxt,
        limit,
        per_series_range,
    )?;
    Ok((out, ulids(&named)))
}

/// named_blocks are the tenant's queryable blocks whose ULID is one of
/// `blocks` with samples in [mint, maxt], oldest first.
fn named_blocks(tenant: &str, blocks: &[String], mint: i64, maxt: i64) -> Vec<Arc<Block>> {
    let (_, all) = tenant_parts(tenant, mint, maxt);
    let wanted: BTreeSet<&str> = blocks.iter().map(String::as_str).collect();
    all.into_iter()
        .filter(|b| wanted.contains(b.meta().ulid.to_string().as_str()))
        .collect()
}

/// ulids are the blocks' ULIDs, in order.
fn ulids(blocks: &[Arc<Block>]) -> Vec<String> {
    blocks.iter().map(|b| b.meta().ulid.to_string()).collect()
}

/// histograms_in reports whether a series of the tenant matching any of
/// the sets has native-histogram samples in [mint, maxt]: the fused
/// selections (select_range, the aggregate selections), which evaluate
/// float samples only, flag their answer with it so the engine selects
/// such a selector again with `select_samples`.
pub fn histograms_in(tenant: &str, sets: &[Vec<Matcher>], mint: i64, maxt: i64) -> bool {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    if head.is_some_and(|h| h.histograms_in(sets, mint, maxt)) {
        return true;
    }
    blocks
        .iter()
        .filter(|b| b.has_histograms())
        .any(|b| block_histograms_in(b, sets, mint, maxt))
}

/// block_histograms_in is `histograms_in` for one block: a matching
/// series with a histogram chunk overlapping [mint, maxt] (an unreadable
/// block answers true: the general selection reports its error).
fn block_histograms_in(b: &Block, sets: &[Vec<Matcher>], mint: i64, maxt: i64) -> bool {
    use crate::chunkenc::{ENCODING_FLOAT_HISTOGRAM, ENCODING_HISTOGRAM};
    let Ok(ids) = crate::querier::block_series(b, sets) else {
        return true;
    };
    let mut chunks = Vec::new();
    ids.into_iter().any(|id| {
        if b.index().series_chunks_into(id, &mut chunks).is_err() {
            return true;
        }
        chunks
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            .any(|c| {
                b.chunks().chunk(c.chunk_ref).map_or(true, |(enc, _)| {
                    enc == ENCODING_HISTOGRAM || enc == ENCODING_FLOAT_HISTOGRAM
                })
            })
    })
}

/// series_json is `Head::series_json` over the head and blocks.
pub fn series_json(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
) -> Result<String, SelectError> {
    with_readers(crate::tsdb::registry(), tenant, mint, maxt, |readers| {
        Ok(select(readers, sets, mint, maxt)?.series_json(limit))
    })
}

/// label_names is `Head::label_names` over the head and blocks.
pub fn label_names(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
) -> Result<Vec<String>, SelectError> {
    label_strings(tenant, None, sets, mint, maxt, limit, true)
}

/// label_strings_ranged is [`label_names`] (name None) or [`label_values`]
/// with `per_series_range` as `Head::label_names_ranged` has it: false for
/// sets that come from label policies alone, so that series are counted as
/// a request without sets counts them (every series of an overlapping head
/// or block).
pub fn label_strings_ranged(
    tenant: &str,
    name: Option<&str>,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
    per_series_range: bool,
) -> Result<Vec<String>, SelectError> {
    label_strings(tenant, name, sets, mint, maxt, limit, per_series_range)
}

/// label_values is `Head::label_values` over the head and blocks.
pub fn label_values(
    tenant: &str,
    name: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
) -> Result<Vec<String>, SelectError> {
    label_strings(tenant, Some(name), sets, mint, maxt, limit, true)
}

/// label_strings is [`label_names`] when `name` is None, else
/// [`label_values`] of that name: sorted, unique, empty strings left out.
fn label_strings(
    tenant: &str,
    name: Option<&str>,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
    per_series_range: bool,
) -> Result<Vec<String>, SelectError> {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    label_strings_of(
        head.as_deref(),
        &blocks,
        name,
        sets,
        mint,
        maxt,
        limit,
        per_series_range,
    )
}

/// label_strings_of is [`label_strings`] over a head (if any) and blocks.
#[allow(clippy::too_many_arguments)]
fn label_strings_of(
    head: Option<&Head>,
    blocks: &[Arc<Block>],
    name: Option<&str>,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
    per_series_range: bool,
) -> Result<Vec<String>, SelectError> {
    use crate::index::IndexReader;
    let mut found: BTreeSet<String> = head
        .map(|h| {
            match name {
                None => h.label_names_ranged(sets, mint, maxt, 0, per_series_range),
                Some(name) => h.label_values_ranged(name, sets, mint, maxt, 0, per_series_range),
            }
            .into_iter()
            .collect()
        })
        .unwrap_or_default();
    for b in blocks {
        if sets.is_empty() {
            let strings = match name {
                None => IndexReader::label_names(b.index()),
                Some(name) => IndexReader::label_values(b.index(), name),
            };
            found.extend(strings.into_iter().map(str::to_string));
        } else {
            // Without a per-series range (a label policy's sets only), every selected series of
            // the block counts once one of them meets the range: the block's own range counts
            // hidden series too.
            let (from, to) = if per_series_range {
                (mint, maxt)
            } else {
                (i64::MIN, i64::MAX)
            };
            let sel = select(&[Reader::Block(b)], sets, from, to)?;
            if !per_series_range && !(0..sel.len()).any(|i| sel.series(i)[0].overlaps(mint, maxt)) {
                continue;
            }
            for i in 0..sel.len() {
                found.extend(sel.labels(i).filter_map(|(n, v)| match name {
                    None => Some(n.to_string()),
                    Some(name) => (n == name).then(|| v.to_string()),
                }));
            }
        }
    }
    let mut out: Vec<String> = found.into_iter().filter(|s| !s.is_empty()).collect();
    if limit > 0 {
        out.truncate(limit);
    }
    Ok(out)
}

/// select_chunks is `Head::select_chunks` over the head and blocks (remote
/// read's streamed chunks): each series' chunks from every source, in time
/// order, a chunk held by two sources sent once.
pub fn select_chunks(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<crate::block::SelectedChunks, SelectError> {
    with_readers(crate::tsdb::registry(), tenant, mint, maxt, |readers| {
        select(readers, sets, mint, maxt)?.chunks(mint, maxt)
    })
}

/// is_block_dir reports whether `dir` looks like a block (has meta.json).
pub fn is_block_dir(dir: &Path) -> bool {
    dir.join("meta.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{write_block, BlockWriteOptions};
    use crate::head::DEFAULT_CHUNK_RANGE;
    use crate::index::MatchType;
    use crate::model::series_labels::labels_json;

    /// A head cut into a block and truncated reads back whole through the
    /// store: block and head samples merged, repeats dropped, the series
    /// only in the block still listed.
    #[test]
    fn head_and_blocks_merge() {
        let tenant = "store-test-merge";
        let dir = std::env::temp_dir().join(format!("store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tsdb = crate::tsdb::registry().tenant(tenant);
        let head = crate::tsdb::registry().head(tenant);
        let r = DEFAULT_CHUNK_RANGE;
        let (a, _) = head.get_or_create(&[("__name__", "a")]);
        let (old, _) = head.get_or_create(&[("__name__", "old")]);
        let mut app = head.appender();
        app.append_series(&a, (0..240).map(|i| (i * 60_000, i as f64)));
        app.append_series(&old, (0..10).map(|i| (i * 60_000, 1.0)));
        app.commit();
        let meta = write_block(&head, &dir, 0, r, &BlockWriteOptions::default())
            .unwrap()
            .unwrap();
        let block_dir = dir.join(meta.ulid.to_string());
        // Before truncation the head and the block overlap: no repeats.
        assert!(tsdb.set_blocks(std::slice::from_ref(&block_dir)).is_empty());
        let all = select_samples(tenant, &[], 0, 10 * r, 0).unwrap();
        assert_eq!(all.timestamps.len(), 250);
        head.truncate(r);
        let sel = select_samples(tenant, &[], 0, 10 * r, 0).unwrap();
        assert_eq!(sel, all);
        assert_eq!(
            labels_json(&sel.labels),
            r#"[{"__name__":"a"},{"__name__":"old"}]"#
        );
        let want: Vec<f64> = (0..240).map(|i| (i * 60_000) as f64).collect();
        assert_eq!(sel.timestamps[..240], want[..]);
        let ch = select_chunks(tenant, &[], 0, 10 * r).unwrap();
        let n: usize = (0..ch.encodings.len())
            .map(|j| {
                let d = &ch.data[ch.data_offsets[j] as usize..ch.data_offsets[j + 1] as usize];
                usize::from(crate::chunkenc::num_samples(d))
            })
            .sum();
        assert_eq!(n, 250, "every sample in exactly one chunk");
        let m = vec![vec![
            Matcher::new(MatchType::Equal, "__name__", "old").unwrap()
        ]];
        assert_eq!(
            series_json(tenant, &m, 0, r, 0).unwrap(),
            r#"[{"__name__":"old"}]"#
        );
        assert_eq!(
            label_values(tenant, "__name__", &[], 0, 10 * r, 0).unwrap(),
            ["a", "old"]
        );
        assert!(matches!(
            select_samples(tenant, &[], 0, 10 * r, 100),
            Err(SelectError::TooManySamples)
        ));
        // Unopenable blocks are reported and left out.
        let bad = dir.join("missing");
        let fails = tsdb.set_blocks(&[block_dir.clone(), bad]);
        assert_eq!(fails.len(), 1);
        assert_eq!(tsdb.block_dirs(), vec![block_dir]);
        tsdb.set_blocks(&[]);
        assert_eq!(
            select_samples(tenant, &[], 0, 10 * r, 0)
                .unwrap()
                .timestamps
                .len(),
            120
        );
        crate::tsdb::registry().drop_tenant(tenant).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A block selection reads only the named blocks (not the head, not
    /// the other blocks) and names the ones it read.
    #[test]
    fn block_selection_reads_named_blocks_only() {
        let tenant = "store-test-named-blocks";
        let dir = std::env::temp_dir().join(format!("store-test-named-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tsdb = crate::tsdb::registry().tenant(tenant);
        let head = crate::tsdb::registry().head(tenant);
        let r = DEFAULT_CHUNK_RANGE;
        let (a, _) = head.get_or_create(&[("__name__", "a")]);
        let mut app = head.appender();
        // Two block ranges of 120 minutes each, and 30 minutes left in the head.
        app.append_series(&a, (0..270).map(|i| (i * 60_000, i as f64)));
        app.commit();
        let opts = BlockWriteOptions::default();
        let first = write_block(&head, &dir, 0, r, &opts).unwrap().unwrap();
        let second = write_block(&head, &dir, r, 2 * r, &opts).unwrap().unwrap();
        head.truncate(2 * r);
        let dirs = [first.ulid, second.ulid].map(|u| dir.join(u.to_string()));
        assert!(tsdb.set_blocks(&dirs).is_empty());
        assert_eq!(
            select_samples(tenant, &[], 0, 10 * r, 0)
                .unwrap()
                .timestamps
                .len(),
            270
        );
        let (sel, queried) = select_block_samples(
            tenant,
            &[
                second.ulid.to_string(),
                "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_string(),
            ],
            &[],
            0,
            10 * r,
            0,
        )
        .unwrap();
        assert_eq!(queried, vec![second.ulid.to_string()]);
        let want: Vec<f64> = (120..240).map(|i| (i * 60_000) as f64).collect();
        assert_eq!(sel.timestamps, want);
        // A named block outside the range is not read.
        let (sel, queried) =
            select_block_samples(tenant, &[second.ulid.to_string()], &[], 0, r - 1, 0).unwrap();
        assert!(queried.is_empty());
        assert!(sel.timestamps.is_empty());
        let both = [first.ulid.to_string(), second.ulid.to_string()];
        let (sel, queried) = select_block_samples(tenant, &both, &[], 0, 10 * r, 0).unwrap();
        assert_eq!(queried, both);
        assert_eq!(sel.timestamps.len(), 240);
        assert!(matches!(
            select_block_samples(tenant, &both, &[], 0, 10 * r, 100),
            Err(SelectError::TooManySamples)
        ));
        // Series, label names and values of the named blocks only.
        let (b, _) = head.get_or_create(&[("__name__", "b")]);
        let mut app = head.appender();
        app.append_series(&b, (270..300).map(|i| (i * 60_000, 1.0)));
        app.commit();
        let third = write_block(&head, &dir, 2 * r, 3 * r, &opts)
            .unwrap()
            .unwrap();
        let dirs = [first.ulid, second.ulid, third.ulid].map(|u| dir.join(u.to_string()));
        assert!(tsdb.set_blocks(&dirs).is_empty());
        let only_second = [second.ulid.to_string()];
        assert_eq!(
            block_series_json(tenant, &only_second, &[], 0, 10 * r, 0).unwrap(),
            (r#"[{"__name__":"a"}]"#.to_string(), only_second.to_vec())
        );
        let only_third = [third.ulid.to_string()];
        assert_eq!(
            block_label_strings(
                tenant,
                &only_third,
                Some("__name__"),
                &[],
                0,
                10 * r,
                0,
                true
            )
            .unwrap(),
            (vec!["a".to_string(), "b".to_string()], only_third.to_vec())
        );
        assert_eq!(
            block_label_strings(
                tenant,
                &only_second,
                Some("__name__"),
                &[],
                0,
                10 * r,
                0,
                true
            )
            .unwrap(),
            (vec!["a".to_string()], only_second.to_vec())
        );
        let (names, read) =
            block_label_strings(tenant, &only_third, None, &[], 0, r - 1, 0, true).unwrap();
        assert!(names.is_empty() && read.is_empty(), "outside the range");
        tsdb.set_blocks(&[]);
        crate::tsdb::registry().drop_tenant(tenant).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

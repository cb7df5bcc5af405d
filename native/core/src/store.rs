//! store is what a tenant's reads see: its head plus its queryable blocks
//! (the ingester's local blocks and the blocks the store-gateway synced
//! from the bucket), merged series by series with samples deduplicated by
//! timestamp, as Mimir's querier merges ingesters and store-gateways.
//!
//! The TypeScript side decides which block directories are queryable
//! ([`BlockRegistry::set`], after cutting, shipping, syncing and
//! compaction); the registry keeps each block open across queries (the
//! open-block cache) and drops it when it leaves the set. Reads that touch
//! no block take the head's own paths unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::block::{Block, BlockError};
use crate::head::{
    self, write_owned_labels_json, Head, SelectedHistograms, SelectedSamples, TooManySamples,
};
use crate::index::Matcher;

pub mod select_range;
pub use select_range::{select_range, select_rows_aggregate, SelectRangeError};

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

/// SelectError is why a merged read failed.
#[derive(Debug)]
pub enum SelectError {
    TooManySamples,
    Block(BlockError),
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::TooManySamples => f.write_str(head::TOO_MANY_SAMPLES_MESSAGE),
            SelectError::Block(e) => write!(f, "{e}"),
        }
    }
}

impl From<BlockError> for SelectError {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::TooManySamples => SelectError::TooManySamples,
            other => SelectError::Block(other),
        }
    }
}

impl From<TooManySamples> for SelectError {
    fn from(_: TooManySamples) -> Self {
        SelectError::TooManySamples
    }
}

type OwnedLabels = Vec<(String, String)>;

/// block_series returns the ids of a block's series matching any set (all
/// for none), ascending.
fn block_series(b: &Block, sets: &[Vec<Matcher>]) -> Result<Vec<u32>, BlockError> {
    if sets.is_empty() {
        return b.select_series(&[]);
    }
    let mut ids = Vec::new();
    for set in sets {
        ids.extend(b.select_series(set)?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Parts are one series' samples from each source that had some.
type Parts = Vec<(Vec<f64>, Vec<f64>)>;

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
    let (head, blocks) = tenant_parts_in(reg, tenant, mint, maxt);
    if blocks.is_empty() {
        return match head {
            Some(h) => Ok(h.select_samples(sets, mint, maxt, max_samples)?),
            None => Ok(SelectedSamples {
                labels_json: "[]".to_string(),
                offsets: vec![0],
                ..SelectedSamples::default()
            }),
        };
    }
    let mut series: BTreeMap<OwnedLabels, Parts> = BTreeMap::new();
    // Native histograms: per series, one run per source that had some, in
    // merge order (blocks oldest first, then the head).
    let mut hist_parts: BTreeMap<OwnedLabels, Vec<SelectedHistograms>> = BTreeMap::new();
    let mut loaded = 0usize;
    let mut check = |n: usize| -> Result<(), SelectError> {
        loaded += n;
        if max_samples > 0 && loaded > max_samples {
            return Err(SelectError::TooManySamples);
        }
        Ok(())
    };
    for b in &blocks {
        for id in block_series(b, sets)? {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            let labels = b.read_series(id, mint, maxt, &mut ts, &mut vs)?;
            let mut hp = SelectedHistograms::default();
            if b.has_histograms() {
                let s = b.index().series(id)?;
                b.read_histograms(id, &s.chunks, mint, maxt, &mut hp)?;
            }
            if ts.is_empty() && hp.is_empty() {
                continue;
            }
            check(ts.len() + hp.len())?;
            let parts = series.entry(labels.clone()).or_default();
            if !ts.is_empty() {
                parts.push((ts, vs));
            }
            if !hp.is_empty() {
                hist_parts.entry(labels).or_default().push(hp);
            }
        }
    }
    if let Some(h) = &head {
        for s in h.select_series_cached(sets, mint, maxt) {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            s.read_samples(mint, maxt, &mut ts, &mut vs);
            let mut hp = SelectedHistograms::default();
            s.read_histograms(mint, maxt, &mut hp);
            if ts.is_empty() && hp.is_empty() {
                continue;
            }
            check(ts.len() + hp.len())?;
            let parts = series.entry(s.labels.to_vec()).or_default();
            if !ts.is_empty() {
                parts.push((ts, vs));
            }
            if !hp.is_empty() {
                hist_parts.entry(s.labels.to_vec()).or_default().push(hp);
            }
        }
    }
    let mut out = SelectedSamples {
        labels_json: String::with_capacity(2 + series.len() * 64),
        offsets: Vec::with_capacity(series.len() + 1),
        timestamps: Vec::with_capacity(loaded),
        values: Vec::with_capacity(loaded),
        histograms: None,
    };
    let mut hists = SelectedHistograms::default();
    out.labels_json.push('[');
    out.offsets.push(0);
    for (labels, parts) in series {
        if !parts.is_empty() {
            merge_parts(parts, &mut out.timestamps, &mut out.values);
        }
        if let Some(hp) = hist_parts.remove(&labels) {
            merge_histogram_parts(hp, &mut hists);
        }
        hists.offsets.push(hists.len() as u32);
        if out.offsets.len() > 1 {
            out.labels_json.push(',');
        }
        write_owned_labels_json(&mut out.labels_json, &labels);
        let end = u32::try_from(out.timestamps.len()).map_err(|_| SelectError::TooManySamples)?;
        out.offsets.push(end);
    }
    out.labels_json.push(']');
    if !hists.is_empty() {
        out.histograms = Some(hists);
    }
    Ok(out)
}

/// merge_histogram_parts appends to `out` the union of one series'
/// histogram runs (each ascending in time), one sample per timestamp (the
/// earliest part's), in time order; `out.offsets` is left to the caller.
fn merge_histogram_parts(parts: Vec<SelectedHistograms>, out: &mut SelectedHistograms) {
    let mut all: Vec<(f64, usize, usize)> = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        all.extend(part.timestamps.iter().enumerate().map(|(j, t)| (*t, p, j)));
    }
    if parts.len() > 1 {
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    let mut last = f64::NAN;
    for (t, p, j) in all {
        if t == last {
            continue;
        }
        last = t;
        let part = &parts[p];
        let run = &part.data[part.data_offsets[j] as usize..part.data_offsets[j + 1] as usize];
        out.timestamps.push(t);
        out.data.extend_from_slice(run);
        out.data_offsets.push(out.data.len() as u32);
    }
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
    let Ok(ids) = block_series(b, sets) else {
        return true;
    };
    ids.into_iter().any(|id| {
        let Ok(s) = b.index().series(id) else {
            return true;
        };
        s.chunks
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            .any(|c| {
                b.chunks().chunk(c.chunk_ref).map_or(true, |(enc, _)| {
                    enc == ENCODING_HISTOGRAM || enc == ENCODING_FLOAT_HISTOGRAM
                })
            })
    })
}

/// merge_parts appends the union of sorted sample runs, one sample per
/// timestamp (the earliest part's), in time order.
fn merge_parts(mut parts: Parts, ts: &mut Vec<f64>, vs: &mut Vec<f64>) {
    if parts.len() == 1 {
        let (t, v) = parts.pop().expect("one part");
        ts.extend_from_slice(&t);
        vs.extend_from_slice(&v);
        return;
    }
    let mut all: Vec<(f64, usize, f64)> = Vec::new();
    for (p, (t, v)) in parts.iter().enumerate() {
        all.extend(t.iter().zip(v).map(|(t, v)| (*t, p, *v)));
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut last = f64::NAN;
    for (t, _, v) in all {
        if t == last {
            continue;
        }
        ts.push(t);
        vs.push(v);
        last = t;
    }
}

/// series_labels collects the label sets of the tenant's series with
/// samples in [mint, maxt] from the head and its blocks, sorted, unique.
fn series_labels(
    head: Option<&Head>,
    blocks: &[Arc<Block>],
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<BTreeSet<OwnedLabels>, SelectError> {
    let mut out = BTreeSet::new();
    for b in blocks {
        for id in block_series(b, sets)? {
            let s = b.index().series(id)?;
            if s.chunks.iter().any(|c| c.max_t >= mint && c.min_t <= maxt) {
                out.insert(s.labels);
            }
        }
    }
    if let Some(h) = head {
        for s in h.select_series_cached(sets, mint, maxt) {
            out.insert(s.labels.to_vec());
        }
    }
    Ok(out)
}

/// series_json is `Head::series_json` over the head and blocks.
pub fn series_json(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
    limit: usize,
) -> Result<String, SelectError> {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    if blocks.is_empty() {
        return Ok(head.map_or_else(
            || "[]".to_string(),
            |h| h.series_json(sets, mint, maxt, limit),
        ));
    }
    let all = series_labels(head.as_deref(), &blocks, sets, mint, maxt)?;
    let mut out = String::from("[");
    for (i, labels) in all.iter().enumerate() {
        if limit > 0 && i == limit {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        write_owned_labels_json(&mut out, labels);
    }
    out.push(']');
    Ok(out)
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
    use crate::index::IndexReader;
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    let mut found: BTreeSet<String> = head
        .as_ref()
        .map(|h| {
            match name {
                None => h.label_names_ranged(sets, mint, maxt, 0, per_series_range),
                Some(name) => h.label_values_ranged(name, sets, mint, maxt, 0, per_series_range),
            }
            .into_iter()
            .collect()
        })
        .unwrap_or_default();
    for b in &blocks {
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
                if series_labels(None, std::slice::from_ref(b), sets, mint, maxt)?.is_empty() {
                    continue;
                }
                (i64::MIN, i64::MAX)
            };
            for labels in series_labels(None, std::slice::from_ref(b), sets, from, to)? {
                found.extend(labels.into_iter().filter_map(|(n, v)| match name {
                    None => Some(n),
                    Some(name) => (n == name).then_some(v),
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

/// OwnedChunk is one chunk of a merged series: min and max time,
/// encoding and bytes as stored.
type OwnedChunk = (i64, i64, u8, Vec<u8>);

/// select_chunks is `Head::select_chunks` over the head and blocks (remote
/// read's streamed chunks): each series' chunks from every source, in time
/// order, a chunk held by two sources (a block cut from the head before the
/// head was truncated) sent once.
pub fn select_chunks(
    tenant: &str,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<crate::block::SelectedChunks, SelectError> {
    let (head, blocks) = tenant_parts(tenant, mint, maxt);
    let too_big = || {
        SelectError::Block(BlockError::InvalidArgument(
            "more than 4GiB of chunks selected".to_string(),
        ))
    };
    if blocks.is_empty() {
        return match head {
            Some(h) => h
                .select_chunks(sets, mint, maxt)
                .map_err(|e| SelectError::Block(BlockError::InvalidArgument(e))),
            None => Ok(crate::block::SelectedChunks {
                labels_json: "[]".to_string(),
                series_offsets: vec![0],
                data_offsets: vec![0],
                ..Default::default()
            }),
        };
    }
    let mut series: BTreeMap<OwnedLabels, Vec<OwnedChunk>> = BTreeMap::new();
    for b in &blocks {
        for id in block_series(b, sets)? {
            let s = b.index().series(id)?;
            let mut chunks = Vec::new();
            for c in s
                .chunks
                .iter()
                .filter(|c| c.max_t >= mint && c.min_t <= maxt)
            {
                let (enc, data) = b
                    .chunks()
                    .chunk(c.chunk_ref)
                    .map_err(|e| e.in_file(&b.dir().join("chunks")))?;
                chunks.push((c.min_t, c.max_t, enc, data.into_owned()));
            }
            if !chunks.is_empty() {
                series.entry(s.labels).or_default().extend(chunks);
            }
        }
    }
    if let Some(h) = &head {
        for s in h.select_series(sets, mint, maxt) {
            let chunks: Vec<OwnedChunk> = s.reader_chunks(mint, maxt);
            if !chunks.is_empty() {
                series.entry(s.labels.to_vec()).or_default().extend(chunks);
            }
        }
    }
    let mut out = crate::block::SelectedChunks {
        labels_json: String::from("["),
        series_offsets: vec![0],
        data_offsets: vec![0],
        ..Default::default()
    };
    for (labels, mut chunks) in series {
        chunks.sort_by_key(|c| (c.0, c.1));
        chunks.dedup();
        for (a, b, enc, data) in chunks {
            out.min_times.push(a as f64);
            out.max_times.push(b as f64);
            out.encodings.push(enc);
            out.data.extend_from_slice(&data);
            out.data_offsets
                .push(u32::try_from(out.data.len()).map_err(|_| too_big())?);
        }
        if out.series_offsets.len() > 1 {
            out.labels_json.push(',');
        }
        write_owned_labels_json(&mut out.labels_json, &labels);
        out.series_offsets
            .push(u32::try_from(out.encodings.len()).map_err(|_| too_big())?);
    }
    out.labels_json.push(']');
    Ok(out)
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
        assert_eq!(sel.labels_json, r#"[{"__name__":"a"},{"__name__":"old"}]"#);
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
}

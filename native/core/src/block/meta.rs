//! `meta.json`: Prometheus's block metadata (ULID, time range, stats,
//! compaction level and sources, version 1) with the `thanos` section Mimir
//! and Thanos add (external labels with `__org_id__`, downsampling
//! resolution, source, and the block's files with their sizes).

use std::path::Path;

use serde_json::Value;

use super::ulid::Ulid;
use super::BlockError;
use crate::head::write_json_string;

/// META_VERSION is the only meta.json version.
pub const META_VERSION: u64 = 1;

/// BlockStats are the block's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub num_samples: u64,
    /// Samples in XOR chunks (`numFloatSamples`, left out when 0).
    pub num_float_samples: u64,
    /// Samples in native-histogram chunks (`numHistogramSamples`, left
    /// out when 0).
    pub num_histogram_samples: u64,
    pub num_series: u64,
    pub num_chunks: u64,
}

/// BlockFile is one entry of `thanos.files`; `size_bytes` is None for
/// meta.json itself, as Thanos leaves it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFile {
    pub rel_path: String,
    pub size_bytes: Option<u64>,
}

/// BlockDesc names a parent of a compacted block (`compaction.parents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockDesc {
    pub ulid: Ulid,
    pub min_time: i64,
    pub max_time: i64,
}

/// BlockMeta is the content of meta.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMeta {
    pub ulid: Ulid,
    /// First millisecond covered (inclusive).
    pub min_time: i64,
    /// End of the covered range (exclusive).
    pub max_time: i64,
    pub stats: BlockStats,
    pub compaction_level: u64,
    pub compaction_sources: Vec<Ulid>,
    /// `compaction.parents`: the blocks a compacted block was made from
    /// (empty for blocks cut from a head; left out of the JSON then).
    pub compaction_parents: Vec<BlockDesc>,
    /// `thanos.labels`, sorted by name (`__org_id__` for Mimir).
    pub thanos_labels: Vec<(String, String)>,
    /// `thanos.source` (`ingester`, `compactor`, ...).
    pub thanos_source: String,
    /// `thanos.downsample.resolution` in ms (0: raw data).
    pub downsample_resolution: i64,
    pub files: Vec<BlockFile>,
}

impl BlockMeta {
    /// to_json renders meta.json, tab-indented as Prometheus and Mimir
    /// write it, keys in their order.
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(1024);
        o.push_str("{\n\t\"ulid\": \"");
        o.push_str(&self.ulid.to_string());
        o.push_str("\",\n");
        o.push_str(&format!(
            "\t\"minTime\": {},\n\t\"maxTime\": {},\n",
            self.min_time, self.max_time
        ));
        // Prometheus's BlockStats fields, in its order, zeros omitted
        // (`omitempty`) except the three every block has.
        o.push_str(&format!(
            "\t\"stats\": {{\n\t\t\"numSamples\": {},\n",
            self.stats.num_samples
        ));
        if self.stats.num_float_samples > 0 {
            o.push_str(&format!(
                "\t\t\"numFloatSamples\": {},\n",
                self.stats.num_float_samples
            ));
        }
        if self.stats.num_histogram_samples > 0 {
            o.push_str(&format!(
                "\t\t\"numHistogramSamples\": {},\n",
                self.stats.num_histogram_samples
            ));
        }
        o.push_str(&format!(
            "\t\t\"numSeries\": {},\n\t\t\"numChunks\": {}\n\t}},\n",
            self.stats.num_series, self.stats.num_chunks
        ));
        o.push_str(&format!(
            "\t\"compaction\": {{\n\t\t\"level\": {},\n\t\t\"sources\": [",
            self.compaction_level
        ));
        for (i, s) in self.compaction_sources.iter().enumerate() {
            o.push_str(if i == 0 { "\n\t\t\t\"" } else { ",\n\t\t\t\"" });
            o.push_str(&s.to_string());
            o.push('"');
        }
        if !self.compaction_sources.is_empty() {
            o.push_str("\n\t\t");
        }
        o.push(']');
        if !self.compaction_parents.is_empty() {
            o.push_str(",\n\t\t\"parents\": [");
            for (i, p) in self.compaction_parents.iter().enumerate() {
                o.push_str(if i == 0 { "\n" } else { ",\n" });
                o.push_str(&format!(
                    "\t\t\t{{\n\t\t\t\t\"ulid\": \"{}\",\n\t\t\t\t\"minTime\": {},\n\t\t\t\t\"maxTime\": {}\n\t\t\t}}",
                    p.ulid, p.min_time, p.max_time
                ));
            }
            o.push_str("\n\t\t]");
        }
        o.push_str("\n\t},\n");
        o.push_str(&format!("\t\"version\": {META_VERSION},\n"));
        o.push_str("\t\"thanos\": {\n\t\t\"labels\": {");
        for (i, (n, v)) in self.thanos_labels.iter().enumerate() {
            o.push_str(if i == 0 { "\n\t\t\t" } else { ",\n\t\t\t" });
            write_json_string(&mut o, n);
            o.push_str(": ");
            write_json_string(&mut o, v);
        }
        if !self.thanos_labels.is_empty() {
            o.push_str("\n\t\t");
        }
        o.push_str("},\n");
        o.push_str(&format!(
            "\t\t\"downsample\": {{\n\t\t\t\"resolution\": {}\n\t\t}},\n",
            self.downsample_resolution
        ));
        o.push_str("\t\t\"source\": ");
        write_json_string(&mut o, &self.thanos_source);
        if !self.files.is_empty() {
            o.push_str(",\n\t\t\"files\": [");
            for (i, f) in self.files.iter().enumerate() {
                o.push_str(if i == 0 {
                    "\n\t\t\t{\n\t\t\t\t\"rel_path\": "
                } else {
                    ",\n\t\t\t{\n\t\t\t\t\"rel_path\": "
                });
                write_json_string(&mut o, &f.rel_path);
                if let Some(n) = f.size_bytes {
                    o.push_str(&format!(",\n\t\t\t\t\"size_bytes\": {n}"));
                }
                o.push_str("\n\t\t\t}");
            }
            o.push_str("\n\t\t]");
        }
        o.push_str("\n\t}\n}\n");
        o
    }

    /// parse reads meta.json; `thanos` is optional (plain Prometheus
    /// blocks have none).
    pub fn parse(text: &str) -> Result<Self, BlockError> {
        let bad = |what: &str| BlockError::corrupt(format!("meta.json: {what}"));
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
        let version = v
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("missing version"))?;
        if version != META_VERSION {
            return Err(bad(&format!("unexpected meta file version {version}")));
        }
        let ulid = v
            .get("ulid")
            .and_then(Value::as_str)
            .and_then(Ulid::parse)
            .ok_or_else(|| bad("missing or invalid ulid"))?;
        let int = |o: &Value, k: &str| o.get(k).and_then(Value::as_i64);
        let min_time = int(&v, "minTime").ok_or_else(|| bad("missing minTime"))?;
        let max_time = int(&v, "maxTime").ok_or_else(|| bad("missing maxTime"))?;
        let st = v.get("stats").cloned().unwrap_or(Value::Null);
        let stat = |k: &str| st.get(k).and_then(Value::as_u64).unwrap_or(0);
        let stats = BlockStats {
            num_samples: stat("numSamples"),
            num_float_samples: stat("numFloatSamples"),
            num_histogram_samples: stat("numHistogramSamples"),
            num_series: stat("numSeries"),
            num_chunks: stat("numChunks"),
        };
        let comp = v.get("compaction").cloned().unwrap_or(Value::Null);
        let compaction_level = comp.get("level").and_then(Value::as_u64).unwrap_or(0);
        let compaction_sources = comp
            .get("sources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().and_then(Ulid::parse))
                    .collect()
            })
            .unwrap_or_default();
        let compaction_parents = comp
            .get("parents")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some(BlockDesc {
                            ulid: p
                                .get("ulid")
                                .and_then(Value::as_str)
                                .and_then(Ulid::parse)?,
                            min_time: int(p, "minTime")?,
                            max_time: int(p, "maxTime")?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let th = v.get("thanos").cloned().unwrap_or(Value::Null);
        let mut thanos_labels: Vec<(String, String)> = th
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        thanos_labels.sort();
        let files = th
            .get("files")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| {
                        Some(BlockFile {
                            rel_path: f.get("rel_path")?.as_str()?.to_string(),
                            size_bytes: f.get("size_bytes").and_then(Value::as_u64),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(BlockMeta {
            ulid,
            min_time,
            max_time,
            stats,
            compaction_level,
            compaction_sources,
            compaction_parents,
            thanos_labels,
            thanos_source: th
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            downsample_resolution: th
                .get("downsample")
                .and_then(|d| d.get("resolution"))
                .and_then(Value::as_i64)
                .unwrap_or(0),
            files,
        })
    }

    /// read loads `<dir>/meta.json`.
    pub fn read(dir: &Path) -> Result<Self, BlockError> {
        let path = dir.join("meta.json");
        let text = std::fs::read_to_string(&path).map_err(|e| BlockError::io("read", &path, e))?;
        Self::parse(&text)
    }
}

//! Translation of a decoded OTLP request into Prometheus series, as the
//! Prometheus OTLP translator (`prometheusremotewrite.FromMetrics`) does it
//! for Mimir:
//!
//! * labels of a data point: its attributes (keys sanitised, values of
//!   keys that collide once sanitised joined with `;` in key order), then
//!   the promoted resource attributes, the scope labels
//!   (`otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url`,
//!   `otel_scope_<attr>`, when scope promotion is on and the scope has a
//!   name), `job` = `service.namespace/service.name` (or `service.name`),
//!   `instance` = `service.instance.id`, and `__name__`;
//! * gauges and non-monotonic sums: one sample per point; monotonic sums:
//!   the same under a `_total` name when suffixes are on; histograms:
//!   `_bucket{le}` (cumulative, `+Inf` = count), `_sum` (when sent),
//!   `_count` (or, when `-distributor.otel-convert-histograms-to-nhcb` is
//!   on, one native histogram with custom buckets, schema -53, per point);
//!   exponential histograms: one native histogram per point under the bare
//!   name (no `_count`/`_sum`/`_bucket` series), scales above 8 merged down
//!   to schema 8, scales below -4 refused; summaries: `{quantile}`, `_sum`,
//!   `_count`;
//! * a point flagged "no recorded value" becomes a staleness marker;
//!   times go from nanoseconds to milliseconds;
//! * every resource with attributes other than the service ones gets a
//!   `target_info` series over the span of its points (a sample every
//!   2.5 minutes, half the default lookback delta, and one at the end);
//! * metrics with delta (unless `-distributor.otel-native-delta-ingestion`
//!   allows it: the values are stored as sent, native histograms with the
//!   gauge reset hint) or unspecified temporality, without data points or
//!   without data are dropped with the translator's error texts.
//!
//! Points with identical label sets land in one series, so the ingest path
//! sees one series per label set as with remote write.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use crate::model::histogram::{
    CounterResetHint, Histogram, Span, CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX,
    EXPONENTIAL_SCHEMA_MIN, STALE_NAN_BITS,
};
use crate::remote::{
    CreatedTimestamps, ExemplarView, HistogramSample, HistogramValue, MetadataView, Sample,
    SeriesEntry, WriteRequestView,
};

use super::model::*;
use super::names::{
    any_value_string, format_float, label_name, metadata_unit, metric_name, MetricKind,
};

/// STALE_NAN is Prometheus's staleness marker.
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// DEFAULT_ZERO_THRESHOLD is the zero bucket width of every native
/// histogram made from an exponential one (the translator's
/// `defaultZeroThreshold`; OTLP's own zero threshold is not used).
pub const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

/// TARGET_INFO_INTERVAL_MS is half of the default 5m lookback delta.
const TARGET_INFO_INTERVAL_MS: i64 = 150_000;

const IDENTIFYING_ATTRS: [&str; 3] = ["service.namespace", "service.name", "service.instance.id"];

/// Settings are the per-tenant translation options (Mimir's
/// `-distributor.otel-*` limits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// -distributor.otel-metric-suffixes-enabled.
    pub add_suffixes: bool,
    /// -distributor.otel-promote-resource-attributes.
    pub promote_resource_attributes: Vec<String>,
    /// -distributor.otel-keep-identifying-resource-attributes.
    pub keep_identifying_resource_attributes: bool,
    /// -distributor.otel-promote-scope-metadata.
    pub promote_scope_metadata: bool,
    /// -distributor.otel-convert-histograms-to-nhcb.
    pub convert_histograms_to_nhcb: bool,
    /// -distributor.otel-native-delta-ingestion: delta metrics are stored
    /// as sent instead of refused.
    pub allow_delta_temporality: bool,
    /// -distributor.otel-created-timestamp-zero-ingestion-enabled: a
    /// cumulative point's start time becomes a zero sample before it.
    pub created_timestamp_zero_ingestion: bool,
}

/// CREATED_TIMESTAMP_MAX_AGE_MS bounds how long before its point a start
/// time still becomes a zero sample (Mimir's 5 minutes: a typical
/// `$__rate_interval` at one point a minute, plus a minute of delay).
pub const CREATED_TIMESTAMP_MAX_AGE_MS: i64 = 300_000;

/// created_timestamp_ms is the start time of a point at `timestamp_ms` that
/// stands for a zero sample, as Mimir keeps it: when the option is on, the
/// start time was sent, is not after the point and at most
/// [`CREATED_TIMESTAMP_MAX_AGE_MS`] before it (0 otherwise: none).
pub fn created_timestamp_ms(
    settings: &Settings,
    start_time_unix_nano: u64,
    timestamp_ms: i64,
) -> i64 {
    if !settings.created_timestamp_zero_ingestion || start_time_unix_nano == 0 {
        return 0;
    }
    let ct = ms(start_time_unix_nano);
    if ct > timestamp_ms || timestamp_ms - ct > CREATED_TIMESTAMP_MAX_AGE_MS {
        return 0;
    }
    ct
}

/// SeriesData is one series of a translation: its label range in
/// `Translation::labels`, its float samples and its native histograms.
#[derive(Debug, Default)]
struct SeriesData {
    labels_start: usize,
    labels_end: usize,
    samples: Vec<Sample>,
    histograms: Vec<HistogramSample>,
    /// created_ms is the created timestamp before the first sample (0: none).
    created_ms: i64,
    /// hist_created_ms is the created timestamp before the first native
    /// histogram (0: none).
    hist_created_ms: i64,
    /// exemplars of the series; their labels index `Translation::exemplar_labels`.
    exemplars: Vec<ExemplarView>,
}

/// Translation is the series made from one request. Label strings live in
/// one arena; [`Translation::view`] lends them to the ingest path.
#[derive(Debug, Default)]
pub struct Translation {
    arena: String,
    /// Label (name, value) spans into the arena, series after series.
    labels: Vec<((usize, usize), (usize, usize))>,
    /// Each series' label range, samples and histograms.
    series: Vec<SeriesData>,
    index: HashMap<u64, Vec<usize>>,
    hasher: ahash::RandomState,
    /// The translator's errors (metrics dropped), in request order.
    pub errors: Vec<String>,
    /// metadata is one entry per metric family whose type, help or unit
    /// differs from the family's previous entry (as Mimir's appender keeps
    /// them), in request order.
    pub metadata: Vec<FamilyMetadata>,
    /// Each family's last entry in `metadata`.
    metadata_index: HashMap<String, usize>,
    /// Exemplar label (name, value) spans into the arena, exemplar after exemplar.
    exemplar_labels: Vec<((usize, usize), (usize, usize))>,
}

/// TranslatedExemplar is one exemplar of a translated series: its labels,
/// value and time (ms).
pub type TranslatedExemplar<'a> = (Vec<(&'a str, &'a str)>, f64, i64);

/// PromExemplar is an OTLP exemplar as Prometheus keeps it: sorted labels
/// (`trace_id`, `span_id` in hex and the filtered attributes), value, time.
#[derive(Debug, Clone, PartialEq)]
struct PromExemplar {
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: i64,
}

/// MAX_EXEMPLAR_RUNES is the bound on an exemplar's label runes beyond
/// which its filtered attributes are left out (the IDs are kept).
const MAX_EXEMPLAR_RUNES: usize = 128;

/// prom_exemplars converts a point's exemplars as the translator does; an
/// all-zero (or absent) trace or span ID gives no label.
fn prom_exemplars(exemplars: &[Exemplar<'_>]) -> Vec<PromExemplar> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    exemplars
        .iter()
        .map(|e| {
            let mut labels = Vec::new();
            let mut runes = 0;
            for (key, id) in [("trace_id", &e.trace_id), ("span_id", &e.span_id)] {
                if id.iter().any(|b| *b != 0) {
                    let v = hex(id);
                    runes += key.len() + v.len();
                    labels.push((key.to_string(), v));
                }
            }
            let attrs: Vec<(String, String)> = e
                .filtered_attributes
                .iter()
                .map(|kv| (kv.key.to_string(), any_value_string(&kv.value)))
                .collect();
            runes += attrs
                .iter()
                .map(|(k, v)| k.chars().count() + v.chars().count())
                .sum::<usize>();
            if runes <= MAX_EXEMPLAR_RUNES {
                labels.extend(attrs);
            }
            labels.sort();
            PromExemplar {
                labels,
                value: e.value,
                timestamp_ms: ms(e.time_unix_nano),
            }
        })
        .collect()
}

/// FamilyMetadata is the metadata of one translated metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyMetadata {
    /// The remote-write `MetricType` (0 unknown, 1 counter, 2 gauge,
    /// 3 histogram, 5 summary).
    pub metric_type: i32,
    pub family: String,
    pub help: String,
    pub unit: String,
}

impl Translation {
    /// num_series is the number of distinct label sets.
    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    /// num_samples counts the samples of all series.
    pub fn num_samples(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// num_histograms counts the native histograms of all series.
    pub fn num_histograms(&self) -> usize {
        self.series.iter().map(|s| s.histograms.len()).sum()
    }

    /// series_labels returns series `i`'s labels in creation order.
    pub fn series_labels(&self, i: usize) -> Vec<(&str, &str)> {
        let s = &self.series[i];
        self.labels[s.labels_start..s.labels_end]
            .iter()
            .map(|(n, v)| (&self.arena[n.0..n.1], &self.arena[v.0..v.1]))
            .collect()
    }

    /// series_samples returns series `i`'s samples.
    pub fn series_samples(&self, i: usize) -> &[Sample] {
        &self.series[i].samples
    }

    /// series_created returns series `i`'s created timestamp (0: none): its
    /// float samples', else its native histograms'.
    pub fn series_created(&self, i: usize) -> i64 {
        let s = &self.series[i];
        if s.samples.is_empty() {
            s.hist_created_ms
        } else {
            s.created_ms
        }
    }

    /// series_histograms returns series `i`'s native histograms.
    pub fn series_histograms(&self, i: usize) -> &[HistogramSample] {
        &self.series[i].histograms
    }

    /// take_histograms moves every series' native histograms out (for
    /// [`Translation::view_with`]), leaving the series without any.
    pub fn take_histograms(&mut self) -> Vec<Vec<HistogramSample>> {
        self.series
            .iter_mut()
            .map(|s| std::mem::take(&mut s.histograms))
            .collect()
    }

    /// view is the translation as a decoded remote-write request (the
    /// histograms copied; see [`Translation::view_with`]).
    pub fn view(&self) -> WriteRequestView<'_> {
        self.view_with(self.series.iter().map(|s| s.histograms.clone()).collect())
    }

    /// view_with is [`Translation::view`] with series `i`'s histograms
    /// taken from `histograms[i]` (moved, as [`Translation::take_histograms`]
    /// gives them) instead of copied.
    pub fn view_with(&self, histograms: Vec<Vec<HistogramSample>>) -> WriteRequestView<'_> {
        let mut v = WriteRequestView {
            labels: self
                .labels
                .iter()
                .map(|(n, val)| (&self.arena[n.0..n.1], &self.arena[val.0..val.1]))
                .collect(),
            metadata: self
                .metadata
                .iter()
                .map(|m| MetadataView {
                    metric_type: m.metric_type,
                    metric_family_name: &m.family,
                    help: &m.help,
                    unit: &m.unit,
                })
                .collect(),
            exemplar_labels: self
                .exemplar_labels
                .iter()
                .map(|(n, val)| (&self.arena[n.0..n.1], &self.arena[val.0..val.1]))
                .collect(),
            ..WriteRequestView::default()
        };
        v.samples.reserve(self.num_samples());
        v.histograms
            .reserve(histograms.iter().map(Vec::len).sum::<usize>());
        let mut histograms = histograms.into_iter();
        for s in &self.series {
            let start = v.samples.len();
            v.samples.extend_from_slice(&s.samples);
            let hists_start = v.histograms.len();
            v.histograms.extend(histograms.next().unwrap_or_default());
            let exemplars_start = v.exemplars.len();
            v.exemplars.extend_from_slice(&s.exemplars);
            v.series.push(SeriesEntry {
                labels_start: s.labels_start,
                labels_end: s.labels_end,
                samples_start: start,
                samples_end: v.samples.len(),
                exemplars: s.exemplars.len(),
                exemplars_start,
                histograms: v.histograms.len() - hists_start,
                histograms_start: hists_start,
            });
        }
        v
    }

    /// error_text joins the errors as Go's multierr does ("a; b").
    pub fn error_text(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| self.errors.join("; "))
    }

    /// add_metadata records a family's metadata unless the family's last
    /// entry says the same.
    fn add_metadata(&mut self, m: FamilyMetadata) {
        if let Some(&i) = self.metadata_index.get(&m.family) {
            if self.metadata[i] == m {
                return;
            }
        }
        self.metadata_index
            .insert(m.family.clone(), self.metadata.len());
        self.metadata.push(m);
    }

    /// add appends a sample to the series of `labels` (sorted here),
    /// creating it when new.
    fn add(&mut self, labels: &mut [(String, String)], sample: Sample) {
        self.add_created(labels, sample, 0);
    }

    /// add_created is [`Translation::add`] for a sample whose series was
    /// created at `created_ms` (0: unknown). A created timestamp stands
    /// for a zero sample just before the series' first sample, so a point
    /// with another one than the series' starts a new series entry with
    /// the same labels, as Mimir's appender does.
    fn add_created(
        &mut self,
        labels: &mut [(String, String)],
        sample: Sample,
        created_ms: i64,
    ) -> usize {
        let mut i = self.series_index(labels);
        let s = &self.series[i];
        if created_ms > 0 && created_ms != s.created_ms && !s.samples.is_empty() {
            i = self.split_series(i);
        }
        let s = &mut self.series[i];
        if s.samples.is_empty() && created_ms > 0 {
            s.created_ms = created_ms;
        }
        s.samples.push(sample);
        i
    }

    /// created_timestamps are the series' created timestamps as the ingest
    /// path takes them, keyed by where each series' samples start in
    /// [`Translation::view`].
    pub fn created_timestamps(&self) -> CreatedTimestamps {
        let mut out = CreatedTimestamps::default();
        let (mut start, mut hist_start) = (0, 0);
        for s in &self.series {
            if s.created_ms > 0 && !s.samples.is_empty() {
                out.push(start, s.created_ms);
            }
            if s.hist_created_ms > 0 && !s.histograms.is_empty() {
                out.push_histograms(hist_start, s.hist_created_ms);
            }
            start += s.samples.len();
            hist_start += s.histograms.len();
        }
        out
    }

    /// add_histogram appends a native histogram to the series of `labels`
    /// (sorted here), creating it when new; `created_ms` (0: unknown) as
    /// for [`Translation::add_created`]: a zero histogram before the
    /// series' first one, another value starting a new series entry.
    fn add_histogram(
        &mut self,
        labels: &mut [(String, String)],
        h: HistogramSample,
        created_ms: i64,
    ) -> usize {
        let mut i = self.series_index(labels);
        let s = &self.series[i];
        if created_ms > 0 && created_ms != s.hist_created_ms && !s.histograms.is_empty() {
            i = self.split_series(i);
        }
        let s = &mut self.series[i];
        if s.histograms.is_empty() && created_ms > 0 {
            s.hist_created_ms = created_ms;
        }
        s.histograms.push(h);
        i
    }

    /// split_series starts a new entry with series `i`'s labels, which
    /// takes `i`'s place for the points that follow; returns its index.
    fn split_series(&mut self, i: usize) -> usize {
        let (labels_start, labels_end) = (self.series[i].labels_start, self.series[i].labels_end);
        self.series.push(SeriesData {
            labels_start,
            labels_end,
            ..SeriesData::default()
        });
        let j = self.series.len() - 1;
        for list in self.index.values_mut() {
            if let Some(slot) = list.iter_mut().find(|x| **x == i) {
                *slot = j;
            }
        }
        j
    }

    /// add_exemplars attaches exemplars to series `i`, their labels kept in
    /// the arena.
    fn add_exemplars(&mut self, i: usize, exemplars: &[PromExemplar]) {
        for e in exemplars {
            let start = self.exemplar_labels.len();
            for (n, v) in &e.labels {
                let ns = self.arena.len();
                self.arena.push_str(n);
                let vs = self.arena.len();
                self.arena.push_str(v);
                self.exemplar_labels
                    .push(((ns, vs), (vs, self.arena.len())));
            }
            self.series[i].exemplars.push(ExemplarView {
                labels_start: start,
                labels_end: self.exemplar_labels.len(),
                value: e.value,
                timestamp_ms: e.timestamp_ms,
            });
        }
    }

    /// series_exemplars returns series `i`'s exemplars: labels, value, time.
    pub fn series_exemplars(&self, i: usize) -> Vec<TranslatedExemplar<'_>> {
        self.series[i]
            .exemplars
            .iter()
            .map(|e| {
                let labels = self.exemplar_labels[e.labels_start..e.labels_end]
                    .iter()
                    .map(|(n, v)| (&self.arena[n.0..n.1], &self.arena[v.0..v.1]))
                    .collect();
                (labels, e.value, e.timestamp_ms)
            })
            .collect()
    }

    /// num_exemplars counts the exemplars of all series.
    pub fn num_exemplars(&self) -> usize {
        self.series.iter().map(|s| s.exemplars.len()).sum()
    }

    /// series_index finds the series of `labels` (sorted here), creating
    /// it when new.
    fn series_index(&mut self, labels: &mut [(String, String)]) -> usize {
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        let mut h = self.hasher.build_hasher();
        for (n, v) in labels.iter() {
            n.hash(&mut h);
            v.hash(&mut h);
        }
        let key = h.finish();
        if let Some(candidates) = self.index.get(&key) {
            for &i in candidates {
                let (a, b) = (self.series[i].labels_start, self.series[i].labels_end);
                let same = b - a == labels.len()
                    && self.labels[a..b].iter().zip(labels.iter()).all(|(x, y)| {
                        self.arena[x.0 .0..x.0 .1] == y.0 && self.arena[x.1 .0..x.1 .1] == y.1
                    });
                if same {
                    return i;
                }
            }
        }
        let start = self.labels.len();
        for (n, v) in labels.iter() {
            let ns = self.arena.len();
            self.arena.push_str(n);
            let vs = self.arena.len();
            self.arena.push_str(v);
            self.labels.push(((ns, vs), (vs, self.arena.len())));
        }
        self.series.push(SeriesData {
            labels_start: start,
            labels_end: self.labels.len(),
            ..SeriesData::default()
        });
        self.index
            .entry(key)
            .or_default()
            .push(self.series.len() - 1);
        self.series.len() - 1
    }
}

/// LabelMap is a small ordered map of labels (a handful per series).
#[derive(Default)]
struct LabelMap(Vec<(String, String)>);

impl LabelMap {
    fn position(&self, k: &str) -> Option<usize> {
        self.0.iter().position(|(n, _)| n == k)
    }

    fn set(&mut self, k: String, v: String) {
        match self.position(&k) {
            Some(i) => self.0[i].1 = v,
            None => self.0.push((k, v)),
        }
    }

    fn set_if_absent(&mut self, k: String, v: String) {
        if self.position(&k).is_none() {
            self.0.push((k, v));
        }
    }

    fn join(&mut self, k: String, v: String) {
        match self.position(&k) {
            Some(i) => {
                self.0[i].1.push(';');
                self.0[i].1.push_str(&v);
            }
            None => self.0.push((k, v)),
        }
    }
}

/// ResourceLabels are the labels every point of a resource gets.
struct ResourceLabels {
    job: Option<String>,
    instance: Option<String>,
    promoted: Vec<(String, String)>,
}

fn attr<'x>(attrs: &'x [KeyValue<'_>], key: &str) -> Option<&'x AnyValue<'x>> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

impl ResourceLabels {
    fn new(resource: &[KeyValue<'_>], promote: &[String]) -> Self {
        let job = attr(resource, "service.name").map(|name| {
            let name = any_value_string(name);
            match attr(resource, "service.namespace") {
                Some(ns) => format!("{}/{}", any_value_string(ns), name),
                None => name,
            }
        });
        let instance = attr(resource, "service.instance.id").map(any_value_string);
        let mut promoted: Vec<(&str, String)> = resource
            .iter()
            .filter(|kv| promote.iter().any(|p| *p == kv.key))
            .map(|kv| (kv.key.as_ref(), any_value_string(&kv.value)))
            .collect();
        promoted.sort_by(|a, b| a.0.cmp(b.0));
        ResourceLabels {
            job,
            instance,
            promoted: promoted
                .into_iter()
                .map(|(k, v)| (label_name(k), v))
                .collect(),
        }
    }
}

/// ScopeLabels are the scope's labels when scope promotion applies.
fn scope_labels(sm: &ScopeMetrics<'_>, settings: &Settings) -> Vec<(String, String)> {
    if !settings.promote_scope_metadata || sm.scope_name.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        ("otel_scope_name".to_string(), sm.scope_name.to_string()),
        (
            "otel_scope_version".to_string(),
            sm.scope_version.to_string(),
        ),
        (
            "otel_scope_schema_url".to_string(),
            sm.schema_url.to_string(),
        ),
    ];
    for kv in &sm.scope_attributes {
        out.push((
            label_name(&format!("otel_scope_{}", kv.key)),
            any_value_string(&kv.value),
        ));
    }
    out
}

/// base_labels is the translator's `createAttributes` without extras.
fn base_labels(
    attrs: &[KeyValue<'_>],
    res: &ResourceLabels,
    scope: &[(String, String)],
    ignore: &[&str],
) -> LabelMap {
    let mut raw: Vec<(&str, String)> = attrs
        .iter()
        .filter(|kv| !ignore.contains(&kv.key.as_ref()))
        .map(|kv| (kv.key.as_ref(), any_value_string(&kv.value)))
        .collect();
    raw.sort_by(|a, b| a.0.cmp(b.0));
    let mut l = LabelMap(Vec::with_capacity(raw.len() + res.promoted.len() + 3));
    for (k, v) in raw {
        l.join(label_name(k), v);
    }
    for (k, v) in &res.promoted {
        l.set_if_absent(k.clone(), v.clone());
    }
    for (k, v) in scope {
        l.set(k.clone(), v.clone());
    }
    if let Some(job) = &res.job {
        l.set("job".to_string(), job.clone());
    }
    if let Some(instance) = &res.instance {
        l.set("instance".to_string(), instance.clone());
    }
    l
}

/// ms converts OTLP nanoseconds to milliseconds as the translator does
/// (the u64 read as i64, division truncating).
fn ms(t: u64) -> i64 {
    (t as i64) / 1_000_000
}

/// point_series returns what adds the series of one histogram or summary
/// point: `emit(suffix, extra, v)` adds `base` labels, the `extra` label
/// (`le`, `quantile`) if any and `__name__` = `name` + `suffix`, with one
/// sample `v` at `timestamp_ms`.
fn point_series<'o>(
    out: &'o mut Translation,
    base: Vec<(String, String)>,
    name: &'o str,
    timestamp_ms: i64,
    created_ms: i64,
    flags: u32,
) -> impl FnMut(&str, Option<(&str, String)>, f64) -> usize + 'o {
    move |suffix, extra, v| {
        let mut l = base.clone();
        if let Some((k, val)) = extra {
            l.push((k.to_string(), val));
        }
        l.push(("__name__".to_string(), format!("{name}{suffix}")));
        out.add_created(
            &mut l,
            Sample {
                timestamp_ms,
                value: value(v, flags),
                ..Sample::default()
            },
            created_ms,
        )
    }
}

fn value(v: f64, flags: u32) -> f64 {
    if flags & FLAG_NO_RECORDED_VALUE != 0 {
        f64::from_bits(STALE_NAN)
    } else {
        v
    }
}

/// go_quote is Go's `%q` for the names in error texts.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// translate turns a decoded request into series.
pub fn translate(req: &ExportRequest<'_>, settings: &Settings) -> Translation {
    let mut out = Translation::default();
    for rm in &req.resource_metrics {
        let res = ResourceLabels::new(&rm.resource, &settings.promote_resource_attributes);
        let (mut earliest, mut latest) = (u64::MAX, 0u64);
        for sm in &rm.scope_metrics {
            let scope = scope_labels(sm, settings);
            for m in &sm.metrics {
                for t in m.data.point_times() {
                    earliest = earliest.min(t);
                    latest = latest.max(t);
                }
                translate_metric(&mut out, m, &res, &scope, settings);
            }
        }
        if earliest < u64::MAX {
            add_target_info(&mut out, &rm.resource, settings, earliest, latest);
        }
    }
    out
}

fn translate_metric(
    out: &mut Translation,
    m: &Metric<'_>,
    res: &ResourceLabels,
    scope: &[(String, String)],
    settings: &Settings,
) {
    let temporality = match &m.data {
        MetricData::Empty => {
            out.errors.push(format!(
                "could not get aggregation temporality for {} as it has unsupported metric type Empty",
                m.name
            ));
            return;
        }
        MetricData::Sum { temporality, .. }
        | MetricData::Histogram { temporality, .. }
        | MetricData::ExponentialHistogram { temporality, .. } => Some(*temporality),
        MetricData::Gauge(_) | MetricData::Summary(_) => None,
    };
    let allowed = |t: i32| {
        t == TEMPORALITY_CUMULATIVE || (settings.allow_delta_temporality && t == TEMPORALITY_DELTA)
    };
    if temporality.is_some_and(|t| !allowed(t)) {
        out.errors.push(format!(
            "invalid temporality and type combination for metric {}",
            go_quote(&m.name)
        ));
        return;
    }
    let kind = match &m.data {
        MetricData::Empty => MetricKind::Empty,
        MetricData::Gauge(_) => MetricKind::Gauge,
        MetricData::Sum {
            monotonic: true, ..
        } => MetricKind::MonotonicSum,
        MetricData::Sum { .. } => MetricKind::NonMonotonicSum,
        MetricData::Histogram { .. } => MetricKind::Histogram,
        MetricData::ExponentialHistogram { .. } => MetricKind::ExponentialHistogram,
        MetricData::Summary(_) => MetricKind::Summary,
    };
    let name = metric_name(&m.name, &m.unit, kind, settings.add_suffixes);
    let empty = match &m.data {
        MetricData::Gauge(p) | MetricData::Sum { points: p, .. } => p.is_empty(),
        MetricData::Histogram { points, .. } => points.is_empty(),
        MetricData::ExponentialHistogram { points, .. } => points.is_empty(),
        MetricData::Summary(p) => p.is_empty(),
        MetricData::Empty => true,
    };
    if empty {
        out.errors
            .push(format!("empty data points. {} is dropped", m.name));
        return;
    }
    // Delta metrics have no Prometheus type yet: unknown, as the translator marks them.
    let metric_type = match kind {
        _ if temporality == Some(TEMPORALITY_DELTA) => 0,
        MetricKind::MonotonicSum => 1,
        MetricKind::Gauge | MetricKind::NonMonotonicSum => 2,
        MetricKind::Histogram | MetricKind::ExponentialHistogram => 3,
        MetricKind::Summary => 5,
        MetricKind::Empty => 0,
    };
    out.add_metadata(FamilyMetadata {
        metric_type,
        family: name.clone(),
        help: m.description.to_string(),
        unit: metadata_unit(&m.unit),
    });
    match &m.data {
        MetricData::Gauge(points) | MetricData::Sum { points, .. } => {
            for p in points {
                let mut l = base_labels(&p.attributes, res, scope, &[]);
                l.set("__name__".to_string(), name.clone());
                let s = Sample {
                    timestamp_ms: ms(p.time_unix_nano),
                    value: value(p.value, p.flags),
                    ..Sample::default()
                };
                let ct = created_timestamp_ms(settings, p.start_time_unix_nano, s.timestamp_ms);
                let i = out.add_created(&mut l.0, s, ct);
                // Exemplars of sums only: the translator passes none for gauges.
                if matches!(m.data, MetricData::Sum { .. }) && !p.exemplars.is_empty() {
                    out.add_exemplars(i, &prom_exemplars(&p.exemplars));
                }
            }
        }
        MetricData::Histogram { points, .. } if settings.convert_histograms_to_nhcb => {
            for p in points {
                let h = custom_buckets_histogram(p, reset_hint(temporality));
                let ct = created_timestamp_ms(settings, p.start_time_unix_nano, h.timestamp_ms);
                let mut l = base_labels(&p.attributes, res, scope, &[]);
                l.set("__name__".to_string(), name.clone());
                let i = out.add_histogram(&mut l.0, h, ct);
                out.add_exemplars(i, &prom_exemplars(&p.exemplars));
            }
        }
        MetricData::Histogram { points, .. } => {
            for p in points {
                let base = base_labels(&p.attributes, res, scope, &[]).0;
                let t = ms(p.time_unix_nano);
                let ct = created_timestamp_ms(settings, p.start_time_unix_nano, t);
                let mut emit = point_series(out, base, &name, t, ct, p.flags);
                if let Some(sum) = p.sum {
                    emit("_sum", None, sum);
                }
                emit("_count", None, p.count as f64);
                // Each exemplar goes to the first bucket whose bound is not below its value.
                let mut exemplars = prom_exemplars(&p.exemplars);
                exemplars.sort_by(|a, b| a.value.total_cmp(&b.value));
                let mut next = 0;
                let mut buckets: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
                let mut cumulative = 0u64;
                for (bound, count) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
                    cumulative = cumulative.wrapping_add(*count);
                    let i = emit(
                        "_bucket",
                        Some(("le", format_float(*bound))),
                        cumulative as f64,
                    );
                    let from = next;
                    while next < exemplars.len() && exemplars[next].value <= *bound {
                        next += 1;
                    }
                    buckets.push((i, from..next));
                }
                let i = emit("_bucket", Some(("le", "+Inf".to_string())), p.count as f64);
                buckets.push((i, next..exemplars.len()));
                drop(emit);
                for (i, range) in buckets {
                    out.add_exemplars(i, &exemplars[range]);
                }
            }
        }
        MetricData::Summary(points) => {
            for p in points {
                let base = base_labels(&p.attributes, res, scope, &[]).0;
                let t = ms(p.time_unix_nano);
                let ct = created_timestamp_ms(settings, p.start_time_unix_nano, t);
                let mut emit = point_series(out, base, &name, t, ct, p.flags);
                emit("_sum", None, p.sum);
                emit("_count", None, p.count as f64);
                for (q, v) in &p.quantiles {
                    emit("", Some(("quantile", format_float(*q))), *v);
                }
            }
        }
        MetricData::ExponentialHistogram { points, .. } => {
            for p in points {
                // The first point that cannot be converted drops the rest
                // of the metric, as the translator returns on it.
                let h = match exponential_histogram(p, reset_hint(temporality)) {
                    Ok(h) => h,
                    Err(e) => {
                        out.errors.push(e);
                        return;
                    }
                };
                let ct = created_timestamp_ms(settings, p.start_time_unix_nano, h.timestamp_ms);
                let mut l = base_labels(&p.attributes, res, scope, &[]);
                l.set("__name__".to_string(), name.clone());
                let i = out.add_histogram(&mut l.0, h, ct);
                out.add_exemplars(i, &prom_exemplars(&p.exemplars));
            }
        }
        MetricData::Empty => {}
    }
}

/// reset_hint is the counter reset hint of the native histograms of a
/// metric: unknown for cumulative ones (always safe), gauge for delta ones
/// (so that chunks are not cut at every sample).
fn reset_hint(temporality: Option<i32>) -> CounterResetHint {
    if temporality == Some(TEMPORALITY_DELTA) {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::Unknown
    }
}

/// native_histogram makes the integer histogram of a point: a point
/// flagged "no recorded value" is a staleness marker (sum and count the
/// stale NaN's bits, as the translator sets them), else the point's count
/// and sum (0 when none was sent).
#[allow(clippy::too_many_arguments)]
fn native_histogram(
    time_unix_nano: u64,
    flags: u32,
    count: u64,
    sum: Option<f64>,
    hint: CounterResetHint,
    schema: i32,
    zero: (f64, u64),
    positive: (Vec<Span>, Vec<i64>),
    negative: (Vec<Span>, Vec<i64>),
    custom_values: Vec<f64>,
) -> HistogramSample {
    let stale = flags & FLAG_NO_RECORDED_VALUE != 0;
    HistogramSample {
        timestamp_ms: ms(time_unix_nano),
        start_timestamp_ms: 0,
        value: HistogramValue::Int(Histogram {
            counter_reset_hint: hint,
            schema,
            zero_threshold: zero.0,
            zero_count: zero.1,
            count: if stale { STALE_NAN_BITS } else { count },
            sum: if stale {
                f64::from_bits(STALE_NAN_BITS)
            } else {
                sum.unwrap_or(0.0)
            },
            positive_spans: positive.0,
            positive_buckets: positive.1,
            negative_spans: negative.0,
            negative_buckets: negative.1,
            custom_values,
        }),
    }
}

/// exponential_histogram converts an exponential histogram point into a
/// native histogram of schema `min(scale, 8)` (finer scales merged down),
/// or the translator's error for a scale below -4.
fn exponential_histogram(
    p: &ExponentialHistogramPoint<'_>,
    hint: CounterResetHint,
) -> Result<HistogramSample, String> {
    if p.scale < EXPONENTIAL_SCHEMA_MIN {
        return Err(format!(
            "cannot convert exponential to native histogram. Scale must be >= -4, was {}",
            p.scale
        ));
    }
    let scale_down = (p.scale - EXPONENTIAL_SCHEMA_MAX).max(0);
    let schema = p.scale.min(EXPONENTIAL_SCHEMA_MAX);
    let positive = buckets_layout(
        &p.positive.bucket_counts,
        p.positive.offset,
        scale_down,
        true,
    );
    let negative = buckets_layout(
        &p.negative.bucket_counts,
        p.negative.offset,
        scale_down,
        true,
    );
    Ok(native_histogram(
        p.time_unix_nano,
        p.flags,
        p.count,
        p.sum,
        hint,
        schema,
        (DEFAULT_ZERO_THRESHOLD, p.zero_count),
        positive,
        negative,
        Vec::new(),
    ))
}

/// custom_buckets_histogram converts an explicit-bucket histogram point
/// into a native histogram with custom buckets: the bounds become the
/// custom values, the counts positive buckets from the first non-empty one.
fn custom_buckets_histogram(p: &HistogramPoint<'_>, hint: CounterResetHint) -> HistogramSample {
    let first = p
        .bucket_counts
        .iter()
        .position(|c| *c != 0)
        .unwrap_or(p.bucket_counts.len());
    let positive = buckets_layout(&p.bucket_counts[first..], first as i32, 0, false);
    native_histogram(
        p.time_unix_nano,
        p.flags,
        p.count,
        p.sum,
        hint,
        CUSTOM_BUCKETS_SCHEMA,
        (0.0, 0),
        positive,
        (Vec::new(), Vec::new()),
        p.explicit_bounds.clone(),
    )
}

/// buckets_layout turns dense bucket counts (the first at index `offset`)
/// into spans and delta-encoded counts as the translator does (after
/// client_golang's `makeBuckets`): `2^scale_down` neighbouring buckets are
/// merged into one; a run of more than two empty buckets starts a new span,
/// shorter runs are kept as zero buckets; empty buckets before the first
/// non-empty one are skipped. For exponential histograms (`exponential`)
/// the indexes shift by one: OTel's bucket 0 is `(1, base]`, Prometheus's
/// is `(1/base, 1]`.
fn buckets_layout(
    counts: &[u64],
    offset: i32,
    scale_down: i32,
    exponential: bool,
) -> (Vec<Span>, Vec<i64>) {
    if counts.is_empty() {
        return (Vec::new(), Vec::new());
    }
    // Go's `>>` on int32: shifts of 32 or more leave the sign.
    let shr = |v: i32| {
        if scale_down >= 32 {
            v >> 31
        } else {
            v >> scale_down
        }
    };
    let index = |i: i32| shr(i.wrapping_add(offset)).wrapping_add(1);
    let mut l = Layout {
        spans: vec![Span {
            offset: if exponential {
                shr(offset).wrapping_add(1)
            } else {
                offset
            },
            length: 0,
        }],
        deltas: Vec::with_capacity(counts.len()),
        prev: 0,
    };
    let mut bucket = shr(offset).wrapping_add(1);
    let mut count = 0i64;
    for (i, c) in counts.iter().enumerate() {
        let next = index(i as i32);
        if next == bucket {
            count = count.wrapping_add(*c as i64);
            continue;
        }
        if count == 0 {
            count = *c as i64;
            continue;
        }
        l.gap(next.wrapping_sub(bucket).wrapping_sub(1));
        l.push(count);
        count = *c as i64;
        bucket = next;
    }
    l.gap(index(counts.len() as i32 - 1).wrapping_sub(bucket));
    l.push(count);
    (l.spans, l.deltas)
}

/// Layout collects the spans and deltas of [`buckets_layout`].
struct Layout {
    spans: Vec<Span>,
    deltas: Vec<i64>,
    prev: i64,
}

impl Layout {
    /// push adds a bucket to the last span.
    fn push(&mut self, count: i64) {
        if let Some(last) = self.spans.last_mut() {
            last.length += 1;
        }
        self.deltas.push(count.wrapping_sub(self.prev));
        self.prev = count;
    }

    /// gap skips `gap` empty buckets: a new span past two, zero buckets else.
    fn gap(&mut self, gap: i32) {
        if gap > 2 {
            self.spans.push(Span {
                offset: gap,
                length: 0,
            });
        } else {
            for _ in 0..gap.max(0) {
                self.push(0);
            }
        }
    }
}

/// add_target_info adds the resource's `target_info` series over
/// [earliest, latest] (nanoseconds).
fn add_target_info(
    out: &mut Translation,
    resource: &[KeyValue<'_>],
    settings: &Settings,
    earliest: u64,
    latest: u64,
) {
    let identifying = resource
        .iter()
        .filter(|kv| IDENTIFYING_ATTRS.contains(&kv.key.as_ref()))
        .count();
    if resource.len() == identifying {
        return;
    }
    let res = ResourceLabels::new(resource, &[]);
    let ignore: &[&str] = if settings.keep_identifying_resource_attributes {
        &[]
    } else {
        &IDENTIFYING_ATTRS
    };
    let mut l = base_labels(resource, &res, &[], ignore);
    if l.position("job").is_none() && l.position("instance").is_none() {
        return;
    }
    l.set("__name__".to_string(), "target_info".to_string());
    let to_ms = |t: u64| (t as i64).div_euclid(1_000_000);
    let (first, last) = (to_ms(earliest), to_ms(latest));
    let (first_ns, last_ns) = (earliest as i64, latest as i64);
    let mut times = Vec::new();
    let mut t = first_ns;
    while t < last_ns {
        times.push(t.div_euclid(1_000_000));
        t = t.saturating_add(TARGET_INFO_INTERVAL_MS * 1_000_000);
    }
    if times.last().is_none_or(|x| *x < last) {
        times.push(last);
    }
    debug_assert!(times[0] >= first);
    for t in times {
        let mut labels = l.0.clone();
        out.add(
            &mut labels,
            Sample {
                timestamp_ms: t,
                value: 1.0,
                ..Sample::default()
            },
        );
    }
}

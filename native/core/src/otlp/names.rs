//! Prometheus names for OTLP metrics and attributes, as the Prometheus OTLP
//! translator builds them with UTF-8 names disallowed (Mimir's default
//! name validation): metric names with or without unit and type suffixes,
//! label names sanitised to `[a-zA-Z0-9_]`, attribute values as strings.

use super::model::{AnyValue, KeyValue};
use crate::head::write_json_string;

fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':' || c == '_'
}

/// MetricKind is what the name builder needs to know of a metric's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Gauge,
    MonotonicSum,
    NonMonotonicSum,
    Histogram,
    ExponentialHistogram,
    Summary,
    Empty,
}

/// metric_name builds the metric family name. Without suffixes every run
/// of characters outside `[a-zA-Z0-9:_]` becomes one `_` (leading and
/// trailing runs are dropped); with suffixes the name is split on every
/// character outside `[a-zA-Z0-9:]` (so repeated underscores collapse too),
/// the unit suffixes are added unless already a token, counters end in
/// `_total` and gauges of unit `1` in `_ratio`. A leading digit gets a `_`.
pub fn metric_name(name: &str, unit: &str, kind: MetricKind, add_suffixes: bool) -> String {
    let mut out = if add_suffixes {
        normalize_name(name, unit, kind)
    } else {
        name.split(|c: char| !is_metric_char(c))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("_")
    };
    if out.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        out.insert(0, '_');
    }
    out
}

fn normalize_name(name: &str, unit: &str, kind: MetricKind) -> String {
    let mut tokens: Vec<String> = name
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    if !main.is_empty() && !tokens.contains(&main) {
        tokens.push(main);
    }
    if !per.is_empty() && !tokens.contains(&per) {
        tokens.push(per);
    }
    if kind == MetricKind::MonotonicSum {
        tokens.retain(|t| t != "total");
        tokens.push("total".to_string());
    }
    if unit == "1" && kind == MetricKind::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".to_string());
    }
    tokens.join("_")
}

/// unit_suffixes maps an OTLP (UCUM) unit to the main and `per_` suffixes;
/// annotations in braces give no suffix.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main_otel = parts.next().unwrap_or("").trim();
    let per_raw = parts.next();
    let mut main = String::new();
    if !main_otel.is_empty() && !main_otel.contains(['{', '}']) {
        main = clean_up_unit(unit_name(main_otel));
    }
    let mut per = String::new();
    if let Some(p) = per_raw.filter(|p| !p.is_empty()) {
        let p = p.trim();
        if !p.is_empty() && !p.contains(['{', '}']) {
            per = format!("per_{}", per_unit_name(p));
        }
    }
    if !per.is_empty() {
        if let Some(stripped) = main.strip_suffix('_') {
            main = stripped.to_string();
        }
    }
    (main, per)
}

/// metadata_unit is the unit a metric's metadata carries, as the
/// translator's unit namer builds it: the main and `per_` suffixes of
/// [`metric_name`] joined by `_`, without leading or trailing `_`.
pub fn metadata_unit(unit: &str) -> String {
    let (main, per) = unit_suffixes(unit);
    let joined = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    joined.trim_matches('_').to_string()
}

fn unit_name(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit_name(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// clean_up_unit replaces characters outside `[a-zA-Z0-9:]` by `_`,
/// collapses repeated underscores and drops a leading one.
fn clean_up_unit(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' {
            c
        } else {
            '_'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    match out.strip_prefix('_') {
        Some(s) => s.to_string(),
        None => out,
    }
}

/// label_name sanitises an attribute key into a label name: every
/// character outside `[a-zA-Z0-9_]` becomes `_`; a leading digit gets a
/// `key_` prefix, a single leading underscore a `key` prefix (`__x` stays).
pub fn label_name(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    let mut out: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.as_bytes()[0].is_ascii_digit() {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    out
}

/// format_float is Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the
/// shortest decimal that round-trips, never in exponent form (the `le` and
/// `quantile` label values).
pub fn format_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    format!("{f}")
}

/// any_value_string is pdata's `Value.AsString()`: strings as they are,
/// integers and booleans in decimal, doubles as JSON (ES6) numbers, bytes
/// in standard base64, arrays and maps as JSON.
pub fn any_value_string(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Empty => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::Bool(b) => b.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => {
            if d.is_finite() {
                es6_number(*d)
            } else {
                format!("json: unsupported value: {}", go_float_g(*d))
            }
        }
        AnyValue::Bytes(b) => base64(b),
        AnyValue::Array(_) | AnyValue::KvList(_) => {
            let mut out = String::new();
            json_value(v, &mut out);
            out
        }
    }
}

fn go_float_g(d: f64) -> &'static str {
    if d.is_nan() {
        "NaN"
    } else if d > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// es6_number formats a finite double as Go's encoding/json does.
fn es6_number(d: f64) -> String {
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust: "1.5e-7" / "1e21"; Go: "1.5e-07" cleaned to "1.5e-7" / "1e+21".
        let s = format!("{d:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{d}")
    }
}

/// json_value renders an attribute value as pdata's AsRaw + encoding/json:
/// maps with sorted keys, HTML-safe string escaping.
fn json_value(v: &AnyValue<'_>, out: &mut String) {
    match v {
        AnyValue::Empty => out.push_str("null"),
        AnyValue::String(s) => write_json_string(out, s),
        AnyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::Int(i) => out.push_str(&i.to_string()),
        AnyValue::Double(d) => {
            if d.is_finite() {
                out.push_str(&es6_number(*d));
            } else {
                out.push_str("null");
            }
        }
        AnyValue::Bytes(b) => write_json_string(out, &base64(b)),
        AnyValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(item, out);
            }
            out.push(']');
        }
        AnyValue::KvList(kvs) => {
            // AsRaw builds a Go map: the last value of a key wins, keys sorted.
            let mut sorted: Vec<&KeyValue<'_>> = Vec::with_capacity(kvs.len());
            for kv in kvs {
                match sorted.iter_mut().find(|x| x.key == kv.key) {
                    Some(slot) => *slot = kv,
                    None => sorted.push(kv),
                }
            }
            sorted.sort_by(|a, b| a.key.cmp(&b.key));
            out.push('{');
            for (i, kv) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, &kv.key);
                out.push(':');
                json_value(&kv.value, out);
            }
            out.push('}');
        }
    }
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let x = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        out.push(T[(x >> 18) as usize & 63] as char);
        out.push(T[(x >> 12) as usize & 63] as char);
        out.push(if n > 1 {
            T[(x >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if n > 2 {
            T[x as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// base64_decode decodes standard base64 (padding optional); None when invalid.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

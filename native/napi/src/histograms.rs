//! histograms: N-API entry points of the native-histogram chunk codecs,
//! used by the byte-equality peer test against Prometheus 3.x.

use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi::{Error, Result, Status};
use napi_derive::napi;

use tsdb_core::chunkenc::{
    decode_float_histogram_chunk, decode_histogram_chunk, ENCODING_FLOAT_HISTOGRAM,
    ENCODING_HISTOGRAM,
};
use tsdb_core::head::histogram_chunks::encode_histogram_chunks as encode_chunks;
use tsdb_core::head::DEFAULT_CHUNK_RANGE;
use tsdb_core::model::histogram::{FloatHistogram, HistogramValue, Span};
use tsdb_core::remote::decode_write_request;

/// HistogramChunkOut is one encoded histogram chunk.
#[napi(object)]
pub struct HistogramChunkOut {
    pub min_time_ms: f64,
    pub max_time_ms: f64,
    /// 2 (integer histogram) or 3 (float histogram), as prompb.Chunk.Encoding.
    pub encoding: u32,
    pub data: Buffer,
}

/// HistogramSeriesChunks is the chunks of one series of a write request.
#[napi(object)]
pub struct HistogramSeriesChunksOut {
    /// Label names and values, alternating, in request order.
    pub labels: Vec<String>,
    pub chunks: Vec<HistogramChunkOut>,
}

/// encode_histogram_chunks decodes an uncompressed remote-write 1.0 body
/// and cuts each series' native histograms into chunks as Prometheus 3.x's
/// head would (2h chunk range). Throws on a malformed body.
#[napi]
pub fn encode_histogram_chunks(write_request: Uint8Array) -> Result<Vec<HistogramSeriesChunksOut>> {
    let req = decode_write_request(&write_request)
        .map_err(|e| Error::new(Status::InvalidArg, e.message().to_string()))?;
    let mut out = Vec::with_capacity(req.series.len());
    for s in req.iter_series() {
        let samples: Vec<(i64, HistogramValue)> = s
            .histogram_list
            .iter()
            .map(|h| (h.timestamp_ms, h.value.clone()))
            .collect();
        let chunks = encode_chunks(&samples, DEFAULT_CHUNK_RANGE)
            .into_iter()
            .map(|c| HistogramChunkOut {
                min_time_ms: c.min_t as f64,
                max_time_ms: c.max_t as f64,
                encoding: u32::from(c.encoding),
                data: Buffer::from(c.data.into_vec()),
            })
            .collect();
        out.push(HistogramSeriesChunksOut {
            labels: s
                .labels
                .iter()
                .flat_map(|(n, v)| [n.to_string(), v.to_string()])
                .collect(),
            chunks,
        });
    }
    Ok(out)
}

fn spans_json(out: &mut String, spans: &[Span]) {
    out.push('[');
    for (i, s) in spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("[{},{}]", s.offset, s.length));
    }
    out.push(']');
}

fn floats_json(out: &mut String, v: &[f64]) {
    out.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{}\"", x.to_bits()));
    }
    out.push(']');
}

fn float_histogram_json(out: &mut String, t: i64, h: &FloatHistogram) {
    out.push_str(&format!(
        "{{\"t\":{t},\"schema\":{},\"zeroThreshold\":\"{}\",\"zeroCount\":\"{}\",\"count\":\"{}\",\"sum\":\"{}\",\"positiveSpans\":",
        h.schema,
        h.zero_threshold.to_bits(),
        h.zero_count.to_bits(),
        h.count.to_bits(),
        h.sum.to_bits()
    ));
    spans_json(out, &h.positive_spans);
    out.push_str(",\"negativeSpans\":");
    spans_json(out, &h.negative_spans);
    out.push_str(",\"positiveBuckets\":");
    floats_json(out, &h.positive_buckets);
    out.push_str(",\"negativeBuckets\":");
    floats_json(out, &h.negative_buckets);
    out.push_str(",\"customValues\":");
    floats_json(out, &h.custom_values);
    out.push('}');
}

/// decode_histogram_chunk decodes a raw histogram chunk of the given
/// encoding (2 or 3) into a JSON array of samples; every float (counts,
/// sum, buckets as absolute counts, bounds) is written as the decimal
/// string of its IEEE-754 bits so NaNs compare exactly. Throws on a
/// corrupt chunk or another encoding.
#[napi]
pub fn decode_histogram_chunk_json(encoding: u32, chunk: Uint8Array) -> Result<String> {
    let mut out = String::from("[");
    let bad = |e: tsdb_core::chunkenc::ChunkError| Error::new(Status::InvalidArg, e.to_string());
    let samples: Vec<(i64, FloatHistogram)> = match encoding {
        e if e == u32::from(ENCODING_HISTOGRAM) => decode_histogram_chunk(&chunk)
            .map_err(bad)?
            .into_iter()
            .map(|(t, h)| (t, h.to_float()))
            .collect(),
        e if e == u32::from(ENCODING_FLOAT_HISTOGRAM) => {
            decode_float_histogram_chunk(&chunk).map_err(bad)?
        }
        other => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("decodeHistogramChunkJson: encoding {other} is not a histogram chunk"),
            ))
        }
    };
    for (i, (t, h)) in samples.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        float_histogram_json(&mut out, *t, h);
    }
    out.push(']');
    Ok(out)
}

/// EncodedHistograms are `prompb.Histogram` messages back to back:
/// message `j` is `data[offsets[j]..offsets[j + 1]]`.
#[napi(object)]
pub struct EncodedHistograms {
    pub data: Buffer,
    pub offsets: napi::bindgen_prelude::Uint32Array,
}

/// encode_remote_histograms encodes histogram samples of a selection (the
/// hand-off format: `timestamps[j]`, `data[data_offsets[j]..data_offsets[j
/// + 1]]`) as the `prompb.Histogram` messages of a remote-read SAMPLES
/// answer. Throws on malformed hand-off data.
#[napi]
pub fn encode_remote_histograms(
    timestamps: napi::bindgen_prelude::Float64Array,
    data: napi::bindgen_prelude::Float64Array,
    data_offsets: napi::bindgen_prelude::Uint32Array,
) -> Result<EncodedHistograms> {
    if data_offsets.len() != timestamps.len() + 1 {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "encodeRemoteHistograms: {} timestamps need {} data offsets, got {}",
                timestamps.len(),
                timestamps.len() + 1,
                data_offsets.len()
            ),
        ));
    }
    let hists =
        tsdb_core::model::histogram_flat::decode_flat_all(&data, &data_offsets).map_err(|e| {
            Error::new(
                Status::InvalidArg,
                format!("encodeRemoteHistograms: {}", e.0),
            )
        })?;
    let mut out = Vec::with_capacity(hists.len() * 64);
    let mut offsets = Vec::with_capacity(hists.len() + 1);
    offsets.push(0u32);
    for (t, h) in timestamps.iter().zip(&hists) {
        tsdb_core::remote::encode_histogram(&mut out, *t as i64, h);
        offsets.push(out.len() as u32);
    }
    Ok(EncodedHistograms {
        data: Buffer::from(out),
        offsets: napi::bindgen_prelude::Uint32Array::new(offsets),
    })
}

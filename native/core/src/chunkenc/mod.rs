//! chunkenc holds the chunk codecs: Prometheus's XOR float chunk (layout in
//! `docs/format/xor-chunk.md`), and its integer and float histogram chunks
//! (`histogram`, `float_histogram`, with what they share in
//! `histogram_meta` and the varbit integers of `varbit`).

pub mod bstream;
pub mod float_histogram;
pub mod histogram;
pub mod histogram_meta;
pub mod recode;
pub mod varbit;
pub mod xor;

#[cfg(test)]
mod histogram_test;
#[cfg(test)]
mod xor_test;

pub use float_histogram::{
    decode_float_histogram_chunk, FloatHistogramAppender, FloatHistogramIterator,
    ENCODING_FLOAT_HISTOGRAM,
};
pub use histogram::{
    decode_histogram_chunk, HistogramAppend, HistogramAppender, HistogramIterator,
    ENCODING_HISTOGRAM,
};
pub use histogram_meta::CounterResetHeader;
pub use xor::{decode_all, read_range, ChunkError, XorAppender, XorIterator};

/// ENCODING_XOR is the chunk encoding byte Prometheus writes before an XOR
/// chunk in segment files and remote-read responses (`chunkenc.EncXOR`).
pub const ENCODING_XOR: u8 = 1;

/// num_samples is a chunk's sample count: every encoding (XOR, histogram,
/// float histogram) starts with it as a big-endian u16. 0 for bytes too
/// short to be a chunk.
#[inline]
pub fn num_samples(chunk: &[u8]) -> u16 {
    match chunk {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// STALE_NAN_BITS is the bit pattern of Prometheus's staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

//! chunkenc holds the chunk codecs. Only Prometheus's XOR float chunk for
//! now; its layout is described in `docs/format/xor-chunk.md`.

pub mod bstream;
pub mod xor;

#[cfg(test)]
mod xor_test;

pub use xor::{decode_all, ChunkError, XorAppender, XorIterator};

/// ENCODING_XOR is the chunk encoding byte Prometheus writes before an XOR
/// chunk in segment files and remote-read responses (`chunkenc.EncXOR`).
pub const ENCODING_XOR: u8 = 1;

/// STALE_NAN_BITS is the bit pattern of Prometheus's staleness marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

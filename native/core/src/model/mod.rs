//! model holds the value types shared by the wire decoders, the head, the
//! chunk codecs and the query kernels.

pub mod histogram;
pub mod histogram_flat;
pub mod series_labels;
pub mod xxhash;

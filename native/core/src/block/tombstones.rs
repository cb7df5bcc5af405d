//! The `tombstones` file: deleted time ranges per series.
//!
//! ```text
//! magic 0x0130BA30 <4b> | version 1 <1b> |
//! (series ref <uvarint64> | mint <varint64> | maxt <varint64>)* |
//! crc32c <4b> over the tombstones only (not the version byte)
//! ```
//!
//! We never delete from a block we write, so ours are empty (9 bytes); blocks
//! from elsewhere (uploads) may carry some, and reads honour them.

use std::collections::HashMap;

use super::encoding::{check_crc, crc32c, put_uvarint, put_varint, Decbuf};
use super::BlockError;

/// MAGIC_TOMBSTONES opens a tombstones file.
pub const MAGIC_TOMBSTONES: u32 = 0x0130_BA30;
/// TOMBSTONES_FORMAT_V1 is the only version.
pub const TOMBSTONES_FORMAT_V1: u8 = 1;

/// Tombstones maps a series id to its deleted closed intervals [mint, maxt].
pub type Tombstones = HashMap<u32, Vec<(i64, i64)>>;

/// encode_tombstones renders a tombstones file for `stones` (sorted by
/// series for a stable output).
pub fn encode_tombstones(stones: &Tombstones) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.extend_from_slice(&MAGIC_TOMBSTONES.to_be_bytes());
    out.push(TOMBSTONES_FORMAT_V1);
    let mut refs: Vec<&u32> = stones.keys().collect();
    refs.sort();
    for r in refs {
        for &(a, b) in &stones[r] {
            put_uvarint(&mut out, u64::from(*r));
            put_varint(&mut out, a);
            put_varint(&mut out, b);
        }
    }
    let sum = crc32c(&out[5..]);
    out.extend_from_slice(&sum.to_be_bytes());
    out
}

/// decode_tombstones parses a tombstones file.
pub fn decode_tombstones(b: &[u8]) -> Result<Tombstones, BlockError> {
    if b.len() < 9 {
        return Err(BlockError::corrupt(format!(
            "tombstones: {} bytes is too short",
            b.len()
        )));
    }
    let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if magic != MAGIC_TOMBSTONES {
        return Err(BlockError::corrupt(format!(
            "tombstones: invalid magic number {magic:x}"
        )));
    }
    if b[4] != TOMBSTONES_FORMAT_V1 {
        return Err(BlockError::corrupt(format!(
            "tombstones: invalid tombstone format {:x}",
            b[4]
        )));
    }
    let body = &b[5..b.len() - 4];
    check_crc(body, &b[b.len() - 4..], "tombstones")?;
    let mut d = Decbuf::new(body, "tombstones");
    let mut out: Tombstones = HashMap::new();
    while !d.is_empty() {
        let r = d.uvarint32()?;
        let mint = d.varint()?;
        let maxt = d.varint()?;
        out.entry(r).or_default().push((mint, maxt));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_nine_bytes_with_zero_crc() {
        let b = encode_tombstones(&Tombstones::new());
        assert_eq!(b, [0x01, 0x30, 0xba, 0x30, 0x01, 0, 0, 0, 0]);
        assert!(decode_tombstones(&b).unwrap().is_empty());
    }

    #[test]
    fn round_trip_and_crc() {
        let mut t = Tombstones::new();
        t.insert(3, vec![(10, 20), (30, 40)]);
        t.insert(1, vec![(-5, 5)]);
        let mut b = encode_tombstones(&t);
        assert_eq!(decode_tombstones(&b).unwrap(), t);
        b[6] ^= 1;
        assert!(decode_tombstones(&b)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
    }
}

//! Variable-width integers of Prometheus's histogram chunks
//! (`tsdb/chunkenc/varbit.go`): a unary prefix of 1 bits picks one of nine
//! widths (0, 3, 6, 9, 12, 18, 25, 56 or 64 value bits).

use super::bstream::{BitReader, BitSink};

/// VARBIT_WIDTHS are the value widths after a prefix of 1..=8 bits.
const VARBIT_WIDTHS: [u32; 8] = [3, 6, 9, 12, 18, 25, 56, 64];

/// fits_signed reports whether `v` fits a signed `nbits` field as Prometheus
/// reads it: -(2^(n-1) - 1) ..= 2^(n-1).
#[cfg(test)]
#[inline]
fn fits_signed(v: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= v && v <= half
}

/// SIGNED_WIDTH_INDEX maps the two's-complement width a value needs
/// (1..=64) to the index of the narrowest of `VARBIT_WIDTHS` holding it.
const SIGNED_WIDTH_INDEX: [u8; 65] = {
    let mut t = [0u8; 65];
    let mut n = 0;
    while n <= 64 {
        let mut i = 0;
        while VARBIT_WIDTHS[i] < n as u32 {
            i += 1;
        }
        t[n] = i as u8;
        n += 1;
    }
    t
};

/// put_varbit_int writes a signed varbit integer (`putVarbitInt`): the
/// prefix and the value in one write when they fit 64 bits. A width of n
/// bits holds -(2^(n-1) - 1) ..= 2^(n-1), which is exactly the values v
/// whose v - 1 fits n-bit two's complement: its width picks the field.
#[inline]
pub fn put_varbit_int<W: BitSink>(w: &mut W, v: i64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    let i = signed_width_index(v);
    write_prefixed(w, i as u32 + 1, v as u64, VARBIT_WIDTHS[i]);
}

/// signed_width_index is the index of the narrowest of `VARBIT_WIDTHS`
/// holding the non-zero `v` (see put_varbit_int).
#[inline]
fn signed_width_index(v: i64) -> usize {
    let y = v.wrapping_sub(1);
    let needed = 65 - (y ^ (y >> 63)).leading_zeros();
    SIGNED_WIDTH_INDEX[needed.min(64) as usize] as usize
}

/// put_varbit_uint writes an unsigned varbit integer (`putVarbitUint`).
#[inline]
pub fn put_varbit_uint<W: BitSink>(w: &mut W, v: u64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (i, &n) in VARBIT_WIDTHS.iter().enumerate() {
        if n == 64 || v.leading_zeros() >= 64 - n {
            write_prefixed(w, i as u32 + 1, v, n);
            return;
        }
    }
}

/// write_prefixed writes the prefix of `ones` 1 bits and then the `n` low
/// bits of `v`, as one write when both fit 64 bits.
#[inline]
fn write_prefixed<W: BitSink>(w: &mut W, ones: u32, v: u64, n: u32) {
    if ones == 8 {
        write_prefix(w, ones);
        w.write_bits(v, n);
        return;
    }
    // ones 1 bits then a 0 (e.g. 3 -> 0b1110), then the value: at most
    // 8 + 56 bits.
    let prefix = ((1u64 << ones) - 1) << 1;
    let value = v & ((1u64 << n) - 1);
    w.write_bits((prefix << n) | value, ones + 1 + n);
}

/// write_prefix writes `ones` 1 bits closed by a 0 bit; the eighth prefix
/// (64-bit values) has no closing 0.
#[inline]
fn write_prefix<W: BitSink>(w: &mut W, ones: u32) {
    if ones == 8 {
        w.write_bits(0xff, 8);
    } else {
        // ones 1 bits then a 0: e.g. 3 -> 0b1110.
        w.write_bits(((1u64 << ones) - 1) << 1, ones + 1);
    }
}

/// read_prefix counts the leading 1 bits (at most 8) and returns the value
/// width they select (0 for a lone 0 bit).
#[inline]
fn read_prefix(r: &mut BitReader<'_>) -> Option<u32> {
    let mut ones = 0usize;
    while ones < 8 {
        if !r.read_bit()? {
            break;
        }
        ones += 1;
    }
    Some(if ones == 0 {
        0
    } else {
        VARBIT_WIDTHS[ones - 1]
    })
}

/// read_varbit_int reads what `put_varbit_int` wrote (`readVarbitInt`).
#[inline]
pub fn read_varbit_int(r: &mut BitReader<'_>) -> Option<i64> {
    // Fast path: prefix and value within one peeked word.
    if let Some((w, avail)) = r.peek() {
        let ones = w.leading_ones().min(8);
        if ones == 0 {
            r.skip(1);
            return Some(0);
        }
        let prefix = if ones == 8 { 8 } else { ones + 1 };
        let n = VARBIT_WIDTHS[ones as usize - 1];
        if n < 64 && prefix + n <= avail {
            let mut bits = (w << prefix) >> (64 - n);
            r.skip(prefix + n);
            if bits > (1u64 << (n - 1)) {
                bits = bits.wrapping_sub(1u64 << n);
            }
            return Some(bits as i64);
        }
    }
    let n = read_prefix(r)?;
    match n {
        0 => Some(0),
        64 => r.read_bits(64).map(|b| b as i64),
        _ => {
            let mut bits = r.read_bits(n)?;
            if bits > (1u64 << (n - 1)) {
                bits = bits.wrapping_sub(1u64 << n);
            }
            Some(bits as i64)
        }
    }
}

/// read_varbit_uint reads what `put_varbit_uint` wrote (`readVarbitUint`).
pub fn read_varbit_uint(r: &mut BitReader<'_>) -> Option<u64> {
    let n = read_prefix(r)?;
    if n == 0 {
        return Some(0);
    }
    r.read_bits(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::bstream::BitWriter;

    #[test]
    fn width_choice_is_the_narrowest_that_fits() {
        let mut vals: Vec<i64> = vec![i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1, -1, 1];
        for n in [3u32, 6, 9, 12, 18, 25, 56] {
            let half = 1i64 << (n - 1);
            vals.extend([half, half + 1, -(half - 1), -half, half - 1]);
        }
        for v in vals {
            let want = VARBIT_WIDTHS
                .iter()
                .position(|&n| n == 64 || fits_signed(v, n))
                .unwrap();
            assert_eq!(signed_width_index(v), want, "{v}");
        }
    }

    #[test]
    fn widths_and_round_trip() {
        // (value, bits written) from varbit.go's comments.
        let cases: &[(i64, usize)] = &[
            (0, 1),
            (-3, 5),
            (4, 5),
            (5, 9),
            (-31, 9),
            (32, 9),
            (256, 13),
            (-2047, 17),
            (131072, 24),
            (-16777215, 32),
            (36028797018963968, 64),
            (i64::MIN, 72),
            (i64::MAX, 72),
        ];
        for &(v, nbits) in cases {
            let mut w = BitWriter::compact_with_header(0, 16);
            put_varbit_int(&mut w, v);
            assert_eq!(w.bytes().len(), nbits.div_ceil(8), "bytes for {v}");
            let mut r = BitReader::new(w.bytes(), 0);
            assert_eq!(read_varbit_int(&mut r), Some(v));
        }
        for v in [
            0u64,
            7,
            8,
            63,
            511,
            4095,
            262143,
            33554431,
            1 << 56,
            u64::MAX,
        ] {
            let mut w = BitWriter::compact_with_header(0, 16);
            put_varbit_uint(&mut w, v);
            let mut r = BitReader::new(w.bytes(), 0);
            assert_eq!(read_varbit_uint(&mut r), Some(v));
        }
        // -4 does not fit 3 bits (range -3..=4): it takes the 6-bit form.
        // A long stream: most values are read through the one-word fast
        // path, the last ones bit by bit.
        let mut vals = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let shift = (i * 7) % 64;
            vals.push(((x >> shift) as i64) * if i % 2 == 0 { 1 } else { -1 });
        }
        vals.extend([0, 1, -1, 4, -3, i64::MIN, i64::MAX, 1 << 55, -(1 << 55) + 1]);
        let mut w = BitWriter::compact_with_header(0, 16);
        for &v in &vals {
            put_varbit_int(&mut w, v);
        }
        let mut r = BitReader::new(w.bytes(), 0);
        for &v in &vals {
            assert_eq!(read_varbit_int(&mut r), Some(v));
        }
        let mut w = BitWriter::compact_with_header(0, 4);
        put_varbit_int(&mut w, -4);
        assert_eq!(w.bytes(), &[0b1101_1110, 0]);
    }
}

//! The kernels' input view (flat series) and output buffers.

use std::fmt;

use crate::chunkenc::STALE_NAN_BITS;

/// is_stale reports whether `v` is Prometheus's staleness marker (one
/// particular NaN bit pattern; other NaNs are ordinary values).
#[inline]
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// KernelError is a malformed kernel call (inconsistent array lengths,
/// unknown function, wrong parameter count). Query data never causes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError(pub String);

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KernelError {}

/// SeriesSet borrows the flat sample layout: series `i` owns samples
/// `offsets[i]..offsets[i + 1]`, timestamps in ms ascending per series.
#[derive(Debug, Clone, Copy)]
pub struct SeriesSet<'a> {
    offsets: &'a [u32],
    timestamps: &'a [f64],
    values: &'a [f64],
}

impl<'a> SeriesSet<'a> {
    /// new checks the layout: `offsets` non-decreasing, starting at 0 (or
    /// empty for no series), ending at the sample count.
    pub fn new(
        offsets: &'a [u32],
        timestamps: &'a [f64],
        values: &'a [f64],
    ) -> Result<Self, KernelError> {
        if timestamps.len() != values.len() {
            return Err(KernelError(format!(
                "{} timestamps but {} values",
                timestamps.len(),
                values.len()
            )));
        }
        let n = timestamps.len();
        match offsets {
            [] if n == 0 => {}
            [] => {
                return Err(KernelError(format!(
                    "no offsets for {n} samples (want one more offset than series)"
                )))
            }
            [first, .., last] if *first == 0 && *last as usize == n => {}
            [only] if *only == 0 && n == 0 => {}
            _ => {
                return Err(KernelError(format!(
                    "offsets must start at 0 and end at the sample count {n}"
                )))
            }
        }
        if offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(KernelError("offsets must not decrease".into()));
        }
        Ok(SeriesSet {
            offsets,
            timestamps,
            values,
        })
    }

    /// len is the number of series.
    #[inline]
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// is_empty reports whether there are no series.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// series returns series `i`'s timestamps and values.
    #[inline]
    pub fn series(&self, i: usize) -> (&'a [f64], &'a [f64]) {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        (&self.timestamps[a..b], &self.values[a..b])
    }
}

/// KernelOutput is a kernel's result, row-major by series: cell
/// `series * n_steps + step`. `values` is meaningful where `present` is 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelOutput {
    pub values: Vec<f64>,
    pub present: Vec<u8>,
}

impl KernelOutput {
    /// with_cells allocates an all-absent output.
    pub fn with_cells(n: usize) -> Self {
        KernelOutput {
            values: vec![0.0; n],
            present: vec![0; n],
        }
    }

    /// set stores a present value.
    #[inline]
    pub fn set(&mut self, cell: usize, v: f64) {
        self.values[cell] = v;
        self.present[cell] = 1;
    }
}

/// ms converts a JS/f64 millisecond time to i64 (saturating, NaN → 0).
#[inline]
pub(crate) fn ms(t: f64) -> i64 {
    t as i64
}

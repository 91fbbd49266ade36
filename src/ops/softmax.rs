//! Numerically stable softmax.

use crate::{math, Error, Result};

/// In-place softmax: `x[i] ← exp(x[i] − m) / Σ_j exp(x[j] − m)` with `m = max x` (so no
/// `exp` overflows), f32 throughout.
///
/// NaN/inf: `-inf` entries are allowed and become exactly 0 (attention masks); at least one
/// entry must be finite. Any NaN, any `+inf`, or all entries `-inf` is
/// [`Error::NonFinite`], returned before `x` is modified. An empty slice is a no-op.
///
/// ```
/// let mut x = [1.0, 2.0, f32::NEG_INFINITY];
/// picoformer::ops::softmax(&mut x)?;
/// assert!((x[0] + x[1] - 1.0).abs() < 1e-6 && x[2] == 0.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn softmax(x: &mut [f32]) -> Result<()> {
    if x.is_empty() {
        return Ok(());
    }
    let mut max = f32::NEG_INFINITY;
    let mut nan = false;
    for &v in x.iter() {
        nan |= v.is_nan();
        if v > max {
            max = v;
        }
    }
    if nan || !max.is_finite() {
        return Err(Error::NonFinite {
            what: "softmax input (NaN, +inf, or all -inf)",
        });
    }
    // exp in its own loop (vectorises), then the sum in order
    for v in x.iter_mut() {
        *v = math::exp(*v - max);
    }
    let sum: f32 = x.iter().sum();
    // sum >= 1 (the max element contributes exp(0) = 1).
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
    Ok(())
}

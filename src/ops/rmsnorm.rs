//! RMSNorm (Zhang & Sennrich 2019; OpenELM spec §5 "RMSNorm").

use super::check_len;
use crate::{Error, Result};

/// The scale `1 / sqrt(mean(x²) + eps)` with f32 statistics, after validating the inputs.
fn inv_rms(x: &[f32], weight_len: usize, eps: f32) -> Result<f32> {
    check_len("rmsnorm weight length", x.len(), weight_len)?;
    if x.is_empty() {
        return Err(Error::InvalidParam {
            what: "rmsnorm of an empty vector",
        });
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(Error::InvalidParam {
            what: "rmsnorm eps must be finite and >= 0",
        });
    }
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let mut tail = 0.0f32;
    for &v in chunks.remainder() {
        tail += v * v;
    }
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    let ss = acc.iter().sum::<f32>() + tail;
    if !ss.is_finite() {
        return Err(Error::NonFinite {
            what: "rmsnorm input (NaN, inf, or sum of squares overflows f32)",
        });
    }
    let mean = ss / x.len() as f32 + eps;
    if mean == 0.0 {
        // x is all zeros and eps == 0: the output is 0·inf; define it as zeros.
        return Ok(0.0);
    }
    // One square root per call: always libm (micromath's `invsqrt` is off by up to 3.4 %,
    // see tests/math_error.rs), even under `fast-math`.
    Ok(1.0 / libm::sqrtf(mean))
}

/// `out[i] = x[i] · (1 / sqrt(mean(x²) + eps)) · weight[i]`, statistics in f32.
///
/// The single `1/sqrt` is computed with libm `sqrtf` under every feature set (its cost is
/// one call per vector; micromath's approximation would add a 3 % scale error).
///
/// Errors: [`Error::Shape`] if the three lengths differ; [`Error::InvalidParam`] if `x` is
/// empty or `eps` is negative/NaN/inf; [`Error::NonFinite`] if `x` holds NaN/±inf or
/// `Σx²` overflows f32 (checked before `out` is written). With `eps == 0` an all-zero `x`
/// gives zeros. NaN/inf in `weight` propagate.
///
/// ```
/// let mut y = [0.0; 4];
/// picoformer::ops::rmsnorm(&mut y, &[1.0, 2.0, 3.0, 4.0], &[1.0; 4], 1e-6)?;
/// assert!((y[0] - 0.36514837).abs() < 1e-6); // OpenELM spec §8 check 6
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn rmsnorm(out: &mut [f32], x: &[f32], weight: &[f32], eps: f32) -> Result<()> {
    check_len("rmsnorm output length", x.len(), out.len())?;
    let s = inv_rms(x, weight.len(), eps)?;
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(weight) {
        *o = v * s * g;
    }
    Ok(())
}

/// [`rmsnorm`] in place: `x[i] ← x[i] · (1 / sqrt(mean(x²) + eps)) · weight[i]`.
///
/// Same errors as [`rmsnorm`]; on error `x` is unchanged.
pub fn rmsnorm_inplace(x: &mut [f32], weight: &[f32], eps: f32) -> Result<()> {
    let s = inv_rms(x, weight.len(), eps)?;
    for (v, &g) in x.iter_mut().zip(weight) {
        *v = *v * s * g;
    }
    Ok(())
}

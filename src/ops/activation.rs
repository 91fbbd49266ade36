//! SiLU and the SwiGLU gate (Shazeer 2020, "GLU Variants Improve Transformer"; OpenELM spec §5
//! "FFN").

use super::check_len;
use crate::{math, Result};

/// `silu(x) = x · σ(x) = x / (1 + e^{−x})`.
///
/// NaN → NaN, `+inf` → `+inf`, `-inf` → NaN (as PyTorch's `x / (1 + exp(-x))`); large negative
/// finite `x` give `-0.0`.
#[inline]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + math::exp(-x))
}

/// `x[i] ← silu(x[i])`.
pub fn silu_inplace(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = silu(*v);
    }
}

/// SwiGLU: `out[i] = silu(gate[i]) · up[i]`.
///
/// Errors: [`Error::Shape`](crate::Error::Shape) if the lengths differ. NaN/inf propagate
/// (see [`silu`]).
pub fn swiglu(out: &mut [f32], gate: &[f32], up: &[f32]) -> Result<()> {
    check_len("swiglu gate length", out.len(), gate.len())?;
    check_len("swiglu up length", out.len(), up.len())?;
    for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
        *o = silu(g) * u;
    }
    Ok(())
}

/// SwiGLU in place over the gate: `gate[i] ← silu(gate[i]) · up[i]`.
///
/// Errors: [`Error::Shape`](crate::Error::Shape) if the lengths differ.
pub fn swiglu_inplace(gate: &mut [f32], up: &[f32]) -> Result<()> {
    check_len("swiglu up length", gate.len(), up.len())?;
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = silu(*g) * u;
    }
    Ok(())
}

//! Matvec inputs quantised once to `Q8_0` (ggml style) for the `Q8_0` matrices that read them
//! (the transformer session and the MH-MoE layer), and the byte view of the f32 scratch that
//! holds the quantised bytes.
//!
//! A `Q8_0` matrix `W` multiplies the `Q8_0` quantisation `x_q` of its input (ggml's
//! `quantize_row_q8_0` then `ggml_vec_dot_q8_0_q8_0`):
//! `y[r] = Σ_b f32(Σ_j qw_{r,b,j} · qx_{b,j}) · (d_{w,r,b} · d_{x,b})`, exact i32 block sums.
//! `F32`/`F16` matrices keep the f32 input (`y[r] = Σ_c W[r][c] · x[c]`, f32 accumulation).
//! Each distinct input vector is quantised once and shared by every matrix that reads it.

use crate::ops;
use crate::quant::{self, DType, Matrix};
use crate::{Error, Result};

/// A matvec input `x` and, when some reader is `Q8_0`, its `Q8_0` quantisation.
pub(crate) struct Input<'a> {
    x: &'a [f32],
    xq: Option<&'a [u8]>,
}

/// Whether any matrix of `ws` is `Q8_0` (its input is then quantised once, see [`Input`]).
pub(crate) fn any_q8<'a, 'w: 'a>(ws: impl IntoIterator<Item = &'a Matrix<'w>>) -> bool {
    ws.into_iter().any(|w| w.dtype() == DType::Q8_0)
}

impl<'a> Input<'a> {
    /// `x`, quantised into the front of `qx` by [`quant::quantize_row_q8_0`] iff `quantise`
    /// (pass [`any_q8`] of the matrices that will read `x`).
    ///
    /// Errors: [`Error::Capacity`] if `qx` is shorter than `q8_0_row_bytes(x.len())`;
    /// [`Error::NonFinite`] for NaN/inf in `x` (the quantiser rejects them); [`Error::Shape`]
    /// if `x.len()` is not a multiple of 32 (no `Q8_0` matrix has such a width).
    pub(crate) fn new(x: &'a [f32], quantise: bool, qx: &'a mut [u8]) -> Result<Self> {
        if !quantise {
            return Ok(Input { x, xq: None });
        }
        let need = quant::q8_0_row_bytes(x.len());
        let available = qx.len();
        let xq = qx.get_mut(..need).ok_or(Error::Capacity {
            what: "scratch: quantised matvec input",
            needed: need,
            available,
        })?;
        quant::quantize_row_q8_0(x, xq)?;
        Ok(Input { x, xq: Some(xq) })
    }

    /// The f32 input.
    pub(crate) fn f32(&self) -> &'a [f32] {
        self.x
    }

    /// The quantised bytes for a `Q8_0` reader `w`, `None` for `F32`/`F16` (or if `x` was not
    /// quantised).
    pub(crate) fn q8_for(&self, w: &Matrix<'_>) -> Option<&'a [u8]> {
        self.xq.filter(|_| w.dtype() == DType::Q8_0)
    }

    /// `out = W · x`: [`ops::matvec_q8_pre`] on the quantised input when `W` is `Q8_0` (and `x`
    /// was quantised), else [`ops::matvec`] on the f32 input.
    ///
    /// Errors: [`Error::Shape`] on length mismatches.
    pub(crate) fn matvec(&self, out: &mut [f32], w: &Matrix<'_>) -> Result<()> {
        match self.q8_for(w) {
            Some(xq) => ops::matvec_q8_pre(out, w, xq),
            None => ops::matvec(out, w, self.x),
        }
    }
}

/// The bytes of an f32 scratch region (the quantised inputs are carved from the f32 scratch).
pub(crate) fn as_bytes_mut(f: &mut [f32]) -> &mut [u8] {
    let len = core::mem::size_of_val(f);
    // SAFETY: the new slice covers exactly the memory of `f` (same start, `4·len` bytes) and
    // keeps it exclusively borrowed for the same lifetime; `u8` has alignment 1, and every bit
    // pattern is a valid `u8` and a valid `f32`, so no invalid value can be read either way.
    unsafe { core::slice::from_raw_parts_mut(f.as_mut_ptr().cast::<u8>(), len) }
}

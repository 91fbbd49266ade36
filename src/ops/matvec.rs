//! Matrix × vector with F32 / F16 / Q8_0 weights (ggml layout), f32 accumulation.

use super::check_len;
use crate::quant::{self, q8_0, DType, Matrix};
use crate::{Error, Result};

/// `out[r] = Σ_c W[r][c] · x[c]` for every row `r`, accumulating in f32.
///
/// Per dtype: `F32` reads each weight as f32; `F16` converts each weight to f32 (with
/// `half`; software conversion on cores without an f16 unit); `Q8_0` computes
/// `Σ_b d_b · Σ_j q_{b,j} · x[32b + j]` per row (weights are never dequantised to memory).
///
/// Errors: [`Error::Shape`] if `x.len() != w.cols()` or `out.len() != w.rows()`.
/// NaN/inf in `x` or in the weights propagate through IEEE arithmetic.
///
/// ```
/// use picoformer::{ops::matvec, quant::{DType, Matrix}};
/// let bytes: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let w = Matrix::new(DType::F32, 2, 2, &bytes)?;
/// let mut out = [0.0; 2];
/// matvec(&mut out, &w, &[1.0, 1.0])?;
/// assert_eq!(out, [3.0, 7.0]);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn matvec(out: &mut [f32], w: &Matrix<'_>, x: &[f32]) -> Result<()> {
    check_len("matvec input length (= cols)", w.cols(), x.len())?;
    check_len("matvec output length (= rows)", w.rows(), out.len())?;
    quant::matvec_rows(w.dtype(), w.rows_iter(), x, out);
    Ok(())
}

/// Scratch bytes [`matvec_q8`] needs to quantise an input of `cols` values:
/// `cols / 32 · 34` (rounded up to whole blocks).
pub const fn matvec_q8_scratch_len(cols: usize) -> usize {
    q8_0::q8_0_row_bytes(cols)
}

/// `Q8_0 × Q8_0` matvec as ggml does it: quantises `x` once into `scratch` with
/// [`quant::quantize_row_q8_0`], then [`matvec_q8_pre`].
///
/// Errors: [`Error::Unsupported`] unless `w.dtype()` is `Q8_0`; [`Error::Shape`] on length
/// mismatches; [`Error::Capacity`] if `scratch.len() < matvec_q8_scratch_len(w.cols())`
/// (a longer scratch is fine); [`Error::NonFinite`] if `x` holds NaN/inf.
pub fn matvec_q8(out: &mut [f32], w: &Matrix<'_>, x: &[f32], scratch: &mut [u8]) -> Result<()> {
    check_q8(w)?;
    check_len("matvec input length (= cols)", w.cols(), x.len())?;
    let need = matvec_q8_scratch_len(w.cols());
    let available = scratch.len();
    let xq = scratch.get_mut(..need).ok_or(Error::Capacity {
        what: "matvec_q8 scratch bytes",
        needed: need,
        available,
    })?;
    quant::quantize_row_q8_0(x, xq)?;
    matvec_q8_pre(out, w, xq)
}

/// `out[r] = Σ_b f32(Σ_j qw·qx) · (d_w · d_x)` for `Q8_0` weights and an input `xq` already
/// quantised by [`quant::quantize_row_q8_0`] (quantise once, reuse for Q, K and V).
///
/// Precondition: every quant of `xq` is in `[-127, 127]` (always true for the output of
/// [`quant::quantize_row_q8_0`]); weight quants may be any i8. With a `-128` in `xq` the
/// result is unspecified on x86-64 AVX2 (ggml's `maddubs` sign trick can saturate; finite for
/// finite scales, never UB); the other backends are exact for any i8.
///
/// Errors: [`Error::Unsupported`] unless `w.dtype()` is `Q8_0`; [`Error::Shape`] if
/// `xq.len() != w.row_stride()` or `out.len() != w.rows()`.
pub fn matvec_q8_pre(out: &mut [f32], w: &Matrix<'_>, xq: &[u8]) -> Result<()> {
    check_q8(w)?;
    check_len("matvec_q8 quantised input bytes", w.row_stride(), xq.len())?;
    check_len("matvec output length (= rows)", w.rows(), out.len())?;
    quant::matvec_rows_q8(w.rows_iter(), xq, out);
    Ok(())
}

fn check_q8(w: &Matrix<'_>) -> Result<()> {
    if w.dtype() == DType::Q8_0 {
        Ok(())
    } else {
        Err(Error::Unsupported {
            what: "weight type for matvec_q8 (needs q8_0)",
            value: w.dtype().ggml_type() as u64,
        })
    }
}

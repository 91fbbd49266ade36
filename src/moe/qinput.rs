//! Streaming the rows of a `Q8_0` matvec on a quantised input (the MH-MoE router and
//! projections); the quantised inputs themselves are `crate::ops::qinput`'s.

use crate::ops;
use crate::quant::Matrix;
use crate::{Error, Result};

/// Rows per call of [`ops::matvec_q8_pre`] when the results are streamed ([`q8_rows`]): a
/// stack buffer, not a function of the matrix size.
const CHUNK: usize = 16;

/// Calls `f(r, Σ_b f32(Σ_j qw·qx) · (d_w · d_x))` for every row `r` of the `Q8_0` matrix `w`
/// in order, computed by [`ops::matvec_q8_pre`] in chunks of [`CHUNK`] rows (no buffer sized
/// by `w`). Stops at the first error of `f`.
///
/// Errors: [`Error::Unsupported`] unless `w` is `Q8_0`; [`Error::Shape`] if
/// `xq.len() != w.row_stride()`; whatever `f` returns.
pub(crate) fn q8_rows(
    w: &Matrix<'_>,
    xq: &[u8],
    mut f: impl FnMut(usize, f32) -> Result<()>,
) -> Result<()> {
    let mut buf = [0.0f32; CHUNK];
    let mut r0 = 0;
    while r0 < w.rows() {
        let n = CHUNK.min(w.rows() - r0);
        let part = buf.get_mut(..n).ok_or(Error::Capacity {
            what: "moe q8 row chunk",
            needed: n,
            available: CHUNK,
        })?;
        ops::matvec_q8_pre(part, &w.slice_rows(r0, n)?, xq)?;
        for (i, &v) in part.iter().enumerate() {
            f(r0 + i, v)?;
        }
        r0 += n;
    }
    Ok(())
}

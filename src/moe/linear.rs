//! A `d → d` linear layer with an optional bias: the MH-MoE multi-head and merge layers
//! (spec `mhmoe.md` §2 steps 1 and 6).

use crate::ops;
use crate::quant::Matrix;
use crate::Result;

/// `out = W·x + b` (`b` a `1 × rows` matrix view, optional), f32 accumulation.
///
/// Errors: [`Error::Shape`](crate::Error::Shape) on length mismatches (the layer checks
/// shapes once at construction, so these do not occur there).
pub(crate) fn linear(
    out: &mut [f32],
    w: &Matrix<'_>,
    bias: Option<&Matrix<'_>>,
    x: &[f32],
) -> Result<()> {
    match bias {
        None => ops::matvec(out, w, x),
        Some(b) => {
            // out = b, then out[r] += W[r]·x (the same row dot as `ops::matvec`).
            b.dequant_row(0, out)?;
            for (r, o) in out.iter_mut().enumerate() {
                *o += w.dot_row(r, x)?;
            }
            Ok(())
        }
    }
}

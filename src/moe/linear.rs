//! A `d → d` linear layer with an optional bias: the MH-MoE multi-head and merge layers
//! (spec `mhmoe.md` §2 steps 1 and 6).

use crate::ops;
use crate::quant::{self, Matrix};
use crate::{Error, Result};

/// `out = W·x + b` (`b` a `1 × rows` matrix view, optional), f32 accumulation.
///
/// Errors: [`Error::Shape`] on length mismatches (the layer checks
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
            // out = b, then out[r] += W[r]·x with the row dot of `ops::matvec`.
            if x.len() != w.cols() || out.len() != w.rows() {
                return Err(Error::Shape {
                    what: "moe linear (x = cols, out = rows)",
                    expected: w.cols(),
                    got: x.len(),
                });
            }
            b.dequant_row(0, out)?;
            let dtype = w.dtype();
            for (o, row) in out.iter_mut().zip(w.rows_iter()) {
                *o += quant::row_dot(dtype, row, x);
            }
            Ok(())
        }
    }
}

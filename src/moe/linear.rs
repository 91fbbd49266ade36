//! A `d → d` linear layer with an optional bias: the MH-MoE multi-head and merge layers
//! (spec `mhmoe.md` §2 steps 1 and 6).

use super::qinput::q8_rows;
use crate::ops::qinput::Input;
use crate::quant::{self, Matrix};
use crate::{Error, Result};

/// `out = W·x + b` (`b` a `1 × rows` matrix view, optional), f32 accumulation.
///
/// `F32`/`F16` `W`: `out[r] = b[r] + Σ_c W[r][c] · x[c]`. `Q8_0` `W` (with `x` quantised
/// once, see [`Input`]): `out[r] = b[r] + Σ_b f32(Σ_j qw·qx) · (d_w · d_x)`.
///
/// Errors: [`Error::Shape`] on length mismatches (the layer checks
/// shapes once at construction, so these do not occur there).
pub(crate) fn linear(
    out: &mut [f32],
    w: &Matrix<'_>,
    bias: Option<&Matrix<'_>>,
    x: &Input<'_>,
) -> Result<()> {
    let Some(b) = bias else {
        return x.matvec(out, w);
    };
    let xf = x.f32();
    if xf.len() != w.cols() || out.len() != w.rows() {
        return Err(Error::Shape {
            what: "moe linear (x = cols, out = rows)",
            expected: w.cols(),
            got: xf.len(),
        });
    }
    // out = b, then out[r] += W[r]·x with the row dot of `ops::matvec` / `matvec_q8_pre`.
    b.dequant_row(0, out)?;
    match x.q8_for(w) {
        Some(xq) => q8_rows(w, xq, |r, v| {
            if let Some(o) = out.get_mut(r) {
                *o += v;
            }
            Ok(())
        }),
        None => {
            let dtype = w.dtype();
            for (o, row) in out.iter_mut().zip(w.rows_iter()) {
                *o += quant::row_dot(dtype, row, xf);
            }
            Ok(())
        }
    }
}

//! The experts of an MH-MoE layer, stored as 3-D tensors (`E` stacked matrices), and the
//! evaluation of one selected expert (spec `mhmoe.md` §2 step 4, §2.1 item 7).

use super::config::MoeConfig;
use crate::ops;
use crate::ops::qinput::{any_q8, Input};
use crate::quant::Matrix;
use crate::{Error, Result, TensorProblem};

/// The expert weights of one layer as stacked matrices (GGUF `ffn_{gate,up,down}_exps`).
///
/// `up` (and `gate` for SwiGLU) has `E·I` rows of `d/h`: expert `e` is rows
/// `e·I .. (e+1)·I` (GGUF ne `[d/h, I, E]`). `down` has `E·(d/h)` rows of `I`: expert `e` is
/// rows `e·(d/h) .. (e+1)·(d/h)` (GGUF ne `[I, d/h, E]`). A per-expert view is a byte slice of
/// the stacked tensor ([`Matrix::slice_rows`]), so nothing is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Experts<'w> {
    gate: Option<Matrix<'w>>,
    up: Matrix<'w>,
    down: Matrix<'w>,
    count: usize,
    inner: usize,
    sub: usize,
}

fn shape_err(name: &'static str) -> Error {
    Error::Tensor {
        name,
        layer: None,
        problem: TensorProblem::WrongShape,
    }
}

impl<'w> Experts<'w> {
    /// Checks the stacked tensors against `cfg` (`gate` present iff `cfg.glu`).
    ///
    /// Errors: [`Error::Tensor`] with the GGUF suffix (`ffn_gate_exps.weight`, ...) and
    /// `WrongShape` (or `Missing` for an absent SwiGLU gate); `layer` is `None` here.
    pub fn new(
        cfg: &MoeConfig,
        gate: Option<Matrix<'w>>,
        up: Matrix<'w>,
        down: Matrix<'w>,
    ) -> Result<Self> {
        cfg.validate()?;
        let sub = cfg.sub_dim();
        let rows = cfg.experts.checked_mul(cfg.inner);
        let stacked_ok = |m: &Matrix<'_>| Some(m.rows()) == rows && m.cols() == sub;
        match (cfg.glu, gate) {
            (true, None) => {
                return Err(Error::Tensor {
                    name: "ffn_gate_exps.weight",
                    layer: None,
                    problem: TensorProblem::Missing,
                })
            }
            (true, Some(g)) if !stacked_ok(&g) => return Err(shape_err("ffn_gate_exps.weight")),
            (false, Some(_)) => return Err(shape_err("ffn_gate_exps.weight")),
            _ => {}
        }
        if !stacked_ok(&up) {
            return Err(shape_err("ffn_up_exps.weight"));
        }
        if Some(down.rows()) != cfg.experts.checked_mul(sub) || down.cols() != cfg.inner {
            return Err(shape_err("ffn_down_exps.weight"));
        }
        Ok(Experts {
            gate,
            up,
            down,
            count: cfg.experts,
            inner: cfg.inner,
            sub,
        })
    }

    /// Number of experts `E`.
    pub const fn count(&self) -> usize {
        self.count
    }

    /// The stacked gate tensor (SwiGLU only).
    pub const fn gate(&self) -> Option<Matrix<'w>> {
        self.gate
    }

    /// The stacked up tensor.
    pub const fn up(&self) -> Matrix<'w> {
        self.up
    }

    /// The stacked down tensor.
    pub const fn down(&self) -> Matrix<'w> {
        self.down
    }

    /// Whether gate or up is `Q8_0` (the sub-token input is then quantised).
    pub(crate) fn input_q8(&self) -> bool {
        any_q8(self.gate.iter().chain([&self.up]))
    }

    /// `y += g · f_e(x)` for expert `e`, where `f_e(x) = down_e(up_e(x) ⊙ silu(gate_e(x)))`
    /// (SwiGLU, the official `fc2(fc1(x) * silu(fc3(x)))`) or `down_e(silu(up_e(x)))`.
    ///
    /// Each product is `W·v` with f32 accumulation for `F32`/`F16` `W`, and
    /// `Σ_b f32(Σ_j qw·qv) · (d_w · d_v)` on the `Q8_0` quantisation of `v` for `Q8_0` `W`:
    /// `x` arrives quantised once by the caller (shared with the router and the other
    /// selected experts); the hidden vector is quantised here into `qh` when `down` is `Q8_0`.
    ///
    /// `hidden` holds at least `2·I` floats, `tmp` at least `d/h` and `qh` at least
    /// `q8_0_row_bytes(I)` bytes when `down` is `Q8_0` (scratch).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn accumulate(
        &self,
        e: usize,
        g: f32,
        x: &Input<'_>,
        y: &mut [f32],
        hidden: &mut [f32],
        tmp: &mut [f32],
        qh: &mut [u8],
    ) -> Result<()> {
        let inner = self.inner;
        if e >= self.count {
            return Err(Error::InvalidParam {
                what: "moe expert index (< experts)",
            });
        }
        let short = |what, needed, available| Error::Capacity {
            what,
            needed,
            available,
        };
        let hidden_len = hidden.len();
        let (h_gate, rest) = hidden.split_at_mut_checked(inner).ok_or(short(
            "moe expert scratch",
            2 * inner,
            hidden_len,
        ))?;
        let h_up =
            rest.get_mut(..inner)
                .ok_or(short("moe expert scratch", 2 * inner, hidden_len))?;
        let tmp_len = tmp.len();
        let tmp =
            tmp.get_mut(..self.sub)
                .ok_or(short("moe expert output scratch", self.sub, tmp_len))?;
        let up = self.up.slice_rows(e * inner, inner)?;
        let down = self.down.slice_rows(e * self.sub, self.sub)?;
        let down_q8 = any_q8([&down]);
        match self.gate {
            Some(gate) => {
                x.matvec(h_gate, &gate.slice_rows(e * inner, inner)?)?;
                x.matvec(h_up, &up)?;
                ops::swiglu_inplace(h_gate, h_up)?;
                Input::new(h_gate, down_q8, qh)?.matvec(tmp, &down)?;
            }
            None => {
                x.matvec(h_up, &up)?;
                ops::silu_inplace(h_up);
                Input::new(h_up, down_q8, qh)?.matvec(tmp, &down)?;
            }
        }
        ops::axpy(y, g, tmp)
    }
}

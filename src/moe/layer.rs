//! [`MoeLayer`]: one MH-MoE feed-forward layer and its single-token forward pass
//! (spec `mhmoe.md` §2, §2.1; paper arXiv 2404.15045v1 §3).

use super::config::MoeConfig;
use super::expert::Experts;
use super::linear::linear;
use super::router::{route, route_q8, Routing};
use super::stats::MoeStats;
use crate::ops::qinput::{any_q8, as_bytes_mut, Input};
use crate::quant::{q8_0_row_bytes, Matrix};
use crate::{Error, Result, TensorProblem};

/// Weight views of one MH-MoE layer, as stored in GGUF (docs/GGUF.md "MH-MoE layers").
///
/// Matrices are row-major `[out, in]` ([`Matrix`] over F32 / F16 / Q8_0 bytes); biases are
/// `1 × d` matrices. Names in the field docs are the `blk.N.` tensor suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoeWeights<'w> {
    /// `mhmoe_head.weight`, `d × d` (present iff `cfg.proj`).
    pub head: Option<Matrix<'w>>,
    /// `mhmoe_head.bias`, `1 × d` (present iff `cfg.bias`).
    pub head_bias: Option<Matrix<'w>>,
    /// `ffn_gate_inp.weight`, `E × d/h`.
    pub router: Matrix<'w>,
    /// `ffn_gate_exps.weight`, `E·I × d/h` (present iff `cfg.glu`).
    pub gate_exps: Option<Matrix<'w>>,
    /// `ffn_up_exps.weight`, `E·I × d/h`.
    pub up_exps: Matrix<'w>,
    /// `ffn_down_exps.weight`, `E·(d/h) × I`.
    pub down_exps: Matrix<'w>,
    /// `mhmoe_merge.weight`, `d × d` (present iff `cfg.proj`).
    pub merge: Option<Matrix<'w>>,
    /// `mhmoe_merge.bias`, `1 × d` (present iff `cfg.bias`).
    pub merge_bias: Option<Matrix<'w>>,
}

/// One MH-MoE layer: multi-head layer → split into `h` sub-tokens → shared router, top-k →
/// the selected experts only → weighted sum → merge → merge layer. Output has the input's
/// shape; the block residual is added by the caller.
///
/// Crate defaults follow the official code (spec §4): no sub-token residual, gate weight =
/// raw softmax probability (optional top-k renormalisation), dropless routing
/// ([`forward`](Self::forward)); [`forward_batch`](Self::forward_batch) adds the official
/// capacity dropping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoeLayer<'w> {
    pub(crate) cfg: MoeConfig,
    pub(crate) head: Option<Matrix<'w>>,
    pub(crate) head_bias: Option<Matrix<'w>>,
    pub(crate) router: Matrix<'w>,
    pub(crate) experts: Experts<'w>,
    pub(crate) merge: Option<Matrix<'w>>,
    pub(crate) merge_bias: Option<Matrix<'w>>,
}

fn tensor_err(name: &'static str, problem: TensorProblem) -> Error {
    Error::Tensor {
        name,
        layer: None,
        problem,
    }
}

/// `Some(m)` must be `rows × cols` and present iff `want`.
fn check_opt(
    m: Option<&Matrix<'_>>,
    want: bool,
    rows: usize,
    cols: usize,
    name: &'static str,
) -> Result<()> {
    match (want, m) {
        (true, None) => Err(tensor_err(name, TensorProblem::Missing)),
        (false, Some(_)) => Err(tensor_err(name, TensorProblem::WrongShape)),
        (true, Some(m)) if m.rows() != rows || m.cols() != cols => {
            Err(tensor_err(name, TensorProblem::WrongShape))
        }
        _ => Ok(()),
    }
}

impl<'w> MoeLayer<'w> {
    /// Builds a layer from weight views, checking every shape against `cfg` once.
    ///
    /// Errors: [`Error::InvalidParam`] from [`MoeConfig::validate`]; [`Error::Tensor`] (with
    /// `layer: None` and the GGUF tensor suffix) for a missing, unexpected or mis-shaped
    /// tensor.
    pub fn new(cfg: MoeConfig, w: MoeWeights<'w>) -> Result<Self> {
        cfg.validate()?;
        let d = cfg.d;
        check_opt(w.head.as_ref(), cfg.proj, d, d, "mhmoe_head.weight")?;
        check_opt(w.head_bias.as_ref(), cfg.bias, 1, d, "mhmoe_head.bias")?;
        check_opt(w.merge.as_ref(), cfg.proj, d, d, "mhmoe_merge.weight")?;
        check_opt(w.merge_bias.as_ref(), cfg.bias, 1, d, "mhmoe_merge.bias")?;
        check_opt(
            Some(&w.router),
            true,
            cfg.experts,
            cfg.sub_dim(),
            "ffn_gate_inp.weight",
        )?;
        let experts = Experts::new(&cfg, w.gate_exps, w.up_exps, w.down_exps)?;
        Ok(MoeLayer {
            cfg,
            head: w.head,
            head_bias: w.head_bias,
            router: w.router,
            experts,
            merge: w.merge,
            merge_bias: w.merge_bias,
        })
    }

    /// The layer's configuration.
    pub const fn config(&self) -> &MoeConfig {
        &self.cfg
    }

    /// The router `E × d/h`.
    pub const fn router(&self) -> &Matrix<'w> {
        &self.router
    }

    /// The stacked experts.
    pub const fn experts(&self) -> &Experts<'w> {
        &self.experts
    }

    /// `out = W_head·x + b_head` (or `out = x` without projections); `x` is quantised into
    /// `qx` first when `W_head` is `Q8_0`.
    pub(crate) fn project_in(&self, out: &mut [f32], x: &[f32], qx: &mut [u8]) -> Result<()> {
        project(out, self.head.as_ref(), self.head_bias.as_ref(), x, qx)
    }

    /// `out = W_merge·y + b_merge` (or `out = y` without projections); `y` is quantised into
    /// `qx` first when `W_merge` is `Q8_0`.
    pub(crate) fn project_out(&self, out: &mut [f32], y: &[f32], qx: &mut [u8]) -> Result<()> {
        project(out, self.merge.as_ref(), self.merge_bias.as_ref(), y, qx)
    }

    /// Sub-token `xs` as the input of the router and the experts' gate and up: quantised once
    /// into the front of `qx` if any of them is `Q8_0`.
    pub(crate) fn sub_input<'a>(&self, xs: &'a [f32], qx: &'a mut [u8]) -> Result<Input<'a>> {
        let q8 = any_q8([&self.router]) || self.experts.input_q8();
        Input::new(xs, q8, qx)
    }

    /// [`route_q8`] on the quantised sub-token when the router is `Q8_0`, else [`route`].
    pub(crate) fn route_sub(&self, xs: &Input<'_>) -> Result<Routing> {
        let (k, renorm) = (self.cfg.k, self.cfg.renorm_topk);
        match xs.q8_for(&self.router) {
            Some(xq) => route_q8(&self.router, xq, k, renorm),
            None => route(&self.router, xs.f32(), k, renorm),
        }
    }

    /// MACs of head + merge + router for one token (the experts are counted as they run).
    pub(crate) fn fixed_macs(&self) -> u64 {
        let m = self.cfg.macs_per_token();
        m.total().saturating_sub(m.experts)
    }

    /// MACs of one expert evaluation on one sub-token: `c · (d/h) · I`.
    pub(crate) fn expert_macs(&self) -> u64 {
        (self.cfg.expert_matrices() as u64)
            .saturating_mul(self.cfg.sub_dim() as u64)
            .saturating_mul(self.cfg.inner as u64)
    }

    /// MACs of one token whose sub-tokens ran `routed` expert evaluations in total.
    pub(crate) fn token_macs(&self, routed: u64) -> u64 {
        self.fixed_macs()
            .saturating_add(routed.saturating_mul(self.expert_macs()))
    }

    pub(crate) fn check_stats(&self, stats: Option<&MoeStats<'_>>) -> Result<()> {
        match stats {
            Some(s) if s.experts() != self.cfg.experts => Err(Error::Shape {
                what: "moe stats counts length (= experts)",
                expected: self.cfg.experts,
                got: s.experts(),
            }),
            _ => Ok(()),
        }
    }

    /// Routing of one token without running the experts: `xh = W_head·x + b_head`, then
    /// `routes[j]` = the routing of sub-token `j` (rank order, ties → lower index), exactly as
    /// [`forward`](Self::forward) computes it ([`route_q8`] on the quantised sub-token for a
    /// `Q8_0` router, else [`route`]).
    ///
    /// `x`, `xh`: `d` floats; `routes`: `h` entries; `scratch`: at least
    /// [`MoeConfig::scratch_len`] floats (only its quantised-input part is used). Errors as
    /// [`forward`](Self::forward).
    pub fn route_token(
        &self,
        x: &[f32],
        xh: &mut [f32],
        routes: &mut [Routing],
        scratch: &mut [f32],
    ) -> Result<()> {
        let cfg = &self.cfg;
        check_len("moe route_token input (= d)", cfg.d, x.len())?;
        check_len("moe route_token xh (= d)", cfg.d, xh.len())?;
        check_len("moe route_token routes (= heads)", cfg.heads, routes.len())?;
        let s = carve(
            cfg,
            scratch,
            "moe route_token scratch (MoeConfig::scratch_len)",
        )?;
        self.project_in(xh, x, s.qx)?;
        for (xs, r) in xh.chunks_exact(cfg.sub_dim()).zip(routes.iter_mut()) {
            *r = self.route_sub(&self.sub_input(xs, s.qx)?)?;
        }
        Ok(())
    }

    /// One token through the layer, dropless (every selected expert runs; the crate default).
    ///
    /// `x`, `out`: `d` floats. `scratch`: at least [`MoeConfig::scratch_len`] floats (not a
    /// function of `E`; its last [`qx_floats`](super::qx_floats) hold the quantised inputs). Only the `k` selected experts of each sub-token are evaluated.
    /// `stats`, when given, is updated (selection counts, routed, divergence, MACs); when
    /// `None` no statistics work is done.
    ///
    /// Products with `Q8_0` matrices multiply their input quantised once to `Q8_0`
    /// (`y = Σ_b f32(Σ_j qw·qx)·(d_w·d_x)`, see the [module docs](super)); `F32`/`F16` ones the
    /// f32 input.
    ///
    /// Errors: [`Error::Shape`] for wrong `x`/`out` lengths or a `stats` of another `E`;
    /// [`Error::Capacity`] for a short scratch; [`Error::NonFinite`] if a router logit is
    /// NaN/inf (e.g. NaN in `x`) or if the input of a `Q8_0` matrix holds NaN/inf (the
    /// quantiser rejects it). NaN/inf elsewhere propagate.
    pub fn forward(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut [f32],
        stats: Option<&mut MoeStats<'_>>,
    ) -> Result<()> {
        let cfg = &self.cfg;
        let (d, sub, k) = (cfg.d, cfg.sub_dim(), cfg.k);
        check_len("moe forward input (= d)", d, x.len())?;
        check_len("moe forward output (= d)", d, out.len())?;
        self.check_stats(stats.as_deref())?;
        let Scratch {
            y,
            hidden,
            tmp,
            ids,
            qx,
        } = carve(cfg, scratch, "moe forward scratch (MoeConfig::scratch_len)")?;

        self.project_in(out, x, qx)?; // out = x̂ until the merge
        y.fill(0.0);
        let q_sub = q8_0_row_bytes(sub);
        for ((xs, ys), id) in out
            .chunks_exact(sub)
            .zip(y.chunks_exact_mut(sub))
            .zip(ids.chunks_exact_mut(k))
        {
            let (qs, qh) = split_bytes(qx, q_sub)?;
            let xin = self.sub_input(xs, qs)?;
            let r = self.route_sub(&xin)?;
            for ((e, g), slot) in r.choices().zip(id.iter_mut()) {
                self.experts.accumulate(e, g, &xin, ys, hidden, tmp, qh)?;
                *slot = e as f32;
            }
        }
        if let Some(st) = stats {
            for &e in ids.iter() {
                st.count_selection(e as usize);
            }
            let routed = (cfg.heads * k) as u64;
            st.tokens = st.tokens.saturating_add(1);
            st.sub_tokens = st.sub_tokens.saturating_add(cfg.heads as u64);
            st.routed = st.routed.saturating_add(routed);
            st.divergence_sum = st.divergence_sum.saturating_add(distinct(ids) as u64);
            st.macs = st.macs.saturating_add(self.token_macs(routed));
        }
        self.project_out(out, y, qx)
    }
}

/// `out = W·x + b` through [`linear`] (`x` quantised into `qx` when `W` is `Q8_0`), or
/// `out = x` when the layer has no such projection.
fn project(
    out: &mut [f32],
    w: Option<&Matrix<'_>>,
    bias: Option<&Matrix<'_>>,
    x: &[f32],
    qx: &mut [u8],
) -> Result<()> {
    match w {
        Some(w) => linear(out, w, bias, &Input::new(x, any_q8([w]), qx)?),
        None => {
            copy(out, x);
            Ok(())
        }
    }
}

/// The single-token scratch regions, in order: `y` (`d`), `hidden` (`2·I`), `tmp` (`d/h`),
/// `ids` (`h·k`), then `qx`, the bytes of the last
/// [`qx_floats`](super::qx_floats) floats.
pub(crate) struct Scratch<'a> {
    pub(crate) y: &'a mut [f32],
    pub(crate) hidden: &'a mut [f32],
    pub(crate) tmp: &'a mut [f32],
    pub(crate) ids: &'a mut [f32],
    pub(crate) qx: &'a mut [u8],
}

/// Splits the first [`MoeConfig::scratch_len`] floats of `scratch` into its regions.
///
/// Errors: [`Error::Capacity`] (naming `what`) if `scratch` is shorter.
pub(crate) fn carve<'a>(
    cfg: &MoeConfig,
    scratch: &'a mut [f32],
    what: &'static str,
) -> Result<Scratch<'a>> {
    let need = cfg.scratch_len();
    let available = scratch.len();
    let scratch = scratch.get_mut(..need).ok_or(Error::Capacity {
        what,
        needed: need,
        available,
    })?;
    let (y, rest) = split(scratch, cfg.d)?;
    let (hidden, rest) = split(rest, 2 * cfg.inner)?;
    let (tmp, rest) = split(rest, cfg.sub_dim())?;
    let (ids, qx) = split(rest, cfg.heads * cfg.k)?;
    Ok(Scratch {
        y,
        hidden,
        tmp,
        ids,
        qx: as_bytes_mut(qx),
    })
}

/// `s.split_at_mut(n)` for the quantised-input bytes, as an error instead of a panic.
pub(crate) fn split_bytes(s: &mut [u8], n: usize) -> Result<(&mut [u8], &mut [u8])> {
    let available = s.len();
    s.split_at_mut_checked(n).ok_or(Error::Capacity {
        what: "moe scratch: quantised matvec inputs",
        needed: n,
        available,
    })
}

pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::Shape {
            what,
            expected,
            got,
        })
    }
}

/// `s.split_at_mut(n)` as an error instead of a panic (scratch carving).
pub(crate) fn split(s: &mut [f32], n: usize) -> Result<(&mut [f32], &mut [f32])> {
    let available = s.len();
    s.split_at_mut_checked(n).ok_or(Error::Capacity {
        what: "moe scratch",
        needed: n,
        available,
    })
}

fn copy(out: &mut [f32], x: &[f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v;
    }
}

/// Number of distinct values in `ids` (expert indices stored as exact f32 integers).
pub(crate) fn distinct(ids: &[f32]) -> usize {
    ids.iter()
        .enumerate()
        .filter(|&(i, v)| !ids.iter().take(i).any(|u| u == v))
        .count()
}

//! The MH-MoE router: softmax over `E` expert logits and a bounded top-k, streamed so that no
//! buffer depends on `E` (spec `mhmoe.md` §2 step 3, §2.1 item 4).

use super::config::K_MAX;
use super::qinput::q8_rows;
use crate::quant::Matrix;
use crate::{math, Error, Result};

/// The top-k experts chosen for one sub-token and their gate weights.
///
/// `experts[..k]` are in rank order (probability descending, ties → lower expert index);
/// `gates[i]` is the weight of `experts[i]`: the raw softmax probability `p_e` (official code),
/// or `p_e / Σ_{top-k} p` when renormalised.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Routing {
    /// Number of valid entries (`k`).
    pub k: usize,
    /// Chosen expert indices, rank order.
    pub experts: [u32; K_MAX],
    /// Gate weights of the chosen experts.
    pub gates: [f32; K_MAX],
}

impl Routing {
    /// The `(expert, gate)` pairs in rank order.
    pub fn choices(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.experts
            .iter()
            .zip(self.gates.iter())
            .take(self.k)
            .map(|(&e, &g)| (e as usize, g))
    }
}

/// Routes one sub-token `x` (length `d/h`) with the router `w_g` (`E` rows of `d/h`):
/// `l_e = w_g[e]·x`, `p = softmax(l)`, top-`k` of `p`. `x` is f32 whatever the router's
/// dtype; [`MoeLayer`](super::MoeLayer) routes through [`route_q8`] (the sub-token quantised
/// once to `Q8_0`) when the router is `Q8_0`.
///
/// Streaming: each logit is computed once and folded into an online softmax
/// (`m ← max(m, l)`, `s ← s·e^{m_old−m} + e^{l−m}`) and into a sorted `[_; K_MAX]` top-k, so the
/// cost is `E` row dot products and `O(E·k)` compares with no `E`-sized buffer. Ranking uses the
/// logits (softmax is monotone); a later expert enters only if its logit is strictly greater,
/// which gives the deterministic tie rule "lower expert index first". Gate weights are
/// `p_e = e^{l_e−m}/s`, divided by `Σ_{top-k} p` when `renorm`.
///
/// Errors: [`Error::InvalidParam`] unless `1 ≤ k ≤ min(E, K_MAX)`; [`Error::Shape`] if
/// `x.len()` is not the router width; [`Error::NonFinite`] if a logit is NaN or ±inf (a NaN
/// input or weight), since the top-k would be meaningless.
///
/// ```
/// use picoformer::moe::route;
/// use picoformer::quant::{DType, Matrix};
/// // 3 experts over a 1-d sub-token: logits = [1, 3, 2]·x
/// let bytes: Vec<u8> = [1.0f32, 3.0, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let wg = Matrix::new(DType::F32, 3, 1, &bytes)?;
/// let r = route(&wg, &[1.0], 2, false)?;
/// assert_eq!(&r.experts[..2], &[1, 2]);
/// assert!(r.gates[0] > r.gates[1]);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn route(w_g: &Matrix<'_>, x: &[f32], k: usize, renorm: bool) -> Result<Routing> {
    let mut top = TopK::new(w_g, k)?;
    if x.len() != w_g.cols() {
        return Err(Error::Shape {
            what: "route: sub-token length (= router cols)",
            expected: w_g.cols(),
            got: x.len(),
        });
    }
    for e in 0..w_g.rows() {
        top.push(e, w_g.dot_row(e, x)?)?;
    }
    Ok(top.finish(renorm))
}

/// [`route`] for a `Q8_0` router and a sub-token already quantised to `Q8_0` by
/// [`quantize_row_q8_0`](crate::quant::quantize_row_q8_0) (ggml style):
/// `l_e = Σ_b f32(Σ_j qw_{e,b,j} · qx_{b,j}) · (d_{w,e,b} · d_{x,b})`, then the same streamed
/// softmax and top-k. The logits come from [`ops::matvec_q8_pre`](crate::ops::matvec_q8_pre)
/// over chunks of rows (a fixed stack buffer, still nothing sized by `E`).
///
/// Errors: as [`route`], with [`Error::Unsupported`] unless `w_g` is `Q8_0` and
/// [`Error::Shape`] if `xq.len() != w_g.row_stride()`.
///
/// ```
/// use picoformer::moe::{route, route_q8};
/// use picoformer::quant::{quantize_row_q8_0, q8_0_row_bytes, DType, Matrix};
/// // 3 experts over a 32-d sub-token; expert e's row is (e + 1)·(1, …, 1) in Q8_0
/// let mut w = vec![0u8; 3 * q8_0_row_bytes(32)];
/// for (e, row) in w.chunks_exact_mut(34).enumerate() {
///     quantize_row_q8_0(&[(e + 1) as f32; 32], row)?;
/// }
/// let wg = Matrix::new(DType::Q8_0, 3, 32, &w)?;
/// let x = [0.25f32; 32];
/// let mut xq = [0u8; 34];
/// quantize_row_q8_0(&x, &mut xq)?;
/// let r = route_q8(&wg, &xq, 2, false)?;
/// assert_eq!(&r.experts[..2], &[2, 1]);
/// // the f32-input route differs only by the quantisation of x (f16 scale, 8-bit values)
/// let f = route(&wg, &x, 2, false)?;
/// assert_eq!(f.experts, r.experts);
/// assert!((f.gates[0] - r.gates[0]).abs() < 1e-3);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn route_q8(w_g: &Matrix<'_>, xq: &[u8], k: usize, renorm: bool) -> Result<Routing> {
    let mut top = TopK::new(w_g, k)?;
    q8_rows(w_g, xq, |e, l| top.push(e, l))?;
    Ok(top.finish(renorm))
}

/// The streamed softmax normaliser and sorted top-k of [`route`].
struct TopK {
    k: usize,
    /// Sorted (logit, expert) pairs; only `filled` are real.
    top: [(f32, u32); K_MAX],
    filled: usize,
    /// Running max logit and `Σ e^{l − m}`.
    m: f32,
    s: f32,
}

impl TopK {
    fn new(w_g: &Matrix<'_>, k: usize) -> Result<Self> {
        if k == 0 || k > K_MAX || k > w_g.rows() {
            return Err(Error::InvalidParam {
                what: "route: k must be in 1..=min(E, K_MAX)",
            });
        }
        Ok(TopK {
            k,
            top: [(f32::NEG_INFINITY, 0u32); K_MAX],
            filled: 0,
            m: f32::NEG_INFINITY,
            s: 0.0,
        })
    }

    /// Folds logit `l` of expert `e` in (experts in increasing order).
    fn push(&mut self, e: usize, l: f32) -> Result<()> {
        if !l.is_finite() {
            return Err(Error::NonFinite {
                what: "moe router logit",
            });
        }
        // Online softmax normaliser.
        if l > self.m {
            self.s = self.s * math::exp(self.m - l) + 1.0;
            self.m = l;
        } else {
            self.s += math::exp(l - self.m);
        }
        // Entries with a logit >= l stay ahead (ties keep the lower index); insert after them.
        let pos = self
            .top
            .iter()
            .take(self.filled)
            .take_while(|&&(v, _)| v >= l)
            .count();
        // (`pos < k` keeps `tail` non-empty, as `rotate_right(1)` requires.)
        let k = self.k;
        if let Some(tail) = self.top.get_mut(pos..k).filter(|_| pos < k) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = (l, e as u32);
            }
            self.filled = (self.filled + 1).min(k);
        }
        Ok(())
    }

    fn finish(&self, renorm: bool) -> Routing {
        let k = self.k;
        let mut experts = [0u32; K_MAX];
        let mut gates = [0.0f32; K_MAX];
        let mut sum = 0.0f32;
        for ((g, ex), &(l, e)) in gates
            .iter_mut()
            .zip(experts.iter_mut())
            .zip(self.top.iter())
            .take(k)
        {
            *g = math::exp(l - self.m) / self.s;
            *ex = e;
            sum += *g;
        }
        if renorm && sum > 0.0 {
            for g in gates.iter_mut().take(k) {
                *g /= sum;
            }
        }
        Routing { k, experts, gates }
    }
}

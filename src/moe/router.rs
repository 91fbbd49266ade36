//! The MH-MoE router: softmax over `E` expert logits and a bounded top-k, streamed so that no
//! buffer depends on `E` (spec `mhmoe.md` §2 step 3, §2.1 item 4).

use super::config::K_MAX;
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
/// `l_e = w_g[e]·x`, `p = softmax(l)`, top-`k` of `p`.
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
    if k == 0 || k > K_MAX || k > w_g.rows() {
        return Err(Error::InvalidParam {
            what: "route: k must be in 1..=min(E, K_MAX)",
        });
    }
    if x.len() != w_g.cols() {
        return Err(Error::Shape {
            what: "route: sub-token length (= router cols)",
            expected: w_g.cols(),
            got: x.len(),
        });
    }
    // Sorted (logit, expert) pairs; only `filled` are real.
    let mut top = [(f32::NEG_INFINITY, 0u32); K_MAX];
    let mut filled = 0usize;
    let mut m = f32::NEG_INFINITY;
    let mut s = 0.0f32;
    for e in 0..w_g.rows() {
        let l = w_g.dot_row(e, x)?;
        if !l.is_finite() {
            return Err(Error::NonFinite {
                what: "moe router logit",
            });
        }
        // Online softmax normaliser.
        if l > m {
            s = s * math::exp(m - l) + 1.0;
            m = l;
        } else {
            s += math::exp(l - m);
        }
        // Entries with a logit >= l stay ahead (ties keep the lower index); insert after them.
        let pos = top
            .iter()
            .take(filled)
            .take_while(|&&(v, _)| v >= l)
            .count();
        // (`pos < k` keeps `tail` non-empty, as `rotate_right(1)` requires.)
        if let Some(tail) = top.get_mut(pos..k).filter(|_| pos < k) {
            tail.rotate_right(1);
            if let Some(first) = tail.first_mut() {
                *first = (l, e as u32);
            }
            filled = (filled + 1).min(k);
        }
    }
    let mut experts = [0u32; K_MAX];
    let mut gates = [0.0f32; K_MAX];
    let mut sum = 0.0f32;
    for ((g, ex), &(l, e)) in gates
        .iter_mut()
        .zip(experts.iter_mut())
        .zip(top.iter())
        .take(k)
    {
        *g = math::exp(l - m) / s;
        *ex = e;
        sum += *g;
    }
    if renorm && sum > 0.0 {
        for g in gates.iter_mut().take(k) {
            *g /= sum;
        }
    }
    Ok(Routing { k, experts, gates })
}

//! Sequence forward with the official code's capacity dropping (spec `mhmoe.md` §2.1 item 5,
//! tutel `fast_dispatch`): routing is batch-dependent, so all `S` tokens are routed before any
//! expert runs.

use super::layer::{carve, check_len, distinct, split, split_bytes, MoeLayer, Scratch};
use super::stats::MoeStats;
use crate::quant::q8_0_row_bytes;
use crate::{Error, Result};

/// How selections are dispatched to experts in [`MoeLayer::forward_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Dispatch {
    /// Every selection runs (infinite capacity; the crate default, = [`MoeLayer::forward`]).
    Dropless,
    /// The official training/eval capacity `C = k · ceil(S_sub / E)` with `S_sub = S·h`.
    Capacity,
    /// A fixed capacity `C` per expert (e.g. the eval fraction `ceil(f · S_sub)`).
    FixedCapacity(usize),
}

impl Dispatch {
    /// The per-expert capacity for `sub_tokens` sub-tokens (`usize::MAX` when dropless).
    pub const fn capacity(self, sub_tokens: usize, experts: usize, k: usize) -> usize {
        match self {
            Dispatch::Dropless => usize::MAX,
            Dispatch::Capacity => {
                if experts == 0 {
                    0
                } else {
                    k.saturating_mul(sub_tokens.div_ceil(experts))
                }
            }
            Dispatch::FixedCapacity(c) => c,
        }
    }
}

/// Sub-token × k selections must stay exact as f32 integers in scratch.
const MAX_SELECTIONS: usize = 1 << 24;

impl MoeLayer<'_> {
    /// `S` tokens through the layer (`x`, `out`: `S·d` floats, token-major), with `dispatch`
    /// choosing dropless routing or the official capacity dropping.
    ///
    /// Capacity slots follow tutel: sub-token rows in order `row = token·h + head`; the rank-r
    /// choice of row `s` for expert `e` gets slot `#{rank < r choices of e in all rows} +
    /// #{rank r choices of e in rows < s}`; a slot `≥ C` is dropped (contributes 0). Gate
    /// weights are computed before dropping (renormalised over all `k` when `renorm_topk`).
    ///
    /// `scratch`: at least [`MoeConfig::batch_scratch_len`](super::MoeConfig::batch_scratch_len)
    /// `(S)` floats. Only kept selections run an expert. `stats` as in
    /// [`forward`](Self::forward), plus `dropped`.
    ///
    /// Errors: [`Error::Shape`] if `x.len()` is not a multiple of `d` or `out.len() !=
    /// x.len()`; [`Error::Capacity`] for a short scratch or more than 2^24 selections;
    /// [`Error::NonFinite`] for a NaN/inf router logit or a NaN/inf input of a `Q8_0` matrix.
    ///
    /// Numerics as [`forward`](Self::forward) (dropless results are bit-identical); a
    /// sub-token read by `Q8_0` matrices is quantised for routing in the first pass and again,
    /// to the same bytes, for its kept experts after the capacity pass.
    pub fn forward_batch(
        &self,
        x: &[f32],
        out: &mut [f32],
        dispatch: Dispatch,
        scratch: &mut [f32],
        mut stats: Option<&mut MoeStats<'_>>,
    ) -> Result<()> {
        let cfg = &self.cfg;
        let (d, h, sub, k, n_exp) = (cfg.d, cfg.heads, cfg.sub_dim(), cfg.k, cfg.experts);
        if !x.len().is_multiple_of(d) {
            return Err(Error::Shape {
                what: "moe forward_batch input (multiple of d)",
                expected: x.len().div_ceil(d) * d,
                got: x.len(),
            });
        }
        check_len(
            "moe forward_batch output (= input length)",
            x.len(),
            out.len(),
        )?;
        self.check_stats(stats.as_deref())?;
        let tokens = x.len() / d;
        let rows = tokens * h; // ≤ x.len()
        let selections = rows.saturating_mul(k);
        if selections > MAX_SELECTIONS {
            return Err(Error::Capacity {
                what: "moe forward_batch selections (S·h·k <= 2^24)",
                needed: selections,
                available: MAX_SELECTIONS,
            });
        }
        let need = cfg.batch_scratch_len(tokens);
        let available = scratch.len();
        let scratch = scratch.get_mut(..need).ok_or(Error::Capacity {
            what: "moe forward_batch scratch (MoeConfig::batch_scratch_len)",
            needed: need,
            available,
        })?;
        let (single, rest) = split(scratch, cfg.scratch_len())?;
        let Scratch {
            y,
            hidden,
            tmp,
            ids: _,
            qx,
        } = carve(
            cfg,
            single,
            "moe forward_batch scratch (MoeConfig::batch_scratch_len)",
        )?;
        let (choice, rest) = split(rest, selections)?;
        let (gate, rest) = split(rest, selections)?;
        let (kept, counters) = split(rest, selections)?;
        let q_sub = q8_0_row_bytes(sub);

        // Pass 1: head layer for every token (into `out`), route every sub-token.
        for (xt, ot) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            self.project_in(ot, xt, qx)?;
        }
        let subs = out.chunks_exact(sub);
        for ((xs, ch), gt) in subs
            .zip(choice.chunks_exact_mut(k))
            .zip(gate.chunks_exact_mut(k))
        {
            let r = self.route_sub(&self.sub_input(xs, qx)?)?;
            for ((c, g), (e, w)) in ch.iter_mut().zip(gt.iter_mut()).zip(r.choices()) {
                *c = e as f32;
                *g = w;
            }
        }

        // Pass 2: capacity slots, rank-major then row order (tutel's cumsum + rank offset).
        let cap = dispatch.capacity(rows, n_exp, k);
        kept.fill(1.0);
        if cap < selections {
            counters.fill(0.0);
            for r in 0..k {
                let col = choice.iter().skip(r).step_by(k);
                for (&e, kp) in col.zip(kept.iter_mut().skip(r).step_by(k)) {
                    if let Some(c) = counters.get_mut(e as usize) {
                        if *c as usize >= cap {
                            *kp = 0.0;
                        }
                        *c += 1.0;
                    }
                }
            }
        }

        // Pass 3: kept experts per sub-token, merge per token.
        let per_token = h * k;
        for (((ot, ch), gt), kt) in out
            .chunks_exact_mut(d)
            .zip(choice.chunks_exact(per_token))
            .zip(gate.chunks_exact(per_token))
            .zip(kept.chunks_exact(per_token))
        {
            y.fill(0.0);
            let mut routed = 0u64;
            for ((((xs, ys), c), g), kp) in ot
                .chunks_exact(sub)
                .zip(y.chunks_exact_mut(sub))
                .zip(ch.chunks_exact(k))
                .zip(gt.chunks_exact(k))
                .zip(kt.chunks_exact(k))
            {
                if kp.iter().all(|&keep| keep <= 0.0) {
                    continue; // every selection dropped: y_j stays 0
                }
                // Quantised again (same bytes as in pass 1): keeping S·h quantised sub-tokens
                // across the capacity pass would cost S·q8(d) bytes of scratch.
                let (qs, qh) = split_bytes(qx, q_sub)?;
                let xin = self.sub_input(xs, qs)?;
                for ((&e, &w), &keep) in c.iter().zip(g).zip(kp) {
                    if keep > 0.0 {
                        self.experts
                            .accumulate(e as usize, w, &xin, ys, hidden, tmp, qh)?;
                        routed += 1;
                    }
                }
            }
            if let Some(st) = stats.as_deref_mut() {
                for &e in ch.iter() {
                    st.count_selection(e as usize);
                }
                let dropped = per_token as u64 - routed;
                st.tokens = st.tokens.saturating_add(1);
                st.sub_tokens = st.sub_tokens.saturating_add(h as u64);
                st.routed = st.routed.saturating_add(routed);
                st.dropped = st.dropped.saturating_add(dropped);
                st.divergence_sum = st.divergence_sum.saturating_add(distinct(ch) as u64);
                st.macs = st.macs.saturating_add(self.token_macs(routed));
            }
            self.project_out(ot, y, qx)?;
        }
        Ok(())
    }
}

//! [`Session`]: the forward pass over caller memory (spec `openelm.md` §5), one token at a time.
//!
//! For each token at absolute position `p` (llama2.c `run.c` order):
//!
//! ```text
//! x = E[token]                                             (no scaling, no positional embedding)
//! for each layer l:
//!     xb = RMSNorm_attn(x)
//!     q | k | v = W_qkv · xb                               (fused Q|K|V, or three matrices)
//!     q_h = RMSNorm_q(q_h), k_h = RMSNorm_k(k_h)           (OpenELM: per head, shared [hd] weight)
//!     q, k = RoPE(q, p), RoPE(k, p)                        (rotate-half OpenELM / interleaved Llama)
//!     cache[l] += (p, k, v)                                (K stored after RoPE)
//!     att_h = Σ_r softmax_r(q_h · k_r / √hd) · v_r         (query head h reads KV head h / g)
//!     x = x + W_o · att
//!     xb = RMSNorm_ffn(x)
//!     x = x + W_down · (silu(W_gate · xb) ⊙ (W_up · xb))  (gate first)
//! logits = W_out · RMSNorm_final(x)                        (W_out = E when tied)
//! ```

use super::model::{Block, Ffn, Model, Qkv};
use crate::kv::{KvCache, LayerView};
use crate::moe::MoeStats;
use crate::ops::qinput::{any_q8, as_bytes_mut, Input};
use crate::ops::{self, RopeStyle as OpsRope};
use crate::plan::Plan;
use crate::quant::Matrix;
use crate::{math, Error, Result};

use super::config::RopeStyle;

#[cfg(feature = "std")]
use crate::ops::PAR_MIN_MACS as DEFAULT_PAR_MIN_MACS;
/// Without `std` there are no threads: nothing is ever split.
#[cfg(not(feature = "std"))]
const DEFAULT_PAR_MIN_MACS: usize = usize::MAX;

/// The scratch regions of a session (lengths from [`Plan::scratch`]).
struct Buffers<'m> {
    x: &'m mut [f32],
    xb: &'m mut [f32],
    xb2: &'m mut [f32],
    qkv: &'m mut [f32],
    att: &'m mut [f32],
    hb: &'m mut [f32],
    hb2: &'m mut [f32],
    scores: &'m mut [f32],
    normw: &'m mut [f32],
    rope: &'m mut [f32],
    logits: &'m mut [f32],
    moe: &'m mut [f32],
    /// Bytes of the `Q8_0`-quantised matvec input (see [`Input`]).
    qx: &'m mut [u8],
}

fn take<'m>(rest: &mut &'m mut [f32], n: usize) -> Result<&'m mut [f32]> {
    let buf = core::mem::take(rest);
    let available = buf.len();
    let (head, tail) = buf.split_at_mut_checked(n).ok_or(Error::Capacity {
        what: "session scratch (f32 elements)",
        needed: n,
        available,
    })?;
    *rest = tail;
    Ok(head)
}

/// An inference session: a model, a plan, and caller memory (scratch + KV cache). It owns
/// nothing else and never allocates.
///
/// ```no_run
/// # fn demo(bytes: &[u8]) -> picoformer::Result<()> {
/// use picoformer::{elm::{Model, Session}, gguf::File, plan::Plan};
/// let model = Model::new(File::parse(bytes)?)?;
/// let plan = Plan::new(model.config(), 256)?;
/// let mut scratch = vec![0f32; plan.scratch_floats()];
/// let mut kv = vec![0u32; plan.kv_words()];
/// let mut s = Session::new(&model, &plan, &mut scratch, &mut kv)?;
/// let logits = s.prefill(&[1, 42, 7])?;
/// let next = picoformer::sample::greedy(logits)?;
/// let logits = s.step(next)?;
/// # let _ = logits; Ok(()) }
/// ```
pub struct Session<'w, 'm> {
    model: &'m Model<'w>,
    plan: &'m Plan,
    kv: KvCache<'m>,
    buf: Buffers<'m>,
    moe_stats: Option<&'m mut [MoeStats<'m>]>,
    pos: usize,
    /// Threads for large matvecs (1 without `std`; see [`Session::set_threads`]).
    threads: usize,
    /// Smallest matvec (`rows · cols`) split over `threads`.
    par_min_macs: usize,
}

impl<'w, 'm> Session<'w, 'm> {
    /// A session at position 0. `scratch` needs at least [`Plan::scratch_floats`] elements and
    /// `kv_mem` at least [`Plan::kv_words`] words; only that much of each is ever touched.
    ///
    /// # Errors
    /// [`Error::Capacity`] for short memory; [`Error::Shape`] if the plan was made for another
    /// model shape; the KV cache's configuration errors.
    pub fn new(
        model: &'m Model<'w>,
        plan: &'m Plan,
        scratch: &'m mut [f32],
        kv_mem: &'m mut [u32],
    ) -> Result<Session<'w, 'm>> {
        let c = model.config();
        let fresh = Plan::with_kv(c, plan.ctx_len, plan.kv)?;
        if fresh != *plan {
            return Err(Error::Shape {
                what: "plan scratch floats (plan made for another model)",
                expected: fresh.scratch_floats(),
                got: plan.scratch_floats(),
            });
        }
        let need = plan.scratch_floats();
        if scratch.len() < need {
            return Err(Error::Capacity {
                what: "session scratch (f32 elements)",
                needed: need,
                available: scratch.len(),
            });
        }
        let s = &plan.scratch;
        let mut rest = scratch;
        let buf = Buffers {
            x: take(&mut rest, s.x)?,
            xb: take(&mut rest, s.xb)?,
            xb2: take(&mut rest, s.xb2)?,
            qkv: take(&mut rest, s.qkv)?,
            att: take(&mut rest, s.att)?,
            hb: take(&mut rest, s.hb)?,
            hb2: take(&mut rest, s.hb2)?,
            scores: take(&mut rest, s.scores)?,
            normw: take(&mut rest, s.normw)?,
            rope: take(&mut rest, s.rope)?,
            logits: take(&mut rest, s.logits)?,
            moe: take(&mut rest, s.moe)?,
            qx: as_bytes_mut(take(&mut rest, s.qx)?),
        };
        let kv = KvCache::new(plan.kv_config(), kv_mem)?;
        Ok(Session {
            model,
            plan,
            kv,
            buf,
            moe_stats: None,
            pos: 0,
            threads: 1,
            par_min_macs: DEFAULT_PAR_MIN_MACS,
        })
    }

    /// Splits every matvec of at least [`ops::PAR_MIN_MACS`] multiply-accumulates (the large
    /// projections and the logits) over `threads` scoped threads (`std` only; `0` or `1`: one
    /// thread, the default). The logits are bit-identical to one thread: each output row is
    /// computed by the same kernel. The MH-MoE layers' small expert matrices stay on one thread.
    #[cfg(feature = "std")]
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// Lowers the size from which matvecs are split (default [`ops::PAR_MIN_MACS`]); for tests
    /// on small models. Not a stable API.
    #[cfg(feature = "std")]
    #[doc(hidden)]
    pub fn set_par_min_macs(&mut self, macs: usize) {
        self.par_min_macs = macs;
    }

    /// Tokens processed so far (the absolute position of the next token).
    pub const fn pos(&self) -> usize {
        self.pos
    }

    /// The model.
    pub const fn model(&self) -> &'m Model<'w> {
        self.model
    }

    /// The KV cache (statistics, SnapKV state).
    pub const fn kv(&self) -> &KvCache<'m> {
        &self.kv
    }

    /// Logits of the last token that produced them.
    pub fn logits(&self) -> &[f32] {
        self.buf.logits
    }

    /// Collects MH-MoE statistics from now on: `stats[i]` is updated by the `i`-th MoE layer
    /// (layers in order; extra MoE layers are not counted).
    pub fn set_moe_stats(&mut self, stats: &'m mut [MoeStats<'m>]) {
        self.moe_stats = Some(stats);
    }

    /// The MH-MoE statistics given to [`Session::set_moe_stats`].
    pub fn moe_stats(&self) -> Option<&[MoeStats<'m>]> {
        self.moe_stats.as_deref()
    }

    /// Forgets every token (position 0, empty cache).
    pub fn reset(&mut self) {
        self.kv.reset();
        self.pos = 0;
    }

    fn check_tokens(&self, tokens: &[u32]) -> Result<()> {
        let v = self.model.config().vocab_size;
        if tokens.iter().any(|&t| t as usize >= v) {
            return Err(Error::InvalidParam {
                what: "token id >= vocab size",
            });
        }
        let end = self.pos.saturating_add(tokens.len());
        if end > self.plan.ctx_len {
            return Err(Error::Capacity {
                what: "context positions (plan ctx_len)",
                needed: end,
                available: self.plan.ctx_len,
            });
        }
        Ok(())
    }

    /// Runs `tokens` (at positions `pos()..pos() + n`) and returns the logits of the last one.
    /// Every token and the context limit are checked before any work is done.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for no tokens or a token `≥ V`; [`Error::Capacity`] when the
    /// context would exceed [`Plan::ctx_len`]; numeric errors ([`Error::NonFinite`]) from the
    /// kernels.
    pub fn prefill(&mut self, tokens: &[u32]) -> Result<&[f32]> {
        self.check_tokens(tokens)?;
        let Some((&last, head)) = tokens.split_last() else {
            return Err(Error::InvalidParam {
                what: "prefill needs at least one token",
            });
        };
        for &t in head {
            self.forward(t, false)?;
        }
        self.forward(last, true)?;
        Ok(self.buf.logits)
    }

    /// Runs one token and returns its logits.
    ///
    /// # Errors
    /// As [`Session::prefill`].
    pub fn step(&mut self, token: u32) -> Result<&[f32]> {
        self.prefill(core::slice::from_ref(&token))
    }

    /// Runs `tokens` and writes the logits of **every** position to `out`
    /// (`tokens.len() · V` floats, row-major), for comparisons with a reference.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong `out` length; otherwise as [`Session::prefill`].
    pub fn forward_all(&mut self, tokens: &[u32], out: &mut [f32]) -> Result<()> {
        self.check_tokens(tokens)?;
        let v = self.model.config().vocab_size;
        let need = tokens.len().saturating_mul(v);
        if out.len() != need {
            return Err(Error::Shape {
                what: "forward_all output (tokens · vocab)",
                expected: need,
                got: out.len(),
            });
        }
        for (&t, row) in tokens.iter().zip(out.chunks_exact_mut(v)) {
            self.forward(t, true)?;
            row.copy_from_slice(self.buf.logits);
        }
        Ok(())
    }

    /// One token through the whole network at position `self.pos`.
    fn forward(&mut self, token: u32, want_logits: bool) -> Result<()> {
        let model = self.model;
        let c = model.config();
        let pos = self.pos;
        let pos_u32 = u32::try_from(pos).map_err(|_| Error::InvalidParam {
            what: "position exceeds u32",
        })?;
        let b = &mut self.buf;
        let threads = (self.threads, self.par_min_macs);
        let (hd, eps) = (c.head_dim, c.norm_eps);
        let rope = match c.rope_style {
            RopeStyle::RotateHalf => OpsRope::Neox,
            RopeStyle::Interleaved => OpsRope::Norm,
        };
        let scale = 1.0 / math::sqrt(hd as f32);
        // RoPE angles of this position, once for every head of every layer
        ops::rope_row_fill(b.rope, hd, pos, c.rope_theta)?;

        // x = E[token]
        model.token_embd().dequant_row(token as usize, b.x)?;

        let mut moe_index = 0;
        for l in 0..c.n_layers() {
            let blk: Block<'w> = model.block(l)?;
            let shape = c.layer(l).ok_or(Error::InvalidParam {
                what: "layer index out of range",
            })?;
            let (q_len, kv_len) = (shape.q_heads * hd, shape.kv_heads * hd);

            // ---- attention: xb = RMSNorm(x); q|k|v = W·xb
            rmsnorm(b.xb, b.x, &blk.attn_norm, eps, b.normw)?;
            let qkv = prefix(b.qkv, q_len + 2 * kv_len)?;
            match blk.qkv {
                Qkv::Fused(w) => matvec(&input(b.xb, &[w], b.qx)?, qkv, &w, threads)?,
                Qkv::Split { q, k, v } => {
                    let (qs, rest) = qkv.split_at_mut(q_len);
                    let (ks, vs) = rest.split_at_mut(kv_len);
                    let xin = input(b.xb, &[q, k, v], b.qx)?;
                    matvec(&xin, qs, &q, threads)?;
                    matvec(&xin, ks, &k, threads)?;
                    matvec(&xin, vs, &v, threads)?;
                }
            }
            let (q, rest) = qkv.split_at_mut(q_len);
            let (k, v) = rest.split_at_mut(kv_len);

            // QK-norm (per head, one shared [hd] weight) before RoPE
            if let Some((qn, kn)) = blk.qk_norm {
                rmsnorm_heads(q, &qn, hd, eps, b.normw)?;
                rmsnorm_heads(k, &kn, hd, eps, b.normw)?;
            }
            ops::rope_row(q, b.rope, rope)?;
            ops::rope_row(k, b.rope, rope)?;

            // KV cache: K after RoPE, tagged with the true position.
            // SnapKV hook: `q` is this layer's rotated query at `pos`; the cache records it in
            // its query ring when SnapKV is on (streaming compression), and ignores it otherwise.
            self.kv.append_with_query(l, pos_u32, q, k, v)?;

            let att = prefix(b.att, q_len)?;
            attend(&self.kv.layer(l)?, q, att, b.scores, hd, scale)?;
            matvec(
                &input(att, &[blk.attn_output], b.qx)?,
                b.xb2,
                &blk.attn_output,
                threads,
            )?;
            add(b.x, b.xb2);

            // ---- feed-forward: xb = RMSNorm(x); x += FFN(xb)
            rmsnorm(b.xb, b.x, &blk.ffn_norm, eps, b.normw)?;
            match blk.ffn {
                Ffn::Dense { gate, up, down } => {
                    let hb = prefix(b.hb, shape.ffn_dim)?;
                    let hb2 = prefix(b.hb2, shape.ffn_dim)?;
                    let xin = input(b.xb, &[gate, up], b.qx)?;
                    matvec(&xin, hb, &gate, threads)?;
                    matvec(&xin, hb2, &up, threads)?;
                    ops::swiglu_inplace(hb, hb2)?;
                    matvec(&input(hb, &[down], b.qx)?, b.xb2, &down, threads)?;
                }
                Ffn::Moe(layer) => {
                    let stats = match self.moe_stats.as_deref_mut() {
                        Some(all) => all.get_mut(moe_index),
                        None => None,
                    };
                    layer.forward(b.xb, b.xb2, b.moe, stats)?;
                    moe_index += 1;
                }
            }
            add(b.x, b.xb2);
        }

        if want_logits {
            rmsnorm(b.xb, b.x, model.output_norm(), eps, b.normw)?;
            let out = model.output();
            matvec(&input(b.xb, &[*out], b.qx)?, b.logits, out, threads)?;
        }
        self.pos += 1;
        Ok(())
    }
}

/// Attention of one token over the cached rows of a layer (spec §5 "Attention" steps 5–6):
/// `out_h = Σ_r softmax_r(q_h · k_r · scale) · v_r` for every query head `h` (`q`, `out`:
/// heads of `hd` contiguous floats), reading the KV lane of head `h`
/// ([`LayerView::lane_for_query`]: `h / g`, `repeat_interleave` semantics). Rows may be in any
/// order (K is cached after RoPE). `scores` needs at least `view.len()` floats.
///
/// # Errors
/// [`Error::Capacity`] for a short `scores`; [`Error::NonFinite`] for NaN scores.
pub fn attend(
    view: &LayerView<'_>,
    q: &[f32],
    out: &mut [f32],
    scores: &mut [f32],
    hd: usize,
    scale: f32,
) -> Result<()> {
    let n = view.len();
    let available = scores.len();
    let scores = scores.get_mut(..n).ok_or(Error::Capacity {
        what: "attention scores (kv capacity)",
        needed: n,
        available,
    })?;
    for (h, (qh, oh)) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)).enumerate() {
        let head = view
            .head(view.lane_for_query(h))
            .ok_or(Error::InvalidParam {
                what: "kv lane for query head",
            })?;
        head.scores(qh, scale, scores);
        ops::softmax(scores)?;
        head.weighted_v(scores, oh);
    }
    Ok(())
}

/// The input `x` of the matrices `ws`, quantised once into `qx` when any of them is `Q8_0`
/// (as ggml does for `Q8_0` weights: `quantize_row_q8_0`, then `ggml_vec_dot_q8_0_q8_0`; see
/// [`Input`]).
///
/// Errors: [`Error::Capacity`] if `qx` is too short; [`Error::NonFinite`] for NaN/inf in `x`
/// (the quantiser rejects them); [`Error::Shape`] if `x.len()` is not a multiple of 32.
fn input<'a>(x: &'a [f32], ws: &[Matrix<'_>], qx: &'a mut [u8]) -> Result<Input<'a>> {
    Input::new(x, any_q8(ws), qx)
}

/// `out = W · x` ([`Input::matvec`]), split over `threads.0` threads when that is more than
/// one and `W` has at least `threads.1` multiply-accumulates (`std` only).
#[cfg_attr(not(feature = "std"), allow(unused_variables))]
fn matvec(x: &Input<'_>, out: &mut [f32], w: &Matrix<'_>, threads: (usize, usize)) -> Result<()> {
    #[cfg(feature = "std")]
    if threads.0 > 1 && w.rows().saturating_mul(w.cols()) >= threads.1 {
        return match x.q8_for(w) {
            Some(xq) => ops::matvec_q8_pre_threads(out, w, xq, threads.0),
            None => ops::matvec_threads(out, w, x.f32(), threads.0),
        };
    }
    x.matvec(out, w)
}

/// `out = RMSNorm(x) ⊙ w` with `w` dequantised into `tmp`.
fn rmsnorm(out: &mut [f32], x: &[f32], w: &Matrix<'_>, eps: f32, tmp: &mut [f32]) -> Result<()> {
    let wt = prefix(tmp, w.cols())?;
    w.dequant_row(0, wt)?;
    ops::rmsnorm(out, x, wt, eps)
}

/// RMSNorm of every `hd`-long head of `x` in place, with one shared weight.
fn rmsnorm_heads(
    x: &mut [f32],
    w: &Matrix<'_>,
    hd: usize,
    eps: f32,
    tmp: &mut [f32],
) -> Result<()> {
    let wt = prefix(tmp, hd)?;
    w.dequant_row(0, wt)?;
    for head in x.chunks_exact_mut(hd) {
        ops::rmsnorm_inplace(head, wt, eps)?;
    }
    Ok(())
}

fn prefix(buf: &mut [f32], n: usize) -> Result<&mut [f32]> {
    let available = buf.len();
    buf.get_mut(..n).ok_or(Error::Capacity {
        what: "session scratch region",
        needed: n,
        available,
    })
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

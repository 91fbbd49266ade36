//! [`MoeConfig`]: the shape of one MH-MoE layer, its validation, scratch sizes and MAC count.

use crate::quant::q8_0_row_bytes;
use crate::{Error, Result};

/// Upper bound on the top-k `k` (the router keeps its k best experts in a `[_; K_MAX]` array).
pub const K_MAX: usize = 8;

/// Upper bound on the expert count `E`: expert indices are kept as exact integers in `f32`
/// scratch, so `E ≤ 2^24`. (No buffer is sized by `E`: the router streams its `E` logits.)
pub const E_MAX: usize = 1 << 24;

/// Shape of an MH-MoE layer (spec `mhmoe.md` §2, §4; paper arXiv 2404.15045v1 §3).
///
/// A token `x ∈ R^d` goes through the multi-head layer `x̂ = W_head·x + b_head`, is split into
/// `h = heads` contiguous sub-tokens of `d/h`, each routed by one shared router
/// (`p = softmax(W_g·x̂_j)`, `W_g ∈ R^{E×d/h}`) to its top-`k` experts, combined as
/// `y_j = Σ_{e∈top-k} g_e · f_e(x̂_j)` with `g_e = p_e` (raw probability, the official code) or
/// `p_e / Σ_top-k p` (`renorm_topk`), merged back in order and projected by
/// `W_merge·y + b_merge`. Experts are SwiGLU `down(up(x) ⊙ silu(gate(x)))` when `glu`, else
/// `down(silu(up(x)))`, with inner width `inner` (not scaled by `h`).
///
/// Fields are public; every constructor of a layer calls [`validate`](Self::validate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MoeConfig {
    /// Model width `d`.
    pub d: usize,
    /// MH-MoE heads `h` (sub-tokens per token; 1 = token-level MoE). `d % h == 0`.
    pub heads: usize,
    /// Experts `E` (the paper's `N`).
    pub experts: usize,
    /// Experts per sub-token `k`, `1 ≤ k ≤ min(E, K_MAX)`.
    pub k: usize,
    /// Expert inner width `I_e`.
    pub inner: usize,
    /// SwiGLU experts (gate, up, down) if true; 2-matrix SiLU FFN (up, down) if false.
    pub glu: bool,
    /// Head and merge layers are present (the official code has them iff `h > 1`; a
    /// token-level MoE without them is `heads = 1, proj = false`). When false the head and
    /// merge are the identity.
    pub proj: bool,
    /// The head and merge layers carry biases (official code: yes).
    pub bias: bool,
    /// Renormalise the gate weights over the top-k (default false = raw softmax probability).
    pub renorm_topk: bool,
    /// MoE on every `every`-th layer: layer `N` (0-based) is MoE iff `(N + 1) % every == 0`.
    pub every: usize,
}

const fn bad(what: &'static str) -> Result<()> {
    Err(Error::InvalidParam { what })
}

/// Multiply-accumulates per token of one MoE layer, split by part (spec §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Macs {
    /// Multi-head layer `d²` (0 without projections).
    pub head: u64,
    /// Router `h · (d/h) · E = d · E`.
    pub router: u64,
    /// Selected experts `k · h · c · (d/h) · I = k · c · d · I`, `c` = 3 (SwiGLU) or 2.
    pub experts: u64,
    /// Merge layer `d²` (0 without projections).
    pub merge: u64,
}

impl Macs {
    /// All parts: `head + router + experts + merge`.
    pub const fn total(&self) -> u64 {
        self.without_router().saturating_add(self.router)
    }

    /// The spec's parity count, router excluded: `head + experts + merge`
    /// (4,718,592 for the three d = 768 configurations of spec §6).
    pub const fn without_router(&self) -> u64 {
        self.head
            .saturating_add(self.experts)
            .saturating_add(self.merge)
    }
}

impl MoeConfig {
    /// A config with the crate defaults of spec §4: SwiGLU experts, head/merge projections
    /// with biases iff `heads > 1`, raw gate weights, MoE on every layer. Validated.
    ///
    /// ```
    /// use picoformer::moe::MoeConfig;
    /// let c = MoeConfig::new(768, 4, 8, 2, 2048)?;
    /// assert_eq!(c.sub_dim(), 192);
    /// assert!(MoeConfig::new(768, 5, 8, 2, 2048).is_err()); // 768 % 5 != 0
    /// # Ok::<(), picoformer::Error>(())
    /// ```
    pub const fn new(
        d: usize,
        heads: usize,
        experts: usize,
        k: usize,
        inner: usize,
    ) -> Result<MoeConfig> {
        let c = MoeConfig {
            d,
            heads,
            experts,
            k,
            inner,
            glu: true,
            proj: heads > 1,
            bias: heads > 1,
            renorm_topk: false,
            every: 1,
        };
        match c.validate() {
            Ok(()) => Ok(c),
            Err(e) => Err(e),
        }
    }

    /// Checks the invariants: all sizes > 0, `d % heads == 0`, `k ≤ experts`, `k ≤ K_MAX`,
    /// `experts ≤ E_MAX`, `bias` only with `proj`, and that [`Macs`] fits in `u64`.
    ///
    /// Errors: [`Error::InvalidParam`] naming the broken rule.
    pub const fn validate(&self) -> Result<()> {
        if self.d == 0 {
            return bad("moe: d must be > 0");
        }
        if self.heads == 0 {
            return bad("moe: heads must be > 0");
        }
        if !self.d.is_multiple_of(self.heads) {
            return bad("moe: d must be divisible by heads");
        }
        if self.experts == 0 {
            return bad("moe: experts must be > 0");
        }
        if self.experts > E_MAX {
            return bad("moe: experts must be <= E_MAX (2^24)");
        }
        if self.k == 0 {
            return bad("moe: k must be > 0");
        }
        if self.k > self.experts {
            return bad("moe: k must be <= experts");
        }
        if self.k > K_MAX {
            return bad("moe: k must be <= K_MAX");
        }
        if self.inner == 0 {
            return bad("moe: inner must be > 0");
        }
        if self.every == 0 {
            return bad("moe: every must be > 0");
        }
        if self.bias && !self.proj {
            return bad("moe: bias needs the head/merge projections (proj)");
        }
        // d, inner, E ≤ 2^24 keep every MAC product (≤ 3·K_MAX·d·I + 2d² + d·E) in u64.
        if self.d > (1 << 24) || self.inner > (1 << 24) {
            return bad("moe: d and inner must be <= 2^24");
        }
        Ok(())
    }

    /// Sub-token width `d / h`.
    pub const fn sub_dim(&self) -> usize {
        match self.d.checked_div(self.heads) {
            Some(s) => s,
            None => 0,
        }
    }

    /// Whether layer `layer` (0-based) is an MoE layer: `(layer + 1) % every == 0` (spec §2.1).
    pub const fn is_moe_layer(&self, layer: usize) -> bool {
        self.every != 0 && (layer + 1).is_multiple_of(self.every)
    }

    /// Matrices per expert: 3 for SwiGLU, 2 for the plain FFN.
    pub const fn expert_matrices(&self) -> usize {
        if self.glu {
            3
        } else {
            2
        }
    }

    /// MACs per token of one layer (spec §6): head `d²` + merge `d²` (only with `proj`),
    /// router `d·E`, experts `k·c·d·I`. Biases, softmax and SiLU are not counted. The router
    /// is its own field so the spec's parity number is [`Macs::without_router`].
    ///
    /// ```
    /// use picoformer::moe::MoeConfig;
    /// let smoe = MoeConfig { proj: false, bias: false, ..MoeConfig::new(768, 1, 8, 1, 2048)? };
    /// let mh2 = MoeConfig::new(768, 2, 40, 2, 768)?;
    /// let mh3 = MoeConfig::new(768, 3, 96, 3, 512)?;
    /// for c in [smoe, mh2, mh3] {
    ///     assert_eq!(c.macs_per_token().without_router(), 4_718_592);
    /// }
    /// assert_eq!(mh2.macs_per_token().router, 768 * 40);
    /// # Ok::<(), picoformer::Error>(())
    /// ```
    pub const fn macs_per_token(&self) -> Macs {
        let d = self.d as u64;
        let proj = if self.proj { d.saturating_mul(d) } else { 0 };
        let per_expert = (self.expert_matrices() as u64).saturating_mul(d);
        Macs {
            head: proj,
            router: d.saturating_mul(self.experts as u64),
            experts: (self.k as u64)
                .saturating_mul(per_expert)
                .saturating_mul(self.inner as u64),
            merge: proj,
        }
    }

    /// Weights of one layer (elements, router and biases included).
    pub const fn params(&self) -> u64 {
        let d = self.d as u64;
        let sub = self.sub_dim() as u64;
        let proj = if self.proj {
            d.saturating_mul(d).saturating_mul(2)
        } else {
            0
        };
        let bias = if self.bias { d.saturating_mul(2) } else { 0 };
        let router = sub.saturating_mul(self.experts as u64);
        let experts = (self.experts as u64)
            .saturating_mul(self.expert_matrices() as u64)
            .saturating_mul(sub)
            .saturating_mul(self.inner as u64);
        proj.saturating_add(bias)
            .saturating_add(router)
            .saturating_add(experts)
    }

    /// Scratch floats of [`MoeLayer::forward`](super::MoeLayer::forward) for this config
    /// ([`scratch_len`] of its `d, heads, k, inner`).
    pub const fn scratch_len(&self) -> usize {
        scratch_len(self.d, self.heads, self.k, self.inner)
    }

    /// Scratch floats of [`MoeLayer::forward_batch`](super::MoeLayer::forward_batch) for
    /// `tokens` tokens ([`batch_scratch_len`]).
    pub const fn batch_scratch_len(&self, tokens: usize) -> usize {
        batch_scratch_len(self.d, self.heads, self.k, self.inner, self.experts, tokens)
    }
}

/// Scratch floats for one token through [`MoeLayer::forward`](super::MoeLayer::forward):
/// `d` (merged expert outputs) + `2·inner` (expert gate and up activations) + `d/h` (one
/// expert's output) + `h·k` (the token's expert choices, for the divergence statistic) +
/// [`qx_floats`] (the `Q8_0`-quantised matvec inputs, bytes carved from f32s).
///
/// Independent of `E`: the router streams its logits (online softmax and a `K_MAX` top-k).
/// Independent of the weight types too, so an F32/F16 layer leaves the `qx_floats` part
/// unused. Saturates instead of overflowing (a saturated size is then simply unavailable).
pub const fn scratch_len(d: usize, heads: usize, k: usize, inner: usize) -> usize {
    let sub = match d.checked_div(heads) {
        Some(s) => s,
        None => 0,
    };
    d.saturating_add(inner.saturating_mul(2))
        .saturating_add(sub)
        .saturating_add(heads.saturating_mul(k))
        .saturating_add(qx_floats(d, heads, inner))
}

/// f32 elements of the quantised-input part of [`scratch_len`]:
/// `⌈max(q8(d), q8(d/h) + q8(inner)) / 4⌉` with `q8(n) =`
/// [`q8_0_row_bytes`](crate::quant::q8_0_row_bytes)`(n)` bytes. The head and merge inputs
/// (`d`) are quantised alone; a sub-token (`d/h`, read by the router and its experts' gate and
/// up) and an expert's hidden vector (`inner`, read by down) are live together.
pub const fn qx_floats(d: usize, heads: usize, inner: usize) -> usize {
    let sub = match d.checked_div(heads) {
        Some(s) => s,
        None => 0,
    };
    let whole = q8_0_row_bytes(d);
    let parts = q8_0_row_bytes(sub).saturating_add(q8_0_row_bytes(inner));
    let bytes = if whole > parts { whole } else { parts };
    bytes.div_ceil(4)
}

/// Scratch floats for [`MoeLayer::forward_batch`](super::MoeLayer::forward_batch) over
/// `tokens` tokens: [`scratch_len`] + `3·tokens·h·k` (expert, gate weight and kept flag of
/// every choice, needed before any expert runs because capacity slots depend on the whole
/// batch) + `E` (per-expert slot counters, exact integers in f32).
pub const fn batch_scratch_len(
    d: usize,
    heads: usize,
    k: usize,
    inner: usize,
    experts: usize,
    tokens: usize,
) -> usize {
    scratch_len(d, heads, k, inner)
        .saturating_add(
            tokens
                .saturating_mul(heads)
                .saturating_mul(k)
                .saturating_mul(3),
        )
        .saturating_add(experts)
}

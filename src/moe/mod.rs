//! Multi-head mixture-of-experts (MH-MoE) feed-forward layers.
//!
//! Spec: `mhmoe.md` (paper arXiv 2404.15045v1 §3; the official code `yushuiwx/MH-MoE`
//! `tutel_moe_layer.py` is the authority where they differ). For one token `x ∈ R^d`:
//!
//! ```text
//! x̂   = W_head·x + b_head                       multi-head layer (d → d)
//! x̂_j = x̂[j·d/h .. (j+1)·d/h],  j < h            contiguous split into h sub-tokens
//! p_j = softmax(W_g·x̂_j)  ∈ R^E                  one router shared by all heads
//! y_j = Σ_{e ∈ top-k(p_j)} g_e · f_e(x̂_j)        only the k selected experts run
//! out = W_merge·[y_0 … y_{h−1}] + b_merge         merge in order, merge layer (d → d)
//! ```
//!
//! `g_e = p_e` (raw probability, official code) or `p_e / Σ_{top-k} p` (`renorm_topk`); ties
//! in the top-k go to the lower expert index; experts are SwiGLU
//! `down(up(x) ⊙ silu(gate(x)))` or `down(silu(up(x)))`. No sub-token residual (paper Eq. 6
//! has one, the code does not). Routing is dropless by default; [`Dispatch::Capacity`]
//! reproduces the official capacity dropping `C = k·ceil(S·h/E)` for a batch of `S` tokens.
//!
//! Numerics of every product `W·v` (head, merge, router, expert gate/up/down), as ggml: an
//! `F32`/`F16` `W` multiplies the f32 `v` (`Σ_c W[r][c]·v[c]`, f32 accumulation); a `Q8_0` `W`
//! multiplies `v` quantised to `Q8_0` (`quantize_row_q8_0`):
//! `y[r] = Σ_b f32(Σ_j qw_{r,b,j}·qv_{b,j}) · (d_{w,r,b}·d_{v,b})`, exact i32 block sums. Each
//! distinct input is quantised once and shared: `x` (head), each sub-token `x̂_j` (router if
//! `Q8_0`, gate and up of all its selected experts), each expert's hidden vector (down), the
//! merged `y` (merge). [`forward_batch`](MoeLayer::forward_batch) quantises a sub-token once for
//! routing and once more (same bytes) for its kept experts, after the capacity pass.
//!
//! - [`MoeConfig`]: shape, validation, [`scratch_len`], [`MoeConfig::macs_per_token`].
//! - [`MoeLayer`]: weights ([`MoeWeights`], or [`MoeLayer::from_gguf`]), single-token
//!   [`MoeLayer::forward`] and sequence [`MoeLayer::forward_batch`].
//! - [`route`] / [`route_q8`]: the streamed router (softmax + bounded top-k without an
//!   `E`-sized buffer), on an f32 or a `Q8_0`-quantised sub-token.
//! - [`MoeStats`]: opt-in routing statistics and the paper's activation ratio.
//!
//! ```
//! use picoformer::moe::{MoeConfig, MoeLayer, MoeWeights};
//! use picoformer::quant::{DType, Matrix};
//! // d = 2, h = 2 (sub-tokens of 1), E = 2, k = 1, inner 1, plain FFN, no projections.
//! let cfg = MoeConfig { glu: false, proj: false, bias: false, ..MoeConfig::new(2, 2, 2, 1, 1)? };
//! let f = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
//! let (router, up, down) = (f(&[1.0, -1.0]), f(&[1.0, 2.0]), f(&[1.0, 1.0]));
//! let layer = MoeLayer::new(cfg, MoeWeights {
//!     head: None, head_bias: None, merge: None, merge_bias: None, gate_exps: None,
//!     router: Matrix::new(DType::F32, 2, 1, &router)?,
//!     up_exps: Matrix::new(DType::F32, 2, 1, &up)?,
//!     down_exps: Matrix::new(DType::F32, 2, 1, &down)?,
//! })?;
//! let mut scratch = [0.0; picoformer::moe::scratch_len(2, 2, 1, 1)];
//! let mut out = [0.0; 2];
//! layer.forward(&[1.0, -1.0], &mut out, &mut scratch, None)?;
//! assert!(out[0] > 0.0 && out[1] < 0.0);
//! # Ok::<(), picoformer::Error>(())
//! ```

mod batch;
mod config;
mod expert;
mod layer;
mod linear;
mod load;
mod qinput;
mod router;
mod stats;

pub use batch::Dispatch;
pub use config::{batch_scratch_len, qx_floats, scratch_len, Macs, MoeConfig, E_MAX, K_MAX};
pub use expert::Experts;
pub use layer::{MoeLayer, MoeWeights};
pub use router::{route, route_q8, Routing};
pub use stats::{activation_ratio, MoeStats, Per};

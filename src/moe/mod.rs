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
//! - [`MoeConfig`]: shape, validation, [`scratch_len`], [`MoeConfig::macs_per_token`].
//! - [`MoeLayer`]: weights ([`MoeWeights`], or [`MoeLayer::from_gguf`]), single-token
//!   [`MoeLayer::forward`] and sequence [`MoeLayer::forward_batch`].
//! - [`route`]: the streamed router (softmax + bounded top-k without an `E`-sized buffer).
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

//! Memory planning: the exact scratch and KV-cache sizes of a model at a context length.
//!
//! A [`Plan`] is computed from a [`Config`] alone, in a `const` if need be,
//! so firmware declares its buffers statically:
//!
//! ```
//! use picoformer::elm::{Config, Preset};
//! use picoformer::plan::Plan;
//! const CFG: Config = match Preset::OpenElm270M.config() {
//!     Ok(c) => c,
//!     Err(_) => panic!("preset"),
//! };
//! const PLAN: Plan = match Plan::new(&CFG, 512) {
//!     Ok(p) => p,
//!     Err(_) => panic!("plan"),
//! };
//! // static mut SCRATCH: [f32; PLAN.scratch_floats()] = [0.0; PLAN.scratch_floats()];
//! // static mut KV: [u32; PLAN.kv_words()] = [0; PLAN.kv_words()];
//! assert_eq!(PLAN.scratch_floats(), 3 * 1280 + 1920 + 20 * 64 + 2 * 5120 + 512 + 1280 + 64 + 32000 + 5120 / 32 * 34 / 4);
//! // F32 rows: 8,064 floats per token (spec §4.1) plus a position tag per row and headers
//! assert!(PLAN.kv_bytes() >= 512 * 8064 * 4);
//! ```
//!
//! Scratch (f32 elements), one region each, in this order (see [`Scratch`]):
//!
//! | region | floats | use |
//! |---|---|---|
//! | `x` | `d` | residual stream |
//! | `xb` | `d` | normalised input of a sub-layer |
//! | `xb2` | `d` | sub-layer output before the residual add |
//! | `qkv` | `max_l (q_l + 2·kv_l)·hd` | Q, K, V of the current token |
//! | `att` | `max_l q_l·hd` | attention output (heads concatenated) |
//! | `hb`, `hb2` | `max_l I_l` each | SwiGLU gate and up |
//! | `scores` | KV capacity `C` | attention weights of one head |
//! | `normw` | `max(d, hd)` | a norm weight, dequantised |
//! | `rope` | `hd` | RoPE cosines and sines of the current position |
//! | `logits` | `V` | output |
//! | `moe` | MH-MoE scratch (0 without MoE) | |
//! | `qx` | `⌈34·max(d, q·hd, I)/32 / 4⌉` | a `Q8_0` matvec input, quantised once (bytes) |
//!
//! KV memory: [`KvConfig::words`] 32-bit words for per-layer `kv_l` heads of `hd`, capacity
//! `C` rows (see [`crate::kv`]).

use crate::elm::{Config, MAX_LAYERS};
use crate::kv::{KvConfig, KvStorage, SnapKv};
use crate::{Error, Result};

/// KV-cache options of a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvOptions {
    /// Rows per KV head and layer `C` (`0` = the context length: nothing is ever evicted).
    pub capacity: usize,
    /// Element type of the stored rows.
    pub storage: KvStorage,
    /// SnapKV compression when a layer is full (`None`: plain ring, oldest row overwritten).
    pub snapkv: Option<SnapKv>,
    /// Rows a SnapKV compression frees (ignored without SnapKV).
    pub chunk: usize,
}

impl KvOptions {
    /// Full-context F32 cache, no eviction.
    pub const DEFAULT: KvOptions = KvOptions {
        capacity: 0,
        storage: KvStorage::F32,
        snapkv: None,
        chunk: 1,
    };
}

/// Lengths (f32 elements) of the scratch regions, in the order they are carved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scratch {
    /// Residual stream `d`.
    pub x: usize,
    /// Normalised sub-layer input `d`.
    pub xb: usize,
    /// Sub-layer output `d`.
    pub xb2: usize,
    /// Q|K|V of one token, `max (q + 2kv)·hd`.
    pub qkv: usize,
    /// Attention output, `max q·hd`.
    pub att: usize,
    /// SwiGLU gate, `max I`.
    pub hb: usize,
    /// SwiGLU up, `max I`.
    pub hb2: usize,
    /// Attention weights, KV capacity.
    pub scores: usize,
    /// Dequantised norm weight, `max(d, hd)`.
    pub normw: usize,
    /// RoPE cosines and sines of the current position (`ops::rope_row_fill`), `hd`.
    pub rope: usize,
    /// Logits `V`.
    pub logits: usize,
    /// MH-MoE layer scratch (0 without MoE).
    pub moe: usize,
    /// The input of a `Q8_0` matvec quantised once to `Q8_0` blocks (ggml style, then shared by
    /// every matrix reading the same input): `⌈q8_0_row_bytes(max(d, q·hd, I)) / 4⌉`.
    pub qx: usize,
}

/// f32 elements that hold the `Q8_0` quantisation of the longest matvec input.
const fn qx_floats(d: usize, att: usize, ffn: usize) -> usize {
    let mut n = d;
    if att > n {
        n = att;
    }
    if ffn > n {
        n = ffn;
    }
    crate::quant::q8_0_row_bytes(n).div_ceil(4)
}

impl Scratch {
    /// Sum of all regions.
    pub const fn total(&self) -> usize {
        self.x
            .saturating_add(self.xb)
            .saturating_add(self.xb2)
            .saturating_add(self.qkv)
            .saturating_add(self.att)
            .saturating_add(self.hb)
            .saturating_add(self.hb2)
            .saturating_add(self.scores)
            .saturating_add(self.normw)
            .saturating_add(self.rope)
            .saturating_add(self.logits)
            .saturating_add(self.moe)
            .saturating_add(self.qx)
    }
}

/// The memory a [`Session`](crate::elm::Session) needs for a model and a context length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Largest number of positions a session may process (RoPE positions `0..ctx_len`).
    pub ctx_len: usize,
    /// Scratch regions.
    pub scratch: Scratch,
    /// KV-cache options (capacity resolved: never 0).
    pub kv: KvOptions,
    head_dim: usize,
    n_layers: usize,
    q_heads: [usize; MAX_LAYERS],
    kv_heads: [usize; MAX_LAYERS],
}

impl Plan {
    /// The plan for `ctx_len` positions with a full-context F32 KV cache.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for `ctx_len == 0` or an invalid `config`.
    pub const fn new(config: &Config, ctx_len: usize) -> Result<Plan> {
        Plan::with_kv(config, ctx_len, KvOptions::DEFAULT)
    }

    /// The plan with explicit KV-cache options.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for `ctx_len == 0`, a capacity above `ctx_len` or `u32::MAX`,
    /// or an invalid `config`. SnapKV parameters are checked when the cache is built
    /// ([`KvConfig::validate`], called by `Session::new`).
    pub const fn with_kv(config: &Config, ctx_len: usize, kv: KvOptions) -> Result<Plan> {
        if let Err(e) = config.validate() {
            return Err(e);
        }
        if ctx_len == 0 || ctx_len > u32::MAX as usize {
            return Err(Error::InvalidParam {
                what: "plan ctx_len must be in 1..=u32::MAX",
            });
        }
        let mut kv = kv;
        if kv.capacity == 0 {
            kv.capacity = ctx_len;
        }
        if kv.capacity > ctx_len {
            return Err(Error::InvalidParam {
                what: "plan kv capacity must be <= ctx_len",
            });
        }
        let d = config.dim;
        let hd = config.head_dim;
        let normw = if d > hd { d } else { hd };
        let scratch = Scratch {
            x: d,
            xb: d,
            xb2: d,
            qkv: config.max_qkv_dim(),
            att: config.max_q_heads() * hd,
            hb: config.max_ffn_dim(),
            hb2: config.max_ffn_dim(),
            scores: kv.capacity,
            normw,
            rope: hd,
            logits: config.vocab_size,
            moe: match &config.moe {
                Some(m) => m.scratch_len(),
                None => 0,
            },
            qx: qx_floats(d, config.max_q_heads() * hd, config.max_ffn_dim()),
        };
        let mut q_heads = [0usize; MAX_LAYERS];
        let mut kv_heads = [0usize; MAX_LAYERS];
        let n = config.n_layers();
        let mut i = 0;
        while i < n && i < MAX_LAYERS {
            if let Some(l) = config.layer(i) {
                q_heads[i] = l.q_heads;
                kv_heads[i] = l.kv_heads;
            }
            i += 1;
        }
        Ok(Plan {
            ctx_len,
            scratch,
            kv,
            head_dim: hd,
            n_layers: n,
            q_heads,
            kv_heads,
        })
    }

    /// Scratch `f32` elements a session needs.
    pub const fn scratch_floats(&self) -> usize {
        self.scratch.total()
    }

    /// Scratch bytes (`4 · scratch_floats`).
    pub const fn scratch_bytes(&self) -> usize {
        self.scratch_floats().saturating_mul(4)
    }

    /// The KV-cache configuration (borrows the plan's per-layer head lists).
    pub const fn kv_config(&self) -> KvConfig<'_> {
        let n = if self.n_layers < MAX_LAYERS {
            self.n_layers
        } else {
            MAX_LAYERS
        };
        let (q, _) = self.q_heads.split_at(n);
        let (kv, _) = self.kv_heads.split_at(n);
        KvConfig {
            q_heads: q,
            kv_heads: kv,
            head_dim: self.head_dim,
            capacity: self.kv.capacity,
            storage: self.kv.storage,
            snapkv: self.kv.snapkv,
            chunk: self.kv.chunk,
        }
    }

    /// KV-cache 32-bit words a session needs ([`KvConfig::words`]).
    pub const fn kv_words(&self) -> usize {
        self.kv_config().words()
    }

    /// KV-cache bytes (`4 · kv_words`).
    pub const fn kv_bytes(&self) -> usize {
        self.kv_config().bytes()
    }
}

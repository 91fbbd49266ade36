//! Model configuration: global hyper-parameters plus a per-layer shape table.
//!
//! OpenELM's layers differ in query heads, KV heads and FFN width (spec `openelm.md` §2, §4);
//! uniform Llama models are the special case of equal layers. The table is a fixed array of
//! [`MAX_LAYERS`] entries so a [`Config`] is `Copy`, heap-free and can be built in a `const`
//! (see [`Config::openelm`]).

use super::scaling::{linspace_x100, make_divisible_x100};
use crate::moe::MoeConfig;
use crate::{Error, Result};

/// Upper bound on the number of layers a [`Config`] can describe (OpenELM-3B has 36).
pub const MAX_LAYERS: usize = 64;

/// Which tensor layout and conventions a model follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Arch {
    /// OpenELM (`general.architecture = "openelm"`): fused QKV, per-head QK RMSNorm,
    /// rotate-half RoPE, per-layer head counts and FFN widths.
    OpenElm,
    /// Llama (`"llama"`): separate Q/K/V, no QK-norm, interleaved-pair RoPE, uniform layers.
    Llama,
}

/// How RoPE pairs the dimensions of a head vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RopeStyle {
    /// GPT-NeoX / HF-Llama rotate-half: pairs `(j, j + hd/2)` (OpenELM, spec §5 step 3).
    RotateHalf,
    /// GPT-J / llama.cpp `NORM` / llama2.c: pairs `(2j, 2j + 1)`.
    Interleaved,
}

/// Shape of one transformer layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerShape {
    /// Query heads `q`.
    pub q_heads: usize,
    /// Key/value heads `kv` (`q % kv == 0`; query head `h` reads KV head `h / (q/kv)`).
    pub kv_heads: usize,
    /// FFN (GLU) inner width `I`.
    pub ffn_dim: usize,
}

impl LayerShape {
    /// Queries per KV head `g = q / kv` (0 if `kv` is 0).
    pub const fn group(&self) -> usize {
        match self.q_heads.checked_div(self.kv_heads) {
            Some(g) => g,
            None => 0,
        }
    }
}

/// OpenELM layer-wise scaling parameters (spec §2.2), multipliers in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    /// Layers `L`.
    pub layers: usize,
    /// Model dim `d`.
    pub dim: usize,
    /// Head dim `hd`.
    pub head_dim: usize,
    /// Queries per KV head (`num_gqa_groups`, 4 in every released model).
    pub gqa_groups: usize,
    /// `qkv_multipliers` (lo, hi) × 100, e.g. (50, 100).
    pub qkv_mult_x100: (u32, u32),
    /// `ffn_multipliers` (lo, hi) × 100, e.g. (50, 400).
    pub ffn_mult_x100: (u32, u32),
    /// `ffn_dim_divisor` (256).
    pub ffn_divisor: usize,
    /// Vocabulary size `V` (32000 for the published weights).
    pub vocab_size: usize,
    /// Trained context length (2048).
    pub context_len: usize,
}

/// The released OpenELM sizes (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// OpenELM-270M: 16 layers, d 1280, hd 64.
    OpenElm270M,
    /// OpenELM-450M: 20 layers, d 1536, hd 64.
    OpenElm450M,
    /// OpenELM-1_1B: 28 layers, d 2048, hd 64.
    OpenElm1_1B,
    /// OpenELM-3B: 36 layers, d 3072, hd 128.
    OpenElm3B,
}

impl Preset {
    /// All presets, smallest first.
    pub const ALL: [Preset; 4] = [
        Preset::OpenElm270M,
        Preset::OpenElm450M,
        Preset::OpenElm1_1B,
        Preset::OpenElm3B,
    ];

    /// The CLI name: `openelm-270m`, `openelm-450m`, `openelm-1_1b`, `openelm-3b`.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::OpenElm270M => "openelm-270m",
            Preset::OpenElm450M => "openelm-450m",
            Preset::OpenElm1_1B => "openelm-1_1b",
            Preset::OpenElm3B => "openelm-3b",
        }
    }

    /// Looks a preset up by its CLI name (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The scaling parameters of spec §3.
    pub const fn scaling(self) -> Scaling {
        let (layers, dim, head_dim) = match self {
            Preset::OpenElm270M => (16, 1280, 64),
            Preset::OpenElm450M => (20, 1536, 64),
            Preset::OpenElm1_1B => (28, 2048, 64),
            Preset::OpenElm3B => (36, 3072, 128),
        };
        Scaling {
            layers,
            dim,
            head_dim,
            gqa_groups: 4,
            qkv_mult_x100: (50, 100),
            ffn_mult_x100: (50, 400),
            ffn_divisor: 256,
            vocab_size: 32000,
            context_len: 2048,
        }
    }

    /// The full configuration (`const`, so firmware can size static buffers from it).
    pub const fn config(self) -> Result<Config> {
        Config::openelm(&self.scaling())
    }
}

/// Global hyper-parameters and the per-layer shape table of a decoder-only transformer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Tensor layout and conventions.
    pub arch: Arch,
    /// Model dim `d`.
    pub dim: usize,
    /// Head dim `hd` (even).
    pub head_dim: usize,
    /// Vocabulary size `V`.
    pub vocab_size: usize,
    /// Trained context length (informational; the runtime limit is the [`crate::plan::Plan`]).
    pub context_len: usize,
    /// RoPE base θ.
    pub rope_theta: f32,
    /// RoPE pairing convention.
    pub rope_style: RopeStyle,
    /// RMSNorm ε.
    pub norm_eps: f32,
    /// Per-head QK RMSNorm before RoPE (OpenELM).
    pub qk_norm: bool,
    /// Output matrix is the token embedding (no `output.weight`).
    pub tied_output: bool,
    /// MH-MoE FFN shape; layer `N` is MoE iff [`MoeConfig::is_moe_layer`]`(N)` (its
    /// `ffn_dim` is then ignored and may be 0).
    pub moe: Option<MoeConfig>,
    n_layers: usize,
    layers: [LayerShape; MAX_LAYERS],
}

const EMPTY_LAYER: LayerShape = LayerShape {
    q_heads: 0,
    kv_heads: 0,
    ffn_dim: 0,
};

impl Arch {
    /// The `general.architecture` string: `openelm` or `llama`.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::OpenElm => "openelm",
            Arch::Llama => "llama",
        }
    }
}

impl Config {
    /// A configuration with `n_layers` layers all of shape `layer`, validated.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] if a dimension is zero, `hd` is odd, `kv` does not divide `q`, or
    /// `n_layers` exceeds [`MAX_LAYERS`].
    #[allow(clippy::too_many_arguments)]
    pub const fn uniform(
        arch: Arch,
        n_layers: usize,
        dim: usize,
        head_dim: usize,
        layer: LayerShape,
        vocab_size: usize,
        context_len: usize,
    ) -> Result<Config> {
        let mut cfg = Config::empty(arch, dim, head_dim, vocab_size, context_len);
        if n_layers > MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "block_count exceeds elm::MAX_LAYERS",
            });
        }
        let mut i = 0;
        while i < n_layers {
            cfg.layers[i] = layer;
            i += 1;
        }
        cfg.n_layers = n_layers;
        match cfg.validate() {
            Ok(()) => Ok(cfg),
            Err(e) => Err(e),
        }
    }

    /// Defaults for `arch` with no layers (OpenELM: rotate-half RoPE, QK-norm, tied; Llama:
    /// interleaved RoPE, no QK-norm, tied until an `output.weight` is found); θ = 10000,
    /// ε = 1e-6 (OpenELM) or 1e-5 (Llama).
    pub const fn empty(
        arch: Arch,
        dim: usize,
        head_dim: usize,
        vocab_size: usize,
        context_len: usize,
    ) -> Config {
        let (rope_style, qk_norm, norm_eps) = match arch {
            Arch::OpenElm => (RopeStyle::RotateHalf, true, 1e-6),
            Arch::Llama => (RopeStyle::Interleaved, false, 1e-5),
        };
        Config {
            arch,
            dim,
            head_dim,
            vocab_size,
            context_len,
            rope_theta: 10000.0,
            rope_style,
            norm_eps,
            qk_norm,
            tied_output: true,
            moe: None,
            n_layers: 0,
            layers: [EMPTY_LAYER; MAX_LAYERS],
        }
    }

    /// Appends one layer (no validation until [`Config::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] beyond [`MAX_LAYERS`].
    pub const fn push_layer(&mut self, layer: LayerShape) -> Result<()> {
        if self.n_layers >= MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "block_count exceeds elm::MAX_LAYERS",
            });
        }
        self.layers[self.n_layers] = layer;
        self.n_layers += 1;
        Ok(())
    }

    /// The OpenELM layer table computed from the scaling parameters (spec §2.2 with the
    /// integer recipe of §2.3):
    ///
    /// - `q_dim[i] = make_divisible(d · qm[i], hd · gqa)`, `q[i] = q_dim[i] / hd`,
    ///   `kv[i] = q[i] / gqa`;
    /// - `I[i] = make_divisible(d · fm[i], ffn_divisor)`,
    ///
    /// with `qm`, `fm` = `round(linspace(lo, hi, L), 2)`.
    ///
    /// ```
    /// use picoformer::elm::{Config, Preset};
    /// const CFG: Config = match Preset::OpenElm270M.config() {
    ///     Ok(c) => c,
    ///     Err(_) => panic!("bad preset"),
    /// };
    /// const KV_PER_TOKEN: usize = CFG.kv_elems_per_token();
    /// assert_eq!(KV_PER_TOKEN, 8064);
    /// assert_eq!(CFG.param_count(), 271_527_168);
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for zero dimensions, more than [`MAX_LAYERS`] layers, or a
    /// query width that is not a whole number of heads.
    pub const fn openelm(s: &Scaling) -> Result<Config> {
        if s.layers > MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "block_count exceeds elm::MAX_LAYERS",
            });
        }
        if s.gqa_groups == 0 || s.head_dim == 0 || s.dim == 0 || s.ffn_divisor == 0 {
            return Err(Error::InvalidParam {
                what: "openelm scaling: zero dimension",
            });
        }
        let mut cfg = Config::empty(
            Arch::OpenElm,
            s.dim,
            s.head_dim,
            s.vocab_size,
            s.context_len,
        );
        let q_div = (s.head_dim * s.gqa_groups) as u64;
        let mut i = 0;
        while i < s.layers {
            let qm = linspace_x100(s.qkv_mult_x100.0, s.qkv_mult_x100.1, s.layers, i);
            let fm = linspace_x100(s.ffn_mult_x100.0, s.ffn_mult_x100.1, s.layers, i);
            let d = s.dim as u64;
            let Some(q_dim) = make_divisible_x100(d * qm as u64, q_div) else {
                return Err(Error::InvalidParam {
                    what: "openelm scaling: overflow",
                });
            };
            let Some(ffn) = make_divisible_x100(d * fm as u64, s.ffn_divisor as u64) else {
                return Err(Error::InvalidParam {
                    what: "openelm scaling: overflow",
                });
            };
            let hd = s.head_dim as u64;
            if !q_dim.is_multiple_of(hd) {
                return Err(Error::InvalidParam {
                    what: "openelm scaling: query dim not a multiple of head_dim",
                });
            }
            let q_heads = (q_dim / hd) as usize;
            cfg.layers[i] = LayerShape {
                q_heads,
                kv_heads: q_heads / s.gqa_groups,
                ffn_dim: ffn as usize,
            };
            i += 1;
        }
        cfg.n_layers = s.layers;
        match cfg.validate() {
            Ok(()) => Ok(cfg),
            Err(e) => Err(e),
        }
    }

    /// Checks the invariants every other part of the crate relies on.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the rule that failed: non-zero `d`, `V`, layers and
    /// head counts; even `hd`; `kv` divides `q`; at most [`MAX_LAYERS`] layers.
    pub const fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.vocab_size == 0 || self.n_layers == 0 {
            return Err(Error::InvalidParam {
                what: "model dim, vocab size and layer count must be > 0",
            });
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) {
            return Err(Error::InvalidParam {
                what: "head_dim must be even and > 0",
            });
        }
        if self.n_layers > MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "block_count exceeds elm::MAX_LAYERS",
            });
        }
        let mut i = 0;
        while i < self.n_layers {
            let l = self.layers[i];
            if l.q_heads == 0 || l.kv_heads == 0 {
                return Err(Error::InvalidParam {
                    what: "attention.head_count and head_count_kv must be > 0",
                });
            }
            if l.ffn_dim == 0 && !self.is_moe_layer(i) {
                return Err(Error::InvalidParam {
                    what: "feed_forward_length must be > 0 (dense layer)",
                });
            }
            if !l.q_heads.is_multiple_of(l.kv_heads) {
                return Err(Error::InvalidParam {
                    what: "head_count_kv must divide head_count",
                });
            }
            i += 1;
        }
        Ok(())
    }

    /// Whether layer `i` has an MH-MoE FFN.
    pub const fn is_moe_layer(&self, i: usize) -> bool {
        match &self.moe {
            Some(m) => m.is_moe_layer(i),
            None => false,
        }
    }

    /// Number of layers `L`.
    pub const fn n_layers(&self) -> usize {
        self.n_layers
    }

    /// The per-layer shape table (length `L`).
    pub fn layers(&self) -> &[LayerShape] {
        self.layers.get(..self.n_layers).unwrap_or(&[])
    }

    /// Shape of layer `i`, if it exists.
    pub const fn layer(&self, i: usize) -> Option<LayerShape> {
        if i < self.n_layers && i < MAX_LAYERS {
            Some(self.layers[i])
        } else {
            None
        }
    }

    /// Largest `q` over the layers.
    pub const fn max_q_heads(&self) -> usize {
        let mut m = 0;
        let mut i = 0;
        while i < self.n_layers && i < MAX_LAYERS {
            if self.layers[i].q_heads > m {
                m = self.layers[i].q_heads;
            }
            i += 1;
        }
        m
    }

    /// Largest `kv` over the layers.
    pub const fn max_kv_heads(&self) -> usize {
        let mut m = 0;
        let mut i = 0;
        while i < self.n_layers && i < MAX_LAYERS {
            if self.layers[i].kv_heads > m {
                m = self.layers[i].kv_heads;
            }
            i += 1;
        }
        m
    }

    /// Largest `(q + 2·kv)·hd` (fused QKV output) over the layers.
    pub const fn max_qkv_dim(&self) -> usize {
        let mut m = 0;
        let mut i = 0;
        while i < self.n_layers && i < MAX_LAYERS {
            let l = self.layers[i];
            let w = (l.q_heads + 2 * l.kv_heads) * self.head_dim;
            if w > m {
                m = w;
            }
            i += 1;
        }
        m
    }

    /// Largest FFN width `I` over the layers.
    pub const fn max_ffn_dim(&self) -> usize {
        let mut m = 0;
        let mut i = 0;
        while i < self.n_layers && i < MAX_LAYERS {
            if self.layers[i].ffn_dim > m && !self.is_moe_layer(i) {
                m = self.layers[i].ffn_dim;
            }
            i += 1;
        }
        m
    }

    /// KV-cache elements per token, `Σ_l 2·kv_l·hd` (spec §4.1: 8,064 for 270M).
    pub const fn kv_elems_per_token(&self) -> usize {
        let mut s = 0;
        let mut i = 0;
        while i < self.n_layers && i < MAX_LAYERS {
            s += 2 * self.layers[i].kv_heads * self.head_dim;
            i += 1;
        }
        s
    }

    /// Parameters of layer `i` (spec §4.1): `(q+2kv)·hd·d + d·q·hd + 3·I·d + 2d`, plus `2·hd`
    /// with QK-norm; an MH-MoE layer counts [`MoeConfig::params`] instead of `3·I·d`.
    /// 0 for a missing layer.
    pub const fn layer_param_count(&self, i: usize) -> u64 {
        let Some(l) = self.layer(i) else {
            return 0;
        };
        let d = self.dim as u64;
        let hd = self.head_dim as u64;
        let q = l.q_heads as u64;
        let kv = l.kv_heads as u64;
        let ffn = l.ffn_dim as u64;
        let ffn_params = match &self.moe {
            Some(m) if m.is_moe_layer(i) => m.params(),
            _ => 3 * ffn * d,
        };
        let mut n = (q + 2 * kv) * hd * d + d * q * hd + ffn_params + 2 * d;
        if self.qk_norm {
            n += 2 * hd;
        }
        n
    }

    /// Total parameters: layers + embedding `V·d` + final norm `d` (+ `V·d` when untied).
    pub const fn param_count(&self) -> u64 {
        let mut n = 0u64;
        let mut i = 0;
        while i < self.n_layers {
            n += self.layer_param_count(i);
            i += 1;
        }
        let vd = self.vocab_size as u64 * self.dim as u64;
        n += vd + self.dim as u64;
        if !self.tied_output {
            n += vd;
        }
        n
    }
}

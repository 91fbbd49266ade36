//! [`Model`]: a GGUF file's weights as checked, zero-copy matrix views.
//!
//! Tensor names and GGUF shapes (`ne`, innermost first) per `docs/GGUF.md`; a PyTorch
//! `[out, in]` weight is a [`Matrix`] of `out` rows × `in` columns.

use super::config::{Arch, Config};
use crate::gguf::{File, TensorInfo};
use crate::moe::{MoeLayer, MoeWeights};
use crate::quant::Matrix;
use crate::{Error, Result, TensorProblem};

/// The query/key/value projection of a layer.
#[derive(Debug, Clone, Copy)]
pub enum Qkv<'w> {
    /// OpenELM `attn_qkv`: `[(q + 2kv)·hd, d]`, rows Q, then K, then V, head-major.
    Fused(Matrix<'w>),
    /// Llama `attn_q` `[q·hd, d]`, `attn_k` and `attn_v` `[kv·hd, d]`.
    Split {
        /// Query projection.
        q: Matrix<'w>,
        /// Key projection.
        k: Matrix<'w>,
        /// Value projection.
        v: Matrix<'w>,
    },
}

/// The feed-forward part of a layer.
// No heap for boxing the large MoE variant; a `Block` is built per layer on the stack and
// dropped right after use, so the size difference costs nothing lasting.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
pub enum Ffn<'w> {
    /// SwiGLU `down(silu(gate·x) ⊙ (up·x))`: `gate`, `up` `[I, d]`, `down` `[d, I]`
    /// (gate = first half of OpenELM's `proj_1`, spec §5 "FFN").
    Dense {
        /// Gate projection.
        gate: Matrix<'w>,
        /// Up projection.
        up: Matrix<'w>,
        /// Down projection.
        down: Matrix<'w>,
    },
    /// MH-MoE (issue 4; `blk.N.mhmoe_*`, `ffn_*_exps`, see `docs/GGUF.md`).
    Moe(MoeLayer<'w>),
}

/// The weights of one transformer layer.
#[derive(Debug, Clone, Copy)]
pub struct Block<'w> {
    /// Pre-attention RMSNorm weight `[d]` (a 1 × d matrix).
    pub attn_norm: Matrix<'w>,
    /// Q/K/V projection.
    pub qkv: Qkv<'w>,
    /// Per-head QK RMSNorm weights `[hd]`, shared by all heads (OpenELM).
    pub qk_norm: Option<(Matrix<'w>, Matrix<'w>)>,
    /// Output projection `[d, q·hd]`.
    pub attn_output: Matrix<'w>,
    /// Pre-FFN RMSNorm weight `[d]`.
    pub ffn_norm: Matrix<'w>,
    /// Feed-forward weights.
    pub ffn: Ffn<'w>,
}

/// A model: its [`Config`] and the GGUF file its weights are borrowed from.
///
/// [`Model::new`] checks every tensor once (presence, element type F32/F16/Q8_0, shape against
/// the configuration); afterwards [`Model::block`] hands out the views of one layer (a few
/// table look-ups, no copies). The model itself is small (no per-layer arrays), so it fits
/// on a microcontroller's stack.
#[derive(Debug, Clone, Copy)]
pub struct Model<'w> {
    config: Config,
    file: File<'w>,
    token_embd: Matrix<'w>,
    output: Matrix<'w>,
    output_norm: Matrix<'w>,
}

fn tensor_err(name: &'static str, layer: Option<u32>, problem: TensorProblem) -> Error {
    Error::Tensor {
        name,
        layer,
        problem,
    }
}

/// The per-layer tensors a block may use (`blk.N.` + suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    AttnNorm,
    AttnQkv,
    AttnQ,
    AttnK,
    AttnV,
    QNorm,
    KNorm,
    AttnOutput,
    FfnNorm,
    FfnGate,
    FfnUp,
    FfnDown,
    MoeHead,
    MoeHeadBias,
    MoeRouter,
    MoeGate,
    MoeUp,
    MoeDown,
    MoeMerge,
    MoeMergeBias,
}

impl Slot {
    const ALL: [Slot; 20] = [
        Slot::AttnNorm,
        Slot::AttnQkv,
        Slot::AttnQ,
        Slot::AttnK,
        Slot::AttnV,
        Slot::QNorm,
        Slot::KNorm,
        Slot::AttnOutput,
        Slot::FfnNorm,
        Slot::FfnGate,
        Slot::FfnUp,
        Slot::FfnDown,
        Slot::MoeHead,
        Slot::MoeHeadBias,
        Slot::MoeRouter,
        Slot::MoeGate,
        Slot::MoeUp,
        Slot::MoeDown,
        Slot::MoeMerge,
        Slot::MoeMergeBias,
    ];

    /// The tensor name after `blk.N.`.
    const fn name(self) -> &'static str {
        match self {
            Slot::AttnNorm => "attn_norm.weight",
            Slot::AttnQkv => "attn_qkv.weight",
            Slot::AttnQ => "attn_q.weight",
            Slot::AttnK => "attn_k.weight",
            Slot::AttnV => "attn_v.weight",
            Slot::QNorm => "attn_q_norm.weight",
            Slot::KNorm => "attn_k_norm.weight",
            Slot::AttnOutput => "attn_output.weight",
            Slot::FfnNorm => "ffn_norm.weight",
            Slot::FfnGate => "ffn_gate.weight",
            Slot::FfnUp => "ffn_up.weight",
            Slot::FfnDown => "ffn_down.weight",
            Slot::MoeHead => "mhmoe_head.weight",
            Slot::MoeHeadBias => "mhmoe_head.bias",
            Slot::MoeRouter => "ffn_gate_inp.weight",
            Slot::MoeGate => "ffn_gate_exps.weight",
            Slot::MoeUp => "ffn_up_exps.weight",
            Slot::MoeDown => "ffn_down_exps.weight",
            Slot::MoeMerge => "mhmoe_merge.weight",
            Slot::MoeMergeBias => "mhmoe_merge.bias",
        }
    }
}

/// The tensors of one layer, found in a single pass over the tensor table.
struct LayerTensors<'w> {
    slots: [Option<TensorInfo<'w>>; Slot::ALL.len()],
}

impl<'w> LayerTensors<'w> {
    fn scan(file: &File<'w>, layer: u32) -> LayerTensors<'w> {
        let mut slots = [None; Slot::ALL.len()];
        let prefix = BlkPrefix::new(layer);
        let mut tensors = file.tensors();
        while let Some(t) = tensors.next_named(|name| prefix.matches(name)) {
            let Some(suffix) = t.name.get(prefix.len..) else {
                continue;
            };
            for (slot, found) in Slot::ALL.iter().zip(slots.iter_mut()) {
                if slot.name() == suffix {
                    *found = Some(t);
                }
            }
        }
        LayerTensors { slots }
    }

    fn get(&self, slot: Slot) -> Option<TensorInfo<'w>> {
        Slot::ALL
            .iter()
            .position(|s| *s == slot)
            .and_then(|i| self.slots.get(i).copied().flatten())
    }
}

/// `blk.{layer}.` as bytes (decimal, no leading zeros: the one spelling
/// [`blk_suffix`](crate::gguf::tensor::blk_suffix) accepts for `layer`), formatted once per
/// layer scan so each skimmed record costs one prefix comparison before it is decoded.
struct BlkPrefix {
    buf: [u8; 15], // "blk." + up to 10 digits + "."
    len: usize,
}

impl BlkPrefix {
    fn new(layer: u32) -> BlkPrefix {
        let mut digits = [0u8; 10];
        let mut n = layer;
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        let mut buf = [0u8; 15];
        let parts = b"blk."
            .iter()
            .chain(digits.get(i..).unwrap_or(&[]))
            .chain(b".");
        let mut len = 0;
        for (d, &s) in buf.iter_mut().zip(parts) {
            *d = s;
            len += 1;
        }
        BlkPrefix { buf, len }
    }

    /// `true` if the raw `name` starts with the prefix.
    fn matches(&self, name: &[u8]) -> bool {
        name.starts_with(self.buf.get(..self.len).unwrap_or(&[]))
    }
}

/// The tensor as a `rows × cols` matrix, or an error naming it.
fn checked<'w>(
    t: Option<TensorInfo<'w>>,
    name: &'static str,
    layer: Option<u32>,
    rows: usize,
    cols: usize,
) -> Result<Matrix<'w>> {
    let t = t.ok_or(tensor_err(name, layer, TensorProblem::Missing))?;
    if t.n_dims > 2 {
        return Err(tensor_err(name, layer, TensorProblem::WrongShape));
    }
    let m = t.matrix().map_err(|e| match e {
        Error::Unsupported { .. } => tensor_err(name, layer, TensorProblem::WrongType),
        _ => tensor_err(name, layer, TensorProblem::WrongShape),
    })?;
    if m.rows() != rows || m.cols() != cols {
        return Err(tensor_err(name, layer, TensorProblem::WrongShape));
    }
    Ok(m)
}

impl<'w> Model<'w> {
    /// Reads the configuration ([`Config::from_gguf`]) and checks every tensor.
    ///
    /// # Errors
    /// Those of [`Config::from_gguf`]; [`Error::Tensor`] naming the first tensor that is
    /// missing, of an unsupported type, or of the wrong shape (`layer` set for `blk.N.*`).
    pub fn new(file: File<'w>) -> Result<Model<'w>> {
        let config = Config::from_gguf(&file)?;
        Model::with_config(file, config)
    }

    /// Like [`Model::new`] with a caller-supplied configuration (e.g. a `const` preset that
    /// must match the file).
    ///
    /// # Errors
    /// [`Error::Tensor`] as [`Model::new`]; [`Error::InvalidParam`] for an invalid `config`.
    pub fn with_config(file: File<'w>, config: Config) -> Result<Model<'w>> {
        config.validate()?;
        let (d, v) = (config.dim, config.vocab_size);
        let token_embd = checked(
            file.tensor("token_embd.weight"),
            "token_embd.weight",
            None,
            v,
            d,
        )?;
        let output = match file.tensor("output.weight") {
            Some(t) => checked(Some(t), "output.weight", None, v, d)?,
            None => token_embd,
        };
        let output_norm = checked(
            file.tensor("output_norm.weight"),
            "output_norm.weight",
            None,
            1,
            d,
        )?;
        let model = Model {
            config,
            file,
            token_embd,
            output,
            output_norm,
        };
        for l in 0..config.n_layers() {
            let blk = model.block(l)?;
            if let Ffn::Moe(fast) = blk.ffn {
                // The strict loader of the `moe` module also checks the GGUF dims of the
                // stacked expert tensors; both views must agree.
                let li = u32::try_from(l).unwrap_or(u32::MAX);
                let strict = MoeLayer::from_gguf(&file, config.arch.name(), li)?;
                if strict != Some(fast) {
                    return Err(Error::InvalidParam {
                        what: "mhmoe layer config differs from the model's",
                    });
                }
            }
        }
        Ok(model)
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The GGUF file (for the tokenizer and other metadata).
    pub const fn file(&self) -> &File<'w> {
        &self.file
    }

    /// Token embedding `[V, d]`.
    pub const fn token_embd(&self) -> &Matrix<'w> {
        &self.token_embd
    }

    /// Output (classifier) matrix `[V, d]`: `output.weight`, or the token embedding when tied.
    pub const fn output(&self) -> &Matrix<'w> {
        &self.output
    }

    /// Final RMSNorm weight `[d]`.
    pub const fn output_norm(&self) -> &Matrix<'w> {
        &self.output_norm
    }

    /// The weights of layer `l`, checked against the configuration.
    ///
    /// One pass over the tensor table finds all of the layer's tensors (this runs for every
    /// layer of every token, so it avoids one table scan per tensor).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for `l ≥ L`; [`Error::Tensor`] as in [`Model::new`] (never
    /// after a successful [`Model::new`]).
    pub fn block(&self, l: usize) -> Result<Block<'w>> {
        let c = &self.config;
        let shape = c.layer(l).ok_or(Error::InvalidParam {
            what: "layer index out of range",
        })?;
        let li = u32::try_from(l).map_err(|_| Error::InvalidParam {
            what: "layer index out of range",
        })?;
        let layer = Some(li);
        let found = LayerTensors::scan(&self.file, li);
        let (d, hd) = (c.dim, c.head_dim);
        let (q, kv) = (shape.q_heads * hd, shape.kv_heads * hd);
        let get = |slot: Slot, rows: usize, cols: usize| {
            checked(found.get(slot), slot.name(), layer, rows, cols)
        };
        let attn_norm = get(Slot::AttnNorm, 1, d)?;
        let (qkv, qk_norm) = match c.arch {
            Arch::OpenElm => (
                Qkv::Fused(get(Slot::AttnQkv, q + 2 * kv, d)?),
                Some((get(Slot::QNorm, 1, hd)?, get(Slot::KNorm, 1, hd)?)),
            ),
            Arch::Llama => (
                Qkv::Split {
                    q: get(Slot::AttnQ, q, d)?,
                    k: get(Slot::AttnK, kv, d)?,
                    v: get(Slot::AttnV, kv, d)?,
                },
                None,
            ),
        };
        let attn_output = get(Slot::AttnOutput, d, q)?;
        let ffn_norm = get(Slot::FfnNorm, 1, d)?;
        let i = shape.ffn_dim;
        let ffn = match c.moe {
            Some(cfg) if cfg.is_moe_layer(l) => {
                let opt = |slot: Slot| found.get(slot).map(|t| t.matrix()).transpose();
                let need = |slot: Slot| {
                    opt(slot)?.ok_or(tensor_err(slot.name(), layer, TensorProblem::Missing))
                };
                let w = MoeWeights {
                    head: opt(Slot::MoeHead)?,
                    head_bias: opt(Slot::MoeHeadBias)?,
                    router: need(Slot::MoeRouter)?,
                    gate_exps: opt(Slot::MoeGate)?,
                    up_exps: need(Slot::MoeUp)?,
                    down_exps: need(Slot::MoeDown)?,
                    merge: opt(Slot::MoeMerge)?,
                    merge_bias: opt(Slot::MoeMergeBias)?,
                };
                Ffn::Moe(MoeLayer::new(cfg, w).map_err(|e| match e {
                    Error::Tensor { name, problem, .. } => Error::Tensor {
                        name,
                        layer,
                        problem,
                    },
                    other => other,
                })?)
            }
            _ => Ffn::Dense {
                gate: get(Slot::FfnGate, i, d)?,
                up: get(Slot::FfnUp, i, d)?,
                down: get(Slot::FfnDown, d, i)?,
            },
        };
        Ok(Block {
            attn_norm,
            qkv,
            qk_norm: if c.qk_norm { qk_norm } else { None },
            attn_output,
            ffn_norm,
            ffn,
        })
    }

    /// Elements of every tensor in the file (the tied output counted once).
    pub fn stored_params(&self) -> u64 {
        self.file
            .tensors()
            .map(|t| t.n_elements())
            .fold(0u64, |a, n| a.saturating_add(n))
    }
}

#[cfg(test)]
mod tests {
    use super::BlkPrefix;
    use crate::gguf::tensor::blk_suffix;

    fn is_layer(name: &[u8], layer: u32) -> bool {
        BlkPrefix::new(layer).matches(name)
    }

    /// The byte pre-filter accepts exactly the names `blk_suffix` accepts.
    #[test]
    fn is_layer_agrees_with_blk_suffix() {
        let names = [
            "blk.0.attn_norm.weight",
            "blk.0.",
            "blk.0",
            "blk.00.x",
            "blk.01.x",
            "blk.1.x",
            "blk.10.x",
            "blk.12.ffn_up.weight",
            "blk.4294967295.x",
            "blk..x",
            "blk.-1.x",
            "output.weight",
            "blkx.0.y",
            "",
        ];
        for layer in [0u32, 1, 10, 12, 100, u32::MAX] {
            for name in names {
                assert_eq!(
                    is_layer(name.as_bytes(), layer),
                    blk_suffix(name, layer).is_some(),
                    "{name} {layer}"
                );
            }
        }
    }
}

//! Loading MH-MoE layers from GGUF with picoformer's keys and tensor names
//! (docs/GGUF.md, section "MH-MoE layers").

use super::config::MoeConfig;
use super::layer::{MoeLayer, MoeWeights};
use crate::gguf::{File, TensorInfo};
use crate::quant::Matrix;
use crate::{Error, Result, TensorProblem};

/// `{arch}.{suffix}` as a `u32`; `Ok(None)` if absent, `MissingKey` if mistyped.
fn key_u32(file: &File<'_>, arch: &str, suffix: &'static str) -> Result<Option<usize>> {
    match file.get_dotted(arch, suffix) {
        None => Ok(None),
        Some(v) => v
            .as_u32()
            .map(|n| Some(n as usize))
            .ok_or(Error::MissingKey { key: suffix }),
    }
}

fn need_u32(file: &File<'_>, arch: &str, suffix: &'static str) -> Result<usize> {
    key_u32(file, arch, suffix)?.ok_or(Error::MissingKey { key: suffix })
}

fn key_bool(file: &File<'_>, arch: &str, suffix: &'static str) -> Result<Option<bool>> {
    match file.get_dotted(arch, suffix) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or(Error::MissingKey { key: suffix }),
    }
}

impl MoeConfig {
    /// Reads the `{arch}.mhmoe.*` keys (and `{arch}.embedding_length` for `d`).
    ///
    /// Returns `Ok(None)` when `{arch}.mhmoe.every` is absent or 0 (no MoE layers). `proj` and
    /// `bias` are read off the first MoE layer (`N = every − 1`): projections iff
    /// `blk.N.mhmoe_head.weight` exists, biases iff `blk.N.mhmoe_head.bias` exists.
    ///
    /// Errors: [`Error::MissingKey`] (key suffix after `{arch}.`) for an absent or mistyped
    /// required key (`embedding_length`, `mhmoe.head_count`, `mhmoe.expert_count`,
    /// `mhmoe.expert_used_count`, `mhmoe.expert_feed_forward_length`, `mhmoe.glu`);
    /// [`Error::InvalidParam`] from [`validate`](Self::validate).
    pub fn from_gguf(file: &File<'_>, arch: &str) -> Result<Option<MoeConfig>> {
        let every = match key_u32(file, arch, "mhmoe.every")? {
            None | Some(0) => return Ok(None),
            Some(n) => n,
        };
        let first = u32::try_from(every - 1).unwrap_or(u32::MAX);
        let cfg = MoeConfig {
            d: need_u32(file, arch, "embedding_length")?,
            heads: need_u32(file, arch, "mhmoe.head_count")?,
            experts: need_u32(file, arch, "mhmoe.expert_count")?,
            k: need_u32(file, arch, "mhmoe.expert_used_count")?,
            inner: need_u32(file, arch, "mhmoe.expert_feed_forward_length")?,
            glu: key_bool(file, arch, "mhmoe.glu")?
                .ok_or(Error::MissingKey { key: "mhmoe.glu" })?,
            proj: file.tensor_blk(first, "mhmoe_head.weight").is_some(),
            bias: file.tensor_blk(first, "mhmoe_head.bias").is_some(),
            renorm_topk: key_bool(file, arch, "mhmoe.renorm_topk")?.unwrap_or(false),
            every,
        };
        cfg.validate()?;
        Ok(Some(cfg))
    }
}

/// Layer-tensor loader: looks up `blk.{layer}.{name}` and checks its GGUF dims.
struct Loader<'f, 'w> {
    file: &'f File<'w>,
    layer: u32,
}

impl<'w> Loader<'_, 'w> {
    fn err(&self, name: &'static str, problem: TensorProblem) -> Error {
        Error::Tensor {
            name,
            layer: Some(self.layer),
            problem,
        }
    }

    /// The tensor as a matrix if present; its GGUF dims (inner first) must equal `dims`.
    fn opt(&self, name: &'static str, dims: &[usize]) -> Result<Option<Matrix<'w>>> {
        let Some(t) = self.file.tensor_blk(self.layer, name) else {
            return Ok(None);
        };
        if !dims_match(&t, dims) {
            return Err(self.err(name, TensorProblem::WrongShape));
        }
        t.matrix()
            .map(Some)
            .map_err(|_| self.err(name, TensorProblem::WrongType))
    }

    fn need(&self, name: &'static str, dims: &[usize]) -> Result<Matrix<'w>> {
        self.opt(name, dims)?
            .ok_or(self.err(name, TensorProblem::Missing))
    }
}

fn dims_match(t: &TensorInfo<'_>, dims: &[usize]) -> bool {
    // Trailing 1s are insignificant: `[d]` and `[d, 1]` are the same bias.
    t.dims.len() >= dims.len()
        && t.dims.iter().enumerate().all(|(i, &got)| {
            let want = dims.get(i).copied().unwrap_or(1);
            u64::try_from(want).is_ok_and(|w| w == got)
        })
}

impl<'w> MoeLayer<'w> {
    /// Loads layer `layer` of `file` if it is an MH-MoE layer.
    ///
    /// Returns `Ok(None)` if the file has no MoE layers or `(layer + 1) % every != 0`. Tensors
    /// (docs/GGUF.md; GGUF dims inner first): `mhmoe_head.weight [d, d]`, `mhmoe_head.bias
    /// [d]`, `ffn_gate_inp.weight [d/h, E]`, `ffn_gate_exps.weight [d/h, I, E]` (SwiGLU only),
    /// `ffn_up_exps.weight [d/h, I, E]`, `ffn_down_exps.weight [I, d/h, E]`,
    /// `mhmoe_merge.weight [d, d]`, `mhmoe_merge.bias [d]`; F32, F16 or Q8_0.
    ///
    /// Errors: those of [`MoeConfig::from_gguf`]; [`Error::Tensor`] with `layer: Some(layer)`
    /// for a missing, mis-shaped (or unexpected) tensor, or one of an unsupported type.
    pub fn from_gguf(file: &File<'w>, arch: &str, layer: u32) -> Result<Option<Self>> {
        let Some(cfg) = MoeConfig::from_gguf(file, arch)? else {
            return Ok(None);
        };
        if !cfg.is_moe_layer(layer as usize) {
            return Ok(None);
        }
        let (d, sub, n_exp, inner) = (cfg.d, cfg.sub_dim(), cfg.experts, cfg.inner);
        let l = Loader { file, layer };
        let w = MoeWeights {
            head: l.opt("mhmoe_head.weight", &[d, d])?,
            head_bias: l.opt("mhmoe_head.bias", &[d])?,
            router: l.need("ffn_gate_inp.weight", &[sub, n_exp])?,
            gate_exps: l.opt("ffn_gate_exps.weight", &[sub, inner, n_exp])?,
            up_exps: l.need("ffn_up_exps.weight", &[sub, inner, n_exp])?,
            down_exps: l.need("ffn_down_exps.weight", &[inner, sub, n_exp])?,
            merge: l.opt("mhmoe_merge.weight", &[d, d])?,
            merge_bias: l.opt("mhmoe_merge.bias", &[d])?,
        };
        MoeLayer::new(cfg, w).map(Some).map_err(|e| match e {
            Error::Tensor { name, problem, .. } => Error::Tensor {
                name,
                layer: Some(layer),
                problem,
            },
            other => other,
        })
    }
}

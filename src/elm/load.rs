//! Reading a [`Config`] from GGUF metadata (llama.cpp conventions, `docs/GGUF.md`).
//!
//! | key (`{arch}.` prefix) | openelm | llama |
//! |---|---|---|
//! | `block_count`, `embedding_length` | required | required |
//! | `attention.head_count`, `feed_forward_length` | array of L (or scalar) | scalar (or array) |
//! | `attention.head_count_kv` | as `head_count`; absent = `head_count` (llama.cpp default) | same |
//! | `attention.key_length` | head dim (else `rope.dimension_count`, else `d / head_count[0]`) | same |
//! | `context_length` | optional (0 = unknown) | same |
//! | `rope.freq_base` | optional, 10000 | same |
//! | `attention.layer_norm_rms_epsilon` | optional, 1e-6 | optional, 1e-5 |
//! | `vocab_size` | optional, else rows of `token_embd.weight` | same |
//!
//! llama.cpp's OpenELM converter writes the per-layer arrays as `i32`; `u32` (or any integer
//! type whose values fit) is accepted too.

use super::config::{Arch, Config, LayerShape, MAX_LAYERS};
use crate::gguf::File;
use crate::{Error, Result, TensorProblem};

/// A per-layer integer key: an array of exactly `n` integers, or one integer for every layer.
fn per_layer(
    file: &File<'_>,
    key: &'static str,
    len_what: &'static str,
    n: usize,
    out: &mut [usize; MAX_LAYERS],
) -> Result<()> {
    let v = file.get_arch(key).ok_or(Error::MissingKey { key })?;
    if let Some(x) = v.as_u32() {
        for o in out.iter_mut().take(n) {
            *o = x as usize;
        }
        return Ok(());
    }
    let arr = v.as_array().ok_or(Error::MissingKey { key })?;
    if arr.len() != n {
        return Err(Error::Shape {
            what: len_what,
            expected: n,
            got: arr.len(),
        });
    }
    let ints = arr.iter_u32().ok_or(Error::MissingKey { key })?;
    for (o, x) in out.iter_mut().zip(ints) {
        *o = x as usize;
    }
    Ok(())
}

fn required_u32(file: &File<'_>, key: &'static str) -> Result<usize> {
    file.get_arch(key)
        .and_then(|v| v.as_u32())
        .map(|x| x as usize)
        .ok_or(Error::MissingKey { key })
}

fn optional_u32(file: &File<'_>, key: &'static str) -> Result<Option<usize>> {
    match file.get_arch(key) {
        None => Ok(None),
        Some(v) => v
            .as_u32()
            .map(|x| Some(x as usize))
            .ok_or(Error::MissingKey { key }),
    }
}

fn optional_f32(file: &File<'_>, key: &'static str, default: f32) -> Result<f32> {
    match file.get_arch(key) {
        None => Ok(default),
        Some(v) => match v.as_f32() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(Error::MissingKey { key }),
        },
    }
}

impl Config {
    /// Reads the configuration of an `openelm` or `llama` GGUF file (keys above).
    ///
    /// MH-MoE layers (`{arch}.mhmoe.every`) carry a 0 in `feed_forward_length`; their FFN
    /// shape comes from the `mhmoe.*` keys read by the `moe` module.
    ///
    /// # Errors
    /// [`Error::MissingKey`] naming the absent or mistyped key (the part after `{arch}.`, or
    /// `general.architecture`); [`Error::Unsupported`] for another architecture;
    /// [`Error::Shape`] for a per-layer array whose length is not `block_count`;
    /// [`Error::Tensor`] if `token_embd.weight` is missing (it gives `V`);
    /// [`Error::InvalidParam`] from [`Config::validate`] (e.g. `head_count_kv` not dividing
    /// `head_count`, more than [`MAX_LAYERS`] layers).
    pub fn from_gguf(file: &File<'_>) -> Result<Config> {
        let arch = match file.architecture() {
            Some("openelm") => Arch::OpenElm,
            Some("llama") => Arch::Llama,
            Some(_) => {
                return Err(Error::Unsupported {
                    what: "general.architecture (expected openelm or llama)",
                    value: 0,
                })
            }
            None => {
                return Err(Error::MissingKey {
                    key: "general.architecture",
                })
            }
        };
        let n_layers = required_u32(file, "block_count")?;
        if n_layers > MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "block_count exceeds elm::MAX_LAYERS",
            });
        }
        let dim = required_u32(file, "embedding_length")?;
        let mut q = [0usize; MAX_LAYERS];
        let mut kv = [0usize; MAX_LAYERS];
        let mut ffn = [0usize; MAX_LAYERS];
        per_layer(
            file,
            "attention.head_count",
            "attention.head_count array length (= block_count)",
            n_layers,
            &mut q,
        )?;
        if file.get_arch("attention.head_count_kv").is_some() {
            per_layer(
                file,
                "attention.head_count_kv",
                "attention.head_count_kv array length (= block_count)",
                n_layers,
                &mut kv,
            )?;
        } else {
            kv = q; // llama.cpp's default: no GQA
        }
        per_layer(
            file,
            "feed_forward_length",
            "feed_forward_length array length (= block_count)",
            n_layers,
            &mut ffn,
        )?;
        let head_dim = match optional_u32(file, "attention.key_length")? {
            Some(hd) => hd,
            None => match optional_u32(file, "rope.dimension_count")? {
                Some(hd) => hd,
                None => dim.checked_div(q[0]).unwrap_or(0),
            },
        };
        if let Some(vd) = optional_u32(file, "attention.value_length")? {
            if vd != head_dim {
                return Err(Error::InvalidParam {
                    what: "attention.value_length must equal attention.key_length",
                });
            }
        }
        if let Some(rd) = optional_u32(file, "rope.dimension_count")? {
            if rd != head_dim {
                return Err(Error::InvalidParam {
                    what: "rope.dimension_count must equal the head dim (partial RoPE unsupported)",
                });
            }
        }
        let vocab_size = match optional_u32(file, "vocab_size")? {
            Some(v) => v,
            None => {
                let t = file.tensor("token_embd.weight").ok_or(Error::Tensor {
                    name: "token_embd.weight",
                    layer: None,
                    problem: TensorProblem::Missing,
                })?;
                usize::try_from(t.dims[1]).map_err(|_| Error::Tensor {
                    name: "token_embd.weight",
                    layer: None,
                    problem: TensorProblem::WrongShape,
                })?
            }
        };
        let context_len = optional_u32(file, "context_length")?.unwrap_or(0);
        let mut cfg = Config::empty(arch, dim, head_dim, vocab_size, context_len);
        cfg.rope_theta = optional_f32(file, "rope.freq_base", cfg.rope_theta)?;
        cfg.norm_eps = optional_f32(file, "attention.layer_norm_rms_epsilon", cfg.norm_eps)?;
        cfg.tied_output = file.tensor("output.weight").is_none();
        if !(cfg.rope_theta > 0.0 && cfg.norm_eps >= 0.0) {
            return Err(Error::InvalidParam {
                what: "rope.freq_base must be > 0 and layer_norm_rms_epsilon >= 0",
            });
        }
        // MH-MoE layers (`{arch}.mhmoe.*`, read by the `moe` module).
        cfg.moe = crate::moe::MoeConfig::from_gguf(file, arch.name())?;
        if let Some(m) = &cfg.moe {
            if m.d != dim {
                return Err(Error::InvalidParam {
                    what: "mhmoe width must equal embedding_length",
                });
            }
        }
        for i in 0..n_layers {
            cfg.push_layer(LayerShape {
                q_heads: q.get(i).copied().unwrap_or(0),
                kv_heads: kv.get(i).copied().unwrap_or(0),
                ffn_dim: ffn.get(i).copied().unwrap_or(0),
            })?;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

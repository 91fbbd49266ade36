//! `pico inspect`: print the per-layer table, parameter count and memory plan of a model or preset.
//!
//! Stable interface: `pico inspect --preset openelm-270m|openelm-450m|openelm-1_1b|openelm-3b
//! --json` and `pico inspect model.gguf --json` print
//! `{"layers":[{"q_heads":..,"kv_heads":..,"ffn_dim":..},...],"params":N}` (for an MH-MoE layer
//! `ffn_dim` is the file's value, 0, and `params` counts the MoE weights).

use crate::model_util::{describe_plan, human_bytes, layers_json, load_model, Mapped};
use anyhow::{bail, Context, Result};
use picoformer::elm::{Config, Model, Preset};
use picoformer::gguf::File;
use picoformer::kv::KvStorage;
use picoformer::plan::{KvOptions, Plan};
use std::path::PathBuf;

/// Arguments of `pico inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model file (or use --preset).
    model: Option<PathBuf>,
    /// A released OpenELM size computed by the crate's scaling code:
    /// openelm-270m, openelm-450m, openelm-1_1b, openelm-3b.
    #[arg(long, conflicts_with = "model")]
    preset: Option<String>,
    /// Print `{"layers":[...],"params":N}` only.
    #[arg(long)]
    json: bool,
    /// Context length for the memory plan (default: the model's trained context, else 2048).
    #[arg(long)]
    ctx: Option<usize>,
}

/// Runs `pico inspect`.
pub fn run(args: Args) -> Result<()> {
    match (&args.model, &args.preset) {
        (None, Some(name)) => {
            let p = Preset::from_name(name).with_context(|| {
                format!("unknown preset `{name}` (openelm-270m, openelm-450m, openelm-1_1b, openelm-3b)")
            })?;
            let cfg = p.config()?;
            report(&args, &cfg, None)
        }
        (Some(path), None) => {
            let map = Mapped::open(path)?;
            let file =
                File::parse(map.bytes()).with_context(|| format!("parsing {}", path.display()))?;
            let model = load_model(file, path)?;
            report(&args, model.config(), Some((&model, map.bytes().len())))
        }
        _ => bail!("give a model file or --preset"),
    }
}

fn report(args: &Args, cfg: &Config, model: Option<(&Model<'_>, usize)>) -> Result<()> {
    if args.json {
        println!("{}", layers_json(cfg));
        return Ok(());
    }
    println!(
        "arch {} · L {} · d {} · head dim {} · vocab {} · trained ctx {} · RoPE {:?} θ {} · RMSNorm ε {:e} · QK-norm {} · tied output {}",
        cfg.arch.name(),
        cfg.n_layers(),
        cfg.dim,
        cfg.head_dim,
        cfg.vocab_size,
        cfg.context_len,
        cfg.rope_style,
        cfg.rope_theta,
        cfg.norm_eps,
        cfg.qk_norm,
        cfg.tied_output
    );
    if let Some(m) = &cfg.moe {
        let macs = m.macs_per_token();
        println!(
            "MH-MoE every {} layer(s): heads {}, experts {}, top-{}, expert width {}, {} experts, MACs/token {} (router {})",
            m.every,
            m.heads,
            m.experts,
            m.k,
            m.inner,
            if m.glu { "SwiGLU" } else { "2-matrix SiLU" },
            macs.total(),
            macs.router
        );
    }
    println!(
        "{:>5} {:>7} {:>8} {:>4} {:>8} {:>14}",
        "layer", "q_heads", "kv_heads", "g", "ffn_dim", "params"
    );
    for (i, l) in cfg.layers().iter().enumerate() {
        let ffn = if cfg.is_moe_layer(i) {
            "MoE".to_string()
        } else {
            l.ffn_dim.to_string()
        };
        println!(
            "{:>5} {:>7} {:>8} {:>4} {:>8} {:>14}",
            i,
            l.q_heads,
            l.kv_heads,
            l.q_heads / l.kv_heads.max(1),
            ffn,
            cfg.layer_param_count(i)
        );
    }
    println!(
        "parameters: {} (KV elements per token: {})",
        cfg.param_count(),
        cfg.kv_elems_per_token()
    );
    if let Some((m, file_len)) = model {
        println!(
            "tensor elements in file: {} · file size {}",
            m.stored_params(),
            human_bytes(file_len)
        );
    }
    let ctx = args.ctx.unwrap_or(if cfg.context_len > 0 {
        cfg.context_len
    } else {
        2048
    });
    let plan = Plan::new(cfg, ctx)?;
    println!("{}", describe_plan(&plan));
    let f16 = Plan::with_kv(
        cfg,
        ctx,
        KvOptions {
            storage: KvStorage::F16,
            ..KvOptions::DEFAULT
        },
    )?;
    println!("  KV cache with F16 rows: {}", human_bytes(f16.kv_bytes()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_json_shape_is_stable() {
        let s = layers_json(&Preset::OpenElm270M.config().unwrap());
        assert!(s.starts_with(r#"{"layers":[{"q_heads":12,"kv_heads":3,"ffn_dim":768},{"#));
        assert!(s.ends_with(r#"{"q_heads":20,"kv_heads":5,"ffn_dim":5120}],"params":271527168}"#));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["layers"].as_array().unwrap().len(), 16);
        for (p, n) in [
            ("openelm-450m", 457_179_136u64),
            ("openelm-1_1b", 1_079_891_456),
            ("openelm-3b", 3_036_647_424),
        ] {
            let cfg = Preset::from_name(p).unwrap().config().unwrap();
            let v: serde_json::Value = serde_json::from_str(&layers_json(&cfg)).unwrap();
            assert_eq!(v["params"].as_u64(), Some(n));
        }
    }
}

//! The main job: generate text with the trained demo LM (`models/shakespeare-q8_0.gguf`, embedded
//! with `include_bytes!` exactly as firmware embeds it in flash) on the microcontroller memory
//! budget: a 512-token context served by a 128-row SnapKV ring per layer (F16 rows).
//!
//! ```text
//! cargo run --release --example generate
//! cargo run --release --example generate -- --prompt "JULIET." -n 200 --temperature 0.8 --seed 7
//! ```
//!
//! Prints the prompt and the generated text, then tokens/s, the memory plan (scratch and KV
//! bytes, and what a full 512-row cache would take), SnapKV ring statistics and the MH-MoE
//! expert-activation statistics per MoE layer.

use std::io::Write;
use std::time::Instant;

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::kv::{Gqa, KvStorage, Pool, SnapKv};
use picoformer::moe::{MoeStats, Per};
use picoformer::plan::{KvOptions, Plan};
use picoformer::sample::{Rng, Sampler};
use picoformer::tokenizer::{Symbol, Tokenizer};

/// The demo model, as firmware sees it: bytes in flash.
static MODEL: &[u8] = include_bytes!("../models/shakespeare-q8_0.gguf");

/// Context length and the KV ring of the embedded budget (issue 8: 512 tokens, 128 rows);
/// the same options as the firmware (`targets/fw-common/src/demo.rs`).
const CTX: usize = 512;
const KV: KvOptions = KvOptions {
    capacity: 128,
    storage: KvStorage::F16,
    snapkv: Some(SnapKv {
        window: 8,
        kernel: 5,
        pool: Pool::Max,
        gqa: Gqa::Group,
    }),
    chunk: 32,
};

struct Args {
    prompt: String,
    n: usize,
    temperature: f32,
    top_p: f32,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        prompt: "ROMEO.\nBut soft, what light".into(),
        n: 400,
        temperature: 0.8,
        top_p: 0.95,
        seed: 42,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--prompt" => a.prompt = val(),
            "-n" => a.n = val().parse().expect("-n N"),
            "--temperature" => a.temperature = val().parse().expect("--temperature T"),
            "--top-p" => a.top_p = val().parse().expect("--top-p P"),
            "--seed" => a.seed = val().parse().expect("--seed S"),
            _ => panic!("unknown flag {flag}; flags: --prompt, -n, --temperature, --top-p, --seed"),
        }
    }
    a
}

fn main() -> Result<(), picoformer::Error> {
    let a = args();
    let file = File::parse(MODEL)?; // validated once; `File` is a Copy view
    let model = Model::new(file)?;
    let cfg = *model.config();
    let mut index = vec![0u32; Tokenizer::index_len(&file)];
    let tok = Tokenizer::from_gguf(&file, &mut index)?;

    let plan = Plan::with_kv(&cfg, CTX, KV)?;
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv_mem = vec![0u32; plan.kv_words()];
    let mut session = Session::new(&model, &plan, &mut scratch, &mut kv_mem)?;

    let experts = cfg.moe.map_or(0, |m| m.experts);
    let moe_layers = (0..cfg.n_layers()).filter(|&l| cfg.is_moe_layer(l)).count();
    let mut counts = vec![0u32; experts * moe_layers];
    let mut stats: Vec<MoeStats> = counts
        .chunks_mut(experts.max(1))
        .take(moe_layers)
        .map(MoeStats::new)
        .collect::<Result<_, _>>()?;
    session.set_moe_stats(&mut stats);

    // Encode the prompt (byte tokenizer: one token per byte), clipped to the context.
    let budget = CTX.saturating_sub(a.n).max(1);
    let mut ids = vec![0u32; Tokenizer::max_tokens(a.prompt.len())];
    let mut tscratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(a.prompt.len())];
    let n_ids = tok.encode(
        a.prompt.as_bytes(),
        tok.add_bos_default(),
        &mut tscratch,
        &mut ids,
    )?;
    let prompt = &ids[..n_ids.min(budget)];

    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", a.prompt);
    let mut sampler = Sampler::new(a.temperature, a.top_p, Rng::new(a.seed))?;
    let mut logits = vec![0f32; cfg.vocab_size];
    let mut idx = vec![0u32; picoformer::sample::scratch_len(cfg.vocab_size)];
    let mut probs = vec![0f32; picoformer::sample::scratch_len(cfg.vocab_size)];
    let mut piece = [0u8; 64];

    let t0 = Instant::now();
    logits.copy_from_slice(session.prefill(prompt)?);
    let t_prefill = t0.elapsed();
    let n = a.n.min(CTX - prompt.len());
    let t1 = Instant::now();
    for _ in 0..n {
        let next = sampler.sample(&mut logits, &mut idx, &mut probs)?;
        let len = tok.decode_token(next, false, &mut piece)?;
        let _ = out.write_all(&piece[..len]);
        let _ = out.flush();
        if Some(next) == tok.eos() {
            break;
        }
        logits.copy_from_slice(session.step(next)?);
    }
    let t_gen = t1.elapsed();
    drop(out);

    println!(
        "\n\n--- picoformer demo: {} ---",
        file.get_str("general.name").unwrap_or("model")
    );
    println!(
        "model: {} layers, d={}, vocab {}, {} parameters stored, {} bytes of GGUF (Q8_0)",
        cfg.n_layers(),
        cfg.dim,
        cfg.vocab_size,
        model.stored_params(),
        MODEL.len()
    );
    println!(
        "prompt: {} tokens in {:.1} ms ({:.0} tok/s); generated {} tokens at {:.0} tok/s",
        prompt.len(),
        t_prefill.as_secs_f64() * 1e3,
        prompt.len() as f64 / t_prefill.as_secs_f64(),
        n,
        n as f64 / t_gen.as_secs_f64()
    );
    let full = plan.kv_config().full_f32_bytes(CTX);
    println!(
        "memory: scratch {} B, KV ring {} B ({} rows/layer, F16, SnapKV w={} ks={}), \
         vs {} B for a full {}-token F32 cache ({:.1}x smaller)",
        plan.scratch_bytes(),
        plan.kv_bytes(),
        KV.capacity,
        8,
        5,
        full,
        CTX,
        full as f64 / plan.kv_bytes() as f64
    );
    for l in 0..cfg.n_layers() {
        let s = session.kv().stats(l);
        println!(
            "  kv layer {l}: kept {} rows of {} seen, {} evicted, {} SnapKV compressions",
            s.kept, s.seen, s.evicted, s.compressions
        );
    }
    let stats = session.moe_stats().unwrap_or(&[]);
    for (i, s) in stats.iter().enumerate() {
        println!(
            "  moe layer #{i}: expert counts {:?}, coverage {}/{}, max/mean load {:.2}, \
             mean divergence {:.2}, activation ratio (> 5% of sub-tokens) {:.2}, MACs/token {}",
            s.counts(),
            s.coverage(),
            s.experts(),
            s.max_load() as f32 / s.mean_load().max(1e-9),
            s.mean_divergence(),
            s.activation_ratio(0.05, Per::SubToken),
            s.macs / s.tokens.max(1)
        );
    }
    if !stats.is_empty() {
        println!(
            "moe: activation ratio over all layers (> 5% of sub-tokens): {:.2}",
            picoformer::moe::activation_ratio(stats, 0.05, Per::SubToken)
        );
    }
    Ok(())
}

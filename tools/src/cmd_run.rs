//! `pico run`: run a gguf model on the host: generate text or dump logits.
//!
//! - `pico run model.gguf --prompt "..." -n 64` streams the generated text (tokenizer from the
//!   file) and reports tokens/s, the scratch and KV-cache bytes of the plan (the session uses
//!   exactly those, nothing else), and MH-MoE activation statistics for MoE models.
//! - `pico run model.gguf --tokens 1,5,9 --logits-json out.json` writes the F32 logits of every
//!   position as `[[...vocab floats...], ...]` (no sampling) — the stable interface references
//!   compare against.

use crate::model_util::{describe_plan, human_bytes, load_model, Mapped};
use anyhow::{bail, Context, Result};
use picoformer::elm::Session;
use picoformer::gguf::File;
use picoformer::kv::{Gqa, KvStorage, Pool, SnapKv};
use picoformer::moe::MoeStats;
use picoformer::plan::{KvOptions, Plan};
use picoformer::sample::{self, Rng, Sampler};
use picoformer::tokenizer::{Symbol, Tokenizer};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `pico run`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model file.
    model: PathBuf,
    /// Prompt text (encoded with the file's tokenizer, BOS per the file).
    #[arg(long, conflicts_with = "tokens")]
    prompt: Option<String>,
    /// Comma-separated prompt token ids instead of text.
    #[arg(long, value_delimiter = ',')]
    tokens: Option<Vec<u32>>,
    /// Tokens to generate.
    #[arg(short = 'n', long = "steps", default_value_t = 64)]
    n: usize,
    /// Write the logits of every position of --tokens as JSON to this path (no sampling).
    #[arg(long, requires = "tokens")]
    logits_json: Option<PathBuf>,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.8)]
    temperature: f32,
    /// Nucleus mass (1 = off).
    #[arg(long, default_value_t = 0.9)]
    top_p: f32,
    /// PRNG seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Context length of the plan (default: prompt + n, at most the trained context).
    #[arg(long)]
    ctx: Option<usize>,
    /// KV rows per head and layer (default: the whole context; smaller = ring).
    #[arg(long)]
    kv_capacity: Option<usize>,
    /// Store K/V rows as F16.
    #[arg(long)]
    kv_f16: bool,
    /// SnapKV observation window `w`: when a layer's ring (--kv-capacity) is full, keep the
    /// rows the last `w` queries vote for instead of overwriting the oldest.
    #[arg(long, requires = "kv_capacity")]
    snapkv_window: Option<usize>,
    /// SnapKV pooling kernel (odd).
    #[arg(long, default_value_t = 5)]
    snapkv_kernel: usize,
    /// SnapKV pooling: avg or max.
    #[arg(long, default_value = "avg")]
    snapkv_pool: String,
    /// SnapKV GQA mode: group (per KV head, votes summed) or repeat (per query head).
    #[arg(long, default_value = "group")]
    snapkv_gqa: String,
    /// Rows one SnapKV compression frees (default: a quarter of capacity − window).
    #[arg(long)]
    snapkv_chunk: Option<usize>,
    /// Copy the weights into memory backed by transparent huge pages (Linux) instead of
    /// mapping the file: fewer TLB misses while streaming weights, faster decode of large
    /// models, one more copy of the file in RAM.
    #[arg(long)]
    huge_pages: bool,
    /// Threads for the large matvecs (row split; the logits are identical to one thread).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// Runs `pico run`.
pub fn run(args: Args) -> Result<()> {
    let map = if args.huge_pages {
        Mapped::open_huge(&args.model)?
    } else {
        Mapped::open(&args.model)?
    };
    let file =
        File::parse(map.bytes()).with_context(|| format!("parsing {}", args.model.display()))?;
    let model = load_model(file, &args.model)?;
    let cfg = *model.config();

    // Tokenizer (optional when token ids are given).
    let mut index = vec![0u32; Tokenizer::index_len(&file)];
    let tok = Tokenizer::from_gguf(&file, &mut index);
    let prompt: Vec<u32> = match (&args.tokens, &args.prompt) {
        (Some(t), _) => t.clone(),
        (None, Some(text)) => {
            let tok = tok
                .as_ref()
                .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
            let mut scratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(text.len())];
            let mut ids = vec![0u32; Tokenizer::max_tokens(text.len())];
            let n = tok.encode(
                text.as_bytes(),
                tok.add_bos_default(),
                &mut scratch,
                &mut ids,
            )?;
            ids.truncate(n);
            ids
        }
        (None, None) => match tok.as_ref().ok().and_then(|t| t.bos()) {
            Some(b) => vec![b],
            None => bail!("give --prompt or --tokens"),
        },
    };
    if prompt.is_empty() {
        bail!("empty prompt");
    }

    let gen = if args.logits_json.is_some() {
        0
    } else {
        args.n
    };
    let want = prompt.len() + gen;
    let ctx = args.ctx.unwrap_or(want);
    let capacity = args.kv_capacity.unwrap_or(0);
    let snapkv = match args.snapkv_window {
        None => None,
        Some(window) => Some(SnapKv {
            window,
            kernel: args.snapkv_kernel,
            pool: match args.snapkv_pool.as_str() {
                "avg" => Pool::Avg,
                "max" => Pool::Max,
                other => bail!("--snapkv-pool must be avg or max, not {other}"),
            },
            gqa: match args.snapkv_gqa.as_str() {
                "group" => Gqa::Group,
                "repeat" => Gqa::Repeat,
                other => bail!("--snapkv-gqa must be group or repeat, not {other}"),
            },
        }),
    };
    let chunk = match (args.snapkv_chunk, args.snapkv_window) {
        (Some(c), _) => c,
        (None, Some(w)) => (capacity.saturating_sub(w) / 4).max(1),
        (None, None) => 1,
    };
    let kv = KvOptions {
        capacity,
        storage: if args.kv_f16 {
            KvStorage::F16
        } else {
            KvStorage::F32
        },
        snapkv,
        chunk,
    };
    let plan = Plan::with_kv(&cfg, ctx, kv)?;
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv_mem = vec![0u32; plan.kv_words()];
    let mut session = Session::new(&model, &plan, &mut scratch, &mut kv_mem)?;
    session.set_threads(args.threads);

    if let Some(path) = &args.logits_json {
        let v = cfg.vocab_size;
        let mut out = vec![0f32; prompt.len() * v];
        session.forward_all(&prompt, &mut out)?;
        let rows: Vec<&[f32]> = out.chunks_exact(v).collect();
        let f =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut w, &rows)?;
        w.flush()?;
        eprintln!("wrote {} x {} logits to {}", rows.len(), v, path.display());
        return Ok(());
    }

    // MH-MoE statistics, one counter set per MoE layer.
    let moe_layers = (0..cfg.n_layers()).filter(|&l| cfg.is_moe_layer(l)).count();
    let experts = cfg.moe.map_or(0, |m| m.experts);
    let mut counts = vec![0u32; moe_layers * experts];
    let mut stats: Vec<MoeStats<'_>> = counts
        .chunks_exact_mut(experts.max(1))
        .take(moe_layers)
        .map(MoeStats::new)
        .collect::<picoformer::Result<_>>()?;
    if moe_layers > 0 {
        session.set_moe_stats(&mut stats);
    }

    let mut sampler = Sampler::new(args.temperature, args.top_p, Rng::new(args.seed))?;
    let mut idx = vec![0u32; sample::scratch_len(cfg.vocab_size)];
    let mut probs = vec![0f32; sample::scratch_len(cfg.vocab_size)];
    let eos = tok.as_ref().ok().and_then(|t| t.eos());
    let mut stdout = std::io::stdout().lock();
    let mut piece = [0u8; 256];
    if let (Ok(t), Some(text)) = (&tok, &args.prompt) {
        let _ = t;
        write!(stdout, "{text}")?;
        stdout.flush()?;
    }

    let t0 = Instant::now();
    let mut logits = session.prefill(&prompt)?.to_vec();
    let t_prefill = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut generated = 0usize;
    for _ in 0..gen {
        let next = sampler.sample(&mut logits, &mut idx, &mut probs)?;
        if Some(next) == eos {
            break;
        }
        generated += 1;
        match &tok {
            Ok(t) => {
                let n = t.decode_token(next, false, &mut piece)?;
                stdout.write_all(&piece[..n])?;
            }
            Err(_) => write!(stdout, " {next}")?,
        }
        stdout.flush()?;
        if session.pos() >= plan.ctx_len {
            break;
        }
        logits = session.step(next)?.to_vec();
    }
    let t_gen = t1.elapsed().as_secs_f64();
    writeln!(stdout)?;
    drop(stdout);

    eprintln!(
        "prompt {} tokens in {:.3} s ({:.1} tok/s) · generated {} tokens in {:.3} s ({:.1} tok/s)",
        prompt.len(),
        t_prefill,
        prompt.len() as f64 / t_prefill.max(1e-9),
        generated,
        t_gen,
        generated as f64 / t_gen.max(1e-9)
    );
    eprintln!(
        "peak scratch {} · KV cache {} · weights {} (the session uses exactly the plan's memory)",
        human_bytes(plan.scratch_bytes()),
        human_bytes(plan.kv_bytes()),
        human_bytes(map.bytes().len())
    );
    eprintln!("{}", describe_plan(&plan));
    let full = plan.kv_config().full_f32_bytes(session.pos());
    let (mut kept, mut evicted, mut comps) = (0, 0, 0);
    for l in 0..cfg.n_layers() {
        let st = session.kv().stats(l);
        kept += st.kept;
        evicted += st.evicted;
        comps += st.compressions;
    }
    eprintln!(
        "KV rows kept {kept}, evicted {evicted}, SnapKV compressions {comps} (summed over layers); \
         a full F32 cache of {} tokens takes {} vs {} planned",
        session.pos(),
        human_bytes(full),
        human_bytes(plan.kv_bytes())
    );
    if let Some(st) = session.moe_stats() {
        for (i, s) in st.iter().enumerate() {
            eprintln!(
                "MoE layer #{i}: coverage {}/{} experts, max load {}, mean load {:.1}, mean divergence {:.2}, routed {}",
                s.coverage(),
                s.experts(),
                s.max_load(),
                s.mean_load(),
                s.mean_divergence(),
                s.routed
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--tokens ... --logits-json` writes every position's logits; they match llama.cpp's on
    /// the golden model (tests/golden/elm), from the file mapping and from the huge-page copy.
    #[test]
    fn logits_json_matches_golden() {
        for huge_pages in [false, true] {
            logits_json_matches_golden_with(huge_pages);
        }
    }

    fn logits_json_matches_golden_with(huge_pages: bool) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/elm/");
        let out = std::env::temp_dir().join(format!(
            "pico-run-logits-{}-{huge_pages}.json",
            std::process::id()
        ));
        let tokens = vec![1u32, 17, 200, 45];
        run(Args {
            model: PathBuf::from(format!("{dir}openelm_f32.gguf")),
            prompt: None,
            tokens: Some(tokens.clone()),
            n: 0,
            logits_json: Some(out.clone()),
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            ctx: None,
            kv_capacity: None,
            kv_f16: false,
            snapkv_window: None,
            snapkv_kernel: 5,
            snapkv_pool: "avg".into(),
            snapkv_gqa: "group".into(),
            snapkv_chunk: None,
            huge_pages,
            threads: 1,
        })
        .unwrap();
        let rows: Vec<Vec<f32>> =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let _ = std::fs::remove_file(&out);
        let want: Vec<f32> = std::fs::read(format!("{dir}openelm_f32.llamacpp.bin"))
            .unwrap()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(rows.len(), tokens.len());
        let want = &want[..tokens.len() * 300];
        let max_ref = want.iter().fold(0f32, |m, x| m.max(x.abs()));
        let max_d = rows
            .iter()
            .flatten()
            .zip(want)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(max_d / max_ref < 1e-4, "{}", max_d / max_ref);
    }
}

//! The demo LM run shared by the firmware and the host simulation (`targets/host-sim`): the same
//! prompt, sampler, seed and memory plan, so the token ids they print must be identical.

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::kv::{Gqa, KvStorage, Pool, SnapKv};
use picoformer::moe::MoeStats;
use picoformer::plan::{KvOptions, Plan};
use picoformer::sample::{Rng, Sampler};
use picoformer::tokenizer::{Symbol, Tokenizer};
use picoformer::Result;

/// The demo model, embedded (flash on a device).
pub static MODEL: &[u8] = include_bytes!("../../../models/shakespeare-q8_0.gguf");
/// Context length of the embedded budget (issue 8): 512 positions.
pub const CTX: usize = 512;
/// KV ring of the embedded budget: 128 F16 rows per KV head and layer, SnapKV compression
/// (window 8, max-pool 5, per-KV-head votes) freeing 32 rows when a layer is full.
pub const KV: KvOptions = KvOptions {
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
/// Prompt (byte-level tokens): 145 bytes, so prompt + generated tokens overflow the 128-row
/// ring and SnapKV compression runs.
pub const PROMPT: &[u8] = b"ROMEO.\nBut soft, what light through yonder window breaks?\n\
It is the east, and Juliet is the sun.\nArise, fair sun, and kill the envious moon,\n";
/// Tokens generated.
pub const N_TOKENS: usize = 64;
/// Sampler settings: temperature, top-p, seed.
pub const TEMPERATURE: f32 = 0.8;
/// Nucleus threshold.
pub const TOP_P: f32 = 0.95;
/// PRNG seed.
pub const SEED: u64 = 42;
/// Largest vocabulary the sampler buffers hold.
pub const MAX_VOCAB: usize = 256;
/// Experts per MoE layer of the demo model (checked at run time).
pub const EXPERTS: usize = 8;
/// MoE layers of the demo model (checked at run time).
pub const MOE_LAYERS: usize = 3;

/// What a run reports besides the tokens.
pub struct Summary {
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Generated tokens.
    pub generated: usize,
    /// Expert selection counts, MoE layer-major (`experts` per layer).
    pub expert_counts: [u32; EXPERTS * MOE_LAYERS],
    /// Experts per MoE layer.
    pub experts: usize,
    /// MoE layers.
    pub moe_layers: usize,
    /// SnapKV compressions summed over layers.
    pub compressions: usize,
    /// KV rows evicted summed over layers.
    pub evicted: usize,
}

/// The memory plan of the demo run for a model.
pub fn plan(model: &Model<'_>) -> Result<Plan> {
    Plan::with_kv(model.config(), CTX, KV)
}

/// Runs the demo: prefill [`PROMPT`], then sample [`N_TOKENS`] tokens, calling
/// `emit(token_id, decoded_bytes)` for each.
pub fn generate(
    scratch: &mut [f32],
    kv: &mut [u32],
    emit: &mut dyn FnMut(u32, &[u8]),
) -> Result<Summary> {
    let file = File::parse(MODEL)?; // validated once; `File` is a Copy view
    let model = Model::new(file)?;
    let plan = plan(&model)?;
    // Byte-level tokenizer: no index needed.
    let tok = Tokenizer::from_gguf(&file, &mut [])?;
    let cfg = *model.config();

    let experts = cfg.moe.map_or(0, |m| m.experts);
    let moe_layers = (0..cfg.n_layers()).filter(|&l| cfg.is_moe_layer(l)).count();
    let mut summary = Summary {
        prompt_tokens: PROMPT.len(),
        generated: 0,
        expert_counts: [0; EXPERTS * MOE_LAYERS],
        experts,
        moe_layers,
        compressions: 0,
        evicted: 0,
    };
    if experts != EXPERTS || moe_layers != MOE_LAYERS {
        return Err(picoformer::Error::InvalidParam {
            what: "demo: the model's MoE shape differs from demo::EXPERTS / MOE_LAYERS",
        });
    }
    let mut counts = [[0u32; EXPERTS]; MOE_LAYERS];
    let [c0, c1, c2] = counts.each_mut().map(|c| MoeStats::new(c));
    let mut stats = [c0?, c1?, c2?];
    let mut session = Session::new(&model, &plan, scratch, kv)?;
    session.set_moe_stats(&mut stats);

    let mut ids = [0u32; PROMPT.len() + 1];
    let mut sym = [Symbol::EMPTY; Tokenizer::scratch_len(PROMPT.len())];
    let n = tok.encode(PROMPT, tok.add_bos_default(), &mut sym, &mut ids)?;
    let mut logits = [0f32; MAX_VOCAB];
    let v = cfg.vocab_size;
    let logits = logits.get_mut(..v).ok_or(picoformer::Error::Capacity {
        what: "demo vocab",
        needed: v,
        available: MAX_VOCAB,
    })?;
    logits.copy_from_slice(session.prefill(ids.get(..n).unwrap_or(&[]))?);
    let mut sampler = Sampler::new(TEMPERATURE, TOP_P, Rng::new(SEED))?;
    let mut idx = [0u32; MAX_VOCAB];
    let mut probs = [0f32; MAX_VOCAB];
    let mut piece = [0u8; 16];
    for _ in 0..N_TOKENS {
        let next = sampler.sample(logits, &mut idx[..v], &mut probs[..v])?;
        let len = tok.decode_token(next, false, &mut piece)?;
        emit(next, piece.get(..len).unwrap_or(&[]));
        summary.generated += 1;
        logits.copy_from_slice(session.step(next)?);
    }
    for l in 0..cfg.n_layers() {
        let s = session.kv().stats(l);
        summary.compressions += s.compressions;
        summary.evicted += s.evicted;
    }
    for (dst, s) in summary
        .expert_counts
        .chunks_mut(EXPERTS)
        .zip(session.moe_stats().unwrap_or(&[]))
    {
        dst.copy_from_slice(s.counts());
    }
    Ok(summary)
}

/// Instruction-count regions for the demo model (`scripts/icount.sh m4f icount_token`): prefills
/// the first 8 prompt bytes outside any region, then measures `steps` single-token decode steps
/// (`Session::step`: all layers, attention over the cache, MH-MoE FFNs, logits), each wrapped by
/// `measure(name, macs, step)`; `macs` is the dense-equivalent count of weight MACs per token.
pub fn measure_steps(
    scratch: &mut [f32],
    kv: &mut [u32],
    steps: usize,
    measure: &mut dyn FnMut(&'static str, usize, &mut dyn FnMut()),
) -> Result<()> {
    let model = Model::new(File::parse(MODEL)?)?;
    let plan = plan(&model)?;
    let cfg = *model.config();
    let mut session = Session::new(&model, &plan, scratch, kv)?;
    let prompt: [u32; 8] = core::array::from_fn(|i| u32::from(PROMPT[i]));
    let mut next = picoformer::sample::greedy(session.prefill(&prompt)?)?;
    // Weight MACs per token: attention projections, FFN (MoE: active experts only), logits.
    let mut macs = cfg.vocab_size * cfg.dim;
    for l in 0..cfg.n_layers() {
        if let Some(s) = cfg.layer(l) {
            macs += (s.q_heads + 2 * s.kv_heads) * cfg.head_dim * cfg.dim
                + s.q_heads * cfg.head_dim * cfg.dim;
            macs += match cfg.moe {
                Some(m) if cfg.is_moe_layer(l) => m.macs_per_token().total() as usize,
                _ => 3 * cfg.dim * s.ffn_dim,
            };
        }
    }
    let mut result = Ok(());
    for _ in 0..steps {
        measure("demo_token", macs, &mut || match session.step(next) {
            Ok(logits) => match picoformer::sample::greedy(logits) {
                Ok(t) => next = t,
                Err(e) => result = Err(e),
            },
            Err(e) => result = Err(e),
        });
    }
    result
}

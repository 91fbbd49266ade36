//! The SnapKV ring inside the OpenELM [`Session`] (random-weight GGUF of
//! `tests/golden/elm/make_models.py`, or `PICO_KV_MODEL=path.gguf`):
//! - with nothing evicted, a SnapKV-configured cache gives bit-identical logits to the full one;
//! - after compression the stored positions follow the true token counter (spec §8 check 11);
//! - quality vs the full cache at C = L/2, L/4, L/8 (issue 5): top-1 agreement and mean
//!   KL(full ‖ ring) of the next-token distributions over a teacher-forced continuation,
//!   SnapKV (Repeat and Group) vs the plain ring. Run with `--nocapture` to see the table.

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::kv::{Gqa, KvStorage, Pool, SnapKv};
use picoformer::plan::{KvOptions, Plan};

const PROMPT: usize = 128;
const CONT: usize = 32;
const CTX: usize = PROMPT + CONT;

fn model_bytes() -> Vec<u8> {
    let path = std::env::var("PICO_KV_MODEL").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/elm/openelm_f32.gguf"
        )
        .to_string()
    });
    std::fs::read(path).unwrap()
}

/// Deterministic token sequence (xorshift) in `1..vocab`.
fn tokens(vocab: usize, n: usize, seed: u64) -> Vec<u32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            1 + (s % (vocab as u64 - 1)) as u32
        })
        .collect()
}

/// Per layer after a run: live rows and the positions of lane 0.
type LayerRows = Vec<(usize, Vec<u32>)>;

/// Logits of every position of `seq` with KV options `kv`; also returns the KV bytes.
fn run(model: &Model<'_>, seq: &[u32], kv: KvOptions) -> (Vec<f32>, usize, LayerRows) {
    let plan = Plan::with_kv(model.config(), CTX, kv).unwrap();
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv_mem = vec![0u32; plan.kv_words()];
    let mut s = Session::new(model, &plan, &mut scratch, &mut kv_mem).unwrap();
    let v = model.config().vocab_size;
    let mut out = vec![0f32; seq.len() * v];
    s.forward_all(seq, &mut out).unwrap();
    assert_eq!(s.pos(), seq.len());
    // Per layer: (len, positions of lane 0).
    let layers = (0..model.config().n_layers())
        .map(|l| {
            let view = s.kv().layer(l).unwrap();
            (view.len(), view.head(0).unwrap().positions().to_vec())
        })
        .collect();
    (out, plan.kv_bytes(), layers)
}

fn snap(c: usize, gqa: Gqa) -> KvOptions {
    let w = (c / 4).max(1);
    KvOptions {
        capacity: c,
        storage: KvStorage::F32,
        snapkv: Some(SnapKv {
            window: w,
            kernel: 5,
            pool: Pool::Max,
            gqa,
        }),
        chunk: (c / 4).max(1),
    }
}

fn softmax64(x: &[f32]) -> Vec<f64> {
    let m = x.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let e: Vec<f64> = x.iter().map(|&v| (v as f64 - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in x.iter().enumerate() {
        if *v > x[best] {
            best = i;
        }
    }
    best
}

#[test]
fn snapkv_without_eviction_is_bit_identical_to_full() {
    let bytes = model_bytes();
    let model = Model::new(File::parse(&bytes).unwrap()).unwrap();
    let seq = tokens(model.config().vocab_size, 48, 3);
    let (full, _, _) = run(&model, &seq, KvOptions::DEFAULT);
    for gqa in [Gqa::Repeat, Gqa::Group] {
        let (ring, _, _) = run(&model, &seq, snap(64, gqa));
        assert!(full == ring, "{gqa:?}");
    }
}

#[test]
fn positions_follow_the_true_counter_after_compression() {
    let bytes = model_bytes();
    let model = Model::new(File::parse(&bytes).unwrap()).unwrap();
    let seq = tokens(model.config().vocab_size, 100, 5);
    let c = 24;
    let (_, _, layers) = run(&model, &seq, snap(c, Gqa::Group));
    let w = c / 4;
    for (len, pos) in layers {
        assert!(len <= c && len >= c - c / 4);
        assert!(pos.windows(2).all(|p| p[0] < p[1]));
        // The window is the last w tokens, at their true positions.
        let want: Vec<u32> = (100 - w as u32..100).collect();
        assert_eq!(&pos[len - w..], &want[..]);
    }
}

#[test]
fn quality_vs_full_cache() {
    let bytes = model_bytes();
    let model = Model::new(File::parse(&bytes).unwrap()).unwrap();
    let vocab = model.config().vocab_size;
    // Random tokens by default; `PICO_KV_TEXT=file` takes the prompt from a text instead (bytes
    // from offset 20000, for byte-level models such as the demo LM: in-distribution attention).
    let prompt = match std::env::var("PICO_KV_TEXT") {
        Ok(path) => std::fs::read(path).unwrap()[20_000..20_000 + PROMPT]
            .iter()
            .map(|&b| u32::from(b))
            .collect(),
        Err(_) => tokens(vocab, PROMPT, 11),
    };
    // Teacher-forced continuation: the full model's greedy tokens.
    let mut seq = prompt.clone();
    let (full_prompt, full_bytes, _) = run(&model, &seq, KvOptions::DEFAULT);
    let mut next = argmax(&full_prompt[(PROMPT - 1) * vocab..]) as u32;
    for _ in 0..CONT {
        seq.push(next);
        let (l, _, _) = run(&model, &seq, KvOptions::DEFAULT);
        next = argmax(&l[(seq.len() - 1) * vocab..]) as u32;
    }
    let (full, _, _) = run(&model, &seq, KvOptions::DEFAULT);
    // Positions whose next-token distribution is compared: the last prompt token and the
    // continuation.
    let rows = PROMPT - 1..seq.len();
    eprintln!("L = {PROMPT} prompt + {CONT} continuation tokens, full cache {full_bytes} B");
    eprintln!("| C | policy | KV bytes | top-1 agreement | mean KL(full‖ring) |");
    eprintln!("|---|---|---|---|---|");
    let storage = |storage| KvOptions {
        storage,
        ..KvOptions::DEFAULT
    };
    let mut variants = vec![
        (CTX, "full F16", storage(KvStorage::F16)),
        (CTX, "full Q8", storage(KvStorage::Q8)),
    ];
    for c in [PROMPT / 2, PROMPT / 4, PROMPT / 8] {
        let plain = KvOptions {
            capacity: c,
            ..KvOptions::DEFAULT
        };
        variants.push((c, "SnapKV repeat", snap(c, Gqa::Repeat)));
        variants.push((c, "SnapKV group", snap(c, Gqa::Group)));
        variants.push((c, "plain ring", plain));
    }
    {
        for (c, name, kv) in variants {
            let (ring, bytes, _) = run(&model, &seq, kv);
            let (mut agree, mut kl) = (0usize, 0f64);
            for r in rows.clone() {
                let (a, b) = (
                    &full[r * vocab..(r + 1) * vocab],
                    &ring[r * vocab..(r + 1) * vocab],
                );
                agree += usize::from(argmax(a) == argmax(b));
                let (p, q) = (softmax64(a), softmax64(b));
                kl += p
                    .iter()
                    .zip(&q)
                    .map(|(p, q)| if *p > 0.0 { p * (p / q).ln() } else { 0.0 })
                    .sum::<f64>();
            }
            let n = rows.len();
            let kl = kl / n as f64;
            eprintln!(
                "| {c} | {name} | {bytes} | {:.3} | {kl:.2e} |",
                agree as f64 / n as f64
            );
            assert!(kl.is_finite() && kl >= -1e-9);
        }
    }
}

//! End-to-end decode bench: one greedy `Session::step` (+ argmax) of a whole model on the host.
//!
//! `cargo bench -p picoformer-benches --bench decode -- --quick`
//!
//! Models: the small golden GGUF files of `tests/golden/elm/` (F32, F16, Q8_0 OpenELM and a
//! Llama), plus any file named by `PICO_DECODE_GGUF` (comma-separated paths, e.g. the stories
//! models written by `benches/compare/make_models.py`). The session decodes positions
//! 1..CTX and then starts over (reset + prefill of token 1, a small amortised share), so the
//! reported time is the mean step cost over a context of CTX; throughput is in tokens.
//! The side-by-side comparison with llama.cpp is `benches/compare/run.sh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::plan::Plan;
use picoformer::sample;
use std::hint::black_box;

/// Positions per pass before the session starts over.
const CTX: usize = 64;

fn models() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/elm/");
    let mut paths: Vec<String> = ["llama_f32", "openelm_f32", "openelm_f16", "openelm_q8_0"]
        .iter()
        .map(|n| format!("{dir}{n}.gguf"))
        .collect();
    if let Ok(extra) = std::env::var("PICO_DECODE_GGUF") {
        paths.extend(extra.split(',').filter(|p| !p.is_empty()).map(String::from));
    }
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {p}: {e}"));
            let name = std::path::Path::new(&p)
                .file_stem()
                .map_or_else(|| p.clone(), |s| s.to_string_lossy().into_owned());
            (name, bytes)
        })
        .collect()
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_step");
    g.throughput(Throughput::Elements(1));
    for (name, bytes) in models() {
        let file = File::parse(&bytes).expect("gguf");
        let model = Model::new(file).expect("model");
        let ctx = CTX.min(model.config().context_len.max(2));
        let plan = Plan::new(model.config(), ctx).expect("plan");
        let mut scratch = vec![0f32; plan.scratch_floats()];
        let mut kv = vec![0u32; plan.kv_words()];
        let mut s = Session::new(&model, &plan, &mut scratch, &mut kv).expect("session");
        let mut next = 1u32;
        g.bench_function(
            BenchmarkId::new(picoformer::quant::simd_backend(), &name),
            |b| {
                b.iter(|| {
                    if s.pos() >= ctx {
                        s.reset();
                        next = sample::greedy(s.prefill(&[1]).expect("prefill")).expect("greedy");
                    }
                    next = sample::greedy(s.step(black_box(next)).expect("step")).expect("greedy");
                    next
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

//! The trained demo LM (`models/shakespeare-*.gguf`) against its own training code: the logits
//! PyTorch computes for a fixed text (`tools/train/reference.py` →
//! `tests/golden/demo/reference.bin`) must be reproduced by picoformer from the exported GGUF
//! files. This checks the whole OpenELM + MH-MoE forward pass, the GGUF export and the loader
//! on real trained weights.

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::plan::Plan;

fn reference() -> (Vec<u32>, usize, Vec<f32>) {
    let b = std::fs::read("tests/golden/demo/reference.bin").unwrap();
    let u = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
    let (n, v) = (u(0) as usize, u(1) as usize);
    let tokens = (0..n).map(|i| u(2 + i)).collect();
    let logits = (0..n * v)
        .map(|i| f32::from_le_bytes(b[4 * (2 + n + i)..4 * (3 + n + i)].try_into().unwrap()))
        .collect();
    (tokens, v, logits)
}

/// Logits of every position, computed by the crate with a full-context F32 KV cache.
fn crate_logits(path: &str, tokens: &[u32]) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let model = Model::new(File::parse(&bytes).unwrap()).unwrap();
    let plan = Plan::new(model.config(), tokens.len()).unwrap();
    let mut scratch = vec![0f32; plan.scratch_floats()];
    let mut kv = vec![0u32; plan.kv_words()];
    let mut s = Session::new(&model, &plan, &mut scratch, &mut kv).unwrap();
    let mut out = vec![0f32; tokens.len() * model.config().vocab_size];
    s.forward_all(tokens, &mut out).unwrap();
    out
}

/// (max |Δ| / max |ref| over all positions, top-1 agreement)
fn compare(got: &[f32], want: &[f32], v: usize) -> (f32, f32) {
    let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
    let err = got
        .iter()
        .zip(want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let argmax = |r: &[f32]| {
        r.iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) },
            )
            .0
    };
    let rows = want.len() / v;
    let same = got
        .chunks(v)
        .zip(want.chunks(v))
        .filter(|(a, b)| argmax(a) == argmax(b))
        .count();
    (err / scale, same as f32 / rows as f32)
}

#[test]
fn f32_gguf_matches_pytorch() {
    let (tokens, v, want) = reference();
    let got = crate_logits("models/shakespeare-f32.gguf", &tokens);
    let (rel, top1) = compare(&got, &want, v);
    println!("F32: max rel logit error {rel:.3e}, top-1 agreement {top1}");
    if cfg!(feature = "fast-math") {
        // micromath's exp (2.4e-3 relative, BENCHMARKS.md) moves softmax/SiLU outputs.
        assert!(
            rel <= 0.1,
            "F32 (fast-math) logits differ from PyTorch: {rel}"
        );
        assert!(top1 >= 0.9, "F32 (fast-math) top-1 agreement {top1}");
    } else {
        assert!(rel <= 1e-4, "F32 logits differ from PyTorch: {rel}");
        assert_eq!(top1, 1.0);
    }
}

#[test]
fn q8_0_gguf_close_to_pytorch() {
    let (tokens, v, want) = reference();
    let got = crate_logits("models/shakespeare-q8_0.gguf", &tokens);
    let (rel, top1) = compare(&got, &want, v);
    println!("Q8_0: max rel logit error {rel:.3e}, top-1 agreement {top1}");
    // PyTorch keeps f32 activations; picoformer (like llama.cpp) quantises every dense matvec
    // input to Q8_0 as well, measured 4.6e-2 here (1.4e-2 with f32 activations). The exact
    // Q8_0 × Q8_0 semantics are checked against llama.cpp and NumPy in tests/elm_llamacpp.rs.
    let bound = if cfg!(feature = "fast-math") {
        0.1
    } else {
        6e-2
    };
    assert!(rel <= bound, "Q8_0 logits too far from PyTorch: {rel}");
    assert!(top1 >= 0.9, "Q8_0 top-1 agreement {top1}");
}

//! `candle-decode-timer MODEL.gguf [N] [REPS]`: the candle peer of `../timer` for
//! `benches/compare/run.sh` (issue 9). Loads the GGUF with
//! `candle_transformers::models::quantized_llama::ModelWeights::from_gguf` (CPU device),
//! feeds token 1 (BOS) at position 0, then decodes `N` tokens greedily (argmax, no EOS stop)
//! on one thread, `REPS` times from a cleared KV cache.
//!
//! Prints one JSON line per repetition in the format of `../timer`:
//! `{"backend":..,"n":..,"secs":..,"tok_s":..,"last":..}`; the time covers the `N`
//! `ModelWeights::forward(token, pos)` calls plus copying the logits out and the argmax.
//!
//! Threads: candle 0.11 runs its CPU kernels on a barrier pool sized by `CANDLE_NUM_THREADS`
//! (falling back to `RAYON_NUM_THREADS`), and the F32 matmuls on `gemm` with
//! `candle::utils::get_num_threads()` = `RAYON_NUM_THREADS`. This binary sets both to 1
//! before touching candle unless they are already set, and refuses to run with anything else.

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use std::time::Instant;

const CANDLE_VERSION: &str = "0.11.1";

fn argmax(logits: &Tensor) -> candle_core::Result<u32> {
    let v: Vec<f32> = logits.flatten_all()?.to_vec1()?;
    let mut best = 0usize;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    Ok(best as u32)
}

/// The x86 level candle 0.11.1's `quantized::repack_x86::level()` (crate-private) picks at run
/// time, mirrored here for the report: with AVX-512F + AVX-512 VNNI (or AVX-VNNI) candle runs
/// Q8_0 matmuls whose `k` is a multiple of 256 and `n` a multiple of its tile width on repacked
/// `vpdpbusd` tiles; at plain AVX2 it uses its `k_quants` `vec_dot` path.
/// `MISTRALRS_FORCE_AVX2=1` forces the latter.
fn x86_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        let force_avx2 = std::env::var("MISTRALRS_FORCE_AVX2").as_deref() == Ok("1");
        let force_vnni = std::env::var("MISTRALRS_FORCE_AVXVNNI").as_deref() == Ok("1");
        if !force_avx2
            && !force_vnni
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vnni")
        {
            return "avx512vnni";
        }
        if !force_avx2 && (force_vnni || is_x86_feature_detected!("avxvnni")) {
            return "avxvnni";
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return "avx2";
        }
    }
    "none"
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        match std::env::var(var) {
            Err(_) => std::env::set_var(var, "1"),
            Ok(v) if v == "1" => {}
            Ok(v) => return Err(format!("{var}={v}: this timer is single-thread only").into()),
        }
    }
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: candle-decode-timer MODEL.gguf [N] [REPS]")?;
    let n: usize = args.next().map_or(Ok(128), |s| s.parse())?;
    let reps: usize = args.next().map_or(Ok(1), |s| s.parse())?;

    let device = Device::Cpu;
    let mut file = std::fs::File::open(&path)?;
    let content = gguf_file::Content::read(&mut file)?;
    let mut model = ModelWeights::from_gguf(content, &mut file, &device)?;
    let threads = candle_core::utils::get_num_threads();
    if threads != 1 {
        return Err(format!("candle get_num_threads() = {threads}, expected 1").into());
    }
    let backend = format!(
        "candle-{CANDLE_VERSION} avx2={} f16c={} x86_level={} threads={threads}",
        candle_core::utils::with_avx(),
        candle_core::utils::with_f16c(),
        x86_level(),
    );

    for _ in 0..reps {
        model.clear_kv_cache();
        let bos = Tensor::new(&[[1u32]], &device)?;
        let mut next = argmax(&model.forward(&bos, 0)?)?;
        let t0 = Instant::now();
        for pos in 1..=n {
            let x = Tensor::new(&[[next]], &device)?;
            next = argmax(&model.forward(&x, pos)?)?;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            r#"{{"backend":"{backend}","n":{n},"secs":{secs:.6},"tok_s":{:.2},"last":{next}}}"#,
            n as f64 / secs
        );
    }
    Ok(())
}

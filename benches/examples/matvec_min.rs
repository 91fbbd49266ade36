//! Matvec throughput as the minimum time per call over many batches (robust to other
//! processes on a shared machine, unlike criterion's mean), in GMAC/s (rows × cols per ns).
//!
//! `cargo run --release -p picoformer-benches --example matvec_min [FILTER] [REPS]`
//! (`BIG=bytes` sets the size of the `big_*` set: distinct 768×768 matrices cycled so that
//! the weights stream from L3/DRAM as in decoding; default 100 MB). For before/after, copy
//! this file into a checkout of the other revision and run both alternately
//! (`benches/RESULTS.md`).

use picoformer::ops;
use picoformer::quant::{self, DType, Matrix};
use picoformer_benches::{store, Rng};
use std::hint::black_box;
use std::time::Instant;

/// min over `reps` batches of the per-call time (ns)
fn time(mut f: impl FnMut(), macs: usize, reps: usize) -> f64 {
    let iters = (20_000_000 / macs).max(1);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    best
}

fn big(filter: &str, reps: usize) {
    // many distinct matrices (~100 MB in total) cycled: weights stream from DRAM as in decode
    let mut rng = Rng(5);
    let (rows, cols) = (768usize, 768usize);
    let w = rng.vec(rows * cols, 0.1);
    let x = rng.vec(cols, 1.0);
    let mut out = vec![0.0f32; rows];
    let macs = rows * cols;
    for dtype in [DType::F32, DType::Q8_0] {
        let one = store(&w, cols, dtype);
        let k = std::env::var("BIG")
            .map(|s| s.parse::<usize>().unwrap())
            .unwrap_or(100_000_000)
            / one.len();
        let all: Vec<u8> = one.iter().copied().cycle().take(one.len() * k).collect();
        let ms: Vec<Matrix> = all
            .chunks_exact(one.len())
            .map(|b| Matrix::new(dtype, rows, cols, b).unwrap())
            .collect();
        let mut xq = vec![0u8; ops::matvec_q8_scratch_len(cols)];
        quant::quantize_row_q8_0(&x, &mut xq).unwrap();
        let name = format!(
            "big_{}/{rows}x{cols}",
            if dtype == DType::F32 {
                "f32"
            } else {
                "q8_0xq8_0_pre"
            }
        );
        if !name.contains(filter) {
            continue;
        }
        let mut best = f64::MAX;
        for _ in 0..reps {
            let t = Instant::now();
            for m in &ms {
                if dtype == DType::F32 {
                    ops::matvec(black_box(&mut out), black_box(m), black_box(&x)).unwrap();
                } else {
                    ops::matvec_q8_pre(black_box(&mut out), black_box(m), black_box(&xq)).unwrap();
                }
            }
            best = best.min(t.elapsed().as_nanos() as f64 / ms.len() as f64);
        }
        println!(
            "{name:<22} {best:>10.0} ns {:>7.2} GMAC/s",
            macs as f64 / best
        );
    }
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let reps: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(60);
    big(&filter, reps / 4 + 1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (rows, cols) in [(288usize, 288usize), (768, 768), (2048, 768), (768, 2048)] {
        let w = rng.vec(rows * cols, 0.1);
        let x = rng.vec(cols, 1.0);
        let mut out = vec![0.0f32; rows];
        let macs = rows * cols;
        for dtype in [DType::F32, DType::F16, DType::Q8_0] {
            let name = format!("{}/{rows}x{cols}", dtype.name());
            if !name.contains(&filter) {
                continue;
            }
            let bytes = store(&w, cols, dtype);
            let m = Matrix::new(dtype, rows, cols, &bytes).unwrap();
            let ns = time(
                || ops::matvec(black_box(&mut out), black_box(&m), black_box(&x)).unwrap(),
                macs,
                reps,
            );
            println!("{name:<22} {ns:>10.0} ns {:>7.2} GMAC/s", macs as f64 / ns);
        }
        let name = format!("q8_0xq8_0_pre/{rows}x{cols}");
        if !name.contains(&filter) {
            continue;
        }
        let bytes = store(&w, cols, DType::Q8_0);
        let m = Matrix::new(DType::Q8_0, rows, cols, &bytes).unwrap();
        let mut xq = vec![0u8; ops::matvec_q8_scratch_len(cols)];
        quant::quantize_row_q8_0(&x, &mut xq).unwrap();
        let ns = time(
            || ops::matvec_q8_pre(black_box(&mut out), black_box(&m), black_box(&xq)).unwrap(),
            macs,
            reps,
        );
        println!("{name:<22} {ns:>10.0} ns {:>7.2} GMAC/s", macs as f64 / ns);
    }
}

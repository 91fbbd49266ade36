//! Criterion benches of the core kernels (`src/ops`, `src/quant`) on the host.
//!
//! `cargo bench -p picoformer-benches --bench kernels -- --quick`
//!
//! Matvec throughput is reported in elements = multiply-accumulates (rows × cols).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use picoformer::ops::{self, RopeStyle, RopeTable};
use picoformer::quant::{DType, Matrix};
use picoformer_benches::{store, Rng};
use std::hint::black_box;

fn matvec(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut g = c.benchmark_group("matvec");
    // (rows, cols): square shapes keep their old ids (`f32/288`); FFN-like shapes are `RxC`.
    for (rows, cols) in [(288usize, 288usize), (768, 768), (2048, 768), (768, 2048)] {
        let id = if rows == cols {
            format!("{rows}")
        } else {
            format!("{rows}x{cols}")
        };
        let w = rng.vec(rows * cols, 0.1);
        let x = rng.vec(cols, 1.0);
        let mut out = vec![0.0f32; rows];
        g.throughput(Throughput::Elements((rows * cols) as u64));
        for dtype in [DType::F32, DType::F16, DType::Q8_0] {
            let bytes = store(&w, cols, dtype);
            let m = Matrix::new(dtype, rows, cols, &bytes).expect("matrix");
            g.bench_with_input(BenchmarkId::new(dtype.name(), &id), &id, |b, _| {
                b.iter(|| ops::matvec(black_box(&mut out), black_box(&m), black_box(&x)))
            });
        }
        let bytes = store(&w, cols, DType::Q8_0);
        let m = Matrix::new(DType::Q8_0, rows, cols, &bytes).expect("matrix");
        let mut scratch = vec![0u8; ops::matvec_q8_scratch_len(cols)];
        // quantises x on every call (ops::matvec_q8)
        g.bench_with_input(BenchmarkId::new("q8_0xq8_0", &id), &id, |b, _| {
            b.iter(|| {
                ops::matvec_q8(
                    black_box(&mut out),
                    black_box(&m),
                    black_box(&x),
                    &mut scratch,
                )
            })
        });
        // x quantised once outside the loop: the kernel alone (ops::matvec_q8_pre)
        let mut xq = vec![0u8; ops::matvec_q8_scratch_len(cols)];
        picoformer::quant::quantize_row_q8_0(&x, &mut xq).expect("quantise");
        g.bench_with_input(BenchmarkId::new("q8_0xq8_0_pre", &id), &id, |b, _| {
            b.iter(|| ops::matvec_q8_pre(black_box(&mut out), black_box(&m), black_box(&xq)))
        });
    }
    g.finish();
}

fn norms_and_activations(c: &mut Criterion) {
    let mut rng = Rng(7);
    let mut g = c.benchmark_group("vector");
    for n in [288usize, 768] {
        let x = rng.vec(n, 2.0);
        let w = rng.vec(n, 1.0);
        let mut out = vec![0.0f32; n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("rmsnorm", n), &n, |b, _| {
            b.iter(|| ops::rmsnorm(black_box(&mut out), black_box(&x), &w, 1e-5))
        });
    }
    for n in [256usize, 2048] {
        let x = rng.vec(n, 8.0);
        let mut y = x.clone();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("softmax", n), &n, |b, _| {
            b.iter(|| {
                y.copy_from_slice(&x);
                ops::softmax(black_box(&mut y))
            })
        });
    }
    for n in [768usize, 2048] {
        let gate = rng.vec(n, 4.0);
        let up = rng.vec(n, 1.0);
        let mut out = vec![0.0f32; n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("swiglu", n), &n, |b, _| {
            b.iter(|| ops::swiglu(black_box(&mut out), black_box(&gate), &up))
        });
    }
    g.finish();
}

fn rope(c: &mut Criterion) {
    let mut rng = Rng(11);
    let (hd, heads, max_pos) = (64usize, 12usize, 512usize);
    let mut table = vec![0.0f32; ops::rope_table_len(hd, max_pos)];
    ops::rope_table_fill(&mut table, hd, max_pos, 10000.0).expect("table");
    let t = RopeTable::new(&table, hd, max_pos).expect("table");
    let x = rng.vec(hd * heads, 1.0);
    let mut y = x.clone();
    let mut g = c.benchmark_group("rope_hd64_x12");
    g.throughput(Throughput::Elements((hd * heads) as u64));
    for (name, style) in [("neox", RopeStyle::Neox), ("norm", RopeStyle::Norm)] {
        g.bench_function(BenchmarkId::new("table", name), |b| {
            b.iter(|| ops::rope(black_box(&mut y), black_box(300), style, &t))
        });
        g.bench_function(BenchmarkId::new("direct", name), |b| {
            b.iter(|| ops::rope_direct(black_box(&mut y), hd, black_box(300), 10000.0, style))
        });
    }
    g.finish();
}

fn selection(c: &mut Criterion) {
    let mut rng = Rng(13);
    let mut g = c.benchmark_group("select");
    let logits = rng.vec(32000, 10.0);
    let router = rng.vec(8, 1.0);
    g.bench_function("argmax_32000", |b| {
        b.iter(|| ops::argmax(black_box(&logits)))
    });
    g.bench_function("topk_40_of_32000", |b| {
        b.iter(|| ops::topk::<64>(black_box(&logits), 40))
    });
    g.bench_function("topk_2_of_8", |b| {
        b.iter(|| ops::topk::<8>(black_box(&router), 2))
    });
    g.finish();
}

criterion_group!(benches, matvec, norms_and_activations, rope, selection);
criterion_main!(benches);

//! One MH-MoE layer (h = 4, E = 8, k = 2, SwiGLU experts) beside a dense SwiGLU FFN with the
//! same multiply-accumulates per token (spec `mhmoe.md` §6 parity, router excluded).
//!
//! d = 384, sub-token 96, expert inner 256: MH-MoE = 2·d² + k·3·d·I_e = 884,736 MACs
//! (+ router d·E = 3,072); dense inner 768: 3·d·768 = 884,736 MACs.
//!
//! `cargo bench -p picoformer-benches --bench moe`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use picoformer::moe::{Dispatch, MoeConfig, MoeLayer, MoeWeights};
use picoformer::ops;
use picoformer::quant::{DType, Matrix};
use picoformer_benches::{store, Rng};
use std::hint::black_box;

const D: usize = 384;
const H: usize = 4;
const E: usize = 8;
const K: usize = 2;
const I_E: usize = 256;
const I_DENSE: usize = 768;

fn bench(c: &mut Criterion) {
    let sub = D / H;
    let cfg = MoeConfig::new(D, H, E, K, I_E).unwrap();
    assert_eq!(
        cfg.macs_per_token().without_router(),
        (3 * D * I_DENSE) as u64,
        "equal MACs"
    );
    let mut rng = Rng(0x9E37_79B9);
    let x = rng.vec(D, 1.0);
    let raw = [
        (rng.vec(D * D, 0.05), D),
        (rng.vec(D, 0.05), D),
        (rng.vec(E * sub, 0.3), sub),
        (rng.vec(E * I_E * sub, 0.1), sub),
        (rng.vec(E * I_E * sub, 0.1), sub),
        (rng.vec(E * sub * I_E, 0.06), I_E),
        (rng.vec(D * D, 0.05), D),
        (rng.vec(D, 0.05), D),
    ];
    let dense_raw = [
        (rng.vec(I_DENSE * D, 0.05), D),
        (rng.vec(I_DENSE * D, 0.05), D),
        (rng.vec(D * I_DENSE, 0.04), I_DENSE),
    ];
    let mut group = c.benchmark_group("moe_layer");
    for dtype in [DType::F32, DType::Q8_0] {
        // Biases stay f32 (as written by the exporter); matrices in `dtype`.
        let b: Vec<Vec<u8>> = raw
            .iter()
            .enumerate()
            .map(|(i, (v, cols))| {
                store(v, *cols, if i == 1 || i == 7 { DType::F32 } else { dtype })
            })
            .collect();
        let mm = |i: usize, rows: usize, cols: usize, t: DType| {
            Matrix::new(t, rows, cols, &b[i]).unwrap()
        };
        let layer = MoeLayer::new(
            cfg,
            MoeWeights {
                head: Some(mm(0, D, D, dtype)),
                head_bias: Some(mm(1, 1, D, DType::F32)),
                router: mm(2, E, sub, dtype),
                gate_exps: Some(mm(3, E * I_E, sub, dtype)),
                up_exps: mm(4, E * I_E, sub, dtype),
                down_exps: mm(5, E * sub, I_E, dtype),
                merge: Some(mm(6, D, D, dtype)),
                merge_bias: Some(mm(7, 1, D, DType::F32)),
            },
        )
        .unwrap();
        let mut scratch = vec![0.0; cfg.scratch_len()];
        let mut out = vec![0.0; D];
        group.bench_with_input(
            BenchmarkId::new("mhmoe_h4_e8_k2", dtype.name()),
            &x,
            |bch, x| {
                bch.iter(|| {
                    layer
                        .forward(black_box(x), &mut out, &mut scratch, None)
                        .unwrap();
                    black_box(&out);
                })
            },
        );
        let mut bscratch = vec![0.0; cfg.batch_scratch_len(1)];
        group.bench_with_input(
            BenchmarkId::new("mhmoe_h4_e8_k2_capacity_batch1", dtype.name()),
            &x,
            |bch, x| {
                bch.iter(|| {
                    layer
                        .forward_batch(
                            black_box(x),
                            &mut out,
                            Dispatch::Capacity,
                            &mut bscratch,
                            None,
                        )
                        .unwrap();
                    black_box(&out);
                })
            },
        );

        let db: Vec<Vec<u8>> = dense_raw
            .iter()
            .map(|(v, cols)| store(v, *cols, dtype))
            .collect();
        let gate = Matrix::new(dtype, I_DENSE, D, &db[0]).unwrap();
        let up = Matrix::new(dtype, I_DENSE, D, &db[1]).unwrap();
        let down = Matrix::new(dtype, D, I_DENSE, &db[2]).unwrap();
        let (mut hb, mut hb2) = (vec![0.0; I_DENSE], vec![0.0; I_DENSE]);
        group.bench_with_input(
            BenchmarkId::new("dense_swiglu_i768", dtype.name()),
            &x,
            |bch, x| {
                bch.iter(|| {
                    ops::matvec(&mut hb, &gate, black_box(x)).unwrap();
                    ops::matvec(&mut hb2, &up, x).unwrap();
                    ops::swiglu_inplace(&mut hb, &hb2).unwrap();
                    ops::matvec(&mut out, &down, &hb).unwrap();
                    black_box(&out);
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

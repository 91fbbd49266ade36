//! Row-split multi-threaded matvec (`std`): bit-identical to the single-thread kernels, for
//! every thread count (more threads than rows included), and through the session.
#![cfg(feature = "std")]

use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::ops;
use picoformer::plan::Plan;
use picoformer::quant::{q8_0_row_bytes, quantize_row_q8_0, DType, Matrix};

/// xorshift32 in [-1, 1)
fn values(n: usize, mut s: u32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn weights(dtype: DType, rows: usize, cols: usize) -> Vec<u8> {
    let v = values(rows * cols, 0x9e37_79b9);
    match dtype {
        DType::F32 => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        DType::Q8_0 => {
            let mut out = vec![0u8; rows * q8_0_row_bytes(cols)];
            for (r, o) in v.chunks(cols).zip(out.chunks_mut(q8_0_row_bytes(cols))) {
                quantize_row_q8_0(r, o).unwrap();
            }
            out
        }
        DType::F16 => unreachable!(),
    }
}

#[test]
fn threads_match_one_thread_bit_for_bit() {
    for (rows, cols) in [(1usize, 64usize), (3, 32), (7, 96), (257, 768), (2048, 256)] {
        let x = values(cols, 7);
        let mut xq = vec![0u8; q8_0_row_bytes(cols)];
        quantize_row_q8_0(&x, &mut xq).unwrap();
        for dtype in [DType::F32, DType::Q8_0] {
            let bytes = weights(dtype, rows, cols);
            let w = Matrix::new(dtype, rows, cols, &bytes).unwrap();
            let mut one = vec![0f32; rows];
            ops::matvec(&mut one, &w, &x).unwrap();
            let mut one_q = vec![0f32; rows];
            if dtype == DType::Q8_0 {
                ops::matvec_q8_pre(&mut one_q, &w, &xq).unwrap();
            }
            for threads in [0, 1, 2, 3, 4, 9] {
                let mut got = vec![f32::NAN; rows];
                ops::matvec_threads(&mut got, &w, &x, threads).unwrap();
                assert!(
                    got.iter()
                        .zip(&one)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{dtype:?} {rows}x{cols} threads {threads}"
                );
                if dtype == DType::Q8_0 {
                    let mut got = vec![f32::NAN; rows];
                    ops::matvec_q8_pre_threads(&mut got, &w, &xq, threads).unwrap();
                    assert!(
                        got.iter()
                            .zip(&one_q)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "q8 {rows}x{cols} threads {threads}"
                    );
                }
            }
        }
    }
}

#[test]
fn wrong_shapes_are_errors() {
    let bytes = weights(DType::F32, 4, 32);
    let w = Matrix::new(DType::F32, 4, 32, &bytes).unwrap();
    let x = values(32, 1);
    assert!(ops::matvec_threads(&mut [0.0; 3], &w, &x, 2).is_err());
    assert!(ops::matvec_threads(&mut [0.0; 4], &w, &x[..31], 2).is_err());
    let qb = weights(DType::Q8_0, 4, 32);
    let wq = Matrix::new(DType::Q8_0, 4, 32, &qb).unwrap();
    assert!(ops::matvec_q8_pre_threads(&mut [0.0; 4], &wq, &[0u8; 33], 2).is_err());
    assert!(ops::matvec_q8_pre_threads(&mut [0.0; 4], &w, &[0u8; 34], 2).is_err());
}

/// The session with every matvec split (threshold lowered to 1 MAC) gives the same logits bit
/// for bit, for F32 and Q8_0 weights.
#[test]
fn session_threads_bit_identical() {
    for name in ["openelm_f32", "openelm_q8_0", "llama_f32"] {
        let bytes = std::fs::read(format!("tests/golden/elm/{name}.gguf")).unwrap();
        let model = Model::new(File::parse(&bytes).unwrap()).unwrap();
        let plan = Plan::new(model.config(), 32).unwrap();
        let tokens: Vec<u32> = (0..24).map(|i| (i * 37 % 300) as u32).collect();
        let run = |threads: usize| {
            let mut scratch = vec![0f32; plan.scratch_floats()];
            let mut kv = vec![0u32; plan.kv_words()];
            let mut s = Session::new(&model, &plan, &mut scratch, &mut kv).unwrap();
            s.set_threads(threads);
            s.set_par_min_macs(1);
            let mut out = vec![0f32; tokens.len() * model.config().vocab_size];
            s.forward_all(&tokens, &mut out).unwrap();
            out
        };
        let one = run(1);
        for threads in [2, 3] {
            let got = run(threads);
            assert!(
                got.iter()
                    .zip(&one)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name}: {threads} threads"
            );
        }
    }
}

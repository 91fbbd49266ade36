//! Every SIMD row kernel against the portable scalar path (same inputs, tolerance
//! `1e-6 · Σ|w·x|` for the different summation order and FMA), over all tail lengths,
//! extreme quants (-128), and NaN/inf propagation. Runs the SIMD side only where one exists
//! (x86-64 with AVX2/FMA/F16C and the `std` feature, e.g. `cargo test --workspace`);
//! otherwise it checks that the scalar path is the one reported.

use picoformer::quant::testing::{dot_q8_scalar, dot_q8_simd, dot_scalar, dot_simd};
use picoformer::quant::{q8_0_row_bytes, quantize_row_q8_0, simd_backend, DType, Matrix};

struct Rng(u64);
impl Rng {
    fn f(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn byte(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 56) as u8
    }
}

fn stored(dtype: DType, w: &[f32], rng: &mut Rng) -> Vec<u8> {
    match dtype {
        DType::F32 => w.iter().flat_map(|v| v.to_le_bytes()).collect(),
        DType::F16 => w
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes())
            .collect(),
        DType::Q8_0 => {
            // random quants over the full i8 range (incl. -128, which ggml never writes)
            let mut q = vec![0u8; q8_0_row_bytes(w.len())];
            for block in q.chunks_exact_mut(34) {
                block[..2]
                    .copy_from_slice(&half::f16::from_f32(rng.f() * 0.01).to_bits().to_le_bytes());
                for b in &mut block[2..] {
                    *b = rng.byte();
                }
            }
            q
        }
    }
}

fn abs_scale(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    let m = Matrix::new(dtype, 1, x.len(), row).unwrap();
    let mut w = vec![0.0; x.len()];
    m.dequant_row(0, &mut w).unwrap();
    w.iter().zip(x).map(|(a, b)| (a * b).abs()).sum()
}

#[test]
fn simd_row_dots_match_scalar() {
    println!("row-kernel backend: {}", simd_backend());
    let mut rng = Rng(42);
    let mut compared = 0;
    for dtype in [DType::F32, DType::F16, DType::Q8_0] {
        let lens: Vec<usize> = if dtype == DType::Q8_0 {
            (1..=12).map(|b| 32 * b).chain([288, 768]).collect()
        } else {
            (1..=80).chain([287, 288, 768, 1001]).collect()
        };
        for n in lens {
            let w: Vec<f32> = (0..n).map(|_| rng.f()).collect();
            let x: Vec<f32> = (0..n).map(|_| rng.f() * 4.0).collect();
            let row = stored(dtype, &w, &mut rng);
            let s = dot_scalar(dtype, &row, &x);
            let Some(v) = dot_simd(dtype, &row, &x) else {
                assert_eq!(simd_backend(), "scalar");
                return;
            };
            let tol = 1e-6 * abs_scale(dtype, &row, &x) + 1e-30;
            assert!((s - v).abs() <= tol, "{dtype:?} n={n}: scalar {s} simd {v}");
            // matvec and dot_row both use the dispatched kernel: bit-identical
            let m = Matrix::new(dtype, 1, n, &row).unwrap();
            let mut out = [0.0];
            picoformer::ops::matvec(&mut out, &m, &x).unwrap();
            assert_eq!(out[0].to_bits(), m.dot_row(0, &x).unwrap().to_bits());
            assert_eq!(out[0].to_bits(), v.to_bits());
            compared += 1;
        }
    }
    assert!(compared > 150);
}

#[test]
fn simd_q8q8_matches_scalar_exact_sums() {
    let mut rng = Rng(7);
    for blocks in 1..=24 {
        let n = 32 * blocks;
        let w: Vec<f32> = (0..n).map(|_| rng.f()).collect();
        let a = stored(DType::Q8_0, &w, &mut rng);
        let x: Vec<f32> = (0..n).map(|_| rng.f() * 3.0).collect();
        let mut b = vec![0u8; q8_0_row_bytes(n)];
        quantize_row_q8_0(&x, &mut b).unwrap();
        b[2] = 0x80; // a -128 in the activation too
        let s = dot_q8_scalar(&a, &b);
        let Some(v) = dot_q8_simd(&a, &b) else {
            assert_eq!(simd_backend(), "scalar");
            return;
        };
        let (ma, mb) = (
            Matrix::new(DType::Q8_0, 1, n, &a).unwrap(),
            Matrix::new(DType::Q8_0, 1, n, &b).unwrap(),
        );
        let (mut da, mut db) = (vec![0.0; n], vec![0.0; n]);
        ma.dequant_row(0, &mut da).unwrap();
        mb.dequant_row(0, &mut db).unwrap();
        let scale: f32 = da.iter().zip(&db).map(|(p, q)| (p * q).abs()).sum();
        assert!(
            (s - v).abs() <= 1e-6 * scale + 1e-30,
            "blocks={blocks}: {s} vs {v}"
        );
    }
}

#[test]
fn simd_propagates_nan_and_inf_like_scalar() {
    let n = 37;
    for dtype in [DType::F32, DType::F16] {
        let mut rng = Rng(3);
        let w: Vec<f32> = (0..n).map(|_| rng.f()).collect();
        let row = stored(dtype, &w, &mut rng);
        for (pos, val) in [
            (0, f32::NAN),
            (36, f32::NAN),
            (5, f32::INFINITY),
            (33, f32::NEG_INFINITY),
        ] {
            let mut x: Vec<f32> = (0..n).map(|_| rng.f()).collect();
            x[pos] = val;
            let s = dot_scalar(dtype, &row, &x);
            if let Some(v) = dot_simd(dtype, &row, &x) {
                assert!(
                    s.is_nan() == v.is_nan() && (s.is_nan() || s == v),
                    "{dtype:?} {pos}: {s} vs {v}"
                );
            }
        }
    }
}

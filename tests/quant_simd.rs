//! Every SIMD row kernel against the portable scalar path (same inputs, tolerance
//! `1e-6 · Σ|w·x|` for F32/F16 rows, for the different summation order and FMA), over all
//! tail lengths, extreme quants (-128), and NaN/inf propagation.
//!
//! `Q8_0 × Q8_0` (`ops::matvec_q8_pre`): integer block sums must be exact (checked with unit
//! scales, where the whole result is an exactly representable integer), and the float result
//! within the rigorous bound `|simd − scalar| ≤ (2·nb + 8) · 2⁻²⁴ · Σ_b |d_w·d_x|_b · Σ_j
//! |w_bj·x_bj|` (`nb` blocks: both sides round each of the `nb` block terms once and sum them
//! in a different order, `γ_n` bound of each summation). Activations respect the kernels'
//! precondition (quants in `[-127, 127]`, as `quantize_row_q8_0` writes); weights use every
//! i8 including -128. Runs the SIMD side only where one exists (x86-64 with AVX2/FMA/F16C and
//! the `std` feature; aarch64 with NEON, under qemu-user in `scripts/tests.d/30-aarch64.sh`);
//! otherwise it checks that the scalar path is the one reported. On x86-64 CPUs with
//! AVX512-VNNI + AVX512VL the `Q8_0 × Q8_0` tests exercise the `vpdpbusd` tier (the AVX2 tier
//! is compared with it bit for bit by the unit test in `src/quant/x86.rs`).

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
        let mut a = stored(DType::Q8_0, &w, &mut rng);
        let x: Vec<f32> = (0..n).map(|_| rng.f() * 3.0).collect();
        let mut b = vec![0u8; q8_0_row_bytes(n)];
        quantize_row_q8_0(&x, &mut b).unwrap();
        a[2] = 0x80; // a -128 weight next to the activation's ±127
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
        let tol = (2 * blocks + 8) as f32 * f32::EPSILON / 2.0 * scale;
        assert!((s - v).abs() <= tol, "blocks={blocks}: {s} vs {v}");
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

/// A random `Q8_0` row of `nb` blocks: quants uniform over all of i8 (incl. -128), scales
/// from `scale(block index, rng)` (f16 bits).
fn q8_row(nb: usize, rng: &mut Rng, scale: &mut dyn FnMut(usize, &mut Rng) -> u16) -> Vec<u8> {
    let mut q = vec![0u8; 34 * nb];
    for (b, block) in q.chunks_exact_mut(34).enumerate() {
        let d = scale(b, rng);
        block[..2].copy_from_slice(&d.to_le_bytes());
        for v in &mut block[2..] {
            *v = rng.byte();
        }
    }
    q
}

/// Extreme f16 scales: largest finite, smallest subnormal, smallest normal, 1, 0, random.
fn extreme_scale(b: usize, rng: &mut Rng) -> u16 {
    match (b + rng.byte() as usize) % 7 {
        0 => 0x7bff, // 65504
        1 => 0x0001, // 2^-24
        2 => 0x0400, // 2^-14
        3 => 0x3c00, // 1
        4 => 0x0000,
        5 => 0xfbff, // -65504
        _ => half::f16::from_f32(rng.f() * 0.05).to_bits(),
    }
}

fn f16_bits_to_f32(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// `Σ_b |d_w·d_x| · Σ_j |w·x|` of one row: the scale of the Q8 tolerance.
fn q8_abs_scale(w: &[u8], xq: &[u8]) -> f32 {
    w.chunks_exact(34)
        .zip(xq.chunks_exact(34))
        .map(|(a, b)| {
            let d = f16_bits_to_f32(u16::from_le_bytes([a[0], a[1]]))
                * f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]));
            let s: i64 = a[2..]
                .iter()
                .zip(&b[2..])
                .map(|(&p, &q)| (i64::from(p as i8) * i64::from(q as i8)).abs())
                .sum();
            d.abs() * s as f32
        })
        .sum()
}

#[test]
fn simd_matvec_q8_every_row_count_and_tail_matches_scalar() {
    let mut rng = Rng(99);
    let mut worst = 0.0f32;
    for nb in 1..=13 {
        let n = 32 * nb;
        for rows in 1..=9 {
            let w: Vec<u8> = (0..rows)
                .flat_map(|_| q8_row(nb, &mut rng, &mut extreme_scale))
                .collect();
            let x: Vec<f32> = (0..n).map(|_| rng.f() * 1e3).collect();
            let mut xq = vec![0u8; q8_0_row_bytes(n)];
            quantize_row_q8_0(&x, &mut xq).unwrap();
            let m = Matrix::new(DType::Q8_0, rows, n, &w).unwrap();
            let mut out = vec![0.0f32; rows];
            picoformer::ops::matvec_q8_pre(&mut out, &m, &xq).unwrap();
            for (r, (&v, row)) in out.iter().zip(w.chunks_exact(34 * nb)).enumerate() {
                let s = dot_q8_scalar(row, &xq);
                if let Some(d) = dot_q8_simd(row, &xq) {
                    // the 1-row entry point runs the same kernel: bit-identical
                    assert_eq!(d.to_bits(), v.to_bits(), "nb={nb} rows={rows} r={r}");
                }
                let t = q8_abs_scale(row, &xq);
                let tol = (2 * nb + 8) as f32 * f32::EPSILON / 2.0 * t;
                assert!(
                    (s - v).abs() <= tol,
                    "nb={nb} rows={rows} r={r}: scalar {s} simd {v} tol {tol}"
                );
                if t > 0.0 {
                    worst = worst.max((s - v).abs() / t);
                }
            }
        }
    }
    println!("q8 x q8 matvec: max |simd - scalar| / sum|terms| = {worst:e}");
}

#[test]
fn simd_matvec_q8_integer_sums_exact() {
    // unit scales: the result is Σ w·x over all blocks, an integer < 2^24, exact in f32
    // whatever the order; any saturation or wrap in a block sum would show.
    let mut rng = Rng(5);
    for nb in 1..=9 {
        let n = 32 * nb;
        for rows in 1..=9 {
            let mut w: Vec<u8> = (0..rows)
                .flat_map(|_| q8_row(nb, &mut rng, &mut |_, _| 0x3c00))
                .collect();
            let mut xq = q8_row(nb, &mut rng, &mut |_, _| 0x3c00);
            for (i, block) in xq.chunks_exact_mut(34).enumerate() {
                for (j, v) in block[2..].iter_mut().enumerate() {
                    // activations in [-127, 127], with runs of ±127
                    *v = match (i + j) % 5 {
                        0 => 127,
                        1 => (-127i8) as u8,
                        _ if *v == 0x80 => 0x81,
                        _ => *v,
                    };
                }
            }
            // worst case for the `vpmaddubsw` pair sums: a pair of -128 weights against a
            // pair of -127 activations (2 · 128 · 127 = 32512)
            for block in w.chunks_exact_mut(34) {
                block[2] = 0x80;
                block[3] = 0x80;
            }
            for block in xq.chunks_exact_mut(34) {
                block[2] = (-127i8) as u8;
                block[3] = (-127i8) as u8;
            }
            let m = Matrix::new(DType::Q8_0, rows, n, &w).unwrap();
            let mut out = vec![0.0f32; rows];
            picoformer::ops::matvec_q8_pre(&mut out, &m, &xq).unwrap();
            for (r, (&v, row)) in out.iter().zip(w.chunks_exact(34 * nb)).enumerate() {
                let exact: i64 = row
                    .chunks_exact(34)
                    .zip(xq.chunks_exact(34))
                    .flat_map(|(a, b)| a[2..].iter().zip(&b[2..]))
                    .map(|(&p, &q)| i64::from(p as i8) * i64::from(q as i8))
                    .sum();
                assert_eq!(v, exact as f32, "nb={nb} rows={rows} r={r}");
                assert_eq!(dot_q8_scalar(row, &xq), exact as f32);
            }
        }
    }
}

/// A NaN weight scale gives NaN like the scalar path; an infinite one gives a non-finite
/// result (the scalar path's ±inf, or NaN: the SIMD kernel scales partial block sums — 8 lanes
/// of a tail block, or its two 16-quant halves in a 4-block step — so `0 · inf` or
/// `inf − inf` can occur where the scalar path multiplies the whole block sum). Blocks 0–3
/// are a 4-block step, 4–5 the tail.
#[test]
fn simd_matvec_q8_nan_and_inf_scales_like_scalar() {
    let mut rng = Rng(17);
    let nb = 6;
    let n = 32 * nb;
    let x: Vec<f32> = (0..n).map(|_| rng.f()).collect();
    let mut xq = vec![0u8; q8_0_row_bytes(n)];
    quantize_row_q8_0(&x, &mut xq).unwrap();
    for blk in 0..nb {
        for bits in [0x7e00u16, 0xfe00, 0x7c00, 0xfc00] {
            let mut w = q8_row(nb, &mut rng, &mut |_, r| {
                half::f16::from_f32(r.f() * 0.01).to_bits()
            });
            w[34 * blk..34 * blk + 2].copy_from_slice(&bits.to_le_bytes());
            let m = Matrix::new(DType::Q8_0, 1, n, &w).unwrap();
            let mut out = [0.0f32];
            picoformer::ops::matvec_q8_pre(&mut out, &m, &xq).unwrap();
            let (s, v) = (dot_q8_scalar(&w, &xq), out[0]);
            let ok = if s.is_nan() {
                v.is_nan()
            } else if s.is_infinite() {
                !v.is_finite() && (v.is_nan() || v == s)
            } else {
                v.is_finite()
            };
            assert!(ok, "block {blk} scale {bits:#x}: scalar {s} simd {v}");
        }
    }
}

#[test]
fn simd_matvec_float_every_row_count_and_odd_cols_matches_scalar() {
    let mut rng = Rng(23);
    for dtype in [DType::F32, DType::F16] {
        for cols in [1usize, 7, 9, 15, 17, 31, 33, 63, 65, 287, 289] {
            for rows in 1..=9 {
                let w: Vec<f32> = (0..rows * cols).map(|_| rng.f()).collect();
                let x: Vec<f32> = (0..cols).map(|_| rng.f() * 4.0).collect();
                let bytes = stored(dtype, &w, &mut rng);
                let m = Matrix::new(dtype, rows, cols, &bytes).unwrap();
                let mut out = vec![0.0f32; rows];
                picoformer::ops::matvec(&mut out, &m, &x).unwrap();
                let stride = bytes.len() / rows;
                for (r, (&v, row)) in out.iter().zip(bytes.chunks_exact(stride)).enumerate() {
                    let s = dot_scalar(dtype, row, &x);
                    let tol = 1e-6 * abs_scale(dtype, row, &x) + 1e-30;
                    assert!(
                        (s - v).abs() <= tol,
                        "{dtype:?} cols={cols} rows={rows} r={r}: {s} vs {v}"
                    );
                    assert_eq!(v.to_bits(), m.dot_row(r, &x).unwrap().to_bits());
                }
            }
        }
    }
}

/// Largest `vpdpbusd` / `vpmaddubsw` magnitudes: all weights -128 against activations of ±127
/// (constant and in runs of 4), every block count 1–13 (every tail of the 4-block step) and
/// row count 1–5, unit scales: results must be the exact integers.
#[test]
fn simd_matvec_q8_all_minus_128_weights_exact() {
    #[cfg(target_arch = "x86_64")]
    println!(
        "avx512vnni+avx512vl: {}",
        std::is_x86_feature_detected!("avx512vnni") && std::is_x86_feature_detected!("avx512vl")
    );
    for nb in 1..=13 {
        let n = 32 * nb;
        for pattern in 0..3 {
            let mut xq = vec![0u8; 34 * nb];
            for (i, block) in xq.chunks_exact_mut(34).enumerate() {
                block[..2].copy_from_slice(&0x3c00u16.to_le_bytes());
                for (j, v) in block[2..].iter_mut().enumerate() {
                    let pos = match pattern {
                        0 => true,
                        1 => false,
                        _ => (i + j / 4) % 2 == 0,
                    };
                    *v = if pos { 127 } else { (-127i8) as u8 };
                }
            }
            for rows in 1..=5 {
                let mut w = vec![0x80u8; 34 * nb * rows];
                for block in w.chunks_exact_mut(34) {
                    block[..2].copy_from_slice(&0x3c00u16.to_le_bytes());
                }
                let m = Matrix::new(DType::Q8_0, rows, n, &w).unwrap();
                let mut out = vec![0.0f32; rows];
                picoformer::ops::matvec_q8_pre(&mut out, &m, &xq).unwrap();
                let exact: i64 = xq
                    .chunks_exact(34)
                    .flat_map(|b| &b[2..])
                    .map(|&q| -128 * i64::from(q as i8))
                    .sum();
                for (r, (&v, row)) in out.iter().zip(w.chunks_exact(34 * nb)).enumerate() {
                    assert_eq!(v, exact as f32, "nb={nb} pattern={pattern} r={r}");
                    assert_eq!(dot_q8_scalar(row, &xq), exact as f32);
                    if let Some(d) = dot_q8_simd(row, &xq) {
                        assert_eq!(d.to_bits(), v.to_bits());
                    }
                }
            }
        }
    }
}

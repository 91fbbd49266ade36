//! The aarch64 NEON matvec kernels (several rows per pass — four, eight for `Q8_0 × Q8_0` on
//! hosted targets — then single rows) against the scalar
//! path, under qemu-user (`scripts/tests.d/30-aarch64.sh`):
//! - `Q8_0 × Q8_0`: bit for bit (exact i32 block sums, the scalar float order), for 1..=9
//!   rows, 1..=12 blocks, aligned and odd row offsets, random f16 scales (normal and
//!   subnormal, both signs), quants including -128 in the weights and (the `smull`/`smull2`
//!   path) in the activations;
//! - F32 / F16 / `Q8_0 × f32`: within `1e-6 · Σ|w·x|` of the scalar row dot, and `matvec`
//!   bit-identical to `Matrix::dot_row` for every row (same per-row operation sequence).
#![cfg(all(target_arch = "aarch64", target_feature = "neon"))]

use picoformer::ops;
use picoformer::quant::testing::{dot_q8_scalar, dot_scalar};
use picoformer::quant::{q8_0_row_bytes, simd_backend, DType, Matrix};

struct Rng(u64);
impl Rng {
    fn bits(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 32) as u32
    }
    fn f(&mut self) -> f32 {
        (self.bits() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }
}

/// Random `Q8_0` blocks: finite f16 scales of both signs (exponent 0 = subnormal), quants
/// random or with extra -128s (`min128`), or none at all (`-127..=127` only).
fn q8_blocks(rng: &mut Rng, dst: &mut [u8], min128: bool) {
    for block in dst.chunks_exact_mut(34) {
        let r = rng.bits();
        let exp = (r >> 16) % 31;
        let d = ((r & 0x8000) | (exp << 10) | (r & 0x3ff)) as u16;
        block[..2].copy_from_slice(&d.to_le_bytes());
        for q in &mut block[2..] {
            let v = rng.bits();
            *q = if min128 && v.is_multiple_of(5) {
                0x80
            } else if min128 {
                (v >> 8) as u8
            } else {
                (((v >> 8) % 255) as i32 - 127) as i8 as u8
            };
        }
    }
}

#[test]
fn backend_is_neon() {
    assert_eq!(simd_backend(), "neon");
}

#[test]
fn q8q8_matvec_bit_exact() {
    let mut rng = Rng(11);
    for rows in 1..=9 {
        for blocks in 1..=12 {
            let rb = q8_0_row_bytes(32 * blocks);
            for (off, x_min128) in [(0, false), (1, false), (0, true), (1, true)] {
                let mut buf = vec![0u8; rows * rb + 1];
                let w = &mut buf[off..off + rows * rb];
                q8_blocks(&mut rng, w, true);
                let mut xq = vec![0u8; rb];
                q8_blocks(&mut rng, &mut xq, x_min128);
                let m = Matrix::new(DType::Q8_0, rows, 32 * blocks, w).unwrap();
                let mut out = vec![0.0f32; rows];
                ops::matvec_q8_pre(&mut out, &m, &xq).unwrap();
                for (r, (row, o)) in w.chunks_exact(rb).zip(&out).enumerate() {
                    let want = dot_q8_scalar(row, &xq);
                    assert_eq!(
                        want.to_bits(),
                        o.to_bits(),
                        "rows={rows} blocks={blocks} off={off} x-128={x_min128} row {r}: {want} vs {o}"
                    );
                }
            }
        }
    }
}

#[test]
fn float_matvec_matches_scalar_and_dot_row() {
    let mut rng = Rng(5);
    for dtype in [DType::F32, DType::F16, DType::Q8_0] {
        let lens: Vec<usize> = if dtype == DType::Q8_0 {
            vec![32, 64, 96, 288, 320]
        } else {
            vec![1, 3, 4, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 288]
        };
        for n in lens {
            for rows in [1, 3, 4, 5, 8, 9] {
                let stride = dtype.bytes_for(n).unwrap();
                let mut w = vec![0u8; rows * stride];
                match dtype {
                    DType::F32 => w
                        .chunks_exact_mut(4)
                        .for_each(|c| c.copy_from_slice(&rng.f().to_le_bytes())),
                    DType::F16 => w.chunks_exact_mut(2).for_each(|c| {
                        c.copy_from_slice(&half::f16::from_f32(rng.f()).to_le_bytes())
                    }),
                    DType::Q8_0 => q8_blocks(&mut rng, &mut w, true),
                }
                let x: Vec<f32> = (0..n).map(|_| rng.f() * 4.0).collect();
                let m = Matrix::new(dtype, rows, n, &w).unwrap();
                let mut out = vec![0.0f32; rows];
                ops::matvec(&mut out, &m, &x).unwrap();
                let mut deq = vec![0.0f32; n];
                for (r, o) in out.iter().enumerate() {
                    let row = &w[r * stride..(r + 1) * stride];
                    assert_eq!(o.to_bits(), m.dot_row(r, &x).unwrap().to_bits());
                    m.dequant_row(r, &mut deq).unwrap();
                    let scale: f32 = deq.iter().zip(&x).map(|(a, b)| (a * b).abs()).sum();
                    let s = dot_scalar(dtype, row, &x);
                    assert!(
                        (s - o).abs() <= 1e-6 * scale + 1e-30,
                        "{dtype:?} n={n} rows={rows} row {r}: scalar {s} neon {o}"
                    );
                }
            }
        }
    }
}

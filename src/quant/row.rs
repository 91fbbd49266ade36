//! Row kernels for each [`DType`]: dot product with an f32 vector and dequantisation.
//!
//! These take already-validated lengths (a [`Matrix`](super::Matrix) checks them once); they
//! never panic — on a length mismatch the shorter input bounds the work.

use super::{q8_0, DType};

/// Lanes of independent f32 accumulators in the scalar dot products (lets the compiler keep
/// 8 partial sums in registers / one SIMD register without reassociating floats).
const LANES: usize = 8;

#[inline(always)]
fn f32_at(b: &[u8]) -> f32 {
    match b.first_chunk::<4>() {
        Some(c) => f32::from_le_bytes(*c),
        None => 0.0,
    }
}

#[inline(always)]
fn f16_at(b: &[u8]) -> f32 {
    match b.first_chunk::<2>() {
        Some(c) => super::f16_to_f32(u16::from_le_bytes(*c)),
        None => 0.0,
    }
}

/// `Σ_c row[c] · x[c]` for a little-endian f32 row (any alignment).
#[inline]
pub(crate) fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let rb = row.chunks_exact(4 * LANES);
    let xb = x.chunks_exact(LANES);
    let (rt, xt) = (rb.remainder(), xb.remainder());
    for (r8, x8) in rb.zip(xb) {
        for ((a, w), &v) in acc.iter_mut().zip(r8.chunks_exact(4)).zip(x8) {
            *a += f32_at(w) * v;
        }
    }
    acc.iter().sum::<f32>() + tail_f32(rt, xt)
}

/// `Σ w[c] · x[c]` in order over the little-endian f32 `row` bytes: the elements after the last
/// full lane chunk, here and in the Arm DSP / Helium F32 kernels (same order everywhere, so
/// they stay bit-identical).
#[inline(always)]
pub(crate) fn tail_f32(row: &[u8], x: &[f32]) -> f32 {
    let mut tail = 0.0f32;
    for (w, &v) in row.chunks_exact(4).zip(x) {
        tail += f32_at(w) * v;
    }
    tail
}

/// `Σ_c row[c] · x[c]` for a little-endian f16 row, converting each element to f32.
#[inline]
pub(crate) fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let rb = row.chunks_exact(2 * LANES);
    let xb = x.chunks_exact(LANES);
    let (rt, xt) = (rb.remainder(), xb.remainder());
    for (r8, x8) in rb.zip(xb) {
        for ((a, w), &v) in acc.iter_mut().zip(r8.chunks_exact(2)).zip(x8) {
            *a += f16_at(w) * v;
        }
    }
    acc.iter().sum::<f32>() + tail_f16(rt, xt)
}

/// `Σ w[c] · x[c]` in order over the little-endian f16 `row` bytes: the elements after the last
/// full lane chunk, here and in the Arm DSP F16 kernel (same order, bit-identical).
#[inline(always)]
pub(crate) fn tail_f16(row: &[u8], x: &[f32]) -> f32 {
    let mut tail = 0.0f32;
    for (w, &v) in row.chunks_exact(2).zip(x) {
        tail += f16_at(w) * v;
    }
    tail
}

/// Dot product of one stored row with `x`, dispatching on `dtype`.
#[inline]
pub(crate) fn dot(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    match dtype {
        DType::F32 => dot_f32(row, x),
        DType::F16 => dot_f16(row, x),
        DType::Q8_0 => q8_0::dot_blocks_f32(row, x),
    }
}

/// Dequantises one stored row into `out`, dispatching on `dtype`.
#[inline]
pub(crate) fn dequant(dtype: DType, row: &[u8], out: &mut [f32]) {
    match dtype {
        DType::F32 => {
            for (o, w) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32_at(w);
            }
        }
        DType::F16 => {
            for (o, w) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = f16_at(w);
            }
        }
        DType::Q8_0 => q8_0::dequant_blocks(row, out),
    }
}

//! aarch64 NEON row kernels, compiled when the target has `neon` (the default for
//! `aarch64-unknown-linux-gnu` and `aarch64-unknown-none`). Checked against the scalar path
//! in `tests/quant_simd.rs` (run under qemu-user for aarch64).
//!
//! All loads are byte loads (`vld1q_u8`/`vld1q_s8`, no alignment requirement, so weights may
//! sit at any offset even with alignment checking on) from fixed-size chunks obtained with
//! `as_chunks`, so no pointer leaves its slice. F16 rows use the scalar branch-free
//! conversion, which the compiler vectorises.

use core::arch::aarch64::*;
use core::slice::ChunksExact;

use super::{row, DType, Q8_0_BLOCK_BYTES, QK8_0};

#[inline(always)]
fn ld_f32_bytes(b: &[u8; 16]) -> float32x4_t {
    // SAFETY: `b` is exactly 16 readable bytes; byte loads need no alignment; the target is
    // little-endian, so the lanes are the 4 little-endian f32.
    unsafe { vreinterpretq_f32_u8(vld1q_u8(b.as_ptr())) }
}

#[inline(always)]
fn ld_f32(x: &[f32; 4]) -> float32x4_t {
    // SAFETY: `x` is exactly 4 readable, aligned f32.
    unsafe { vld1q_f32(x.as_ptr()) }
}

#[inline(always)]
fn ld_i8x16(b: &[u8; 16]) -> int8x16_t {
    // SAFETY: `b` is exactly 16 readable bytes.
    unsafe { vld1q_s8(b.as_ptr().cast::<i8>()) }
}

#[inline(always)]
fn parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (f32, &[u8; QK8_0]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[][..]), |p| p);
    let qs: &[u8; QK8_0] = qs.try_into().unwrap_or(&[0u8; QK8_0]);
    (super::f16_to_f32(u16::from_le_bytes(*d)), qs)
}

/// `Σ row[c]·x[c]`, f32 row: 4 × 4-lane FMA accumulators.
#[inline]
fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let (r16, r_rest) = row.as_chunks::<64>();
    let (x16, x_rest) = x.as_chunks::<16>();
    // SAFETY (all intrinsics below): `neon` is enabled for this target (module cfg).
    unsafe {
        let mut acc = [vdupq_n_f32(0.0); 4];
        for (r, v) in r16.iter().zip(x16) {
            let (rs, vs) = (r.as_chunks::<16>().0, v.as_chunks::<4>().0);
            for ((a, r4), v4) in acc.iter_mut().zip(rs).zip(vs) {
                *a = vfmaq_f32(*a, ld_f32_bytes(r4), ld_f32(v4));
            }
        }
        let mut a0 = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
        let (r4s, r_tail) = r_rest.as_chunks::<16>();
        let (x4s, x_tail) = x_rest.as_chunks::<4>();
        for (r4, v4) in r4s.iter().zip(x4s) {
            a0 = vfmaq_f32(a0, ld_f32_bytes(r4), ld_f32(v4));
        }
        let mut tail = 0.0f32;
        for (w, &v) in r_tail.as_chunks::<4>().0.iter().zip(x_tail) {
            tail += f32::from_le_bytes(*w) * v;
        }
        vaddvq_f32(a0) + tail
    }
}

/// Widens 16 i8 to four f32x4 and multiplies-accumulates them with 16 floats of `x`.
#[inline(always)]
fn fma_i8x16(acc: float32x4_t, q: &[u8; 16], x: &[f32; 16]) -> float32x4_t {
    let xs = x.as_chunks::<4>().0;
    // SAFETY: `neon` is enabled for this target (module cfg).
    unsafe {
        let q = ld_i8x16(q);
        let lo = vmovl_s8(vget_low_s8(q));
        let hi = vmovl_high_s8(q);
        let w = [
            vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))),
            vcvtq_f32_s32(vmovl_high_s16(lo)),
            vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))),
            vcvtq_f32_s32(vmovl_high_s16(hi)),
        ];
        let mut a = acc;
        for (wi, xi) in w.iter().zip(xs) {
            a = vfmaq_f32(a, *wi, ld_f32(xi));
        }
        a
    }
}

/// `Σ_b d_b · Σ_j q_bj · x[32b + j]`.
#[inline]
fn dot_q8_0_f32(row: &[u8], x: &[f32]) -> f32 {
    let blocks = row.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let xs = x.as_chunks::<QK8_0>().0;
    // SAFETY: `neon` is enabled for this target (module cfg).
    unsafe {
        let mut acc = vdupq_n_f32(0.0);
        for (block, xb) in blocks.iter().zip(xs) {
            let (d, qs) = parts(block);
            let (q16, x16) = (qs.as_chunks::<16>().0, xb.as_chunks::<16>().0);
            let mut s = vdupq_n_f32(0.0);
            for (q, v) in q16.iter().zip(x16) {
                s = fma_i8x16(s, q, v);
            }
            acc = vfmaq_n_f32(acc, s, d);
        }
        vaddvq_f32(acc)
    }
}

/// `Σ_b (d_a·d_b) · Σ_j qa·qb` with exact i16 products (`smull`) summed pairwise into i32.
#[inline]
fn dot_q8_0_q8_0(a: &[u8], b: &[u8]) -> f32 {
    let ab = a.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let bb = b.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    // SAFETY: `neon` is enabled for this target (module cfg).
    unsafe {
        let mut acc = vdupq_n_f32(0.0);
        for (ba, bb) in ab.iter().zip(bb) {
            let (da, qa) = parts(ba);
            let (db, qb) = parts(bb);
            let mut sumi = vdupq_n_s32(0);
            for (x, y) in qa.as_chunks::<16>().0.iter().zip(qb.as_chunks::<16>().0) {
                let (x, y) = (ld_i8x16(x), ld_i8x16(y));
                sumi = vpadalq_s16(sumi, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
                sumi = vpadalq_s16(sumi, vmull_high_s8(x, y));
            }
            acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sumi), da * db);
        }
        vaddvq_f32(acc)
    }
}

/// One row's dot product for `dtype`.
#[inline]
pub(crate) fn dot(dtype: DType, r: &[u8], x: &[f32]) -> f32 {
    match dtype {
        DType::F32 => dot_f32(r, x),
        DType::F16 => row::dot(DType::F16, r, x),
        DType::Q8_0 => dot_q8_0_f32(r, x),
    }
}

/// `out[r] = dot(row r, x)` for every row.
pub(crate) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot(dtype, r, x);
    }
}

/// `out[r] = dot_q8(row r, xq)` for every row.
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot_q8_0_q8_0(r, xq);
    }
}

/// `Q8_0 × Q8_0` dot of two rows.
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    dot_q8_0_q8_0(a, b)
}

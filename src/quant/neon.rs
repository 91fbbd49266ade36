//! aarch64 NEON row kernels, compiled when the target has `neon` (the default for
//! `aarch64-unknown-linux-gnu` and `aarch64-unknown-none`). Checked against the scalar path
//! in `tests/quant_simd.rs` and `tests/quant_neon.rs` (run under qemu-user for aarch64).
//!
//! The matvec kernels take four rows per pass (`Q8_0 × Q8_0` on hosted targets: eight, then
//! four), so every load of `x` (and every conversion of an activation block scale) serves
//! several rows. A single row (`dot`, and the last rows of a matvec) runs the same per-row
//! operation sequence, so `matvec` and `dot` agree bit for bit.
//!
//! - F32: `Σ_c w[c]·x[c]`; per row two 4-lane FMA chains over 16 columns per step (64 bytes),
//!   then 4-column steps, the horizontal sum, and the last `n % 4` products.
//! - F16: the same with each f16 widened exactly by `fcvtl` (base ARMv8, no `fp16` needed;
//!   inline assembly, as the f16 intrinsics are newer than the crate's MSRV).
//! - `Q8_0 × f32`: `Σ_b d_b · Σ_j q_bj·x[32b+j]`; each quant becomes an f32 with one `tbl`
//!   (the byte to the top of an i32 lane) and one fixed-point `scvtf #24` (exact).
//! - `Q8_0 × Q8_0`: `Σ_b f32(Σ_j qa·qb) · (d_a·d_b)` bit for bit as the scalar path: exact i32
//!   block sums (`sdot` when the target has `dotprod`; otherwise `smull` + `smlal2`, which is
//!   exact in i16 when no activation quant is -128, else `smull`/`smull2`, widened pairwise
//!   with `saddlp`/`sadalp`), then the scalar path's float operations in its order, with
//!   four rows in the four lanes. Hosted targets load its blocks with post-incremented
//!   pointers in inline assembly (see `dotg_q8_0_q8_0`).
//!
//! Other loads are NEON loads of fixed-size chunks obtained with `as_chunks` (LLVM emits
//! `ldr q`/`ldp q`, or byte-element `ld1` under strict alignment as on
//! `aarch64-unknown-none`), so no pointer leaves its slice; block scales are read with
//! `u16::from_le_bytes` as in the scalar path.

use core::arch::aarch64::*;
use core::slice::ChunksExact;

use super::{DType, Q8_0_BLOCK_BYTES, QK8_0};

// ---- loads: the only `unsafe` besides the entry points ----

#[inline(always)]
fn ld_u8x64(b: &[u8; 64]) -> uint8x16x4_t {
    // SAFETY: `b` is 64 readable bytes; byte-element loads need no alignment; `neon` is
    // enabled for this target (module cfg).
    unsafe { vld1q_u8_x4(b.as_ptr()) }
}

#[inline(always)]
fn ld_u8x32(b: &[u8; 32]) -> uint8x16x2_t {
    // SAFETY: `b` is 32 readable bytes; see `ld_u8x64`.
    unsafe { vld1q_u8_x2(b.as_ptr()) }
}

#[inline(always)]
fn ld_u8x16(b: &[u8; 16]) -> uint8x16_t {
    // SAFETY: `b` is 16 readable bytes; see `ld_u8x64`.
    unsafe { vld1q_u8(b.as_ptr()) }
}

#[inline(always)]
fn ld_f32x16(x: &[f32; 16]) -> float32x4x4_t {
    // SAFETY: `x` is 16 readable, aligned f32; `neon` is enabled (module cfg).
    unsafe { vld1q_f32_x4(x.as_ptr()) }
}

#[inline(always)]
fn ld_f32x4(x: &[f32; 4]) -> float32x4_t {
    // SAFETY: `x` is 4 readable, aligned f32; `neon` is enabled (module cfg).
    unsafe { vld1q_f32(x.as_ptr()) }
}

/// The first `n` elements of `s` (all of `s` if shorter).
#[inline(always)]
fn head<T>(s: &[T], n: usize) -> &[T] {
    s.get(..n).unwrap_or(s)
}

/// Four f16 (the bits in `h`) → four f32 with `fcvtl` (exact; base ARMv8, no `fp16` needed).
/// Inline assembly because the f16 intrinsics need Rust 1.94 (the crate's MSRV is 1.88).
#[inline(always)]
fn fcvtl(h: uint16x4_t) -> float32x4_t {
    let out: float32x4_t;
    // SAFETY: `fcvtl` reads and writes only the two named vector registers.
    unsafe {
        core::arch::asm!(
            "fcvtl {0:v}.4s, {1:v}.4h",
            out(vreg) out,
            in(vreg) h,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    out
}

/// The upper four f16 of `h` → four f32 with `fcvtl2`.
#[inline(always)]
fn fcvtl2(h: uint16x8_t) -> float32x4_t {
    let out: float32x4_t;
    // SAFETY: `fcvtl2` reads and writes only the two named vector registers.
    unsafe {
        core::arch::asm!(
            "fcvtl2 {0:v}.4s, {1:v}.8h",
            out(vreg) out,
            in(vreg) h,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    out
}

// ---- F32 ----

/// 16 columns of one F32 row: two FMA chains.
#[target_feature(enable = "neon")]
#[inline]
fn f32_step(acc: &mut [float32x4_t; 2], w: &[u8; 64], x: &float32x4x4_t) {
    let w = ld_u8x64(w);
    acc[0] = vfmaq_f32(acc[0], vreinterpretq_f32_u8(w.0), x.0);
    acc[1] = vfmaq_f32(acc[1], vreinterpretq_f32_u8(w.1), x.1);
    acc[0] = vfmaq_f32(acc[0], vreinterpretq_f32_u8(w.2), x.2);
    acc[1] = vfmaq_f32(acc[1], vreinterpretq_f32_u8(w.3), x.3);
}

/// Finishes one F32 row after its 16-column steps: 4-column steps, horizontal sum, then the
/// last `n % 4` products in order.
#[target_feature(enable = "neon")]
#[inline]
fn f32_finish(acc: [float32x4_t; 2], r_rest: &[u8], x_rest: &[f32]) -> f32 {
    let mut a = vaddq_f32(acc[0], acc[1]);
    let (r4, r_tail) = r_rest.as_chunks::<16>();
    let (x4, x_tail) = x_rest.as_chunks::<4>();
    for (w, v) in r4.iter().zip(x4) {
        a = vfmaq_f32(a, vreinterpretq_f32_u8(ld_u8x16(w)), ld_f32x4(v));
    }
    let tail = super::row::tail_f32(r_tail, x_tail);
    vaddvq_f32(a) + tail
}

/// `Σ_c row[c]·x[c]`, one F32 row.
#[target_feature(enable = "neon")]
fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let n = x.len().min(row.len() / 4);
    let (r16, r_rest) = head(row, 4 * n).as_chunks::<64>();
    let (x16, x_rest) = head(x, n).as_chunks::<16>();
    let mut acc = [vdupq_n_f32(0.0); 2];
    for (w, v) in r16.iter().zip(x16) {
        f32_step(&mut acc, w, &ld_f32x16(v));
    }
    f32_finish(acc, r_rest, x_rest)
}

/// [`dot_f32`] of four rows sharing the loads of `x`.
#[target_feature(enable = "neon")]
fn dot4_f32(rows: [&[u8]; 4], x: &[f32]) -> [f32; 4] {
    let n = rows.iter().fold(x.len(), |n, r| n.min(r.len() / 4));
    let [a, b, c, d] = rows.map(|r| head(r, 4 * n).as_chunks::<64>());
    let (x16, x_rest) = head(x, n).as_chunks::<16>();
    let mut acc = [[vdupq_n_f32(0.0); 2]; 4];
    for ((((v, wa), wb), wc), wd) in x16.iter().zip(a.0).zip(b.0).zip(c.0).zip(d.0) {
        let v = ld_f32x16(v);
        f32_step(&mut acc[0], wa, &v);
        f32_step(&mut acc[1], wb, &v);
        f32_step(&mut acc[2], wc, &v);
        f32_step(&mut acc[3], wd, &v);
    }
    [
        f32_finish(acc[0], a.1, x_rest),
        f32_finish(acc[1], b.1, x_rest),
        f32_finish(acc[2], c.1, x_rest),
        f32_finish(acc[3], d.1, x_rest),
    ]
}

// ---- F16 ----

/// 32 columns of one F16 row: each half widened exactly with `fcvtl`/`fcvtl2`.
#[target_feature(enable = "neon")]
#[inline]
fn f16_step(acc: &mut [float32x4_t; 2], w: &[u8; 64], x: &[float32x4x4_t; 2]) {
    let w = ld_u8x64(w);
    let h = [w.0, w.1, w.2, w.3].map(|v| vreinterpretq_u16_u8(v));
    let xs = [
        (x[0].0, x[0].1),
        (x[0].2, x[0].3),
        (x[1].0, x[1].1),
        (x[1].2, x[1].3),
    ];
    for (h, (xl, xh)) in h.iter().zip(xs) {
        acc[0] = vfmaq_f32(acc[0], fcvtl(vget_low_u16(*h)), xl);
        acc[1] = vfmaq_f32(acc[1], fcvtl2(*h), xh);
    }
}

/// Finishes one F16 row: 8-column steps, horizontal sum, the last `n % 8` products in order.
#[target_feature(enable = "neon")]
#[inline]
fn f16_finish(acc: [float32x4_t; 2], r_rest: &[u8], x_rest: &[f32]) -> f32 {
    let mut a = acc;
    let (r8, r_tail) = r_rest.as_chunks::<16>();
    let (x8, x_tail) = x_rest.as_chunks::<8>();
    for (w, v) in r8.iter().zip(x8) {
        let h = vreinterpretq_u16_u8(ld_u8x16(w));
        let (xl, xh) = v
            .split_first_chunk::<4>()
            .map_or(([0.0; 4], [0.0; 4]), |(l, h)| {
                (*l, h.try_into().unwrap_or([0.0; 4]))
            });
        a[0] = vfmaq_f32(a[0], fcvtl(vget_low_u16(h)), ld_f32x4(&xl));
        a[1] = vfmaq_f32(a[1], fcvtl2(h), ld_f32x4(&xh));
    }
    let tail = super::row::tail_f16(r_tail, x_tail);
    vaddvq_f32(vaddq_f32(a[0], a[1])) + tail
}

/// `Σ_c f32(row[c])·x[c]`, one F16 row.
#[target_feature(enable = "neon")]
fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let n = x.len().min(row.len() / 2);
    let (r32, r_rest) = head(row, 2 * n).as_chunks::<64>();
    let (x32, x_rest) = head(x, n).as_chunks::<32>();
    let mut acc = [vdupq_n_f32(0.0); 2];
    for (w, v) in r32.iter().zip(x32) {
        let (x0, x1) = v.split_first_chunk::<16>().unwrap_or((&[0.0; 16], &[]));
        let x1: &[f32; 16] = x1.try_into().unwrap_or(&[0.0; 16]);
        f16_step(&mut acc, w, &[ld_f32x16(x0), ld_f32x16(x1)]);
    }
    f16_finish(acc, r_rest, x_rest)
}

/// [`dot_f16`] of four rows sharing the loads of `x`.
#[target_feature(enable = "neon")]
fn dot4_f16(rows: [&[u8]; 4], x: &[f32]) -> [f32; 4] {
    let n = rows.iter().fold(x.len(), |n, r| n.min(r.len() / 2));
    let [a, b, c, d] = rows.map(|r| head(r, 2 * n).as_chunks::<64>());
    let (x32, x_rest) = head(x, n).as_chunks::<32>();
    let mut acc = [[vdupq_n_f32(0.0); 2]; 4];
    for ((((v, wa), wb), wc), wd) in x32.iter().zip(a.0).zip(b.0).zip(c.0).zip(d.0) {
        let (x0, x1) = v.split_first_chunk::<16>().unwrap_or((&[0.0; 16], &[]));
        let x1: &[f32; 16] = x1.try_into().unwrap_or(&[0.0; 16]);
        let v = [ld_f32x16(x0), ld_f32x16(x1)];
        f16_step(&mut acc[0], wa, &v);
        f16_step(&mut acc[1], wb, &v);
        f16_step(&mut acc[2], wc, &v);
        f16_step(&mut acc[3], wd, &v);
    }
    [
        f16_finish(acc[0], a.1, x_rest),
        f16_finish(acc[1], b.1, x_rest),
        f16_finish(acc[2], c.1, x_rest),
        f16_finish(acc[3], d.1, x_rest),
    ]
}

// ---- Q8_0 ----

/// The f16 scale bits and the 32 quants of one block.
#[inline(always)]
fn parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (u16, &[u8; QK8_0]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[][..]), |p| p);
    let qs: &[u8; QK8_0] = qs.try_into().unwrap_or(&[0u8; QK8_0]);
    (u16::from_le_bytes(*d), qs)
}

/// Four f16 → four f32 (`fcvtl`, exact).
#[target_feature(enable = "neon")]
#[inline]
fn f16x4(h: [u16; 4]) -> float32x4_t {
    fcvtl(vset_lane_u16::<3>(
        h[3],
        vset_lane_u16::<2>(h[2], vset_lane_u16::<1>(h[1], vdup_n_u16(h[0]))),
    ))
}

/// `tbl` indices moving byte `4k + i` of a 16-byte register to the top byte of i32 lane `i`,
/// the other bytes 0 (out-of-range indices read as 0).
const TOP: [[u8; 16]; 4] = {
    let mut t = [[0xff; 16]; 4];
    let mut k = 0;
    while k < 4 {
        let mut i = 0;
        while i < 4 {
            t[k][4 * i + 3] = (4 * k + i) as u8;
            i += 1;
        }
        k += 1;
    }
    t
};

#[target_feature(enable = "neon")]
#[inline]
fn top_idx() -> [uint8x16_t; 4] {
    TOP.map(|t| ld_u8x16(&t))
}

/// Four quants (selected by `idx`) as exact f32: `scvtf` of `q << 24` with 24 fraction bits.
#[target_feature(enable = "neon")]
#[inline]
fn i8x4_f32(q: uint8x16_t, idx: uint8x16_t) -> float32x4_t {
    vcvtq_n_f32_s32::<24>(vreinterpretq_s32_u8(vqtbl1q_u8(q, idx)))
}

/// `Σ_j q_j·x_j` of one block as four partial sums (one FMA chain).
#[target_feature(enable = "neon")]
#[inline]
fn q8_f32_block(qs: &[u8; QK8_0], x: &[float32x4_t; 8], t: &[uint8x16_t; 4]) -> float32x4_t {
    let q = ld_u8x32(qs);
    let mut s = vmulq_f32(i8x4_f32(q.0, t[0]), x[0]);
    s = vfmaq_f32(s, i8x4_f32(q.0, t[1]), x[1]);
    s = vfmaq_f32(s, i8x4_f32(q.0, t[2]), x[2]);
    s = vfmaq_f32(s, i8x4_f32(q.0, t[3]), x[3]);
    s = vfmaq_f32(s, i8x4_f32(q.1, t[0]), x[4]);
    s = vfmaq_f32(s, i8x4_f32(q.1, t[1]), x[5]);
    s = vfmaq_f32(s, i8x4_f32(q.1, t[2]), x[6]);
    vfmaq_f32(s, i8x4_f32(q.1, t[3]), x[7])
}

/// One block of activations as eight f32x4.
#[target_feature(enable = "neon")]
#[inline]
fn x_block(xb: &[f32; QK8_0]) -> [float32x4_t; 8] {
    let (x0, x1) = xb.split_first_chunk::<16>().unwrap_or((&[0.0; 16], &[]));
    let x1: &[f32; 16] = x1.try_into().unwrap_or(&[0.0; 16]);
    let (a, b) = (ld_f32x16(x0), ld_f32x16(x1));
    [a.0, a.1, a.2, a.3, b.0, b.1, b.2, b.3]
}

/// `Σ_b d_b · Σ_j q_bj·x[32b + j]`, one `Q8_0` row.
#[target_feature(enable = "neon")]
fn dot_q8_0_f32(row: &[u8], x: &[f32]) -> f32 {
    let t = top_idx();
    let mut acc = vdupq_n_f32(0.0);
    let blocks = row.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    for (block, xb) in blocks.iter().zip(x.as_chunks::<QK8_0>().0) {
        let (d, qs) = parts(block);
        let s = q8_f32_block(qs, &x_block(xb), &t);
        acc = vfmaq_laneq_f32::<0>(acc, s, f16x4([d, 0, 0, 0]));
    }
    vaddvq_f32(acc)
}

/// [`dot_q8_0_f32`] of four rows sharing the loads of `x`.
#[target_feature(enable = "neon")]
fn dot4_q8_0_f32(rows: [&[u8]; 4], x: &[f32]) -> [f32; 4] {
    let t = top_idx();
    let mut acc = [vdupq_n_f32(0.0); 4];
    let [a, b, c, d] = rows.map(|r| r.as_chunks::<Q8_0_BLOCK_BYTES>().0);
    let xs = x.as_chunks::<QK8_0>().0;
    for ((((xb, ba), bb), bc), bd) in xs.iter().zip(a).zip(b).zip(c).zip(d) {
        let xv = x_block(xb);
        let [(da, qa), (db, qb), (dc, qc), (dd, qd)] = [ba, bb, bc, bd].map(parts);
        let dv = f16x4([da, db, dc, dd]);
        acc[0] = vfmaq_laneq_f32::<0>(acc[0], q8_f32_block(qa, &xv, &t), dv);
        acc[1] = vfmaq_laneq_f32::<1>(acc[1], q8_f32_block(qb, &xv, &t), dv);
        acc[2] = vfmaq_laneq_f32::<2>(acc[2], q8_f32_block(qc, &xv, &t), dv);
        acc[3] = vfmaq_laneq_f32::<3>(acc[3], q8_f32_block(qd, &xv, &t), dv);
    }
    acc.map(|a| vaddvq_f32(a))
}

/// Exact `sdot` (4 × 4 i8 products added to each i32 lane).
#[cfg(target_feature = "dotprod")]
#[inline(always)]
fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: `sdot` reads and writes only the three named vector registers; the target has
    // `dotprod` (cfg).
    unsafe {
        core::arch::asm!(
            "sdot {0:v}.4s, {1:v}.16b, {2:v}.16b",
            inout(vreg) acc,
            in(vreg) a,
            in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// Exact `Σ_j a_j·b_j` of one block's 32 quant pairs, as four i32 partial sums.
/// `PAIRS`: the caller guarantees no `b_j` is -128, so two products fit in i16
/// (`|a·b + a'·b'| ≤ 2·128·127 < 2^15`).
#[cfg(target_feature = "dotprod")]
#[target_feature(enable = "neon")]
#[inline]
fn isum<const PAIRS: bool>(a: &int8x16x2_t, b: &int8x16x2_t) -> int32x4_t {
    sdot(sdot(vdupq_n_s32(0), a.0, b.0), a.1, b.1)
}

/// Exact `Σ_j a_j·b_j` of one block's 32 quant pairs, as four i32 partial sums.
/// `PAIRS`: the caller guarantees no `b_j` is -128, so two products fit in i16
/// (`|a·b + a'·b'| ≤ 2·128·127 < 2^15`).
#[cfg(not(target_feature = "dotprod"))]
#[target_feature(enable = "neon")]
#[inline]
fn isum<const PAIRS: bool>(a: &int8x16x2_t, b: &int8x16x2_t) -> int32x4_t {
    if PAIRS {
        let p = vmlal_high_s8(vmull_s8(vget_low_s8(a.0), vget_low_s8(b.0)), a.0, b.0);
        let q = vmlal_high_s8(vmull_s8(vget_low_s8(a.1), vget_low_s8(b.1)), a.1, b.1);
        vpadalq_s16(vpaddlq_s16(p), q)
    } else {
        let s = vpaddlq_s16(vmull_s8(vget_low_s8(a.0), vget_low_s8(b.0)));
        let s = vpadalq_s16(s, vmull_high_s8(a.0, b.0));
        let s = vpadalq_s16(s, vmull_s8(vget_low_s8(a.1), vget_low_s8(b.1)));
        vpadalq_s16(s, vmull_high_s8(a.1, b.1))
    }
}

/// The 32 quants of a block in two registers.
#[target_feature(enable = "neon")]
#[inline]
fn quants(qs: &[u8; QK8_0]) -> int8x16x2_t {
    let q = ld_u8x32(qs);
    int8x16x2_t(vreinterpretq_s8_u8(q.0), vreinterpretq_s8_u8(q.1))
}

/// True if no quant of the `Q8_0` row `xq` is -128 (the `PAIRS` condition of [`isum`]).
#[target_feature(enable = "neon")]
fn no_min_quant(xq: &[u8]) -> bool {
    let mut hit = vdupq_n_u8(0);
    for block in xq.as_chunks::<Q8_0_BLOCK_BYTES>().0 {
        let q = ld_u8x32(parts(block).1);
        hit = vorrq_u8(hit, vceqq_u8(q.0, vdupq_n_u8(0x80)));
        hit = vorrq_u8(hit, vceqq_u8(q.1, vdupq_n_u8(0x80)));
    }
    vmaxvq_u8(hit) == 0
}

/// `Σ_b f32(Σ_j qa·qb) · (d_a·d_b)`, one `Q8_0` row `a` against activations `b`, in the
/// scalar path's float order.
#[target_feature(enable = "neon")]
fn dot_q8_0_q8_0<const PAIRS: bool>(a: &[u8], b: &[u8]) -> f32 {
    let ab = a.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let bb = b.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let mut sum = 0.0f32;
    for (ba, bb) in ab.iter().zip(bb) {
        let ((da, qa), (dx, qx)) = (parts(ba), parts(bb));
        let sumi = vaddvq_s32(isum::<PAIRS>(&quants(qa), &quants(qx)));
        let d = f16x4([da, dx, 0, 0]);
        sum += sumi as f32 * (vgetq_lane_f32::<0>(d) * vgetq_lane_f32::<1>(d));
    }
    sum
}

/// One block of four rows: per lane `r`, `sum + f32(Σ_j q_rj·x_j) · (d_r·d_x)` (multiply,
/// then add, as the scalar path). `dr`: the rows' scales; `dx`: the activation's in lane 0.
#[target_feature(enable = "neon")]
#[inline]
fn q8q8_step4<const PAIRS: bool>(
    sum: float32x4_t,
    dr: float32x4_t,
    dx: float32x4_t,
    q: &[int8x16x2_t; 4],
    x: &int8x16x2_t,
) -> float32x4_t {
    let s01 = vpaddq_s32(isum::<PAIRS>(&q[0], x), isum::<PAIRS>(&q[1], x));
    let s23 = vpaddq_s32(isum::<PAIRS>(&q[2], x), isum::<PAIRS>(&q[3], x));
    let dd = vmulq_laneq_f32::<0>(dr, dx);
    vaddq_f32(sum, vmulq_f32(vcvtq_f32_s32(vpaddq_s32(s01, s23)), dd))
}

/// Loads the `Q8_0` block at `*p` (scale bits into lane 0, quants) with post-increment:
/// `*p` advances by one block.
///
/// # Safety
/// `*p` must point at 34 readable bytes of Normal memory (unaligned 16-bit and 128-bit loads
/// allowed: any hosted target).
#[cfg(not(target_os = "none"))]
#[inline(always)]
unsafe fn ld_block_post(p: &mut *const u8) -> (uint16x4_t, int8x16x2_t) {
    let (d, a, b);
    // SAFETY: the caller's contract; only the named registers are written.
    unsafe {
        core::arch::asm!(
            "ld1 {{{d:v}.h}}[0], [{p}], #2",
            "ldp {a:q}, {b:q}, [{p}], #32",
            p = inout(reg) *p,
            d = out(vreg) d,
            a = out(vreg) a,
            b = out(vreg) b,
            options(pure, readonly, nostack, preserves_flags)
        );
    }
    (d, int8x16x2_t(a, b))
}

/// Loads the next block of four rows (scale bits into lanes 0..=3, quants) with
/// post-increment: each pointer advances by one block.
///
/// # Safety
/// As [`ld_block_post`], for each of the four pointers.
#[cfg(not(target_os = "none"))]
#[inline(always)]
unsafe fn ld_blocks4_post(p: &mut [*const u8; 4]) -> (uint16x4_t, [int8x16x2_t; 4]) {
    let (d, q0a, q0b, q1a, q1b, q2a, q2b, q3a, q3b);
    let [p0, p1, p2, p3] = p;
    // SAFETY: the caller's contract; only the named registers are written (`d`: all four
    // lanes).
    unsafe {
        core::arch::asm!(
            "ld1 {{{d:v}.h}}[0], [{p0}], #2",
            "ldp {q0a:q}, {q0b:q}, [{p0}], #32",
            "ld1 {{{d:v}.h}}[1], [{p1}], #2",
            "ldp {q1a:q}, {q1b:q}, [{p1}], #32",
            "ld1 {{{d:v}.h}}[2], [{p2}], #2",
            "ldp {q2a:q}, {q2b:q}, [{p2}], #32",
            "ld1 {{{d:v}.h}}[3], [{p3}], #2",
            "ldp {q3a:q}, {q3b:q}, [{p3}], #32",
            p0 = inout(reg) *p0,
            p1 = inout(reg) *p1,
            p2 = inout(reg) *p2,
            p3 = inout(reg) *p3,
            d = out(vreg) d,
            q0a = out(vreg) q0a,
            q0b = out(vreg) q0b,
            q1a = out(vreg) q1a,
            q1b = out(vreg) q1b,
            q2a = out(vreg) q2a,
            q2b = out(vreg) q2b,
            q3a = out(vreg) q3a,
            q3b = out(vreg) q3b,
            options(pure, readonly, nostack, preserves_flags)
        );
    }
    let q = [
        int8x16x2_t(q0a, q0b),
        int8x16x2_t(q1a, q1b),
        int8x16x2_t(q2a, q2b),
        int8x16x2_t(q3a, q3b),
    ];
    (d, q)
}

/// [`dot_q8_0_q8_0`] of `G` groups of four rows sharing the activation loads and scale
/// conversion; each group's float operations run in the four lanes.
///
/// Hosted targets: every block of every stream is loaded by inline assembly with a
/// post-incremented pointer (`ld1` of the scale into a 16-bit lane, `ldp` of the 32 quants),
/// two instructions per stream and block; from intrinsics LLVM addresses the streams
/// through one shared index and spends an extra `add` per stream and block.
#[cfg(not(target_os = "none"))]
#[target_feature(enable = "neon")]
fn dotg_q8_0_q8_0<const PAIRS: bool, const G: usize>(
    rows: [[&[u8]; 4]; G],
    b: &[u8],
) -> [[f32; 4]; G] {
    let n = rows.iter().flatten().fold(b.len(), |n, r| n.min(r.len())) / Q8_0_BLOCK_BYTES;
    let mut p = rows.map(|g| g.map(<[u8]>::as_ptr));
    let mut px = b.as_ptr();
    let mut sum = [vdupq_n_f32(0.0); G];
    for _ in 0..n {
        // SAFETY: each slice holds at least `n` blocks and each pointer advances by exactly
        // one block per iteration, so every load stays inside its slice; hosted target.
        let (dx, xq) = unsafe { ld_block_post(&mut px) };
        let dx = fcvtl(dx);
        for (s, pg) in sum.iter_mut().zip(p.iter_mut()) {
            // SAFETY: as above.
            let (dr, q) = unsafe { ld_blocks4_post(pg) };
            *s = q8q8_step4::<PAIRS>(*s, fcvtl(dr), dx, &q, &xq);
        }
    }
    sum.map(|v| {
        let mut out = [0.0f32; 4];
        // SAFETY: `out` is 4 writable, aligned f32.
        unsafe { vst1q_f32(out.as_mut_ptr(), v) };
        out
    })
}

/// `Q8_0 × Q8_0` matvec: passes of eight rows, then four, then single rows.
#[cfg(not(target_os = "none"))]
#[target_feature(enable = "neon")]
fn matvec_q8_0_q8_0<const PAIRS: bool>(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let mut rows = rows;
    let out = passes::<8>(&mut rows, out, |r| {
        let [a, b, c, d, e, f, g, h] = r;
        let [l, m] = dotg_q8_0_q8_0::<PAIRS, 2>([[a, b, c, d], [e, f, g, h]], xq);
        [l[0], l[1], l[2], l[3], m[0], m[1], m[2], m[3]]
    });
    let out = passes::<4>(&mut rows, out, |r| dotg_q8_0_q8_0::<PAIRS, 1>([r], xq)[0]);
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot_q8_0_q8_0::<PAIRS>(r, xq);
    }
}

/// `Q8_0 × Q8_0` matvec: passes of four rows, then single rows. Bare metal (possibly strict
/// alignment): intrinsics only.
#[cfg(target_os = "none")]
#[target_feature(enable = "neon")]
fn matvec_q8_0_q8_0<const PAIRS: bool>(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let mut rows = rows;
    let out = passes::<4>(&mut rows, out, |r| dot4_q8_0_q8_0::<PAIRS>(r, xq));
    for (o, r) in out.iter_mut().zip(rows) {
        *o = dot_q8_0_q8_0::<PAIRS>(r, xq);
    }
}

/// [`dot_q8_0_q8_0`] of four rows sharing the activation loads and scale conversion; the
/// rows' float operations run in the four lanes (bare-metal version, intrinsics only).
#[cfg(target_os = "none")]
#[target_feature(enable = "neon")]
fn dot4_q8_0_q8_0<const PAIRS: bool>(rows: [&[u8]; 4], b: &[u8]) -> [f32; 4] {
    let [r0, r1, r2, r3] = rows.map(|r| r.as_chunks::<Q8_0_BLOCK_BYTES>().0);
    let bb = b.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let mut sum = vdupq_n_f32(0.0);
    for ((((bx, b0), b1), b2), b3) in bb.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
        let (dx, xq) = parts(bx);
        let [(d0, q0), (d1, q1), (d2, q2), (d3, q3)] = [b0, b1, b2, b3].map(parts);
        let q = [quants(q0), quants(q1), quants(q2), quants(q3)];
        let (dr, dx) = (f16x4([d0, d1, d2, d3]), f16x4([dx, 0, 0, 0]));
        sum = q8q8_step4::<PAIRS>(sum, dr, dx, &q, &quants(xq));
    }
    let mut out = [0.0f32; 4];
    // SAFETY: `out` is 4 writable, aligned f32.
    unsafe { vst1q_f32(out.as_mut_ptr(), sum) };
    out
}

// ---- entry points ----

/// Passes of `N` rows while `N` rows and outputs remain; returns the outputs not written.
#[inline(always)]
fn passes<'a, 'o, const N: usize>(
    rows: &mut ChunksExact<'a, u8>,
    out: &'o mut [f32],
    mut f: impl FnMut([&'a [u8]; N]) -> [f32; N],
) -> &'o mut [f32] {
    let n = out.len().min(rows.len());
    let Some((head, tail)) = out.split_at_mut_checked(n - n % N) else {
        return &mut [];
    };
    for o in head.chunks_exact_mut(N) {
        let r: [&[u8]; N] = core::array::from_fn(|_| rows.next().unwrap_or(&[]));
        o.copy_from_slice(&f(r));
    }
    tail
}

/// Four-row passes over `rows` (at most `out.len()` rows), then single rows.
#[inline(always)]
fn by_four<'a>(
    rows: ChunksExact<'a, u8>,
    out: &mut [f32],
    mut four: impl FnMut([&'a [u8]; 4]) -> [f32; 4],
    mut one: impl FnMut(&'a [u8]) -> f32,
) {
    let mut rows = rows;
    let n = out.len().min(rows.len());
    let Some(out) = out.get_mut(..n) else {
        return;
    };
    let mut groups = out.chunks_exact_mut(4);
    for o in &mut groups {
        let (Some(a), Some(b), Some(c), Some(d)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            return;
        };
        o.copy_from_slice(&four([a, b, c, d]));
    }
    for (o, r) in groups.into_remainder().iter_mut().zip(rows) {
        *o = one(r);
    }
}

/// One row's dot product for `dtype`.
#[inline]
pub(crate) fn dot(dtype: DType, r: &[u8], x: &[f32]) -> f32 {
    // SAFETY: `neon` is enabled for the whole target (module cfg).
    unsafe {
        match dtype {
            DType::F32 => dot_f32(r, x),
            DType::F16 => dot_f16(r, x),
            DType::Q8_0 => dot_q8_0_f32(r, x),
        }
    }
}

/// `out[r] = dot(row r, x)` for every row.
pub(crate) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    // SAFETY (closures): `neon` is enabled for the whole target (module cfg).
    match dtype {
        DType::F32 => by_four(
            rows,
            out,
            |r| unsafe { dot4_f32(r, x) },
            |r| unsafe { dot_f32(r, x) },
        ),
        DType::F16 => by_four(
            rows,
            out,
            |r| unsafe { dot4_f16(r, x) },
            |r| unsafe { dot_f16(r, x) },
        ),
        DType::Q8_0 => by_four(
            rows,
            out,
            |r| unsafe { dot4_q8_0_f32(r, x) },
            |r| unsafe { dot_q8_0_f32(r, x) },
        ),
    }
}

/// `out[r] = dot_q8(row r, xq)` for every row.
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    // SAFETY (all calls): `neon` is enabled for the whole target (module cfg).
    if unsafe { no_min_quant(xq) } {
        unsafe { matvec_q8_0_q8_0::<true>(rows, xq, out) }
    } else {
        unsafe { matvec_q8_0_q8_0::<false>(rows, xq, out) }
    }
}

/// `Q8_0 × Q8_0` dot of two rows.
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    // SAFETY: `neon` is enabled for the whole target (module cfg).
    unsafe { dot_q8_0_q8_0::<false>(a, b) }
}

//! x86-64 AVX2 + FMA + F16C row kernels (host builds with the `std` feature; selected at run
//! time by [`available`]). Each is checked against the scalar path in `tests/quant_simd.rs`.
//!
//! The functions are safe `#[target_feature]` functions: calling them requires the features,
//! which [`available`] establishes. Every load reads a fixed-size chunk obtained from
//! `as_chunks`, so no pointer leaves its slice.
//!
//! `Q8_0 × Q8_0` ([`matvec_q8`], [`dot_q8`]) has a second tier for CPUs with AVX512-VNNI +
//! AVX512VL ([`vnni_available`], e.g. Zen 4, Ice Lake): `vpdpbusd` on ymm registers, emitted
//! with `asm!` so that no AVX-512 target feature (stable only since Rust 1.89) is needed. Its
//! integer block sums equal the AVX2 tier's, so both give the same results bit for bit.
//!
//! All matvecs read one row at a time, front to back. Kernels that interleave 4 rows per pass
//! (sharing each load of `x`) were 1.2–1.8× faster with the matrix in L2 but 2–3× slower
//! when it streams from L3/DRAM, as in decoding (`benches/RESULTS.md`, 2026-11-27 matvec
//! section): the hardware prefetcher follows one sequential stream, not four interleaved
//! ones, and software prefetch did not recover it.

use core::arch::asm;
use core::arch::x86_64::*;
use core::slice::ChunksExact;

use super::{DType, Q8_0_BLOCK_BYTES, QK8_0};

/// `true` if this CPU has AVX2, FMA and F16C (cached by `std` after the first call).
#[inline]
pub(crate) fn available() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
        && std::is_x86_feature_detected!("f16c")
}

/// `true` if this CPU also has AVX512-VNNI and AVX512VL, i.e. `vpdpbusd` on ymm registers
/// (the Q8_0 × Q8_0 tier of [`matvec_q8`] / [`dot_q8`]; cached by `std` after the first call;
/// also checks that the OS saves the AVX-512 state).
#[inline]
pub(crate) fn vnni_available() -> bool {
    std::is_x86_feature_detected!("avx512vnni") && std::is_x86_feature_detected!("avx512vl")
}

#[target_feature(enable = "avx2,fma,f16c")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

/// Loads 8 little-endian f32 from 32 bytes (any alignment).
#[target_feature(enable = "avx2,fma,f16c")]
fn load_f32x8_bytes(b: &[u8; 32]) -> __m256 {
    // SAFETY: `b` is exactly 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_ps(b.as_ptr().cast::<f32>()) }
}

#[target_feature(enable = "avx2,fma,f16c")]
fn load_f32x8(x: &[f32; 8]) -> __m256 {
    // SAFETY: `x` is exactly 8 readable f32.
    unsafe { _mm256_loadu_ps(x.as_ptr()) }
}

/// Converts 8 binary16 values (16 bytes) to f32 with F16C (exact).
#[target_feature(enable = "avx2,fma,f16c")]
fn load_f16x8(b: &[u8; 16]) -> __m256 {
    // SAFETY: `b` is exactly 16 readable bytes; `loadu` has no alignment requirement.
    _mm256_cvtph_ps(unsafe { _mm_loadu_si128(b.as_ptr().cast::<__m128i>()) })
}

/// Sign-extends 8 i8 (8 bytes) to f32.
#[target_feature(enable = "avx2,fma,f16c")]
fn load_i8x8(b: &[u8; 8]) -> __m256 {
    // SAFETY: `b` is exactly 8 readable bytes; `loadl_epi64` reads 8 bytes, unaligned.
    let v = unsafe { _mm_loadl_epi64(b.as_ptr().cast::<__m128i>()) };
    _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v))
}

/// `Σ row[c]·x[c]`, f32 row: 4 × 8-lane FMA accumulators.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let (r32, r_rest) = row.as_chunks::<128>();
    let (x32, x_rest) = x.as_chunks::<32>();
    let mut acc = [_mm256_setzero_ps(); 4];
    for (r, v) in r32.iter().zip(x32) {
        let (rs, vs) = (r.as_chunks::<32>().0, v.as_chunks::<8>().0);
        for ((a, r8), v8) in acc.iter_mut().zip(rs).zip(vs) {
            *a = _mm256_fmadd_ps(load_f32x8_bytes(r8), load_f32x8(v8), *a);
        }
    }
    dot_f32_finish(acc, r_rest, x_rest)
}

/// The end of [`dot_f32`] after the 32-column chunks: whole 8-column chunks, then the scalar
/// tail, then the lane sum.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f32_finish(acc: [__m256; 4], r_rest: &[u8], x_rest: &[f32]) -> f32 {
    let (r8s, r_tail) = r_rest.as_chunks::<32>();
    let (x8s, x_tail) = x_rest.as_chunks::<8>();
    let mut a0 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    for (r8, v8) in r8s.iter().zip(x8s) {
        a0 = _mm256_fmadd_ps(load_f32x8_bytes(r8), load_f32x8(v8), a0);
    }
    let tail = super::row::tail_f32(r_tail, x_tail);
    hsum(a0) + tail
}

/// [`dot_f32`] of two rows in one pass (their 32-column steps interleaved, sharing the `x`
/// loads; each row's operations in the same order as alone: the same results bit for bit).
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f32_2rows(ra: &[u8], rb: &[u8], x: &[f32]) -> (f32, f32) {
    let (ra32, ra_rest) = ra.as_chunks::<128>();
    let (rb32, rb_rest) = rb.as_chunks::<128>();
    let (x32, x_rest) = x.as_chunks::<32>();
    let mut acc_a = [_mm256_setzero_ps(); 4];
    let mut acc_b = [_mm256_setzero_ps(); 4];
    for ((a, b), v) in ra32.iter().zip(rb32).zip(x32) {
        let (a8, b8, v8) = (
            a.as_chunks::<32>().0,
            b.as_chunks::<32>().0,
            v.as_chunks::<8>().0,
        );
        for k in 0..4 {
            if let (Some(pa), Some(pb), Some(pv)) = (a8.get(k), b8.get(k), v8.get(k)) {
                let xv = load_f32x8(pv);
                acc_a[k] = _mm256_fmadd_ps(load_f32x8_bytes(pa), xv, acc_a[k]);
                acc_b[k] = _mm256_fmadd_ps(load_f32x8_bytes(pb), xv, acc_b[k]);
            }
        }
    }
    (
        dot_f32_finish(acc_a, ra_rest, x_rest),
        dot_f32_finish(acc_b, rb_rest, x_rest),
    )
}

/// `Σ row[c]·x[c]`, f16 row converted with F16C.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let (r32, r_rest) = row.as_chunks::<64>();
    let (x32, x_rest) = x.as_chunks::<32>();
    let mut acc = [_mm256_setzero_ps(); 4];
    for (r, v) in r32.iter().zip(x32) {
        let (rs, vs) = (r.as_chunks::<16>().0, v.as_chunks::<8>().0);
        for ((a, r8), v8) in acc.iter_mut().zip(rs).zip(vs) {
            *a = _mm256_fmadd_ps(load_f16x8(r8), load_f32x8(v8), *a);
        }
    }
    let (r8s, r_tail) = r_rest.as_chunks::<16>();
    let (x8s, x_tail) = x_rest.as_chunks::<8>();
    let mut a0 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    for (r8, v8) in r8s.iter().zip(x8s) {
        a0 = _mm256_fmadd_ps(load_f16x8(r8), load_f32x8(v8), a0);
    }
    let tail = super::row::tail_f16(r_tail, x_tail);
    hsum(a0) + tail
}

/// Splits a block into its scale bits and its 32 quants.
#[inline]
fn block_parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (u16, &[u8; QK8_0]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[][..]), |p| p);
    let qs: &[u8; QK8_0] = qs.try_into().unwrap_or(&[0u8; QK8_0]);
    (u16::from_le_bytes(*d), qs)
}

/// f16 bits to f32 in all 8 lanes with F16C (exact). Broadcasting the bits first
/// (`vpbroadcastw`) avoids the `vpinsrw` merge into a live register, a false dependency,
/// that LLVM emits for `_mm_cvtsi32_si128` + lane 0.
#[target_feature(enable = "avx2,fma,f16c")]
fn f16c_splat(bits: u16) -> __m256 {
    _mm256_cvtph_ps(_mm_set1_epi16(bits as i16))
}

/// `Σ_b d_b · Σ_j q_bj · x[32b + j]`, Q8_0 row × f32 `x`: i8 widened to f32, two FMA
/// chains per block (even/odd 8-quant chunks), scaled by FMA with `d_b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_q8_0_f32(row: &[u8], x: &[f32]) -> f32 {
    let blocks = row.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let xs = x.as_chunks::<QK8_0>().0;
    let mut acc = _mm256_setzero_ps();
    for (block, xb) in blocks.iter().zip(xs) {
        let (d, qs) = block_parts(block);
        let (q8, x8) = (qs.as_chunks::<8>().0, xb.as_chunks::<8>().0);
        let mut s0 = _mm256_setzero_ps();
        let mut s1 = _mm256_setzero_ps();
        for (i, (q, v)) in q8.iter().zip(x8).enumerate() {
            if i % 2 == 0 {
                s0 = _mm256_fmadd_ps(load_i8x8(q), load_f32x8(v), s0);
            } else {
                s1 = _mm256_fmadd_ps(load_i8x8(q), load_f32x8(v), s1);
            }
        }
        acc = _mm256_fmadd_ps(f16c_splat(d), _mm256_add_ps(s0, s1), acc);
    }
    hsum(acc)
}

/// `Σ_j w_j · x_j` of one block pair as 8 i32 lanes with ggml's `vpmaddubsw` trick:
/// `madd(maddubs(|w|, x·sign(w)), 1)`: `vpsignb` and `vpmaddubsw` (u8 × i8, adjacent pairs
/// summed to i16 with signed saturation), then `vpmaddwd` with ones (pairs to i32).
///
/// Exact if every `x_j` is in `[-127, 127]`, for any i8 `w_j`: `|w|` as u8 is in `[0, 128]`
/// (`sign(-128, -128)` wraps to 0x80 = 128 unsigned, which is right); `x·sign(w)` is in
/// `[-127, 127]` (negating -127 is fine); so each product has magnitude `≤ 128·127` and a
/// pair sum `≤ 2·128·127 = 32512 < 32767`: no saturation. With `x_j = -128` and `w_j < 0`
/// the negation wraps (-128 stays -128) and a pair can reach `2·128·128 = 32768`, which
/// saturates: the sum is wrong, hence the precondition on `x`, not on `w`.
#[target_feature(enable = "avx2,fma,f16c")]
fn block_isum_sign(w: &[u8; QK8_0], x: __m256i) -> __m256i {
    // SAFETY: `w` is exactly 32 readable bytes; `loadu` has no alignment requirement.
    let w = unsafe { _mm256_loadu_si256(w.as_ptr().cast::<__m256i>()) };
    let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    _mm256_madd_epi16(p, _mm256_set1_epi16(1))
}

/// `acc + Σ_{k<4} a_{4i+k} · b_{4i+k}` in each i32 lane `i`, `a` as u8 and `b` as i8, summed
/// without saturation (wrapping, which the callers never reach): one EVEX `vpdpbusd` on ymm
/// (AVX512-VNNI + AVX512VL), emitted with `asm!` so the crate needs no AVX-512 target feature
/// (stable only since Rust 1.89; MSRV is 1.88).
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
unsafe fn dpbusd(acc: __m256i, a: __m256i, b: __m256i) -> __m256i {
    let mut r = acc;
    // SAFETY: the caller guarantees AVX512-VNNI + AVX512VL; the instruction only reads and
    // writes the three registers (no memory, no stack, no flags).
    unsafe {
        asm!(
            "{{evex}} vpdpbusd {r}, {a}, {b}",
            r = inout(ymm_reg) r,
            a = in(ymm_reg) a,
            b = in(ymm_reg) b,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    r
}

/// The same 8 i32 lanes as [`block_isum_sign`] with `vpdpbusd` (u8 × i8, 4 adjacent products
/// summed to i32, no saturation) in place of `vpmaddubsw` + `vpmaddwd`:
/// `dpbusd(0, |w|, x·sign(w))`.
///
/// Exact if every `x_j` is in `[-127, 127]`, for any i8 `w_j` (the precondition of the AVX2
/// kernel): `|w|` as u8 is in `[0, 128]`, `x·sign(w)` in `[-127, 127]`, so a lane sums 4
/// products of magnitude `≤ 128·127` (`≤ 65024`), far inside i32. With `x_j = -128` and
/// `w_j < 0` the negation wraps (-128 stays -128), so the product has the wrong sign: a wrong
/// but finite sum, as in the AVX2 kernel.
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn block_isum_vnni(w: &[u8; QK8_0], x: __m256i) -> __m256i {
    // SAFETY: `w` is exactly 32 readable bytes; `loadu` has no alignment requirement.
    let w = unsafe { _mm256_loadu_si256(w.as_ptr().cast::<__m256i>()) };
    // SAFETY: the caller guarantees AVX512-VNNI + AVX512VL.
    unsafe {
        dpbusd(
            _mm256_setzero_si256(),
            _mm256_sign_epi8(w, w),
            _mm256_sign_epi8(x, w),
        )
    }
}

/// The 8-lane i32 block sum of `w` and `x`: [`block_isum_vnni`] if `VNNI`, else
/// [`block_isum_sign`] (identical lanes under their common precondition).
///
/// # Safety
/// If `VNNI`, the CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
unsafe fn block_isum<const VNNI: bool>(w: &[u8; QK8_0], x: __m256i) -> __m256i {
    if VNNI {
        // SAFETY: forwarded from the caller.
        unsafe { block_isum_vnni(w, x) }
    } else {
        block_isum_sign(w, x)
    }
}

/// `Σ_b f32(Σ_j w_bj · x_bj) · (d_w,b · d_x,b)` for one Q8_0 row, 4 blocks per step: the 4
/// blocks' 8-lane i32 sums are reduced with unpack+add to `[S0lo S1lo S2lo S3lo | S0hi …
/// S3hi]` (exact), converted, and FMA'd with the 4 block scales `f32(d_w) · f32(d_x)` into one
/// accumulator; each of the last 1–3 blocks is one FMA of its 8-lane sum with its scale.
/// The result is the 8-lane sum of the accumulator. Reads the row once, front to back (the
/// hardware prefetcher streams it).
/// `VNNI` selects the block kernel ([`block_isum`]); both tiers give the same i32 block sums,
/// hence bit-identical results.
///
/// # Safety
/// If `VNNI`, the CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_q8_row<const VNNI: bool>(w: &[u8], xq: &[u8]) -> f32 {
    let (w4, w_rest) = w.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let (x4, x_rest) = xq.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let mut acc = _mm256_setzero_ps();
    for (wg, xg) in w4.iter().zip(x4) {
        // SAFETY: forwarded from the caller.
        acc = unsafe { q8_step::<VNNI>(wg, xg, acc) };
    }
    if w4.len() == x4.len() {
        // the last 1–3 blocks: one FMA each (8 lanes of one block, its scale in every lane)
        for (wb, xb) in w_rest.iter().zip(x_rest) {
            let (d, q) = block_parts(wb);
            let (e, xs) = block_parts(xb);
            // SAFETY: forwarded from the caller.
            let s = unsafe { block_isum::<VNNI>(q, load_i8x32(xs)) };
            let scale = _mm256_mul_ps(f16c_splat(d), f16c_splat(e));
            acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
        }
    }
    hsum(acc)
}

/// One step of [`dot_q8_row`]: 4 blocks of the row (`wg`) and of `x` (`xg`).
///
/// # Safety
/// If `VNNI`, the CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q8_step<const VNNI: bool>(
    wg: &[[u8; Q8_0_BLOCK_BYTES]; 4],
    xg: &[[u8; Q8_0_BLOCK_BYTES]; 4],
    acc: __m256,
) -> __m256 {
    let [b0, b1, b2, b3] = wg;
    let [c0, c1, c2, c3] = xg;
    let (d0, q0) = block_parts(b0);
    let (d1, q1) = block_parts(b1);
    let (d2, q2) = block_parts(b2);
    let (d3, q3) = block_parts(b3);
    let (e0, x0) = block_parts(c0);
    let (e1, x1) = block_parts(c1);
    let (e2, x2) = block_parts(c2);
    let (e3, x3) = block_parts(c3);
    // SAFETY (4×): forwarded from the caller.
    let s0 = unsafe { block_isum::<VNNI>(q0, load_i8x32(x0)) };
    let s1 = unsafe { block_isum::<VNNI>(q1, load_i8x32(x1)) };
    let s2 = unsafe { block_isum::<VNNI>(q2, load_i8x32(x2)) };
    let s3 = unsafe { block_isum::<VNNI>(q3, load_i8x32(x3)) };
    let t = reduce4(s0, s1, s2, s3);
    let dw = _mm256_cvtph_ps(_mm_set1_epi64x(pack4(d0, d1, d2, d3)));
    let dx = _mm256_cvtph_ps(_mm_set1_epi64x(pack4(e0, e1, e2, e3)));
    _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(t), acc)
}

/// The 8-lane i32 sums of 4 blocks reduced (exactly) to `[S0lo S1lo S2lo S3lo | S0hi … S3hi]`,
/// `Sbk` = lanes `4k..4k+4` of block `b` (quants `16k..16k+16`), with unpack+add.
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
fn reduce4(s0: __m256i, s1: __m256i, s2: __m256i, s3: __m256i) -> __m256i {
    let p = _mm256_add_epi32(_mm256_unpacklo_epi32(s0, s1), _mm256_unpackhi_epi32(s0, s1));
    let q = _mm256_add_epi32(_mm256_unpacklo_epi32(s2, s3), _mm256_unpackhi_epi32(s2, s3));
    _mm256_add_epi32(_mm256_unpacklo_epi64(p, q), _mm256_unpackhi_epi64(p, q))
}

/// Most 4-block groups of `x` whose [`XGroup`]s [`matvec_q8`] precomputes on the stack (4 KiB;
/// 8192 columns); wider inputs take the per-row kernel.
const MAX_X_GROUPS: usize = 64;

/// What a 4-block group of `x` contributes to every row in the VNNI matvec: its 4 scales as
/// f32 (`[e0 e1 e2 e3 e0 e1 e2 e3]`) and `128 · Σ x` over each half block in
/// [`reduce4`]'s layout (`[X0lo … X3lo | X0hi … X3hi]`, times 128).
#[derive(Clone, Copy)]
struct XGroup {
    dx: __m256,
    corr: __m256i,
}

/// [`XGroup`] of the 4 blocks `xg`: the corrections as `dpbusd(0, 0x80…, x)` (u8 128 × i8 x,
/// exact), reduced like the row sums.
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn x_group(xg: &[[u8; Q8_0_BLOCK_BYTES]; 4]) -> XGroup {
    let [c0, c1, c2, c3] = xg;
    let (e0, x0) = block_parts(c0);
    let (e1, x1) = block_parts(c1);
    let (e2, x2) = block_parts(c2);
    let (e3, x3) = block_parts(c3);
    let k = _mm256_set1_epi8(-128);
    let z = _mm256_setzero_si256();
    // SAFETY (4×): the caller guarantees AVX512-VNNI + AVX512VL.
    let s0 = unsafe { dpbusd(z, k, load_i8x32(x0)) };
    let s1 = unsafe { dpbusd(z, k, load_i8x32(x1)) };
    let s2 = unsafe { dpbusd(z, k, load_i8x32(x2)) };
    let s3 = unsafe { dpbusd(z, k, load_i8x32(x3)) };
    XGroup {
        dx: _mm256_cvtph_ps(_mm_set1_epi64x(pack4(e0, e1, e2, e3))),
        corr: reduce4(s0, s1, s2, s3),
    }
}

/// One 4-block step of the VNNI matvec with the sign trick replaced by an offset:
/// `Σ_j w_j·x_j = Σ_j (w_j + 128)·x_j − 128·Σ_j x_j`, where `w + 128` is `w XOR 0x80` as u8
/// (`[0, 255]`), so `vpdpbusd(0, w ^ 0x80, x)` needs no `vpsignb`, and the `128·Σx` term of
/// `x`'s group (`p.corr`) is subtracted once from the reduced sums. Exact for every i8 `w` and
/// `x` (a lane sums 4 products of magnitude `≤ 255·128`; a half-block sum is `< 2^20`), so
/// equal to [`q8_step`]'s sums under its precondition; the float steps are the same, so the
/// result is the same bit for bit (`p.dx` is `q8_step`'s `dx`).
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q8_step_offset(
    wg: &[[u8; Q8_0_BLOCK_BYTES]; 4],
    xg: &[[u8; Q8_0_BLOCK_BYTES]; 4],
    p: &XGroup,
    acc: __m256,
) -> __m256 {
    let [b0, b1, b2, b3] = wg;
    let [c0, c1, c2, c3] = xg;
    let (d0, q0) = block_parts(b0);
    let (d1, q1) = block_parts(b1);
    let (d2, q2) = block_parts(b2);
    let (d3, q3) = block_parts(b3);
    let k = _mm256_set1_epi8(-128);
    let z = _mm256_setzero_si256();
    let u = |q: &[u8; QK8_0]| _mm256_xor_si256(load_i8x32(q), k);
    // SAFETY (4×): the caller guarantees AVX512-VNNI + AVX512VL.
    let s0 = unsafe { dpbusd(z, u(q0), load_i8x32(block_parts(c0).1)) };
    let s1 = unsafe { dpbusd(z, u(q1), load_i8x32(block_parts(c1).1)) };
    let s2 = unsafe { dpbusd(z, u(q2), load_i8x32(block_parts(c2).1)) };
    let s3 = unsafe { dpbusd(z, u(q3), load_i8x32(block_parts(c3).1)) };
    let t = _mm256_sub_epi32(reduce4(s0, s1, s2, s3), p.corr);
    let dw = _mm256_cvtph_ps(_mm_set1_epi64x(pack4(d0, d1, d2, d3)));
    _mm256_fmadd_ps(_mm256_mul_ps(dw, p.dx), _mm256_cvtepi32_ps(t), acc)
}

/// [`dot_q8_row`] with [`q8_step_offset`] steps and `x`'s precomputed groups `pre` (one per
/// 4-block group of `xq`; the last 1–3 blocks as in `dot_q8_row::<true>`). Same result bit for
/// bit under `dot_q8_row`'s precondition.
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_q8_row_offset(w: &[u8], xq: &[u8], pre: &[XGroup]) -> f32 {
    let (w4, w_rest) = w.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let (x4, x_rest) = xq.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let mut acc = _mm256_setzero_ps();
    for ((wg, xg), p) in w4.iter().zip(x4).zip(pre) {
        // SAFETY: forwarded from the caller.
        acc = unsafe { q8_step_offset(wg, xg, p, acc) };
    }
    if w4.len() == x4.len() {
        for (wb, xb) in w_rest.iter().zip(x_rest) {
            let (d, q) = block_parts(wb);
            let (e, xs) = block_parts(xb);
            // SAFETY: forwarded from the caller.
            let s = unsafe { block_isum_vnni(q, load_i8x32(xs)) };
            let scale = _mm256_mul_ps(f16c_splat(d), f16c_splat(e));
            acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc);
        }
    }
    hsum(acc)
}

/// The VNNI tier of [`matvec_q8`]: `x`'s [`XGroup`]s once on the stack, then
/// [`dot_q8_row_offset`] per row; inputs of more than [`MAX_X_GROUPS`] groups take
/// `dot_q8_row::<true>`.
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn matvec_q8_vnni(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let x4 = xq.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>().0;
    if x4.len() > MAX_X_GROUPS {
        for (o, row) in out.iter_mut().zip(rows) {
            // SAFETY: forwarded from the caller.
            *o = unsafe { dot_q8_row::<true>(row, xq) };
        }
        return;
    }
    let zero = XGroup {
        dx: _mm256_setzero_ps(),
        corr: _mm256_setzero_si256(),
    };
    let mut pre = [zero; MAX_X_GROUPS];
    for (p, xg) in pre.iter_mut().zip(x4) {
        // SAFETY: forwarded from the caller.
        *p = unsafe { x_group(xg) };
    }
    let pre = pre.get(..x4.len()).unwrap_or(&[]);
    two_streams(
        rows,
        out,
        // SAFETY: forwarded from the caller.
        |ra, rb| unsafe { dot_q8_2rows_offset(ra, rb, xq, pre) },
        // SAFETY: forwarded from the caller.
        |row| unsafe { dot_q8_row_offset(row, xq, pre) },
    );
}

/// `out[r] = one(row r)` computed two rows per pass, rows `i` and `i + n/2` (`pair` gives
/// both; an odd last row takes `one`): two weight streams far apart. Streaming from DRAM, one
/// sequential stream leaves the memory system idle between misses; two distant streams keep
/// more lines in flight (110M Q8_0 decode 172 -> 197 tok/s, 15M F32 467 -> 492). Four
/// streams, or adjacent rows interleaved, were slower (benches/RESULTS.md).
#[inline(always)]
fn two_streams(
    rows: ChunksExact<'_, u8>,
    out: &mut [f32],
    mut pair: impl FnMut(&[u8], &[u8]) -> (f32, f32),
    mut one: impl FnMut(&[u8]) -> f32,
) {
    let half = out.len() / 2;
    let (out_a, out_b) = out.split_at_mut(half);
    let rows_b = rows.clone().skip(half);
    for ((oa, ra), (ob, rb)) in out_a
        .iter_mut()
        .zip(rows.clone())
        .zip(out_b.iter_mut().zip(rows_b))
    {
        (*oa, *ob) = pair(ra, rb);
    }
    if out_b.len() > out_a.len() {
        if let (Some(o), Some(row)) = (out_b.last_mut(), rows.last()) {
            *o = one(row);
        }
    }
}

/// [`dot_q8_row_offset`] of two rows in one pass: their 4-block steps interleaved, each row's
/// operations in the same order as alone, so each result is the same bit for bit. Rows or an
/// input with a 1–3-block tail take [`dot_q8_row_offset`] one by one.
///
/// # Safety
/// The CPU must have AVX512-VNNI and AVX512VL ([`vnni_available`]).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_q8_2rows_offset(wa: &[u8], wb: &[u8], xq: &[u8], pre: &[XGroup]) -> (f32, f32) {
    let (wa4, _) = wa.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let (wb4, _) = wb.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    let (x4, x_rest) = xq.as_chunks::<Q8_0_BLOCK_BYTES>().0.as_chunks::<4>();
    if !x_rest.is_empty() || wa4.len() != x4.len() || wb4.len() != x4.len() {
        // SAFETY: forwarded from the caller.
        return unsafe {
            (
                dot_q8_row_offset(wa, xq, pre),
                dot_q8_row_offset(wb, xq, pre),
            )
        };
    }
    let mut acc_a = _mm256_setzero_ps();
    let mut acc_b = _mm256_setzero_ps();
    for (((ga, gb), xg), p) in wa4.iter().zip(wb4).zip(x4).zip(pre) {
        // SAFETY: forwarded from the caller.
        acc_a = unsafe { q8_step_offset(ga, xg, p, acc_a) };
        // SAFETY: forwarded from the caller.
        acc_b = unsafe { q8_step_offset(gb, xg, p, acc_b) };
    }
    (hsum(acc_a), hsum(acc_b))
}

/// 4 f16 bit patterns as one little-endian i64 (lane `i` = `h_i`).
#[inline(always)]
fn pack4(h0: u16, h1: u16, h2: u16, h3: u16) -> i64 {
    (u64::from(h0) | u64::from(h1) << 16 | u64::from(h2) << 32 | u64::from(h3) << 48) as i64
}

/// 32 bytes as a vector.
#[target_feature(enable = "avx2,fma,f16c")]
fn load_i8x32(b: &[u8; 32]) -> __m256i {
    // SAFETY: `b` is exactly 32 readable bytes; `loadu` has no alignment requirement.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast::<__m256i>()) }
}

/// One row's dot product for `dtype` (the kernel of [`matvec`], so the two agree bit for bit).
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    match dtype {
        DType::F32 => dot_f32(row, x),
        DType::F16 => dot_f16(row, x),
        DType::Q8_0 => dot_q8_0_f32(row, x),
    }
}

/// `out[r] = dot(row r, x)` for every row.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    if dtype == DType::F32 {
        return two_streams(
            rows,
            out,
            |ra, rb| dot_f32_2rows(ra, rb, x),
            |row| dot_f32(row, x),
        );
    }
    for (o, row) in out.iter_mut().zip(rows) {
        *o = dot(dtype, row, x);
    }
}

/// `out[r] = Σ_b f32(Σ_j w_rbj · x_bj) · (d_w,rb · d_x,b)` for Q8_0 rows and a Q8_0 input
/// `xq` (ggml's `ggml_vec_dot_q8_0_q8_0` per row; kernel: [`dot_q8_row`]).
///
/// Precondition: every quant of `xq` is in `[-127, 127]` (always true for the output of
/// `quantize_row_q8_0`, which rounds `x · 127 / max|x|`); weight quants may be any i8,
/// including -128. Then every integer block sum is exact. A -128 in `xq` gives an
/// unspecified (finite for finite scales) result, never UB.
///
/// Tier: `vpdpbusd` ([`block_isum_vnni`]) if [`vnni_available`], else AVX2
/// ([`block_isum_sign`]); the integer sums, hence the results, are the same bit for bit.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    if vnni_available() {
        // SAFETY: `vnni_available()` just confirmed AVX512-VNNI + AVX512VL.
        unsafe { matvec_q8_vnni(rows, xq, out) };
    } else {
        // One stream here: two streams (as the VNNI tier) made 110M Q8_0 decode 1.16x faster
        // but 15M (in cache) 0.88x with the sign-trick step (benches/RESULTS.md).
        for (o, row) in out.iter_mut().zip(rows) {
            // SAFETY: the AVX2 tier needs no feature beyond this function's.
            *o = unsafe { dot_q8_row::<false>(row, xq) };
        }
    }
}

/// `Q8_0 × Q8_0` dot of row `a` with input `b` (the kernel of [`matvec_q8`], same tier, bit
/// for bit; same precondition on `b`).
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    if vnni_available() {
        // SAFETY: `vnni_available()` just confirmed AVX512-VNNI + AVX512VL.
        unsafe { dot_q8_row::<true>(a, b) }
    } else {
        // SAFETY: the AVX2 tier needs no feature beyond this function's.
        unsafe { dot_q8_row::<false>(a, b) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// LCG bytes for the randomised cases.
    struct Rng(u64);
    impl Rng {
        fn byte(&mut self) -> u8 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 56) as u8
        }
    }

    /// `nb` blocks with f16 scale 1.0 and quants from `q(block, index)`.
    fn row(nb: usize, mut q: impl FnMut(usize, usize) -> u8) -> Vec<u8> {
        let mut v = Vec::new();
        for b in 0..nb {
            v.extend_from_slice(&0x3c00u16.to_le_bytes());
            v.extend((0..QK8_0).map(|j| q(b, j)));
        }
        v
    }

    fn exact(w: &[u8], x: &[u8]) -> i64 {
        w.chunks_exact(Q8_0_BLOCK_BYTES)
            .zip(x.chunks_exact(Q8_0_BLOCK_BYTES))
            .flat_map(|(a, b)| a[2..].iter().zip(&b[2..]))
            .map(|(&p, &q)| i64::from(p as i8) * i64::from(q as i8))
            .sum()
    }

    /// The offset kernel (precomputed groups) is exact for every i8 activation, -128 included
    /// (outside the documented precondition, which the sign-trick kernels need).
    #[test]
    fn vnni_offset_kernel_exact_with_minus_128_activations() {
        if !(available() && vnni_available()) {
            return;
        }
        for nb in [4, 8, 13] {
            for (w, x) in [
                (row(nb, |_, _| 0x80), row(nb, |_, _| 0x80)),
                (row(nb, |_, _| 127), row(nb, |_, _| 0x80)),
                (
                    row(nb, |b, j| (b * 7 + j * 13) as u8),
                    row(nb, |_, j| if j % 3 == 0 { 0x80 } else { 127 }),
                ),
            ] {
                let e = exact(&w, &x);
                let mut out = [0.0f32];
                // SAFETY: `vnni_available()` holds (checked above).
                unsafe { matvec_q8_vnni(w.chunks_exact(w.len()), &x, &mut out) };
                if nb % 4 == 0 {
                    assert_eq!(out[0], e as f32, "nb={nb}");
                }
            }
        }
    }

    /// The `vpdpbusd` tiers (per-row and matvec) against the AVX2 tier (bit for bit) and the
    /// exact integer sum (unit scales, where |sum| < 2^24), every 4-block tail, -128 weights against ±127 activations.
    #[test]
    fn vnni_tier_matches_avx2_tier_and_exact_sums() {
        if !(available() && vnni_available()) {
            std::println!("no AVX512-VNNI + AVX512VL: VNNI tier not tested here");
            return;
        }
        let mut rng = Rng(11);
        // up to 14 blocks: every tail; 4·MAX + 3 and 4·MAX + 5: the largest input with
        // precomputed groups, and the first without (per-row kernel)
        for nb in (1..=14).chain([4 * MAX_X_GROUPS + 3, 4 * MAX_X_GROUPS + 5]) {
            let cases = [
                // all -128 weights, alternating ±127 activations (largest lane magnitude)
                (
                    row(nb, |_, _| 0x80),
                    row(nb, |b, j| if (b + j / 4) % 2 == 0 { 127 } else { 0x81 }),
                ),
                (row(nb, |_, _| 0x80), row(nb, |_, _| 0x81)),
                (row(nb, |_, _| 0x80), row(nb, |_, _| 127)),
                (row(nb, |_, _| 127), row(nb, |_, _| 0x81)),
                // random weights over all of i8, random activations in [-127, 127]
                (
                    row(nb, |_, _| rng.byte()),
                    row(nb, |_, _| match rng.byte() {
                        0x80 => 0x81,
                        v => v,
                    }),
                ),
            ];
            for (w, x) in &cases {
                let e = exact(w, x);
                // SAFETY: `available()` and `vnni_available()` hold (checked above).
                let (v, a) = unsafe { (dot_q8_row::<true>(w, x), dot_q8_row::<false>(w, x)) };
                assert_eq!(v.to_bits(), a.to_bits(), "nb={nb}");
                if e.unsigned_abs() < 1 << 24 {
                    assert_eq!(v, e as f32, "nb={nb}");
                }
                // the matvec (offset kernel with precomputed groups), 3 equal rows
                let rows: Vec<u8> = w.iter().chain(w).chain(w).copied().collect();
                let mut out = [0.0f32; 3];
                // SAFETY: as above.
                unsafe { matvec_q8_vnni(rows.chunks_exact(w.len()), x, &mut out) };
                for o in out {
                    assert_eq!(o.to_bits(), a.to_bits(), "nb={nb}");
                }
            }
        }
    }

    /// The two-stream VNNI matvec equals the one-row kernel bit for bit for every row count
    /// (odd ones leave a last row) and block tail, with distinct random rows and random f16
    /// scales.
    #[test]
    fn two_stream_matvec_equals_row_by_row() {
        if !(available() && vnni_available()) {
            return;
        }
        let mut rng = Rng(5);
        for nb in [1, 3, 4, 5, 8, 13] {
            for n_rows in 1..=9 {
                let mut one = || -> Vec<u8> {
                    let mut r = row(nb, |_, _| rng.byte());
                    for b in r.chunks_exact_mut(Q8_0_BLOCK_BYTES) {
                        // finite f16 scales in [2^-8, 2): exponent 7..15
                        let e = 7 + u16::from(rng.byte() % 9);
                        let m = u16::from(rng.byte()) << 2;
                        b[..2].copy_from_slice(&((e << 10) | m).to_le_bytes());
                    }
                    r
                };
                let rows: Vec<u8> = (0..n_rows).flat_map(|_| one()).collect();
                let mut x = one();
                for q in x
                    .chunks_exact_mut(Q8_0_BLOCK_BYTES)
                    .flat_map(|b| b[2..].iter_mut())
                {
                    if *q == 0x80 {
                        *q = 0x81; // the AVX2 precondition
                    }
                }
                let stride = nb * Q8_0_BLOCK_BYTES;
                // SAFETY: `available()` holds (checked above).
                let want: Vec<f32> = rows
                    .chunks_exact(stride)
                    .map(|r| unsafe { dot_q8_row::<false>(r, &x) })
                    .collect();
                let mut got = std::vec![f32::NAN; n_rows];
                // SAFETY: `vnni_available()` holds (checked above).
                unsafe { matvec_q8_vnni(rows.chunks_exact(stride), &x, &mut got) };
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g.to_bits(), w.to_bits(), "vnni nb={nb} rows={n_rows}");
                }
            }
        }
    }

    /// The two-stream F32 matvec equals [`dot_f32`] row by row, bit for bit, for every row
    /// count and column counts covering each tail (32-chunks, 8-chunks, scalar).
    #[test]
    fn two_stream_f32_matvec_equals_row_by_row() {
        if !available() {
            return;
        }
        let mut rng = Rng(9);
        let mut f = || f32::from(rng.byte() as i8) / 37.0;
        for cols in [1, 7, 8, 31, 32, 33, 64, 71, 288] {
            let x: Vec<f32> = (0..cols).map(|_| f()).collect();
            for n_rows in 1..=9 {
                let rows: Vec<u8> = (0..n_rows * cols).flat_map(|_| f().to_le_bytes()).collect();
                let mut got = std::vec![f32::NAN; n_rows];
                // SAFETY: `available()` holds (checked above).
                unsafe { matvec(DType::F32, rows.chunks_exact(4 * cols), &x, &mut got) };
                for (g, r) in got.iter().zip(rows.chunks_exact(4 * cols)) {
                    // SAFETY: as above.
                    let want = unsafe { dot_f32(r, &x) };
                    assert_eq!(g.to_bits(), want.to_bits(), "cols={cols} rows={n_rows}");
                }
            }
        }
    }
}

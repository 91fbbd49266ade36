//! x86-64 AVX2 + FMA + F16C row kernels (host builds with the `std` feature; selected at run
//! time by [`available`]). Each is checked against the scalar path in `tests/quant_simd.rs`.
//!
//! The functions are safe `#[target_feature]` functions: calling them requires the features,
//! which [`available`] establishes. Every load reads a fixed-size chunk obtained from
//! `as_chunks`, so no pointer leaves its slice.

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

/// Sign-extends 16 i8 (16 bytes) to i16.
#[target_feature(enable = "avx2,fma,f16c")]
fn load_i8x16(b: &[u8; 16]) -> __m256i {
    // SAFETY: `b` is exactly 16 readable bytes; `loadu` has no alignment requirement.
    _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(b.as_ptr().cast::<__m128i>()) })
}

/// The two halves of a 32-byte array (the fallback arm is unreachable and folds away).
#[inline(always)]
fn halves(a: &[u8; 32]) -> (&[u8; 16], &[u8; 16]) {
    match a.as_chunks::<16>() {
        ([lo, hi], []) => (lo, hi),
        _ => (&[0; 16], &[0; 16]),
    }
}

/// The two halves of a 16-float array (the fallback arm is unreachable and folds away).
#[inline(always)]
fn halves_f32(a: &[f32; 16]) -> (&[f32; 8], &[f32; 8]) {
    match a.as_chunks::<8>() {
        ([lo, hi], []) => (lo, hi),
        _ => (&[0.0; 8], &[0.0; 8]),
    }
}

/// Rows per pass of the multi-row kernels ([`matvec`], [`matvec_q8`]): each load of `x` is
/// shared by this many rows.
const ROWS: usize = 4;

/// Generates `$name<R>(rows, x) -> [f32; R]`: `Σ_c rows[r][c]·x[c]` for `R` rows of one float
/// type at once, sharing every 8-lane load of `x` between the rows.
///
/// Per row the arithmetic does not depend on `R` (so [`dot`] = the 1-row instance agrees bit
/// for bit with [`matvec`]): 8-column chunk `c` is FMA'd into accumulator `c % 2` (two
/// independent chains per row, 8 with `R = 4`: enough to cover the FMA latency), then
/// `hsum(acc0 + acc1)` plus the `< 8` leftover columns summed in order in scalar f32.
/// The shorter of `x` and each row bounds the work.
macro_rules! float_rows {
    ($name:ident, $bytes:literal, $load:ident, $scalar:expr) => {
        #[target_feature(enable = "avx2,fma,f16c")]
        fn $name<const R: usize>(rows: [&[u8]; R], x: &[f32]) -> [f32; R] {
            // common length in elements
            let n = rows
                .iter()
                .fold(x.len(), |n, r| n.min(r.len() / ($bytes / 8)));
            let x = x.get(..n).unwrap_or(x);
            let (x16, x_rest) = x.as_chunks::<16>();
            let (x8, x_tail) = x_rest.as_chunks::<8>();
            // every row cut to exactly `x16.len()` chunks, so the indexing below is in bounds
            // (and the compiler sees it: no checks in the loop)
            let n16 = x16.len();
            let mut w16: [&[[u8; 2 * $bytes]]; R] = [&[]; R];
            for (w, r) in w16.iter_mut().zip(rows) {
                *w = r.as_chunks::<{ 2 * $bytes }>().0.get(..n16).unwrap_or(&[]);
            }
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for (i, xv) in x16.iter().enumerate() {
                // (no closures here: they would not inherit the target features)
                let (xa, xb) = halves_f32(xv);
                let (xa, xb) = (load_f32x8(xa), load_f32x8(xb));
                for (a, w) in acc.iter_mut().zip(&w16) {
                    if let Some(w) = w.get(i) {
                        let (wa, wb) = match w.as_chunks::<$bytes>() {
                            ([a, b], []) => (a, b),
                            _ => (&[0; $bytes], &[0; $bytes]),
                        };
                        a[0] = _mm256_fmadd_ps($load(wa), xa, a[0]);
                        a[1] = _mm256_fmadd_ps($load(wb), xb, a[1]);
                    }
                }
            }
            // at most one 8-column chunk is left: chunk index is even, so accumulator 0
            let off = x16.len() * 2 * $bytes;
            let mut out = [0.0f32; R];
            for ((o, a), row) in out.iter_mut().zip(&acc).zip(rows) {
                let rest = row.get(off..).unwrap_or(&[]);
                let mut a0 = a[0];
                for (w, xv) in rest.as_chunks::<$bytes>().0.iter().zip(x8) {
                    a0 = _mm256_fmadd_ps($load(w), load_f32x8(xv), a0);
                }
                let w_tail = rest.get(x8.len() * $bytes..).unwrap_or(&[]);
                let mut tail = 0.0f32;
                for (w, &v) in w_tail.as_chunks::<{ $bytes / 8 }>().0.iter().zip(x_tail) {
                    tail += $scalar(w) * v;
                }
                *o = hsum(_mm256_add_ps(a0, a[1])) + tail;
            }
            out
        }
    };
}

float_rows!(rows_f32, 32, load_f32x8_bytes, |w: &[u8; 4]| {
    f32::from_le_bytes(*w)
});
float_rows!(rows_f16, 16, load_f16x8, |w: &[u8; 2]| super::f16_to_f32(
    u16::from_le_bytes(*w)
));

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

/// `Σ_b d_b · Σ_j q_bj · x[32b + j]`, Q8_0 row × f32 `x`: each 8-quant chunk is widened to
/// f32 and scaled by `d_b` (exact: an 11-bit significand times an integer of at most 8 bits),
/// then FMA'd into one of 4 independent accumulators (chunk `j` of each block into `acc[j]`).
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_q8_0_f32(row: &[u8], x: &[f32]) -> f32 {
    let blocks = row.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let xs = x.as_chunks::<QK8_0>().0;
    let mut acc = [_mm256_setzero_ps(); 4];
    for (block, xb) in blocks.iter().zip(xs) {
        let (d, qs) = block_parts(block);
        let d = f16c_splat(d);
        let (q8, x8) = (qs.as_chunks::<8>().0, xb.as_chunks::<8>().0);
        for ((a, q), v) in acc.iter_mut().zip(q8).zip(x8) {
            *a = _mm256_fmadd_ps(_mm256_mul_ps(load_i8x8(q), d), load_f32x8(v), *a);
        }
    }
    hsum(_mm256_add_ps(
        _mm256_add_ps(acc[0], acc[1]),
        _mm256_add_ps(acc[2], acc[3]),
    ))
}

/// `Σ_j w_j · x_j` of one block pair as 8 i32 lanes, exact for every i8 on both sides:
/// both operands are sign-extended to i16 (`vpmovsxbw`) and multiplied pairwise into i32
/// (`vpmaddwd`; the worst pair, `2 · (-128)²`, fits easily). `xlo`/`xhi` = `x` already widened.
#[target_feature(enable = "avx2,fma,f16c")]
fn block_isum_wide(w: &[u8; QK8_0], xlo: __m256i, xhi: __m256i) -> __m256i {
    let (wlo, whi) = halves(w);
    _mm256_add_epi32(
        _mm256_madd_epi16(load_i8x16(wlo), xlo),
        _mm256_madd_epi16(load_i8x16(whi), xhi),
    )
}

/// `Σ_j w_j · x_j` of one block pair as 8 i32 lanes with ggml's `vpmaddubsw` trick:
/// `maddubs(|w|, x·sign(w))` then `madd(·, 1)`. Exact only if no `x_j` is -128 (see
/// [`matvec_q8`]).
#[target_feature(enable = "avx2,fma,f16c")]
fn block_isum_sign(w: &[u8; QK8_0], x: __m256i) -> __m256i {
    // SAFETY: `w` is exactly 32 readable bytes; `loadu` has no alignment requirement.
    let w = unsafe { _mm256_loadu_si256(w.as_ptr().cast::<__m256i>()) };
    let p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    _mm256_madd_epi16(p, _mm256_set1_epi16(1))
}

/// Which integer block kernel [`rows_q8`] uses (both kept while measuring).
const Q8_SIGN_TRICK: bool = false;

/// `[Σ_b f32(Σ_j w_rj · x_j) · (d_w,rb · d_x,b)]` for 4 Q8_0 rows against one Q8_0 `xq`.
///
/// Per block: `x` is loaded (and widened) once for the 4 rows; the 4 rows' 8-lane i32 block
/// sums are reduced with unpack+add to one vector `[S0lo S1lo S2lo S3lo | S0hi … S3hi]`
/// (each an exact i32 sum of 16 products, `|S| ≤ 2^18`, so exact in f32 too), which is
/// FMA'd with the 4 rows' block scales `f32(d_w) · f32(d_x)` (F16C, one f32 multiply, as the
/// scalar path) into a single accumulator. Row `r` = `acc[r] + acc[r + 4]`. A row's result
/// does not depend on the other 3 rows, so shorter row sets pass a row repeatedly.
/// The shortest of `xq` and the rows bounds the work.
#[target_feature(enable = "avx2,fma,f16c")]
fn rows_q8(rows: [&[u8]; ROWS], xq: &[u8]) -> [f32; ROWS] {
    let xb = xq.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let [w0, w1, w2, w3] = rows.map(|r| r.as_chunks::<Q8_0_BLOCK_BYTES>().0.iter());
    let mut acc = _mm256_setzero_ps();
    for ((((xblk, b0), b1), b2), b3) in xb.iter().zip(w0).zip(w1).zip(w2).zip(w3) {
        let (dx, xs) = block_parts(xblk);
        let (d0, q0) = block_parts(b0);
        let (d1, q1) = block_parts(b1);
        let (d2, q2) = block_parts(b2);
        let (d3, q3) = block_parts(b3);
        let [s0, s1, s2, s3] = if Q8_SIGN_TRICK {
            // SAFETY: `xs` is exactly 32 readable bytes; `loadu` has no alignment requirement.
            let xv = unsafe { _mm256_loadu_si256(xs.as_ptr().cast::<__m256i>()) };
            [
                block_isum_sign(q0, xv),
                block_isum_sign(q1, xv),
                block_isum_sign(q2, xv),
                block_isum_sign(q3, xv),
            ]
        } else {
            let (xlo, xhi) = halves(xs);
            let (xlo, xhi) = (load_i8x16(xlo), load_i8x16(xhi));
            [
                block_isum_wide(q0, xlo, xhi),
                block_isum_wide(q1, xlo, xhi),
                block_isum_wide(q2, xlo, xhi),
                block_isum_wide(q3, xlo, xhi),
            ]
        };
        // [s0_0+s0_2, s1_0+s1_2, s0_1+s0_3, s1_1+s1_3 | same for lanes 4..8]
        let p = _mm256_add_epi32(_mm256_unpacklo_epi32(s0, s1), _mm256_unpackhi_epi32(s0, s1));
        let q = _mm256_add_epi32(_mm256_unpacklo_epi32(s2, s3), _mm256_unpackhi_epi32(s2, s3));
        // [S0lo, S1lo, S2lo, S3lo | S0hi, S1hi, S2hi, S3hi]
        let t = _mm256_add_epi32(_mm256_unpacklo_epi64(p, q), _mm256_unpackhi_epi64(p, q));
        let dw = u64::from(d0) | u64::from(d1) << 16 | u64::from(d2) << 32 | u64::from(d3) << 48;
        let dw = _mm256_cvtph_ps(_mm_set1_epi64x(dw as i64));
        let dx = _mm256_cvtph_ps(_mm_set1_epi16(dx as i16));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(t), acc);
    }
    let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    let mut out = [0.0f32; ROWS];
    // SAFETY: `out` is exactly 4 writable f32; `storeu` has no alignment requirement.
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), s) };
    out
}

/// One row's dot product for `dtype` (the 1-row case of [`matvec`], bit for bit).
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    match dtype {
        DType::F32 => rows_f32([row], x)[0],
        DType::F16 => rows_f16([row], x)[0],
        DType::Q8_0 => dot_q8_0_f32(row, x),
    }
}

/// `out[r] = Σ_c W[r][c]·x[c]` for every row; F32 and F16 rows [`ROWS`] at a time sharing
/// each load of `x` (per-row arithmetic as in [`dot`]); Q8_0 × f32 one row at a time.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn matvec(dtype: DType, mut rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    if dtype == DType::Q8_0 {
        for (o, row) in out.iter_mut().zip(rows) {
            *o = dot_q8_0_f32(row, x);
        }
        return;
    }
    let (out4, out_tail) = out.as_chunks_mut::<ROWS>();
    for o in out4 {
        let (Some(r0), Some(r1), Some(r2), Some(r3)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            return;
        };
        let r = [r0, r1, r2, r3];
        *o = if dtype == DType::F16 {
            rows_f16(r, x)
        } else {
            rows_f32(r, x)
        };
    }
    for (o, row) in out_tail.iter_mut().zip(rows) {
        *o = dot(dtype, row, x);
    }
}

/// `out[r] = Σ_b f32(Σ_j w_rbj · x_bj) · (d_w,rb · d_x,b)` (Q8_0 rows × Q8_0 `xq`), 4 rows
/// per pass sharing each block of `xq` (the last 1–3 rows in a pass of their own).
///
/// Integer block sums are exact for every i8 weight and activation (including -128).
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn matvec_q8(mut rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    let (out4, out_tail) = out.as_chunks_mut::<ROWS>();
    for o in out4 {
        let (Some(r0), Some(r1), Some(r2), Some(r3)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            return;
        };
        *o = rows_q8([r0, r1, r2, r3], xq);
    }
    // 1–3 rows left: one pass with the last row repeated (per-row results are independent)
    let mut tail = [&[][..]; ROWS];
    let mut k = 0;
    for (t, row) in tail.iter_mut().zip(rows.by_ref()) {
        *t = row;
        k += 1;
    }
    if k == 0 || out_tail.is_empty() {
        return;
    }
    let last = tail.get(k - 1).copied().unwrap_or(&[]);
    for t in tail.iter_mut().skip(k) {
        *t = last;
    }
    let v = rows_q8(tail, xq);
    for (o, v) in out_tail.iter_mut().zip(v) {
        *o = v;
    }
}

/// `Q8_0 × Q8_0` dot of two rows (the 1-row case of [`matvec_q8`], bit for bit).
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    rows_q8([a; ROWS], b)[0]
}

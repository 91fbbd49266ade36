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
    let (r8s, r_tail) = r_rest.as_chunks::<32>();
    let (x8s, x_tail) = x_rest.as_chunks::<8>();
    let mut a0 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    for (r8, v8) in r8s.iter().zip(x8s) {
        a0 = _mm256_fmadd_ps(load_f32x8_bytes(r8), load_f32x8(v8), a0);
    }
    let mut tail = 0.0f32;
    for (w, &v) in r_tail.as_chunks::<4>().0.iter().zip(x_tail) {
        tail += f32::from_le_bytes(*w) * v;
    }
    hsum(a0) + tail
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
    let mut tail = 0.0f32;
    for (w, &v) in r_tail.as_chunks::<2>().0.iter().zip(x_tail) {
        tail += super::f16_to_f32(u16::from_le_bytes(*w)) * v;
    }
    hsum(a0) + tail
}

/// Splits a block into its scale (converted with F16C, exact) and its 32 quants.
#[target_feature(enable = "avx2,fma,f16c")]
fn parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (f32, &[u8; QK8_0]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[][..]), |p| p);
    let qs: &[u8; QK8_0] = qs.try_into().unwrap_or(&[0u8; QK8_0]);
    let d = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(u16::from_le_bytes(*d))));
    (_mm_cvtss_f32(d), qs)
}

/// `Σ_b d_b · Σ_j q_bj · x[32b + j]`: i8 widened to f32, FMA per block, scale by FMA.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_q8_0_f32(row: &[u8], x: &[f32]) -> f32 {
    let blocks = row.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let xs = x.as_chunks::<QK8_0>().0;
    let mut acc = _mm256_setzero_ps();
    for (block, xb) in blocks.iter().zip(xs) {
        let (d, qs) = parts(block);
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
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_add_ps(s0, s1), acc);
    }
    hsum(acc)
}

/// `Σ_b (d_a·d_b) · Σ_j qa·qb`: exact i16 products summed in i32 (`madd`), any i8 value.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_q8_0_q8_0(a: &[u8], b: &[u8]) -> f32 {
    let ab = a.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let bb = b.as_chunks::<Q8_0_BLOCK_BYTES>().0;
    let mut acc = [_mm256_setzero_ps(); 2];
    for (i, (ba, bb)) in ab.iter().zip(bb).enumerate() {
        let (da, qa) = parts(ba);
        let (db, qb) = parts(bb);
        let (qa, qb) = (qa.as_chunks::<16>().0, qb.as_chunks::<16>().0);
        let mut sumi = _mm256_setzero_si256();
        for (x, y) in qa.iter().zip(qb) {
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(load_i8x16(x), load_i8x16(y)));
        }
        // two independent accumulators (alternating blocks) halve the FMA latency chain
        let a = &mut acc[i % 2];
        *a = _mm256_fmadd_ps(_mm256_set1_ps(da * db), _mm256_cvtepi32_ps(sumi), *a);
    }
    hsum(_mm256_add_ps(acc[0], acc[1]))
}

/// One row's dot product for `dtype`.
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
    for (o, row) in out.iter_mut().zip(rows) {
        *o = dot(dtype, row, x);
    }
}

/// `out[r] = dot_q8(row r, xq)` for every row.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(rows) {
        *o = dot_q8_0_q8_0(row, xq);
    }
}

/// `Q8_0 × Q8_0` dot of two rows.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
    dot_q8_0_q8_0(a, b)
}

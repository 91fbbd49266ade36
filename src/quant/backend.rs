//! Kernel dispatch: the portable scalar path, or a SIMD path chosen at run time.
//!
//! - Always: the scalar row kernels (`row.rs`, `q8_0.rs`), the reference for every SIMD path.
//! - x86-64 with the `std` feature: AVX2 + FMA + F16C (`x86.rs`) when the CPU has them.
//!
//! [`Matrix::dot_row`](super::Matrix::dot_row) and `ops::matvec` use the same dispatch, so
//! they agree bit for bit on any one machine.

use core::slice::ChunksExact;

use super::{q8_0, row, DType};

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use super::x86;

/// Name of the row-kernel implementation in use: `"avx2+fma+f16c"` or `"scalar"`.
pub fn simd_backend() -> &'static str {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() {
        return "avx2+fma+f16c";
    }
    "scalar"
}

/// One row's dot product with `x`.
#[inline]
pub(crate) fn dot(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() {
        // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
        return unsafe { x86::dot(dtype, row, x) };
    }
    row::dot(dtype, row, x)
}

/// `out[r] = dot(row r, x)`.
#[inline]
pub(crate) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() {
        // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
        return unsafe { x86::matvec(dtype, rows, x, out) };
    }
    for (o, r) in out.iter_mut().zip(rows) {
        *o = row::dot(dtype, r, x);
    }
}

/// `out[r] = Q8_0 dot(row r, xq)`.
#[inline]
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() {
        // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
        return unsafe { x86::matvec_q8(rows, xq, out) };
    }
    for (o, r) in out.iter_mut().zip(rows) {
        *o = q8_0::dot_blocks_q8(r, xq);
    }
}

/// Direct access to each implementation, for the SIMD-vs-scalar tests (`tests/quant_simd.rs`).
/// Lengths are not checked (the shorter input bounds the work). Not a stable API.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// Scalar row dot product.
    pub fn dot_scalar(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
        row::dot(dtype, row, x)
    }

    /// SIMD row dot product, `None` if no SIMD path exists on this build/CPU.
    pub fn dot_simd(dtype: DType, row: &[u8], x: &[f32]) -> Option<f32> {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return Some(unsafe { x86::dot(dtype, row, x) });
        }
        let _ = (dtype, row, x);
        None
    }

    /// Scalar `Q8_0 × Q8_0` dot product.
    pub fn dot_q8_scalar(a: &[u8], b: &[u8]) -> f32 {
        q8_0::dot_blocks_q8(a, b)
    }

    /// SIMD `Q8_0 × Q8_0` dot product, `None` if no SIMD path exists on this build/CPU.
    pub fn dot_q8_simd(a: &[u8], b: &[u8]) -> Option<f32> {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return Some(unsafe { x86::dot_q8(a, b) });
        }
        let _ = (a, b);
        None
    }
}

//! Weight storage formats in ggml's layout and their row-level kernels.
//!
//! - [`DType`]: the element types the crate reads (`F32`, `F16`, `Q8_0`, ggml type ids 0, 1, 8).
//! - [`Matrix`]: a checked, zero-copy, row-major view over raw little-endian weight bytes.
//! - [`q8_0`]: ggml's 34-byte `Q8_0` block (f16 scale + 32 × i8) — reference quantiser,
//!   dequantiser and dot products.
//!
//! Views carry no alignment requirement: every element is read with `from_le_bytes` (or an
//! unaligned SIMD load), so weights can sit at any offset of a GGUF file in flash or an mmap.
//!
//! Row kernels: a portable scalar path everywhere; AVX2 + FMA + F16C on x86-64 under `std`
//! (runtime-detected, AVX512-VNNI for `Q8_0 × Q8_0` where present); NEON on aarch64
//! (compile-time `target_feature = "neon"`); `SMLAD`, `VLDM`/`VMLA` and `VCVTB` on Arm cores
//! with the DSP extension and Helium (MVE) on Cortex-M55/M85 (compile-time, see `build.rs`).
//! Each SIMD path is tested against the scalar one; [`simd_backend`] names the one in use.

mod backend;
#[cfg(all(target_arch = "arm", picoformer_arm_dsp))]
#[cfg_attr(picoformer_arm_mve, allow(dead_code))] // its Q8_0 kernel is replaced by `helium`
mod dsp;
mod dtype;
mod f16;
#[cfg(all(target_arch = "arm", picoformer_arm_mve))]
mod helium;
mod matrix;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod neon;
pub mod q8_0;
mod row;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

pub use backend::simd_backend;
#[doc(hidden)]
pub use backend::testing;
pub(crate) use backend::{dot as row_dot, matvec as matvec_rows, matvec_q8 as matvec_rows_q8};

/// `Σ_c v[c] · x[c]` over `x.len()` binary16 values `v` packed two per word (low half first),
/// in [`row::dot_f16`]'s order, through the Arm DSP builds' `VCVTB` kernel; `None` on other
/// builds (and when the words hold fewer than `x.len()` values): the caller's portable code,
/// in the same order, is the path there. For the F16 KV cache.
#[inline]
pub(crate) fn dot_f16_words(words: &[u32], x: &[f32]) -> Option<f32> {
    #[cfg(all(target_arch = "arm", picoformer_arm_dsp))]
    {
        let n = x.len().checked_mul(2).filter(|&n| n <= 4 * words.len())?;
        // SAFETY: `words` is initialised u32 storage of `4 · words.len() ≥ n` bytes, viewed as
        // `n` bytes (u8 has no invalid values and alignment 1) for the borrow of `words`.
        let bytes = unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), n) };
        Some(dsp::dot_f16(bytes, x))
    }
    #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
    {
        let _ = (words, x);
        None
    }
}

/// `out[c] += weight · v[c]` for binary16 values `v` packed two per word (low half first),
/// through the Arm DSP builds' `VCVTB` kernel for the first multiple of 8 values; returns how
/// many it did (0 on other builds), the caller's portable code does the rest. For the F16 KV
/// cache.
#[inline]
pub(crate) fn axpy_f16_words(words: &[u32], weight: f32, out: &mut [f32]) -> usize {
    #[cfg(all(target_arch = "arm", picoformer_arm_dsp))]
    {
        dsp::axpy_f16_words(words, weight, out)
    }
    #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
    {
        let _ = (words, weight, out);
        0
    }
}

pub use dtype::DType;
pub use f16::f16_to_f32;
pub use matrix::Matrix;
pub use q8_0::{dequantize_row_q8_0, q8_0_row_bytes, quantize_row_q8_0, Q8_0_BLOCK_BYTES, QK8_0};

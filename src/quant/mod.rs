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
//! (runtime-detected); NEON on aarch64 (compile-time `target_feature = "neon"`); `SMLAD` for
//! `Q8_0 × Q8_0` on Arm cores with the DSP extension (compile-time, see `build.rs`). Each SIMD
//! path is tested against the scalar one; [`simd_backend`] names the one in use.

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

pub use dtype::DType;
pub use f16::f16_to_f32;
pub use matrix::Matrix;
pub use q8_0::{dequantize_row_q8_0, q8_0_row_bytes, quantize_row_q8_0, Q8_0_BLOCK_BYTES, QK8_0};

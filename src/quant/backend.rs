//! Kernel dispatch: the portable scalar path, or a SIMD path.
//!
//! - Always available: the scalar row kernels (`row.rs`, `q8_0.rs`), the reference for every
//!   SIMD path.
//! - x86-64 with the `std` feature: AVX2 + FMA + F16C (`x86.rs`), chosen at run time when the
//!   CPU has them.
//! - aarch64 with `neon` (compile time): NEON (`neon.rs`) for every row kernel (`sdot` for
//!   `Q8_0 × Q8_0` with dotprod).
//! - Arm with the DSP extension (cfg `picoformer_arm_dsp`, set by `build.rs`; Cortex-M4/M7/M33):
//!   `SMLAD` for the `Q8_0 × Q8_0` products, `VLDM`/`VMLA` for F32 rows and `VCVTB`/`VMLA` for
//!   F16 rows, all in the scalar path's exact operation order (`dsp.rs`); `Q8_0 × f32` stays
//!   scalar.
//! - Arm with Helium (cfg `picoformer_arm_mve`, set by `build.rs`; Cortex-M55/M85, on top of
//!   the DSP cfg): MVE for every row kernel (`helium.rs`): `Q8_0 × Q8_0` four rows per pass in
//!   the scalar path's exact operation order; F32, F16 and `Q8_0 × f32` rows in the scalar
//!   lane order with exact conversions (bit-identical unless a product or partial sum is
//!   subnormal, which QEMU's MVE flushes).
//!
//! [`Matrix::dot_row`](super::Matrix::dot_row) and `ops::matvec` use the same dispatch, so
//! they agree bit for bit on any one machine.

use core::slice::ChunksExact;

use super::DType;

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod imp {
    pub(super) use super::super::neon::{dot, dot_q8, matvec, matvec_q8};

    pub(super) fn simd_backend() -> &'static str {
        "neon"
    }

    pub(super) fn has_simd() -> bool {
        true
    }
}

#[cfg(not(all(target_arch = "aarch64", target_feature = "neon")))]
mod imp {
    #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
    use super::super::q8_0;
    #[cfg(not(all(target_arch = "arm", picoformer_arm_mve)))]
    use super::super::row;
    use super::super::DType;
    use core::slice::ChunksExact;

    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    use super::super::x86;

    #[cfg(all(target_arch = "arm", picoformer_arm_dsp, not(picoformer_arm_mve)))]
    use super::super::dsp;
    #[cfg(all(target_arch = "arm", picoformer_arm_mve))]
    use super::super::helium;

    pub(super) fn has_simd() -> bool {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            return true;
        }
        cfg!(all(target_arch = "arm", picoformer_arm_dsp))
    }

    pub(super) fn simd_backend() -> &'static str {
        if cfg!(all(target_arch = "arm", picoformer_arm_mve)) {
            "arm-mve"
        } else if cfg!(all(target_arch = "arm", picoformer_arm_dsp)) {
            "arm-dsp"
        } else if has_simd() {
            "avx2+fma+f16c"
        } else {
            "scalar"
        }
    }

    #[inline]
    pub(super) fn dot(dtype: DType, r: &[u8], x: &[f32]) -> f32 {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return unsafe { x86::dot(dtype, r, x) };
        }
        #[cfg(all(target_arch = "arm", picoformer_arm_mve))]
        return match dtype {
            DType::F32 => helium::dot_f32(r, x),
            DType::F16 => helium::dot_f16(r, x),
            DType::Q8_0 => helium::dot_q8_f32(r, x),
        };
        #[cfg(all(target_arch = "arm", picoformer_arm_dsp, not(picoformer_arm_mve)))]
        match dtype {
            DType::F32 => return dsp::dot_f32(r, x),
            DType::F16 => return dsp::dot_f16(r, x),
            DType::Q8_0 => {}
        }
        #[cfg(not(all(target_arch = "arm", picoformer_arm_mve)))]
        row::dot(dtype, r, x)
    }

    #[inline]
    pub(super) fn dot_q8(a: &[u8], b: &[u8]) -> f32 {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return unsafe { x86::dot_q8(a, b) };
        }
        #[cfg(all(target_arch = "arm", picoformer_arm_mve))]
        let f = helium::dot_q8;
        #[cfg(all(target_arch = "arm", picoformer_arm_dsp, not(picoformer_arm_mve)))]
        let f = dsp::dot_q8;
        #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
        let f = q8_0::dot_blocks_q8;
        f(a, b)
    }

    #[inline]
    pub(super) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return unsafe { x86::matvec(dtype, rows, x, out) };
        }
        #[cfg(all(target_arch = "arm", picoformer_arm_mve))]
        match dtype {
            DType::F32 => helium::matvec_f32(rows, x, out),
            DType::F16 => helium::matvec_f16(rows, x, out),
            DType::Q8_0 => helium::matvec_q8_f32(rows, x, out),
        }
        // The dtype is matched once per matrix, not per row (through `dot` the F32 matvec on
        // M4F cost 1.515 instructions per MAC instead of 1.480).
        #[cfg(all(target_arch = "arm", picoformer_arm_dsp, not(picoformer_arm_mve)))]
        match dtype {
            DType::F32 => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = dsp::dot_f32(r, x);
                }
                return;
            }
            DType::F16 => {
                for (o, r) in out.iter_mut().zip(rows) {
                    *o = dsp::dot_f16(r, x);
                }
                return;
            }
            DType::Q8_0 => {}
        }
        #[cfg(not(all(target_arch = "arm", picoformer_arm_mve)))]
        for (o, r) in out.iter_mut().zip(rows) {
            *o = row::dot(dtype, r, x);
        }
    }

    #[inline]
    pub(super) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available() {
            // SAFETY: the CPU supports avx2, fma and f16c (checked just above).
            return unsafe { x86::matvec_q8(rows, xq, out) };
        }
        #[cfg(all(target_arch = "arm", picoformer_arm_mve))]
        helium::matvec_q8(rows, xq, out);
        #[cfg(all(target_arch = "arm", picoformer_arm_dsp, not(picoformer_arm_mve)))]
        dsp::matvec_q8(rows, xq, out);
        #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
        for (o, r) in out.iter_mut().zip(rows) {
            *o = q8_0::dot_blocks_q8(r, xq);
        }
    }
}

/// Name of the row-kernel implementation in use: `"avx2+fma+f16c"`, `"neon"`, `"arm-mve"`,
/// `"arm-dsp"` or `"scalar"`.
pub fn simd_backend() -> &'static str {
    imp::simd_backend()
}

/// One row's dot product with `x`.
#[inline]
pub(crate) fn dot(dtype: DType, row: &[u8], x: &[f32]) -> f32 {
    imp::dot(dtype, row, x)
}

/// `out[r] = dot(row r, x)`.
#[inline]
pub(crate) fn matvec(dtype: DType, rows: ChunksExact<'_, u8>, x: &[f32], out: &mut [f32]) {
    imp::matvec(dtype, rows, x, out)
}

/// `out[r] = Q8_0 dot(row r, xq)`.
#[inline]
pub(crate) fn matvec_q8(rows: ChunksExact<'_, u8>, xq: &[u8], out: &mut [f32]) {
    imp::matvec_q8(rows, xq, out)
}

/// Direct access to each implementation, for the SIMD-vs-scalar tests (`tests/quant_simd.rs`).
/// Lengths are not checked (the shorter input bounds the work). Not a stable API.
#[doc(hidden)]
pub mod testing {
    use super::super::{q8_0, row};
    use super::{imp, DType};

    /// Scalar row dot product.
    pub fn dot_scalar(dtype: DType, r: &[u8], x: &[f32]) -> f32 {
        row::dot(dtype, r, x)
    }

    /// SIMD row dot product, `None` if no SIMD path exists on this build/CPU.
    pub fn dot_simd(dtype: DType, r: &[u8], x: &[f32]) -> Option<f32> {
        imp::has_simd().then(|| imp::dot(dtype, r, x))
    }

    /// Scalar `Q8_0 × Q8_0` dot product.
    pub fn dot_q8_scalar(a: &[u8], b: &[u8]) -> f32 {
        q8_0::dot_blocks_q8(a, b)
    }

    /// SIMD `Q8_0 × Q8_0` dot product, `None` if no SIMD path exists on this build/CPU.
    pub fn dot_q8_simd(a: &[u8], b: &[u8]) -> Option<f32> {
        imp::has_simd().then(|| imp::dot_q8(a, b))
    }
}

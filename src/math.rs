//! Scalar math used by the kernels: `libm` by default, `micromath` under the `fast-math`
//! feature.
//!
//! All kernels call these functions instead of `f32` inherent methods, so host tests exercise
//! exactly the code that runs on the target (the crate is plain `#![no_std]`).
//!
//! Under `fast-math` the approximations are those of `micromath` 2.1; their maximum errors,
//! measured by `tests/math_error.rs` against `libm` over the ranges the kernels use, are listed
//! in that test's output and in `BENCHMARKS.md`.

/// `e^x`.
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::exp(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::expf(x)
    }
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::ln(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::logf(x)
    }
}

/// Square root.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::sqrt(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::sqrtf(x)
    }
}

/// `1 / sqrt(x)`.
#[inline]
pub fn rsqrt(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::invsqrt(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        1.0 / libm::sqrtf(x)
    }
}

/// Sine.
#[inline]
pub fn sin(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::sin(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::sinf(x)
    }
}

/// Cosine.
#[inline]
pub fn cos(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::cos(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::cosf(x)
    }
}

/// `x^y`.
#[inline]
pub fn powf(x: f32, y: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::powf(x, y)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        libm::powf(x, y)
    }
}

/// Hyperbolic tangent (always `libm`: micromath has none).
#[inline]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

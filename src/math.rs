//! Scalar math used by the kernels: `libm` by default (except `exp`, which is this module's
//! own faithfully rounded [`exp_poly`]), `micromath` under the `fast-math` feature.
//!
//! All kernels call these functions instead of `f32` inherent methods, so host tests exercise
//! exactly the code that runs on the target (the crate is plain `#![no_std]`).
//!
//! Under `fast-math` the approximations are those of `micromath` 2.1; their maximum errors,
//! measured by `tests/math_error.rs` against `libm` over the ranges the kernels use, are listed
//! in that test's output and in `BENCHMARKS.md`.

/// `e^x`.
///
/// Default build: [`exp_poly`] (faithfully rounded, no libm, inlined so loops over it
/// vectorise); under `fast-math`: micromath.
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::exp(x)
    }
    #[cfg(not(feature = "fast-math"))]
    {
        exp_poly(x)
    }
}

/// `e^x` in f32 arithmetic only, branch-free (the default [`exp`]).
///
/// `x` is clamped to `[-104, 89]` (outside, `e^x` rounds to 0 or overflows to `+inf` anyway),
/// then reduced as `x = n·ln 2 + r` with `n = round(x·log2 e)` and `|r| ≤ ln 2 / 2` (Cody–Waite:
/// `ln 2` split in `LN2_HI`, exact for `|n| < 512`, plus `LN2_LO`), and
/// `e^x = 2^n · (1 + r + r²·q(r))` with `q` of degree 4, fitted for minimal relative error on
/// `|r| ≤ ln 2 / 2` (3.1e-9; `tests/golden/math/fit_exp.py`). `2^n` is applied as
/// `2^⌊n/2⌋ · 2^(n-⌊n/2⌋)`, two normal powers, so subnormal results round once.
///
/// Error, measured over every f32 in `[-104, 89]` against f64 `exp`: **at most 0.989 ulp**
/// (faithful rounding; `fit_exp.py`, and `tests/math_error.rs`'s `exp_exhaustive`). libm's
/// `expf` is also below 1 ulp but branches and divides: in a 110M decode `exp` (SiLU and the
/// attention softmax) took 5 % of the time with libm. NaN → NaN, `+inf` → `+inf`, `-inf` → 0.
///
/// ```
/// let e = picoformer::math::exp_poly(1.0);
/// assert!((e - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(picoformer::math::exp_poly(-200.0), 0.0);
/// assert_eq!(picoformer::math::exp_poly(100.0), f32::INFINITY);
/// assert!(picoformer::math::exp_poly(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp_poly(x: f32) -> f32 {
    const LN2_HI: f32 = f32::from_bits(0x3f31_7200); // 0.693145751953125: 15 significant bits
    const LN2_LO: f32 = f32::from_bits(0x35bf_be8e); // ln 2 - LN2_HI
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: (t + ROUND) - ROUND rounds t to an integer
    const C2: f32 = f32::from_bits(0x3eff_fffe);
    const C3: f32 = f32::from_bits(0x3e2a_aa49);
    const C4: f32 = f32::from_bits(0x3d2a_ac79);
    const C5: f32 = f32::from_bits(0x3c09_1cea);
    const C6: f32 = f32::from_bits(0x3ab5_1228);
    let x = x.clamp(-104.0, 89.0); // NaN stays NaN
    let n = (x * core::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let q = (((C6 * r + C5) * r + C4) * r + C3) * r + C2;
    let p = 1.0 + (r + (r * r) * q);
    // n is in [-150, 129] (NaN casts to 0), so both halves are in [-75, 65]: normal powers of 2
    let k = n as i32;
    let k1 = k >> 1;
    p * pow2(k1) * pow2(k - k1)
}

/// `2^k` for `k` in `[-126, 127]`, built from its exponent bits.
#[inline(always)]
fn pow2(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
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

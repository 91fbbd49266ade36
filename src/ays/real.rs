//! The scalar types the schedules and samplers work in.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// A floating-point scalar: `f32` (device) or `f64` (host, oracles).
///
/// Schedules and sampler coefficients are always computed in `f64`
/// ([`from_f64`](Real::from_f64) converts them, round-to-nearest); the sampler state
/// (`x`, denoiser outputs) lives in `Self`, so `f32` samplers keep `f32` state with `f64`
/// coefficients.
pub trait Real:
    Copy
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// `0`.
    const ZERO: Self;
    /// Converts from `f64` (round to nearest).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

//! The user-side traits of the samplers: the denoiser and the noise source.

use super::real::Real;
use crate::{Error, Result};

/// An x0-predicting denoiser `D(x; σ) ≈ E[x_0 | x_σ = x]` in the VE/EDM form
/// `x_σ = x_0 + σ·ε` (spec §8.1). ε-prediction models are wrapped by
/// [`EpsDenoiser`](super::EpsDenoiser).
pub trait Denoiser<T: Real> {
    /// Writes `D(x; σ)` into `out` (`out.len() == x.len()`, guaranteed by the samplers).
    /// `σ > 0` always (the samplers never evaluate at σ = 0).
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()>;
}

impl<T: Real, D: Denoiser<T> + ?Sized> Denoiser<T> for &mut D {
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()> {
        (**self).denoise(x, sigma, out)
    }
}

/// A source of independent standard-normal samples for the stochastic samplers.
///
/// The samplers draw `x.len()` values per stochastic step, in element order, only on steps
/// that add noise (σ_{i+1} > 0 and η > 0), so a fixed source gives reproducible samples.
pub trait NoiseSource {
    /// The next N(0, 1) sample.
    fn gaussian(&mut self) -> Result<f64>;
}

impl<N: NoiseSource + ?Sized> NoiseSource for &mut N {
    fn gaussian(&mut self) -> Result<f64> {
        (**self).gaussian()
    }
}

/// Replays a fixed sequence of normal samples (tests, host/device comparisons).
/// Running out is [`Error::Capacity`].
#[derive(Debug, Clone)]
pub struct SliceNoise<'a> {
    data: &'a [f64],
    pos: usize,
}

impl<'a> SliceNoise<'a> {
    /// Replays `data` from the start.
    pub fn new(data: &'a [f64]) -> Self {
        Self { data, pos: 0 }
    }

    /// Samples consumed so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl NoiseSource for SliceNoise<'_> {
    fn gaussian(&mut self) -> Result<f64> {
        let v = self.data.get(self.pos).copied().ok_or(Error::Capacity {
            what: "noise samples",
            needed: self.pos + 1,
            available: self.data.len(),
        })?;
        self.pos += 1;
        Ok(v)
    }
}

/// Never provides noise: for deterministic samplers (any draw is an error).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNoise;

impl NoiseSource for NoNoise {
    fn gaussian(&mut self) -> Result<f64> {
        Err(Error::InvalidParam {
            what: "this sampler needs a noise source",
        })
    }
}

/// A small deterministic Gaussian generator: SplitMix64 uniforms and the Box–Muller
/// transform in `f64` through `libm` (`z = sqrt(−2 ln u₁)·cos(2π u₂)`, then the `sin`
/// partner). Pure integer + IEEE arithmetic, so host and device give identical sequences.
#[derive(Debug, Clone)]
pub struct GaussianRng {
    state: u64,
    spare: Option<f64>,
}

impl GaussianRng {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    /// Next SplitMix64 output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: `(top 53 bits + 1)·2⁻⁵³`.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

impl NoiseSource for GaussianRng {
    fn gaussian(&mut self) -> Result<f64> {
        if let Some(z) = self.spare.take() {
            return Ok(z);
        }
        let u1 = self.uniform();
        let u2 = self.uniform();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let a = core::f64::consts::TAU * u2;
        self.spare = Some(r * libm::sin(a));
        Ok(r * libm::cos(a))
    }
}

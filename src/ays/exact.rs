//! Exact denoisers for Gaussian and Gaussian-mixture data (spec §8.3, §9): oracles for the
//! samplers and the toy experiment, and a denoiser that needs no weights.

use super::denoiser::Denoiser;
use super::real::Real;
use crate::{Error, Result};

/// Largest point dimension of [`MixtureDenoiser`].
pub const MAX_MIXTURE_DIM: usize = 64;

/// Data `N(0, c²I)`: `D(x; σ) = c²/(c² + σ²)·x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianDenoiser {
    /// The data variance c².
    pub variance: f64,
}

impl<T: Real> Denoiser<T> for GaussianDenoiser {
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()> {
        let a = T::from_f64(self.variance / (self.variance + sigma * sigma));
        for (o, &v) in out.iter_mut().zip(x) {
            *o = a * v;
        }
        Ok(())
    }
}

/// Isotropic Gaussian mixture `p = Σ_k π_k N(μ_k, s_k² I)` in `dim` dimensions, with its exact
/// denoiser `D(x; σ) = Σ_k w_k(x)·(s_k²·x + σ²·μ_k)/(s_k² + σ²)`,
/// `w_k ∝ π_k·N(x; μ_k, (s_k² + σ²)I)` (softmax of log-weights, spec §9).
///
/// Batches: `x` may hold several points back to back (`x.len()` a multiple of `dim`);
/// `dim <= `[`MAX_MIXTURE_DIM`] (stack scratch).
#[derive(Debug, Clone, Copy)]
pub struct MixtureDenoiser<'a> {
    dim: usize,
    weights: &'a [f64],
    means: &'a [f64],
    variances: &'a [f64],
}

impl<'a> MixtureDenoiser<'a> {
    /// `weights` (π_k > 0, any scale), `means` (`k·dim`, row-major), `variances` (s_k² > 0).
    pub fn new(
        dim: usize,
        weights: &'a [f64],
        means: &'a [f64],
        variances: &'a [f64],
    ) -> Result<Self> {
        let k = weights.len();
        if dim == 0 || k == 0 {
            return Err(Error::InvalidParam {
                what: "mixture needs dim >= 1 and >= 1 component",
            });
        }
        if variances.len() != k {
            return Err(Error::Shape {
                what: "mixture variances",
                expected: k,
                got: variances.len(),
            });
        }
        if Some(means.len()) != k.checked_mul(dim) {
            return Err(Error::Shape {
                what: "mixture means",
                expected: k.saturating_mul(dim),
                got: means.len(),
            });
        }
        let ok = |v: &f64| v.is_finite() && *v > 0.0;
        if !(weights.iter().all(ok)
            && variances.iter().all(ok)
            && means.iter().all(|m| m.is_finite()))
        {
            return Err(Error::InvalidParam {
                what: "mixture weights and variances must be finite and > 0",
            });
        }
        if dim > MAX_MIXTURE_DIM {
            return Err(Error::Capacity {
                what: "mixture denoiser dim",
                needed: dim,
                available: MAX_MIXTURE_DIM,
            });
        }
        Ok(Self {
            dim,
            weights,
            means,
            variances,
        })
    }

    /// Dimension of one point.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Log-density of the noised mixture `p(x; σ)` at one point (`x.len() == dim`).
    pub fn log_density(&self, x: &[f64], sigma: f64) -> f64 {
        let mut max = f64::NEG_INFINITY;
        for k in 0..self.weights.len() {
            max = max.max(self.log_component(x, sigma, k));
        }
        let mut sum = 0.0;
        for k in 0..self.weights.len() {
            sum += libm::exp(self.log_component(x, sigma, k) - max);
        }
        let total: f64 = self.weights.iter().sum();
        max + libm::log(sum) - libm::log(total)
    }

    /// `ln π_k + ln N(x; μ_k, (s_k² + σ²) I)` (unnormalised π).
    fn log_component(&self, x: &[f64], sigma: f64, k: usize) -> f64 {
        let v = self.variances.get(k).copied().unwrap_or(1.0) + sigma * sigma;
        let mu = self.means.chunks_exact(self.dim).nth(k).unwrap_or(&[]);
        let d2: f64 = x.iter().zip(mu).map(|(a, b)| (a - b) * (a - b)).sum();
        let pi = self.weights.get(k).copied().unwrap_or(1.0);
        libm::log(pi) - 0.5 * d2 / v - 0.5 * self.dim as f64 * libm::log(core::f64::consts::TAU * v)
    }
}

impl<T: Real> Denoiser<T> for MixtureDenoiser<'_> {
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()> {
        if !x.len().is_multiple_of(self.dim) {
            return Err(Error::Shape {
                what: "mixture denoiser input (multiple of dim)",
                expected: self.dim,
                got: x.len(),
            });
        }
        let s2 = sigma * sigma;
        let mut p = [0.0f64; MAX_MIXTURE_DIM];
        for (xo, oo) in x.chunks_exact(self.dim).zip(out.chunks_exact_mut(self.dim)) {
            let pt = p.get_mut(..self.dim).unwrap_or(&mut []);
            for (a, b) in pt.iter_mut().zip(xo) {
                *a = b.to_f64();
            }
            let pt = &*pt;
            let mut max = f64::NEG_INFINITY;
            for k in 0..self.weights.len() {
                max = max.max(self.log_component(pt, sigma, k));
            }
            let mut wsum = 0.0;
            let mut acc = [0.0f64; MAX_MIXTURE_DIM];
            let acc = acc.get_mut(..self.dim).unwrap_or(&mut []);
            for (k, (mu, &sk2)) in self
                .means
                .chunks_exact(self.dim)
                .zip(self.variances)
                .enumerate()
            {
                let w = libm::exp(self.log_component(pt, sigma, k) - max);
                wsum += w;
                let inv = 1.0 / (sk2 + s2);
                for ((a, &xv), &m) in acc.iter_mut().zip(pt).zip(mu) {
                    *a += w * (sk2 * xv + s2 * m) * inv;
                }
            }
            for (o, a) in oo.iter_mut().zip(acc.iter()) {
                *o = T::from_f64(a / wsum);
            }
        }
        Ok(())
    }
}

//! σ(t) of the scaled-linear Stable Diffusion schedule and its inverse (spec §3).
//!
//! `β_t = (linspace(√0.00085, √0.012, 1000)[t])²`, `ᾱ_t = Π_{s≤t} (1 − β_s)`,
//! `σ(t) = sqrt((1 − ᾱ_t)/ᾱ_t)`, all in `f64`: σ(999) = 14.614641229333639,
//! σ(0) = 0.029167158151720367.

use crate::{Error, Result};

/// Number of discrete timesteps of the SD schedule.
pub const SD_TIMESTEPS: usize = 1000;

/// The 1000-entry σ table of the SD scaled-linear schedule (8 KB of `f64`), ascending in t.
#[derive(Clone)]
pub struct SdSigmas {
    sigmas: [f64; SD_TIMESTEPS],
}

impl Default for SdSigmas {
    fn default() -> Self {
        Self::new()
    }
}

impl SdSigmas {
    /// Computes the table (1000 multiplications and square roots; numpy `linspace` rule:
    /// `start + i·((stop − start)/999)`, last entry exactly `stop`).
    pub fn new() -> Self {
        let start = libm::sqrt(0.00085);
        let stop = libm::sqrt(0.012);
        let step = (stop - start) / (SD_TIMESTEPS - 1) as f64;
        let mut sigmas = [0.0; SD_TIMESTEPS];
        let mut cumprod = 1.0;
        let last = SD_TIMESTEPS - 1;
        for (i, s) in sigmas.iter_mut().enumerate() {
            let b = if i == last {
                stop
            } else {
                i as f64 * step + start
            };
            cumprod *= 1.0 - b * b;
            *s = libm::sqrt((1.0 - cumprod) / cumprod);
        }
        Self { sigmas }
    }

    /// The table, `σ(0) … σ(999)` ascending.
    pub fn table(&self) -> &[f64; SD_TIMESTEPS] {
        &self.sigmas
    }

    /// σ at a discrete timestep, `None` if `t > 999`.
    pub fn sigma(&self, t: usize) -> Option<f64> {
        self.sigmas.get(t).copied()
    }

    /// σ_max = σ(999).
    pub fn sigma_max(&self) -> f64 {
        self.sigmas[SD_TIMESTEPS - 1]
    }

    /// σ_min = σ(0).
    pub fn sigma_min(&self) -> f64 {
        self.sigmas[0]
    }

    /// σ at a fractional timestep `t ∈ [0, 999]` (k-diffusion `t_to_sigma`): ln σ is
    /// interpolated linearly between `⌊t⌋` and `⌈t⌉`.
    pub fn t_to_sigma(&self, t: f64) -> Result<f64> {
        if !(0.0..=(SD_TIMESTEPS - 1) as f64).contains(&t) {
            return Err(Error::InvalidParam {
                what: "timestep must be in [0, 999]",
            });
        }
        let lo = libm::floor(t);
        let w = t - lo;
        let lo = lo as usize;
        let hi = (lo + 1).min(SD_TIMESTEPS - 1);
        let (Some(&a), Some(&b)) = (self.sigmas.get(lo), self.sigmas.get(hi)) else {
            return Err(Error::InvalidParam {
                what: "timestep must be in [0, 999]",
            });
        };
        if w == 0.0 {
            return Ok(a);
        }
        Ok(libm::exp((1.0 - w) * libm::log(a) + w * libm::log(b)))
    }

    /// Fractional timestep of σ (k-diffusion / sd.cpp `sigma_to_t`): on the ln σ table find
    /// the bracketing indices `lo, hi = lo + 1`,
    /// `w = (ln σ_lo − ln σ)/(ln σ_lo − ln σ_hi)` clamped to [0, 1], `t = (1 − w)·lo + w·hi`.
    /// σ below σ(0) gives 0, above σ(999) gives 999. σ must be finite and > 0.
    pub fn sigma_to_t(&self, sigma: f64) -> Result<f64> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::InvalidParam {
                what: "sigma_to_t needs a finite sigma > 0",
            });
        }
        let count = self.sigmas.partition_point(|&s| s <= sigma);
        let lo = count.saturating_sub(1).min(SD_TIMESTEPS - 2);
        let hi = lo + 1;
        let (Some(&a), Some(&b)) = (self.sigmas.get(lo), self.sigmas.get(hi)) else {
            return Err(Error::InvalidParam { what: "sigma" });
        };
        let (la, lb, ls) = (libm::log(a), libm::log(b), libm::log(sigma));
        let w = ((la - ls) / (la - lb)).clamp(0.0, 1.0);
        Ok((1.0 - w) * lo as f64 + w * hi as f64)
    }
}

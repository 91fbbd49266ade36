//! ε-prediction wrapper for discrete SD-style models (k-diffusion `CompVisDenoiser`,
//! spec §7): `D(x; σ) = x − σ·ε̂(x·c_in, t(σ))`, `c_in = 1/sqrt(σ² + 1)`, t(σ) by
//! [`SdSigmas::sigma_to_t`].

use super::denoiser::Denoiser;
use super::real::Real;
use super::sd_sigma::SdSigmas;
use crate::{Error, Result};

/// A discrete-time ε-prediction model `ε̂(x_in, t)` (t fractional in [0, 999]).
pub trait EpsModel<T: Real> {
    /// Writes `ε̂(x_in, t)` into `out` (`out.len() == x_in.len()`).
    fn eps(&mut self, x_in: &[T], t: f64, out: &mut [T]) -> Result<()>;
}

/// Turns an [`EpsModel`] into an x0 [`Denoiser`]; `scratch` holds the scaled input
/// (at least `x.len()` elements).
pub struct EpsDenoiser<'a, M, T> {
    model: M,
    table: &'a SdSigmas,
    scratch: &'a mut [T],
}

impl<'a, M, T: Real> EpsDenoiser<'a, M, T> {
    /// Wraps `model` with the σ table `table` and input scratch `scratch`.
    pub fn new(model: M, table: &'a SdSigmas, scratch: &'a mut [T]) -> Self {
        Self {
            model,
            table,
            scratch,
        }
    }

    /// The wrapped model.
    pub fn model(&mut self) -> &mut M {
        &mut self.model
    }
}

impl<M: EpsModel<T>, T: Real> Denoiser<T> for EpsDenoiser<'_, M, T> {
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()> {
        let available = self.scratch.len();
        let xin = self.scratch.get_mut(..x.len()).ok_or(Error::Capacity {
            what: "eps wrapper scratch",
            needed: x.len(),
            available,
        })?;
        let c_in = T::from_f64(1.0 / libm::sqrt(sigma * sigma + 1.0));
        for (a, &b) in xin.iter_mut().zip(x) {
            *a = b * c_in;
        }
        let t = self.table.sigma_to_t(sigma)?;
        self.model.eps(xin, t, out)?;
        let s = T::from_f64(sigma);
        for (o, &xv) in out.iter_mut().zip(x) {
            *o = xv - s * *o;
        }
        Ok(())
    }
}

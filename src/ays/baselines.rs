//! Baseline schedules (spec §6): EDM/Karras, exponential (log-SNR uniform), kl_optimal and
//! VP time-uniform. Each writes `n` values from σ_max down to σ_min, then a 0 (`n + 1` values,
//! `n` steps), computed in `f64` and converted to `T`.

use super::interp::linspace;
use super::real::Real;
use super::sd_sigma::{SdSigmas, SD_TIMESTEPS};
use crate::{Error, Result};

/// EDM paper defaults: σ_min = 0.002, σ_max = 80, ρ = 7.
pub const EDM_SIGMA_MIN: f64 = 0.002;
/// EDM paper default σ_max.
pub const EDM_SIGMA_MAX: f64 = 80.0;
/// EDM/Karras default ρ.
pub const EDM_RHO: f64 = 7.0;

fn check_range(n: usize, sigma_min: f64, sigma_max: f64) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidParam {
            what: "schedule needs n >= 1",
        });
    }
    if !(sigma_min.is_finite() && sigma_max.is_finite() && 0.0 < sigma_min && sigma_min < sigma_max)
    {
        return Err(Error::InvalidParam {
            what: "schedule needs finite 0 < sigma_min < sigma_max",
        });
    }
    Ok(())
}

/// Fills `out[..n]` with `f(i)` and `out[n] = 0`; returns `n + 1`.
fn fill<T: Real>(n: usize, out: &mut [T], mut f: impl FnMut(usize) -> f64) -> Result<usize> {
    let len = n.checked_add(1).ok_or(Error::InvalidParam { what: "n" })?;
    let available = out.len();
    let dst = out.get_mut(..len).ok_or(Error::Capacity {
        what: "schedule buffer",
        needed: len,
        available,
    })?;
    for (i, v) in dst.iter_mut().enumerate() {
        *v = if i < n { T::from_f64(f(i)) } else { T::ZERO };
    }
    Ok(len)
}

/// EDM/Karras schedule (k-diffusion `get_sigmas_karras`):
/// `σ_i = (σ_max^{1/ρ} + r_i·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, `r = linspace(0, 1, n)`.
///
/// Errors: `n = 0`, bad range, `ρ` not finite and > 0, `out.len() < n + 1`.
pub fn karras<T: Real>(
    n: usize,
    sigma_min: f64,
    sigma_max: f64,
    rho: f64,
    out: &mut [T],
) -> Result<usize> {
    check_range(n, sigma_min, sigma_max)?;
    if !(rho.is_finite() && rho > 0.0) {
        return Err(Error::InvalidParam {
            what: "rho must be finite and > 0",
        });
    }
    let a = libm::pow(sigma_max, 1.0 / rho);
    let b = libm::pow(sigma_min, 1.0 / rho);
    fill(n, out, |i| {
        libm::pow(a + linspace(0.0, 1.0, n, i) * (b - a), rho)
    })
}

/// Exponential (log-SNR-uniform for VE) schedule (k-diffusion `get_sigmas_exponential`):
/// `σ_i = exp(linspace(ln σ_max, ln σ_min, n)_i)`.
pub fn exponential<T: Real>(
    n: usize,
    sigma_min: f64,
    sigma_max: f64,
    out: &mut [T],
) -> Result<usize> {
    check_range(n, sigma_min, sigma_max)?;
    let (a, b) = (libm::log(sigma_max), libm::log(sigma_min));
    fill(n, out, |i| libm::exp(linspace(a, b, n, i)))
}

/// kl_optimal (ComfyUI `kl_optimal_scheduler`, A1111 PR #15608):
/// `σ_i = tan((1 − i/(n−1))·atan σ_max + (i/(n−1))·atan σ_min)` — the optimal
/// deterministic-DDIM schedule for unit-variance Gaussian data (spec §8.3). Needs `n >= 2`.
pub fn kl_optimal<T: Real>(
    n: usize,
    sigma_min: f64,
    sigma_max: f64,
    out: &mut [T],
) -> Result<usize> {
    check_range(n, sigma_min, sigma_max)?;
    if n < 2 {
        return Err(Error::InvalidParam {
            what: "kl_optimal needs n >= 2",
        });
    }
    let (a, b) = (libm::atan(sigma_max), libm::atan(sigma_min));
    let d = (n - 1) as f64;
    fill(n, out, |i| {
        let w = i as f64 / d;
        libm::tan(w * b + (1.0 - w) * a)
    })
}

/// VP time-uniform schedule of the discrete SD model: `t = linspace(999, 0, n)` mapped
/// through [`SdSigmas::t_to_sigma`] (ln σ interpolated between integer timesteps).
pub fn time_uniform<T: Real>(n: usize, table: &SdSigmas, out: &mut [T]) -> Result<usize> {
    if n == 0 {
        return Err(Error::InvalidParam {
            what: "schedule needs n >= 1",
        });
    }
    let t_max = (SD_TIMESTEPS - 1) as f64;
    let mut err = None;
    let len = fill(n, out, |i| {
        match table.t_to_sigma(linspace(t_max, 0.0, n, i)) {
            Ok(s) => s,
            Err(e) => {
                err = Some(e);
                0.0
            }
        }
    })?;
    match err {
        Some(e) => Err(e),
        None => Ok(len),
    }
}

/// Checks a σ schedule for the samplers: at least 2 values, all finite, strictly decreasing,
/// the last `>= 0` (only the last may be 0).
///
/// Errors: [`Error::InvalidParam`] (too short, unsorted, negative), [`Error::NonFinite`].
pub fn check_schedule<T: Real>(sigmas: &[T]) -> Result<()> {
    if sigmas.len() < 2 {
        return Err(Error::InvalidParam {
            what: "schedule needs at least 2 sigmas",
        });
    }
    let mut prev = f64::INFINITY;
    for s in sigmas.iter().map(|s| s.to_f64()) {
        if !s.is_finite() {
            return Err(Error::NonFinite { what: "schedule" });
        }
        if s >= prev {
            return Err(Error::InvalidParam {
                what: "schedule must be strictly decreasing",
            });
        }
        prev = s;
    }
    if prev < 0.0 {
        return Err(Error::InvalidParam {
            what: "schedule sigmas must be >= 0",
        });
    }
    Ok(())
}

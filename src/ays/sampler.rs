//! σ-space samplers (spec §7, k-diffusion conventions), in place on caller buffers.
//!
//! Schedule `σ_0 > … > σ_{N−1} > σ_N ≥ 0` → `N` steps, starting from the caller's `x`
//! (`x = σ_0·ε` for text-to-image, see [`init_noise`]). Coefficients are computed in `f64`;
//! the state (`x`, denoiser outputs) is `T` (`f32` on a device, `f64` for oracles). σ = 0 is
//! special-cased (never `ln 0`), so no step produces NaN from the schedule.

use super::baselines::check_schedule;
use super::denoiser::{Denoiser, NoiseSource};
use super::real::Real;
use crate::{Error, Result};

/// Which solver runs the schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Sampler {
    /// Euler on the PF-ODE: `d = (x − D)/σ_i`, `x ← x + d·(σ_{i+1} − σ_i)` (last step: `x = D`).
    Euler,
    /// Heun (2nd order): Euler to `x′`, `d′ = (x′ − D(x′; σ_{i+1}))/σ_{i+1}`,
    /// `x ← x + ½(d + d′)(σ_{i+1} − σ_i)`; Euler when σ_{i+1} = 0 (2N − 1 model calls).
    Heun,
    /// DPM-Solver++(2M): `h = ln σ_i − ln σ_{i+1}`; first step and σ_{i+1} = 0:
    /// `x ← (σ_{i+1}/σ_i)·x − expm1(−h)·D_i`; else with `r = h_{i−1}/h`,
    /// `D′ = (1 + 1/(2r))·D_i − (1/(2r))·D_{i−1}` in place of `D_i`.
    DpmPp2m,
    /// DPM-Solver++(2M) SDE (k-diffusion `sample_dpmpp_2m_sde`, midpoint or Heun correction):
    /// `x ← (σ_{i+1}/σ_i)e^{−ηh}x − expm1(−h−ηh)·D_i [+ correction] + σ_{i+1}·sqrt(−expm1(−2ηh))·s_noise·ε`;
    /// `x = D_i` at σ_{i+1} = 0.
    DpmPp2mSde {
        /// Stochasticity η ≥ 0 (1 = k-diffusion default).
        eta: f64,
        /// Noise scale (1 = default).
        s_noise: f64,
        /// Second-order correction: `false` = midpoint (default), `true` = Heun.
        heun: bool,
    },
    /// Stochastic DDIM (AYS's reference solver, spec §7.5):
    /// `s = η·σ_{i+1}·sqrt(1 − σ_{i+1}²/σ_i²)`, `x ← D + sqrt(σ_{i+1}² − s²)·(x − D)/σ_i + s·ε`.
    /// η = 1 is the exact step of the frozen-D SDE; η = 0 is deterministic DDIM (= Euler).
    Ddim {
        /// Stochasticity η ∈ [0, 1].
        eta: f64,
    },
    /// Euler ancestral: `σ_up = min(σ_{i+1}, η·sqrt(σ_{i+1}²(σ_i² − σ_{i+1}²)/σ_i²))`,
    /// `σ_down = sqrt(σ_{i+1}² − σ_up²)`; Euler to σ_down, then `+ s_noise·σ_up·ε` if σ_{i+1} > 0.
    EulerAncestral {
        /// Stochasticity η ≥ 0 (1 = default).
        eta: f64,
        /// Noise scale (1 = default).
        s_noise: f64,
    },
}

impl Sampler {
    /// Scratch elements [`sample`] needs for points of `len` elements:
    /// Euler, DDIM, Euler ancestral `len`; DPM++ `2·len`; Heun `3·len`.
    pub const fn scratch_len(&self, len: usize) -> usize {
        let k = match self {
            Sampler::Euler | Sampler::Ddim { .. } | Sampler::EulerAncestral { .. } => 1,
            Sampler::DpmPp2m | Sampler::DpmPp2mSde { .. } => 2,
            Sampler::Heun => 3,
        };
        len.saturating_mul(k)
    }

    /// Denoiser calls for a schedule of `steps` steps whose last σ is 0
    /// (Heun: `2·steps − 1`, others `steps`).
    pub const fn model_calls(&self, steps: usize) -> usize {
        match self {
            Sampler::Heun => steps.saturating_mul(2).saturating_sub(1),
            _ => steps,
        }
    }

    fn check(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        let good = match *self {
            Sampler::Euler | Sampler::Heun | Sampler::DpmPp2m => true,
            Sampler::DpmPp2mSde { eta, s_noise, .. } => ok(eta) && ok(s_noise),
            Sampler::Ddim { eta } => ok(eta) && eta <= 1.0,
            Sampler::EulerAncestral { eta, s_noise } => ok(eta) && ok(s_noise),
        };
        if good {
            Ok(())
        } else {
            Err(Error::InvalidParam {
                what: "sampler eta/s_noise must be finite and >= 0 (DDIM eta <= 1)",
            })
        }
    }
}

/// Sets `x = σ_0·ε` with ε from `noise` (text-to-image start).
pub fn init_noise<T: Real, N: NoiseSource>(x: &mut [T], sigma0: f64, noise: &mut N) -> Result<()> {
    for v in x.iter_mut() {
        *v = T::from_f64(sigma0 * noise.gaussian()?);
    }
    Ok(())
}

/// Runs `sampler` over the schedule `sigmas` (checked by
/// [`check_schedule`](super::check_schedule)), updating `x` in place.
///
/// `scratch` needs [`Sampler::scratch_len`]`(x.len())` elements. The denoiser output is
/// checked to be finite ([`Error::NonFinite`]). Stochastic samplers draw `x.len()` normal
/// samples per step with σ_{i+1} > 0 when η > 0, in element order.
///
/// ```
/// use picoformer::ays::{ays, sample, AysOptions, GaussianDenoiser, Model, NoNoise, Sampler};
/// let mut sigmas = [0f32; 11];
/// ays(Model::Sd15, 10, AysOptions::default(), &mut sigmas)?;
/// let mut x = [3.0f32, -1.0];
/// let mut scratch = [0f32; 4];
/// let mut d = GaussianDenoiser { variance: 0.25 };
/// sample(Sampler::DpmPp2m, &mut x, &sigmas, &mut d, &mut NoNoise, &mut scratch)?;
/// assert!(x[0].is_finite() && x[0].abs() < 0.2);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn sample<T, S, D, N>(
    sampler: Sampler,
    x: &mut [T],
    sigmas: &[S],
    denoiser: &mut D,
    noise: &mut N,
    scratch: &mut [T],
) -> Result<()>
where
    T: Real,
    S: Real,
    D: Denoiser<T> + ?Sized,
    N: NoiseSource + ?Sized,
{
    sampler.check()?;
    check_schedule(sigmas)?;
    let n = x.len();
    let need = sampler.scratch_len(n);
    let available = scratch.len();
    let scratch = scratch.get_mut(..need).ok_or(Error::Capacity {
        what: "sampler scratch",
        needed: need,
        available,
    })?;
    let (den, rest) = scratch.split_at_mut(n);
    let mut h_last: Option<f64> = None;
    for w in sigmas.windows(2) {
        let (s, sn) = match w {
            [a, b] => (a.to_f64(), b.to_f64()),
            _ => continue,
        };
        call(denoiser, x, s, den)?;
        let h = if sn > 0.0 {
            libm::log(s) - libm::log(sn)
        } else {
            f64::INFINITY
        };
        match sampler {
            Sampler::Euler => euler(x, den, s, sn),
            Sampler::Heun => {
                let (x2, d2) = rest.split_at_mut(n);
                if sn == 0.0 {
                    copy(x, den);
                } else {
                    // x2 = x + d·dt with d = (x − D)/σ.
                    let c = T::from_f64((sn - s) / s);
                    for ((a, &xv), &dv) in x2.iter_mut().zip(x.iter()).zip(den.iter()) {
                        *a = xv + (xv - dv) * c;
                    }
                    call(denoiser, x2, sn, d2)?;
                    let (ca, cb) = (
                        T::from_f64(0.5 * (sn - s) / s),
                        T::from_f64(0.5 * (sn - s) / sn),
                    );
                    for (((xv, &dv), &x2v), &d2v) in
                        x.iter_mut().zip(den.iter()).zip(x2.iter()).zip(d2.iter())
                    {
                        *xv = *xv + ((*xv - dv) * ca + (x2v - d2v) * cb);
                    }
                }
            }
            Sampler::DpmPp2m => {
                let prev = &mut *rest;
                if sn == 0.0 {
                    copy(x, den);
                } else {
                    let ratio = T::from_f64(sn / s);
                    let c = T::from_f64(-libm::expm1(-h));
                    match h_last {
                        None => {
                            for (xv, &dv) in x.iter_mut().zip(den.iter()) {
                                *xv = ratio * *xv + c * dv;
                            }
                        }
                        Some(hl) => {
                            let r = hl / h;
                            let (a, b) = (T::from_f64(1.0 + 0.5 / r), T::from_f64(0.5 / r));
                            for ((xv, &dv), &pv) in x.iter_mut().zip(den.iter()).zip(prev.iter()) {
                                *xv = ratio * *xv + c * (a * dv - b * pv);
                            }
                        }
                    }
                }
                copy(prev, den);
            }
            Sampler::DpmPp2mSde { eta, s_noise, heun } => {
                let prev = &mut *rest;
                if sn == 0.0 {
                    copy(x, den);
                } else {
                    let eh = eta * h;
                    let ratio = T::from_f64(sn / s * libm::exp(-eh));
                    let em = -libm::expm1(-h - eh);
                    let c = T::from_f64(em);
                    for (xv, &dv) in x.iter_mut().zip(den.iter()) {
                        *xv = ratio * *xv + c * dv;
                    }
                    if let Some(hl) = h_last {
                        let r = hl / h;
                        let k = if heun { em / (-h - eh) + 1.0 } else { 0.5 * em };
                        let k = T::from_f64(k * (1.0 / r));
                        for ((xv, &dv), &pv) in x.iter_mut().zip(den.iter()).zip(prev.iter()) {
                            *xv = *xv + k * (dv - pv);
                        }
                    }
                    if eta > 0.0 {
                        let k = sn * libm::sqrt(-libm::expm1(-2.0 * eh)) * s_noise;
                        add_noise(x, k, noise)?;
                    }
                }
                copy(prev, den);
            }
            Sampler::Ddim { eta } => {
                if sn == 0.0 {
                    copy(x, den);
                } else {
                    let q = sn / s;
                    let st = eta * sn * libm::sqrt(1.0 - q * q);
                    let c = T::from_f64(libm::sqrt(sn * sn - st * st) / s);
                    for (xv, &dv) in x.iter_mut().zip(den.iter()) {
                        *xv = dv + c * (*xv - dv);
                    }
                    if eta > 0.0 {
                        add_noise(x, st, noise)?;
                    }
                }
            }
            Sampler::EulerAncestral { eta, s_noise } => {
                if sn == 0.0 {
                    copy(x, den);
                } else {
                    let up = (eta * libm::sqrt(sn * sn * (s * s - sn * sn) / (s * s))).min(sn);
                    let down = libm::sqrt(sn * sn - up * up);
                    euler(x, den, s, down);
                    if eta > 0.0 {
                        add_noise(x, s_noise * up, noise)?;
                    }
                }
            }
        }
        h_last = Some(h);
    }
    Ok(())
}

/// One denoiser call with the finiteness check.
fn call<T: Real, D: Denoiser<T> + ?Sized>(
    d: &mut D,
    x: &[T],
    sigma: f64,
    out: &mut [T],
) -> Result<()> {
    d.denoise(x, sigma, out)?;
    if out.iter().all(|v| v.to_f64().is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite {
            what: "denoiser output",
        })
    }
}

/// Euler step from σ to σ′: `x ← x + (x − D)·(σ′ − σ)/σ`; `x = D` when σ′ = 0.
fn euler<T: Real>(x: &mut [T], den: &[T], s: f64, to: f64) {
    if to == 0.0 {
        copy(x, den);
        return;
    }
    let c = T::from_f64((to - s) / s);
    for (xv, &dv) in x.iter_mut().zip(den) {
        *xv = *xv + (*xv - dv) * c;
    }
}

fn copy<T: Real>(dst: &mut [T], src: &[T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

fn add_noise<T: Real, N: NoiseSource + ?Sized>(
    x: &mut [T],
    scale: f64,
    noise: &mut N,
) -> Result<()> {
    for v in x.iter_mut() {
        *v = *v + T::from_f64(scale * noise.gaussian()?);
    }
    Ok(())
}

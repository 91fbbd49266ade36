//! Align Your Steps (Sabour, Fidler, Kreis, ICML 2024, arXiv 2404.14507): precomputed
//! diffusion schedules and σ-space samplers.
//!
//! - [`ays`] / [`ays_f64`]: the published 10-step tables ([`tables`]) log-linearly
//!   interpolated to any step count (spec §4), ComfyUI/sd.cpp or A1111 [`Convention`];
//!   [`precomputed()`] serves common step counts from committed `f32` tables (no libm).
//! - Baselines (spec §6): [`karras`], [`exponential`], [`kl_optimal`], [`time_uniform`]
//!   through the SD σ(t) table [`SdSigmas`].
//!
//! - Samplers (spec §7): [`sample`] with a [`Sampler`] (Euler, Heun, DPM-Solver++(2M),
//!   DPM-Solver++(2M) SDE, stochastic DDIM, Euler ancestral) over a user [`Denoiser`]
//!   (x0-prediction) and [`NoiseSource`]; [`EpsDenoiser`] adapts ε-prediction SD-style models;
//!   [`GaussianDenoiser`] / [`MixtureDenoiser`] are exact denoisers for Gaussian data;
//!   [`MlpDenoiser`] is a small trained MLP read from GGUF.
//!
//! Schedules are descending σ values ending in 0: `steps + 1` values for `steps` model steps.
//! All schedule math is `f64` through `libm`; outputs are `f32` (or any [`Real`]).

mod baselines;
mod denoiser;
mod eps;
mod exact;
mod gguf_schedule;
mod interp;
mod mlp;
mod precomputed;
mod real;
mod sampler;
mod schedule;
mod sd_sigma;
pub mod tables;

pub use baselines::{
    check_schedule, exponential, karras, kl_optimal, time_uniform, EDM_RHO, EDM_SIGMA_MAX,
    EDM_SIGMA_MIN,
};
pub use denoiser::{Denoiser, GaussianRng, NoNoise, NoiseSource, SliceNoise};
pub use eps::{EpsDenoiser, EpsModel};
pub use exact::{GaussianDenoiser, MixtureDenoiser, MAX_MIXTURE_DIM};
pub use gguf_schedule::{schedule_from_gguf, AYS_SIGMAS_KEY};
pub use mlp::{MlpDenoiser, MLP_MAX_FOURIER, MLP_MAX_LAYERS, MLP_MAX_WIDTH};
pub use precomputed::{precomputed, PRECOMPUTED_STEPS};
pub use real::Real;
pub use sampler::{init_noise, sample, Sampler};
pub use schedule::{ays, ays_f64, ays_len, AysOptions, Convention, MAX_STEPS};
pub use sd_sigma::{SdSigmas, SD_TIMESTEPS};
pub use tables::Model;

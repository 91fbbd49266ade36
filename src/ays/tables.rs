//! The published 10-step AYS schedules (spec §2).
//!
//! Canonical source: the full-precision ComfyUI / stable-diffusion.cpp `NOISE_LEVELS` tables
//! (11 σ values each, σ_max first). The SD timestep lists are NVIDIA's howto page (SD 1.5) and
//! diffusers' `AysSchedules` (SDXL, with the final 0 added). The A1111 tables are the 3-decimal
//! values used by AUTOMATIC1111 `modules/sd_schedulers.py` (PR #15751), ending in 0.029.

/// A model family with a published AYS schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Model {
    /// Stable Diffusion 1.x (VP-discrete, ε-prediction; σ ∈ [0.0292, 14.6146]).
    Sd15,
    /// Stable Diffusion XL (same σ range as SD 1.x).
    Sdxl,
    /// Stable Video Diffusion (EDM-style continuous σ ∈ [0.002, 700]).
    Svd,
}

impl Model {
    /// The 11 published σ values (σ_max first, σ_min last) at full precision.
    pub const fn sigmas(self) -> &'static [f64; 11] {
        match self {
            Model::Sd15 => &SD15_SIGMAS,
            Model::Sdxl => &SDXL_SIGMAS,
            Model::Svd => &SVD_SIGMAS,
        }
    }

    /// The 11-value table used by the A1111/Forge convention (3 decimals, ending in 0.029 for
    /// SD; the SVD table is used as published since A1111 has none).
    pub const fn a1111_sigmas(self) -> &'static [f64; 11] {
        match self {
            Model::Sd15 => &A1111_SD15_SIGMAS,
            Model::Sdxl => &A1111_SDXL_SIGMAS,
            Model::Svd => &SVD_SIGMAS,
        }
    }

    /// The published discrete timesteps (SD models only; 10 steps + final 0).
    pub const fn timesteps(self) -> Option<&'static [u16; 11]> {
        match self {
            Model::Sd15 => Some(&SD15_TIMESTEPS),
            Model::Sdxl => Some(&SDXL_TIMESTEPS),
            Model::Svd => None,
        }
    }
}

/// SD 1.5 AYS σ (ComfyUI `NOISE_LEVELS["SD1"]`, sd.cpp `AYSSchedule`).
pub const SD15_SIGMAS: [f64; 11] = [
    14.6146412293,
    6.4745760956,
    3.8636745985,
    2.6946151520,
    1.8841921177,
    1.3943805092,
    0.9642583904,
    0.6523686016,
    0.3977456272,
    0.1515232662,
    0.0291671582,
];

/// SDXL AYS σ (ComfyUI `NOISE_LEVELS["SDXL"]`).
pub const SDXL_SIGMAS: [f64; 11] = [
    14.6146412293,
    6.3184485287,
    3.7681790315,
    2.1811480769,
    1.3405244945,
    0.8620721141,
    0.5550693289,
    0.3798540708,
    0.2332364134,
    0.1114188177,
    0.0291671582,
];

/// SVD AYS σ (ComfyUI `NOISE_LEVELS["SVD"]`; EDM σ range 700 … 0.002).
pub const SVD_SIGMAS: [f64; 11] = [
    700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002,
];

/// A1111 SD 1.5 table (3 decimals, last 0.029).
pub const A1111_SD15_SIGMAS: [f64; 11] = [
    14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029,
];

/// A1111 SDXL table (3 decimals, last 0.029).
pub const A1111_SDXL_SIGMAS: [f64; 11] = [
    14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029,
];

/// SD 1.5 AYS timesteps (NVIDIA howto), with the final 0.
pub const SD15_TIMESTEPS: [u16; 11] = [999, 850, 736, 645, 545, 455, 343, 233, 124, 24, 0];

/// SDXL AYS timesteps (diffusers `AysSchedules`), with the final 0 added.
pub const SDXL_TIMESTEPS: [u16; 11] = [999, 845, 730, 587, 443, 310, 193, 116, 53, 13, 0];

//! `pico ays schedule`: AYS and baseline σ schedules as f32 (the kernel crate's output).

use anyhow::{bail, Context};
use clap::ValueEnum;
use picoformer::ays::{self, AysOptions, Convention, Model, SdSigmas};

/// Model whose AYS table (and σ range for baselines) is used.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ModelArg {
    /// Stable Diffusion 1.5.
    Sd15,
    /// Stable Diffusion XL.
    Sdxl,
    /// Stable Video Diffusion.
    Svd,
}

impl From<ModelArg> for Model {
    fn from(m: ModelArg) -> Model {
        match m {
            ModelArg::Sd15 => Model::Sd15,
            ModelArg::Sdxl => Model::Sdxl,
            ModelArg::Svd => Model::Svd,
        }
    }
}

/// Schedule family.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Kind {
    /// Align Your Steps (published table, log-linear interpolation).
    Ays,
    /// EDM / Karras (ρ = `--rho`).
    Edm,
    /// Exponential (log-SNR uniform).
    Exponential,
    /// kl_optimal (arctan-uniform).
    KlOptimal,
    /// VP time-uniform through the SD σ(t) table (SD models only).
    TimeUniform,
}

/// Step-count convention of the AYS schedule.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ConventionArg {
    /// ComfyUI / stable-diffusion.cpp.
    Comfy,
    /// AUTOMATIC1111 / Forge.
    A1111,
}

/// `pico ays schedule` arguments.
#[derive(clap::Args, Debug)]
pub struct ScheduleArgs {
    /// Model (AYS table and default σ range).
    #[arg(long, value_enum, default_value = "sd15")]
    pub model: ModelArg,
    /// Number of model steps N (N + 1 σ values, last 0).
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// AYS only: fraction of the schedule to run (keeps the low-noise tail).
    #[arg(long, default_value_t = 1.0)]
    pub denoise: f64,
    /// AYS only: step-count convention.
    #[arg(long, value_enum, default_value = "comfy")]
    pub convention: ConventionArg,
    /// Schedule family.
    #[arg(long, value_enum, default_value = "ays")]
    pub schedule: Kind,
    /// Baselines: σ_min (default: the model's, SD σ(0) = 0.0291672, SVD 0.002).
    #[arg(long)]
    pub sigma_min: Option<f64>,
    /// Baselines: σ_max (default: the model's, SD σ(999) = 14.6146, SVD 700).
    #[arg(long)]
    pub sigma_max: Option<f64>,
    /// EDM: ρ.
    #[arg(long, default_value_t = 7.0)]
    pub rho: f64,
    /// Print a JSON array of the f32 values (stable interface).
    #[arg(long)]
    pub json: bool,
}

/// The model's σ range: SD from the f64 σ(t) table, SVD from its published table.
pub fn sigma_range(model: Model) -> (f64, f64) {
    match model {
        Model::Svd => (0.002, 700.0),
        _ => {
            let t = SdSigmas::new();
            (t.sigma_min(), t.sigma_max())
        }
    }
}

/// Computes the schedule described by `a` (f32, N + 1 values).
pub fn compute(a: &ScheduleArgs) -> anyhow::Result<Vec<f32>> {
    let model = Model::from(a.model);
    let (dmin, dmax) = sigma_range(model);
    let (smin, smax) = (a.sigma_min.unwrap_or(dmin), a.sigma_max.unwrap_or(dmax));
    let mut out = vec![0f32; a.steps.saturating_add(1).max(1)];
    if a.schedule != Kind::Ays && a.denoise != 1.0 {
        bail!("--denoise applies to --schedule ays only");
    }
    let n = match a.schedule {
        Kind::Ays => {
            let opts = AysOptions {
                denoise: a.denoise,
                convention: match a.convention {
                    ConventionArg::Comfy => Convention::Comfy,
                    ConventionArg::A1111 => Convention::A1111,
                },
            };
            ays::ays(model, a.steps, opts, &mut out)?
        }
        Kind::Edm => ays::karras(a.steps, smin, smax, a.rho, &mut out)?,
        Kind::Exponential => ays::exponential(a.steps, smin, smax, &mut out)?,
        Kind::KlOptimal => ays::kl_optimal(a.steps, smin, smax, &mut out)?,
        Kind::TimeUniform => {
            if model == Model::Svd {
                bail!("time-uniform needs a discrete SD model (--model sd15|sdxl)");
            }
            ays::time_uniform(a.steps, &SdSigmas::new(), &mut out)?
        }
    };
    out.truncate(n);
    Ok(out)
}

/// Runs `pico ays schedule`.
pub fn run(a: ScheduleArgs) -> anyhow::Result<()> {
    let s = compute(&a).context("computing the schedule")?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    let sd = (Model::from(a.model) != Model::Svd).then(SdSigmas::new);
    println!(
        "# {:?} {:?}, {} steps",
        a.schedule,
        a.model,
        s.len().saturating_sub(1)
    );
    println!("{:>4} {:>14} {:>10}", "i", "sigma", "t(sigma)");
    for (i, v) in s.iter().enumerate() {
        let t = match (&sd, *v > 0.0) {
            (Some(tab), true) => format!("{:.3}", tab.sigma_to_t(f64::from(*v))?),
            _ => "-".to_string(),
        };
        println!("{i:>4} {v:>14.9} {t:>10}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(schedule: Kind, steps: usize) -> ScheduleArgs {
        ScheduleArgs {
            model: ModelArg::Sd15,
            steps,
            denoise: 1.0,
            convention: ConventionArg::Comfy,
            schedule,
            sigma_min: None,
            sigma_max: None,
            rho: 7.0,
            json: true,
        }
    }

    /// The stable JSON interface: f32 values, shortest round-trip decimals.
    #[test]
    fn json_interface() {
        let s = compute(&args(Kind::Ays, 10)).unwrap();
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            "[14.614641,6.474576,3.8636746,2.6946151,1.8841921,1.3943805,0.9642584,\
             0.6523686,0.39774564,0.15152326,0.0]"
        );
        let s = compute(&args(Kind::Edm, 5)).unwrap();
        assert_eq!(s.len(), 6);
        assert!(compute(&args(Kind::Ays, 0)).is_err());
        let mut a = args(Kind::TimeUniform, 5);
        a.model = ModelArg::Svd;
        assert!(compute(&a).is_err());
    }
}

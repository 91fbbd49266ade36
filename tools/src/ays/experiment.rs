//! `pico ays toy`: the 2-D toy experiment of issue 6 item 7. AYS-optimised (KLUB, this
//! crate's optimiser) vs EDM (ρ = 7) vs VP time-uniform vs log-SNR-uniform schedules on the
//! 8-Gaussian ring, at 5/10/20 NFE with Euler, DPM-Solver++(2M) and stochastic DDIM (η = 1),
//! for the exact mixture denoiser and the trained MLP. Metrics: sliced Wasserstein-1 to fresh
//! data and the exact NLL under the data density, mean ± 95% CI over independent runs.

use std::fmt::Write as _;
use std::path::PathBuf;

use picoformer::ays::{self, GaussianRng, Sampler};

use super::optimize::{optimize, DenoiserArg, InitArg, OptimizeArgs, Setup};
use super::toy::{mean_se, sliced_w1, vp_time_uniform, Toy};

/// `pico ays toy` arguments.
#[derive(clap::Args, Debug)]
pub struct ToyArgs {
    /// Denoisers to evaluate.
    #[arg(long, value_enum, default_values_t = [DenoiserArg::Mixture, DenoiserArg::Mlp])]
    pub denoiser: Vec<DenoiserArg>,
    /// MLP model file.
    #[arg(long, default_value = "models/denoiser.gguf")]
    pub model: PathBuf,
    /// Samples per run.
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// Independent runs (seeds) per cell.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Monte-Carlo samples of the KLUB estimator.
    #[arg(long, default_value_t = 4096)]
    pub klub_samples: usize,
    /// Refinement sweeps per level.
    #[arg(long, default_value_t = 4)]
    pub iters: usize,
    /// σ_min.
    #[arg(long, default_value_t = 0.002)]
    pub sigma_min: f64,
    /// σ_max.
    #[arg(long, default_value_t = 80.0)]
    pub sigma_max: f64,
    /// Markdown report path.
    #[arg(long, default_value = "tools/ays/RESULTS.md")]
    pub out: PathBuf,
    /// Directory for the optimised schedules (JSON arrays).
    #[arg(long, default_value = "tools/ays/schedules")]
    pub schedules_dir: PathBuf,
}

const NFES: [usize; 3] = [5, 10, 20];

fn samplers() -> [(&'static str, Sampler); 3] {
    [
        ("Euler", Sampler::Euler),
        ("DPM++(2M)", Sampler::DpmPp2m),
        ("stoch. DDIM", Sampler::Ddim { eta: 1.0 }),
    ]
}

/// Runs `pico ays toy`.
pub fn run(a: ToyArgs) -> anyhow::Result<()> {
    let toy = Toy::new();
    std::fs::create_dir_all(&a.schedules_dir)?;
    let mut md = String::new();
    writeln!(md, "# AYS 2-D toy experiment (issue 6 item 7)\n")?;
    writeln!(
        md,
        "Produced by `pico ays toy --samples {} --runs {} --klub-samples {} --iters {}` \
         (σ ∈ [{}, {}]). Data: 8 Gaussians (std 0.25) on a circle of radius 2. Cells: \
         sliced W1 to fresh data (×10⁻², 64 directions) and NLL (nats/point) under the data \
         density, mean ± 95% CI over {} runs of {} samples. Lower SW is better; NLL *below* \
         the data's own NLL means samples are over-concentrated on the modes, not better.\n",
        a.samples, a.runs, a.klub_samples, a.iters, a.sigma_min, a.sigma_max, a.runs, a.samples
    )?;
    // Noise floors.
    let mut floor_sw = vec![];
    let mut floor_nll = vec![];
    for r in 0..a.runs {
        let x = toy.sample(a.samples, &mut GaussianRng::new(9000 + r as u64));
        let y = toy.sample(a.samples, &mut GaussianRng::new(7000 + r as u64));
        floor_sw.push(sliced_w1(&x, &y, 64));
        floor_nll.push(toy.nll(&x).0);
    }
    let (fs, fse) = mean_se(&floor_sw);
    let (fnll, fnse) = mean_se(&floor_nll);
    writeln!(
        md,
        "Reference (true data vs fresh data): SW {:.2} ± {:.2}, NLL {:.3} ± {:.3}.\n",
        100.0 * fs,
        196.0 * fse,
        fnll,
        1.96 * fnse
    )?;
    for &den in &a.denoiser {
        let opt_args = OptimizeArgs {
            denoiser: den,
            model: a.model.clone(),
            variance: 0.25,
            steps: 20,
            sigma_min: a.sigma_min,
            sigma_max: a.sigma_max,
            init: InitArg::Edm,
            samples: a.klub_samples,
            iters: a.iters,
            tol: 0.005,
            search_iters: 16,
            no_coarse_to_fine: false,
            seed: 1,
            json: None,
            rust: None,
            gguf: None,
            quiet: false,
        };
        let setup = Setup::new(&opt_args)?;
        eprintln!("optimising for {den:?} (5 → 10 → 20 steps)…");
        let out = optimize(&setup, &opt_args)?;
        writeln!(md, "## Denoiser: {den:?}\n")?;
        writeln!(
            md,
            "KLUB history (held-out estimate at start and after each sweep):\n"
        )?;
        for (n, h) in &out.history {
            let hs: Vec<String> = h.iter().map(|v| format!("{v:.4}")).collect();
            writeln!(md, "- N = {n}: {}", hs.join(" → "))?;
        }
        writeln!(md)?;
        for lvl in &out.levels {
            let n = lvl.len() - 1;
            let f: Vec<f32> = lvl.iter().map(|v| *v as f32).collect();
            let p = a
                .schedules_dir
                .join(format!("ays_{den:?}_{n}.json").to_lowercase());
            std::fs::write(&p, serde_json::to_string(&f)? + "\n")?;
        }
        for (ni, &n) in NFES.iter().enumerate() {
            let mut scheds: Vec<(&str, Vec<f64>)> = vec![];
            let mut e = vec![0.0; n + 1];
            ays::karras(n, a.sigma_min, a.sigma_max, 7.0, &mut e)?;
            scheds.push(("EDM ρ=7", e));
            scheds.push((
                "time-uniform (VP)",
                vp_time_uniform(n, a.sigma_min, a.sigma_max),
            ));
            let mut l = vec![0.0; n + 1];
            ays::exponential(n, a.sigma_min, a.sigma_max, &mut l)?;
            scheds.push(("log-SNR uniform", l));
            let opt = out.levels.get(ni).cloned().unwrap_or_default();
            anyhow::ensure!(opt.len() == n + 1, "level {ni} has {} values", opt.len());
            scheds.push(("AYS-optimised (KLUB)", opt));
            writeln!(md, "### {n} NFE\n")?;
            let mut header = "| schedule | KLUB |".to_string();
            let mut rule = "|---|---|".to_string();
            for (name, _) in samplers() {
                write!(header, " {name} SW | {name} NLL |")?;
                rule.push_str("---|---|");
            }
            writeln!(md, "{header}\n{rule}")?;
            for (name, s) in &scheds {
                let klub = setup.with_denoiser(|d| {
                    let data = setup.data(a.klub_samples, 4242);
                    let mut k = super::klub::Klub::new(d, 2, data, 4242);
                    Ok(k.schedule(s)?.iter().sum::<f64>())
                })?;
                let mut row = format!("| {name} | {klub:.3} |");
                for (_, sampler) in samplers() {
                    let mut sws = vec![];
                    let mut nlls = vec![];
                    for r in 0..a.runs {
                        let mut rng = GaussianRng::new(100 + r as u64);
                        let mut x = vec![0f64; 2 * a.samples];
                        ays::init_noise(&mut x, s[0], &mut rng)?;
                        let mut scratch = vec![0f64; sampler.scratch_len(x.len())];
                        setup.with_denoiser(|d| {
                            ays::sample(sampler, &mut x, s, d, &mut rng, &mut scratch)?;
                            Ok(())
                        })?;
                        let fresh = toy.sample(a.samples, &mut GaussianRng::new(5000 + r as u64));
                        sws.push(sliced_w1(&x, &fresh, 64));
                        nlls.push(toy.nll(&x).0);
                    }
                    let (sw, swe) = mean_se(&sws);
                    let (nl, nle) = mean_se(&nlls);
                    write!(
                        row,
                        " {:.2} ± {:.2} | {:.3} ± {:.3} |",
                        100.0 * sw,
                        196.0 * swe,
                        nl,
                        1.96 * nle
                    )?;
                }
                writeln!(md, "{row}")?;
            }
            writeln!(md)?;
        }
        writeln!(md, "Optimised schedules (σ, final 0 omitted):\n")?;
        for lvl in &out.levels {
            let v: Vec<String> = lvl
                .iter()
                .filter(|v| **v > 0.0)
                .map(|v| format!("{v:.4}"))
                .collect();
            writeln!(md, "- N = {}: {}", lvl.len() - 1, v.join(", "))?;
        }
        writeln!(md)?;
        std::fs::write(&a.out, &md)?;
    }
    std::fs::write(&a.out, &md)?;
    eprintln!("wrote {}", a.out.display());
    Ok(())
}

//! `pico ays`: Align Your Steps schedules, plots, the KLUB optimiser and the 2-D toy study.

#[path = "ays/experiment.rs"]
mod experiment;
#[path = "ays/gguf_meta.rs"]
mod gguf_meta;
#[path = "ays/klub.rs"]
mod klub;
#[path = "ays/optimize.rs"]
mod optimize;
#[path = "ays/plot.rs"]
mod plot;
#[path = "ays/schedules.rs"]
mod schedules;
#[path = "ays/toy.rs"]
mod toy;

use clap::Subcommand;

/// Arguments of `pico ays`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print a σ schedule (AYS or a baseline); `--json` prints a JSON array of f32 values.
    Schedule(schedules::ScheduleArgs),
    /// Write a PNG comparing schedules (log σ vs step).
    Plot(plot::PlotArgs),
    /// Optimise a schedule for a denoiser by minimising the KLUB (spec §8).
    Optimize(optimize::OptimizeArgs),
    /// Check the KLUB estimator against the Gaussian closed form.
    Validate(optimize::ValidateArgs),
    /// The 2-D toy experiment: AYS-optimised vs baselines, writes a Markdown report.
    Toy(experiment::ToyArgs),
}

/// Runs `pico ays`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.cmd {
        Cmd::Schedule(a) => schedules::run(a),
        Cmd::Plot(a) => plot::run(a),
        Cmd::Optimize(a) => optimize::run(a),
        Cmd::Toy(a) => experiment::run(a),
        Cmd::Validate(a) => optimize::validate(a),
    }
}

//! `pico ays`: Align Your Steps schedules, plots, the KLUB optimiser and the 2-D toy study.

#[path = "ays/plot.rs"]
mod plot;
#[path = "ays/schedules.rs"]
mod schedules;

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
}

/// Runs `pico ays`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.cmd {
        Cmd::Schedule(a) => schedules::run(a),
        Cmd::Plot(a) => plot::run(a),
    }
}
